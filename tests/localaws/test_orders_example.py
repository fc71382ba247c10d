"""examples/orders, as README shows it: `tool deploy` then `tool invoke --input order.json` in a
fresh copy, with real writes and reads through the folder's local AWS services (the table and the
topic of its `resources:`, a Node.js handler with the AWS SDK for JavaScript v3, a Python handler
with boto3); and `tool deploy --dry-run --target aws` plans it for AWS (against moto)."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tooling.cli import main
from tooling.localaws.manager import LocalAwsServices

from .helpers import client, endpoint

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "orders"
SDK = EXAMPLE / "node_modules" / "@aws-sdk" / "client-dynamodb"
TABLE = "orders-dev-orders"
TOPIC = "arn:aws:sns:us-east-1:000000000000:orders-dev-order-events"
OUTPUT = {
    "orderId": "o-1001",
    "customer": "ada@example.com",
    "total": "30.97 USD",
    "receipt": "Thank you ada@example.com: order o-1001, 30.97 USD.",
}


def fresh_copy(destination: Path) -> Path:
    """The example as a clone has it (plus node_modules, which `make deploy` installs)."""
    shutil.copytree(
        EXAMPLE,
        destination,
        ignore=shutil.ignore_patterns(".tool", "__pycache__"),
        symlinks=True,
    )
    return destination


@pytest.fixture
def orders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[LocalAwsServices]:
    if shutil.which("node") is None:
        pytest.skip("no `node` on PATH: the example's Node.js handler cannot run locally")
    if not SDK.is_dir():
        pytest.skip(
            f"{SDK.relative_to(EXAMPLE.parents[1])} is missing: run `npm ci --omit=dev` in "
            "examples/orders (.ci/run does; `make deploy` there does too)"
        )
    folder = fresh_copy(tmp_path / "orders")
    monkeypatch.chdir(folder)
    services = LocalAwsServices(folder / ".tool")
    yield services
    services.stop()


def tool(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, Any, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith("{") else out, err


def test_the_example_runs_locally_with_deploy_then_invoke(
    orders: LocalAwsServices, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = tool(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[0] == "create    stack orders-dev"
    # Something that listens to the topic: a queue of the same local services.
    url = endpoint(orders)
    sqs, sns = client(url, "sqs"), client(url, "sns")
    queue = sqs.create_queue(QueueName="order-events-tap")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=TOPIC, Protocol="sqs", Endpoint=queue_arn["Attributes"]["QueueArn"])

    code, result, err = tool(capsys, "invoke", "--input", "order.json", "--json")
    assert code == 0, err
    assert result["status"] == "SUCCEEDED" and result["output"] == OUTPUT
    assert "order o-1001: 2 lines, 3097 cents" in err  # the Node.js handler's console.log
    assert "receipt for o-1001" in err  # the Python handler's print

    item = client(url, "dynamodb").get_item(TableName=TABLE, Key={"orderId": {"S": "o-1001"}})
    assert item["Item"]["customer"] == {"S": "ada@example.com"}
    assert json.loads(item["Item"]["lines"]["S"])[0] == {
        "sku": "book",
        "quantity": 2,
        "unitPriceCents": 1250,
    }
    messages = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=1)["Messages"]
    envelope = json.loads(messages[0]["Body"])
    assert envelope["TopicArn"] == TOPIC and envelope["Subject"] == "order placed"
    assert json.loads(envelope["Message"]) == {
        "orderId": "o-1001",
        "customer": "ada@example.com",
        "totalCents": 3097,
    }

    # tool info lists the table and the topic, as the stack's resources
    code, info, err = tool(capsys, "info", "--json")
    assert code == 0, err
    members = {row["kind"]: row for row in info["resources"]}
    assert members["AWS::DynamoDB::Table"]["name"] == TABLE
    assert members["AWS::DynamoDB::Table"]["arn"].endswith(f":table/{TABLE}")
    assert members["AWS::SNS::Topic"]["arn"] == TOPIC

    # The Node.js function's package holds the SDK (a production dependency).
    code, packages, err = tool(capsys, "package", "--json")
    assert code == 0, err
    files = packages["packages"][0]["files"]
    assert "node_modules/@aws-sdk/client-dynamodb/package.json" in files
    assert "src/price.mjs" in files and "receipt.py" in files


def test_the_example_is_planned_for_aws(
    aws_env: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(fresh_copy(tmp_path / "orders"))
    code, plan, err = tool(capsys, "deploy", "--dry-run", "--target", "aws", "--json")
    assert code == 0, err
    assert plan["target"] == "aws" and plan["dryRun"] is True
    changes = {(c["kind"], c["name"]): c for c in plan["changes"]}
    assert changes[("stack", "orders-dev")]["action"] == "create"
    for function in ("orders-dev-price", "orders-dev-receipt"):
        assert changes[("function", function)]["action"] == "create"
    machine = changes[("state machine", "orders-dev-placeOrder")]
    assert machine["action"] == "create"
    assert "uses values known after the stack is created" in machine["reasons"][0]
    assert {"kind": "stack", "name": "orders-dev"} in machine["dependsOn"]
