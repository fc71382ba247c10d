"""Writes an order's receipt: reads the order from the orders table with boto3."""

import os

import boto3

dynamodb = boto3.client("dynamodb")


def handler(event, context):
    answer = dynamodb.get_item(
        TableName=os.environ["ORDERS_TABLE"], Key={"orderId": {"S": event["orderId"]}}
    )
    order = answer["Item"]
    total = event["totalCents"] / 100
    print(f"receipt for {order['orderId']['S']}")
    return {
        "orderId": order["orderId"]["S"],
        "customer": order["customer"]["S"],
        "total": f"{total:.2f} USD",
        "receipt": f"Thank you {order['customer']['S']}: order {order['orderId']['S']}, "
        f"{total:.2f} USD.",
    }
