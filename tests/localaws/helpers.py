"""boto3 clients on a folder's local AWS services (the tests create their tables and topics
directly there; `resources:` deploys them in a later round)."""

from __future__ import annotations

from typing import Any

import boto3

from tooling.localaws.manager import LOCAL_CREDENTIALS

REGION = "us-east-1"
ACCOUNT = "000000000000"


def client(url: str, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=LOCAL_CREDENTIALS["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=LOCAL_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
    )


def create_table(url: str, name: str) -> None:
    client(url, "dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
