"""The local delivery of S3 events is crash-safe: a worker SIGKILLed after invoking a function
and before moving its cursor delivers that event again (at least once), and never an event
before it; a line the services are still writing is not read."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from tooling.localaws.s3_events import Outbox
from tooling.triggers.function_queues import Answer
from tooling.triggers.s3_notifications import deliver_pending

WORKER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from tooling.triggers.function_queues import Answer
    from tooling.triggers.s3_notifications import deliver_pending

    data_dir, log, kill_at = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]

    def invoke(arn, payload):
        import json
        key = json.loads(payload)["Records"][0]["s3"]["object"]["key"]
        with log.open("a") as out:
            out.write(key + "\\n")
        if key == kill_at:
            os.kill(os.getpid(), signal.SIGKILL)  # after the invocation, before the cursor
        return Answer(None, "null")

    deliver_pending(data_dir, invoke)
    """
)


def event(key: str) -> dict[str, object]:
    record = {"eventName": "ObjectCreated:Put",
              "s3": {"bucket": {"name": "b"}, "object": {"key": key}}}  # fmt: skip
    return {"functionArn": "arn:aws:lambda:us-east-1:000000000000:function:f",
            "event": {"Records": [record]}}  # fmt: skip


def run_worker(data_dir: Path, log: Path, kill_at: str) -> int:
    return subprocess.run(
        [sys.executable, "-c", WORKER, str(data_dir), str(log), kill_at], check=False
    ).returncode


def test_a_killed_worker_delivers_the_event_again_and_none_before_it(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    for key in ("a", "b", "c"):
        outbox.append(event(key))
    log = tmp_path / "invoked.txt"

    assert run_worker(tmp_path, log, kill_at="b") == -9
    assert log.read_text().split() == ["a", "b"]

    assert run_worker(tmp_path, log, kill_at="none") == 0
    assert log.read_text().split() == ["a", "b", "b", "c"]  # b again, at least once; a once

    assert run_worker(tmp_path, log, kill_at="none") == 0
    assert log.read_text().split() == ["a", "b", "b", "c"]  # nothing twice once delivered


def test_a_line_still_being_written_waits_and_a_cut_line_is_repaired(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path)
    outbox.append(event("a"))
    with (tmp_path / "s3-events.jsonl").open("ab") as file:
        file.write(b'{"functionArn": "arn:aws:lambda')  # a server killed mid-write
    seen: list[str] = []

    def invoke(arn: str, payload: str) -> Answer:
        seen.append(json.loads(payload)["Records"][0]["s3"]["object"]["key"])
        return Answer(None, "null")

    assert [d.key for d in deliver_pending(tmp_path, invoke)] == ["a"]
    Outbox(tmp_path).repair()  # what the restarted server does before appending
    Outbox(tmp_path).append(event("b"))
    assert [d.key for d in deliver_pending(tmp_path, invoke)] == ["b"]
    assert seen == ["a", "b"]


def test_a_failing_function_is_tried_three_times_then_dropped(tmp_path: Path) -> None:
    Outbox(tmp_path).append(event("a"))
    calls: list[str] = []

    def invoke(arn: str, payload: str) -> Answer:
        calls.append(arn)
        return Answer("Unhandled", json.dumps({"errorType": "Boom", "errorMessage": "no"}))

    (delivery,) = deliver_pending(tmp_path, invoke)
    assert len(calls) == 3 and delivery.error == "Boom: no"
    assert deliver_pending(tmp_path, invoke) == []


def test_the_functions_retries_and_destinations_are_followed(tmp_path: Path) -> None:
    """maximumRetryAttempts and destinations (PutFunctionEventInvokeConfig), as Lambda applies
    them to S3's asynchronous invocations (issue 15)."""
    Outbox(tmp_path).append(event("a"))
    calls: list[str] = []
    sent: list[tuple[str, dict[str, object]]] = []
    queue = "arn:aws:sqs:us-east-1:000000000000:failed"
    config = {"MaximumRetryAttempts": 0, "DestinationConfig": {"OnFailure": {"Destination": queue}}}

    def invoke(arn: str, payload: str) -> Answer:
        calls.append(arn)
        return Answer("Unhandled", json.dumps({"errorType": "Boom", "errorMessage": "no"}))

    (delivery,) = deliver_pending(
        tmp_path, invoke, lambda arn: config, lambda target, record: sent.append((target, record))
    )
    assert len(calls) == 1 and delivery.attempts == 1
    ((target, record),) = sent
    assert target == queue
    context = record["requestContext"]
    assert isinstance(context, dict)
    assert context == {
        "requestId": context["requestId"],
        "functionArn": "arn:aws:lambda:us-east-1:000000000000:function:f:$LATEST",
        "condition": "RetriesExhausted",
        "approximateInvokeCount": 1,
    }
    assert record["responsePayload"] == {"errorType": "Boom", "errorMessage": "no"}
