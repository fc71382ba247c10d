// Prices an order: reads it from the orders table with the AWS SDK for JavaScript v3.
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";

const dynamodb = new DynamoDBClient({});

export const handler = async (event) => {
  const answer = await dynamodb.send(
    new GetItemCommand({
      TableName: process.env.ORDERS_TABLE,
      Key: { orderId: { S: event.orderId } },
    })
  );
  if (!answer.Item) {
    const error = new Error(`order ${event.orderId} is not in ${process.env.ORDERS_TABLE}`);
    error.name = "OrderNotFound";
    throw error;
  }
  const lines = JSON.parse(answer.Item.lines.S);
  const totalCents = lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
  console.log(`order ${event.orderId}: ${lines.length} lines, ${totalCents} cents`);
  return { lines: lines.length, totalCents };
};
