"""boto3 clients on a folder's local AWS services (the tests create their tables and topics
directly there), signed with credentials of that folder, as the services require."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from tooling.localaws.manager import LocalAwsServices
from tooling.localaws.signing import Credentials

REGION = "us-east-1"
ACCOUNT = "000000000000"


class Endpoint(str):
    """The services' URL, with credentials of their folder."""

    credentials: Credentials

    def __new__(cls, url: str, credentials: Credentials) -> Endpoint:
        made = super().__new__(cls, url)
        made.credentials = credentials
        return made


def endpoint(services: LocalAwsServices) -> Endpoint:
    """The folder's services, started if need be."""
    return Endpoint(services.endpoint(), services.credentials())


def client(url: Endpoint, service: str) -> Any:
    make_client: Callable[..., Any] = boto3.client  # boto3-stubs types it per literal name
    return make_client(
        service,
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=url.credentials.access_key_id,
        aws_secret_access_key=url.credentials.secret_access_key,
        aws_session_token=url.credentials.session_token,
    )


def create_table(url: Endpoint, name: str) -> None:
    client(url, "dynamodb").create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
