"""Functions that EventBridge (a schedule, a rule) invokes locally follow their
maximumRetryAttempts and destinations, as Lambda applies them to an asynchronous invocation
(tooling.localrt.eventbridge.function_runner; issue 15)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.localrt.eventbridge import function_runner
from tooling.names import LOCAL_ACCOUNT_ID

REGION = "us-east-1"
HANDLER = """\
import json, os

def work(event, context):
    with open(os.environ["SEEN_FILE"], "a") as out:
        out.write(json.dumps({"work": event}) + "\\n")
    raise RuntimeError("no")

def catch(event, context):
    with open(os.environ["SEEN_FILE"], "a") as out:
        out.write(json.dumps({"catch": event}) + "\\n")
"""


@pytest.mark.slow
def test_a_failing_function_is_retried_then_its_record_goes_to_on_failure(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "handler.py").write_text(HANDLER)
    (tmp_path / "serverless.yml").write_text(
        "service: bus\nprovider:\n  name: aws\n  runtime: python3.12\n"
        f"  environment:\n    SEEN_FILE: {tmp_path / 'seen.jsonl'}\n"
        "functions:\n  work:\n    handler: handler.work\n    maximumRetryAttempts: 1\n"
        "    destinations: {onFailure: catch}\n  catch:\n    handler: handler.catch\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["deploy"]) == 0
    backend = LocalBackend(tmp_path, REGION)
    said: list[str] = []
    run = function_runner(backend.store, REGION, said.append)
    run(f"arn:aws:lambda:{REGION}:{LOCAL_ACCOUNT_ID}:function:bus-dev-work", '{"tick": 1}')
    seen = tmp_path / "seen.jsonl"
    lines: list[dict[str, object]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = (
            [json.loads(line) for line in seen.read_text().splitlines()] if seen.exists() else []
        )
        if any("catch" in line for line in lines):
            break
        time.sleep(0.05)
    assert [line for line in lines if "work" in line] == [{"work": {"tick": 1}}] * 2
    (caught,) = [line["catch"] for line in lines if "catch" in line]
    assert isinstance(caught, dict)
    assert caught["requestContext"]["condition"] == "RetriesExhausted"
    assert caught["requestContext"]["approximateInvokeCount"] == 2
    assert caught["requestPayload"] == {"tick": 1}
