"""The journal: which requests it keeps, how, and how they are replayed (no server needed)."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from tooling.localaws.journal import Journal, JournalingApp, changes_state, operation_of, replay


class RecordingApp:
    """A WSGI app answering `status` and remembering each request it ran."""

    def __init__(self, status: str = "200 OK") -> None:
        self.status = status
        self.seen: list[tuple[str, str, bytes]] = []

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        body = environ["wsgi.input"].read()
        self.seen.append((environ["REQUEST_METHOD"], environ.get("RAW_URI", ""), body))
        start_response(self.status, [("Content-Type", "application/json")])
        return [b"{}"]


def dynamodb(client: Client, operation: str, body: dict[str, Any]) -> Any:
    return client.post(
        "/",
        data=json.dumps(body),
        headers={
            "X-Amz-Target": f"DynamoDB_20120810.{operation}",
            "Content-Type": "application/x-amz-json-1.0",
            "Authorization": "AWS4-HMAC-SHA256 Credential=KEY/20240101/us-east-1/dynamodb/"
            "aws4_request, SignedHeaders=host, Signature=0123abcd",
            "X-Amz-Security-Token": "secret-session",
        },
    )


@pytest.mark.parametrize(
    ("environ", "body", "operation"),
    [
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, b"{}", "PutItem"),
        (
            {"PATH_INFO": "/service/GraniteServiceVersion20100801/operation/PutMetricData"},
            b"",
            "PutMetricData",
        ),
        ({"QUERY_STRING": "Action=ListTopics&Version=2010-03-31"}, b"", "ListTopics"),
        (
            {"CONTENT_TYPE": "application/x-www-form-urlencoded; charset=utf-8"},
            b"Action=Publish&TopicArn=arn",
            "Publish",
        ),
        ({"REQUEST_METHOD": "PUT", "PATH_INFO": "/bucket/key"}, b"data", None),
    ],
)
def test_the_operation_is_read_in_every_protocol(
    environ: dict[str, Any], body: bytes, operation: str | None
) -> None:
    assert operation_of(environ, body) == operation


@pytest.mark.parametrize(
    ("environ", "body", "kept"),
    [
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.PutItem"}, b"", True),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.GetItem"}, b"", False),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Query"}, b"", False),
        ({"HTTP_X_AMZ_TARGET": "DynamoDB_20120810.Scan"}, b"", False),
        ({"HTTP_X_AMZ_TARGET": "AmazonSQS.ReceiveMessage"}, b"", False),
        ({"HTTP_X_AMZ_TARGET": "AmazonSSM.PutParameter"}, b"", True),
        ({"REQUEST_METHOD": "GET", "PATH_INFO": "/bucket/key"}, b"", False),
        ({"REQUEST_METHOD": "DELETE", "PATH_INFO": "/bucket/key"}, b"", True),
        ({"REQUEST_METHOD": "POST", "PATH_INFO": "/moto-api/reset"}, b"", False),
    ],
)
def test_only_requests_that_can_change_state_are_kept(
    environ: dict[str, Any], body: bytes, kept: bool
) -> None:
    assert changes_state(environ, body) is kept


def test_a_successful_change_is_journaled_without_its_signature(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    app = RecordingApp()
    client = Client(JournalingApp(app, journal))
    dynamodb(client, "GetItem", {"TableName": "t"})
    dynamodb(client, "PutItem", {"TableName": "t", "Item": {"id": {"S": "1"}}})
    journal.close()
    entries = list(journal.entries())
    assert len(app.seen) == 2 and len(entries) == 1
    entry = entries[0]
    assert entry["headers"]["X-Amz-Target"] == "DynamoDB_20120810.PutItem"
    assert json.loads(base64.b64decode(entry["body"])) == {
        "TableName": "t",
        "Item": {"id": {"S": "1"}},
    }
    assert "Signature=journaled" in entry["headers"]["Authorization"]
    assert "0123abcd" not in json.dumps(entry) and "secret-session" not in json.dumps(entry)


def test_a_refused_change_is_not_journaled(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    client = Client(JournalingApp(RecordingApp("400 Bad Request"), journal))
    dynamodb(client, "PutItem", {"TableName": "t"})
    assert list(journal.entries()) == []


def test_replay_runs_the_journal_in_order(tmp_path: Path) -> None:
    journal = Journal(tmp_path / "journal.jsonl")
    client = Client(JournalingApp(RecordingApp(), journal))
    for number in range(3):
        dynamodb(client, "PutItem", {"TableName": "t", "n": number})
    journal.close()
    fresh = RecordingApp()
    assert replay(fresh, journal) == (3, 0)
    assert [json.loads(body)["n"] for _, _, body in fresh.seen] == [0, 1, 2]
    assert [uri for _, uri, _ in fresh.seen] == ["/", "/", "/"]


def test_a_line_cut_short_by_a_crash_is_dropped(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal(path)
    client = Client(JournalingApp(RecordingApp(), journal))
    dynamodb(client, "PutItem", {"TableName": "t"})
    journal.close()
    whole = path.read_bytes()
    path.write_bytes(whole + b'{"method":"POST","uri":"/","hea')
    assert journal.repair() == len(b'{"method":"POST","uri":"/","hea')
    assert path.read_bytes() == whole
    assert journal.repair() == 0
