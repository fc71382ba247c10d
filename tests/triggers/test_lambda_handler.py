from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tooling.triggers import lambda_handler
from tooling.triggers.trigger_package import HANDLER, MODULES, build_trigger_zip

from .fakes import MACHINE, FakeStepFunctions

ID_A = "8c5b1f0e-2222-4d0b-8f00-00000000000a"
ID_B = "8c5b1f0e-2222-4d0b-8f00-00000000000b"


class Boto3LikeClient:
    """A boto3 stepfunctions client's call signatures, over the fake."""

    def __init__(self, fake: FakeStepFunctions) -> None:
        self.fake = fake

    def start_execution(self, *, stateMachineArn: str, name: str, input: str):  # noqa: N803
        return self.fake.start_execution(stateMachineArn, name, input)

    def describe_execution(self, *, executionArn: str):  # noqa: N803
        return self.fake.describe_execution(executionArn)


def sqs_event(*records: tuple[str, str]) -> dict[str, object]:
    """The event an SQS event source mapping passes to Lambda (Lambda developer guide)."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{message_id}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1", "SentTimestamp": "1700000000000"},
                "messageAttributes": {},
                "md5OfBody": "",
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
                "awsRegion": "us-east-1",
            }
            for message_id, body in records
        ]
    }


def test_handler_reports_only_the_bad_message_and_logs_why(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("STATE_MACHINE_ARN", MACHINE)
    fake = FakeStepFunctions()
    starter = lambda_handler.Boto3Starter(Boto3LikeClient(fake))
    event = sqs_event((ID_A, '{"key1": "value1"}'), (ID_B, "oops"), (ID_A, '{"key1": "value1"}'))
    answer = lambda_handler.handle(event, None, starter=starter)
    assert answer == {"batchItemFailures": [{"itemIdentifier": ID_B}]}
    assert len(fake.executions) == 1
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    marker, record = lines[0].split(" ", 1)
    assert marker == lambda_handler.LOG_MARKER
    assert json.loads(record)["messageId"] == ID_B
    assert "not a JSON document" in json.loads(record)["reason"]


def test_package_holds_only_the_trigger_modules(tmp_path: Path) -> None:
    first = build_trigger_zip(tmp_path / "a.zip").read_bytes()
    second = build_trigger_zip(tmp_path / "b.zip").read_bytes()
    assert first == second  # deterministic, so CodeSha256 only changes with the code
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert sorted(archive.namelist()) == sorted(f"tooling/{m}" for m in MODULES)
    assert HANDLER == "tooling.triggers.lambda_handler.handle"


def test_the_package_imports_with_the_standard_library_alone(tmp_path: Path) -> None:
    with zipfile.ZipFile(build_trigger_zip(tmp_path / "trigger.zip")) as archive:
        archive.extractall(tmp_path / "code")
    script = (
        "import sys, tooling.triggers.lambda_handler as h;"
        "print(sorted(m for m in sys.modules if m.startswith(('tooling', 'boto'))))"
    )
    # -S: no site-packages, so neither boto3 nor the rest of tooling can be found.
    done = subprocess.run(
        [sys.executable, "-S", "-c", script],
        cwd=tmp_path / "code",
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip() == str(
        ["tooling", "tooling.triggers", "tooling.triggers.lambda_handler",
         "tooling.triggers.start_from_messages"]
    )  # fmt: skip
