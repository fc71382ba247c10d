"""Direct boto3 clients on the moto server (tests/conftest.py starts it)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
MOTO_ACCOUNT = "123456789012"  # moto's default account id


@pytest.fixture
def aws(aws_env: str) -> Any:
    """Direct boto3 clients on the moto server, for the tests' own checks."""

    class Clients:
        def __init__(self) -> None:
            boto = boto3.Session(region_name=REGION)
            self.iam = boto.client("iam")
            self.lambda_ = boto.client("lambda")
            self.sfn = boto.client("stepfunctions")
            self.logs = boto.client("logs")

    return Clients()
