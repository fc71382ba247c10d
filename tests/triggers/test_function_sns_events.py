"""Functions' `sns` events: read as Serverless v3 reads them (what it refuses is a problem at its
line), deployed locally as records (topic, subscription, permission) with one warning per event
saying that published messages are not delivered locally."""

from __future__ import annotations

from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.config.service import load_service
from tooling.localrt.event_store import EventStore

REGION = "us-east-1"


def service(folder: Path, events: str) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "handler.py").write_text("def read(event, context):\n    return 'ok'\n")
    (folder / "serverless.yml").write_text(
        "service: news\nprovider:\n  name: aws\n  runtime: python3.12\n"
        "functions:\n  read:\n    handler: handler.read\n    events:\n" + events
    )
    return folder


def test_events_are_read_as_serverless_reads_them(tmp_path: Path) -> None:
    folder = service(
        tmp_path,
        "      - sns: alerts\n"
        "      - sns: arn:aws:sns:us-east-1:123456789012:theirs\n"
        "      - sns:\n          topicName: named\n          displayName: Named\n"
        "          filterPolicy: {kind: [a]}\n          filterPolicyScope: MessageBody\n",
    )
    svc = load_service(folder, env={})
    assert svc.problems == ()
    events = svc.functions["read"].events.sns
    assert [(e.topic_name, e.topic_arn) for e in events] == [
        ("alerts", None),
        ("theirs", "arn:aws:sns:us-east-1:123456789012:theirs"),
        ("named", None),
    ]
    assert events[2].display_name == "Named" and events[2].filter_policy == {"kind": ["a"]}
    assert events[2].filter_policy_scope == "MessageBody"
    assert not any("not supported by the toolkit" in w for w in svc.warnings)


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ("      - sns: 'bad name'\n", "sns topic name 'bad name' is not valid"),
        ("      - sns: {displayName: x}\n", "needs `arn` or `topicName`"),
        ("      - sns: {topicName: t, colour: red}\n", "sns key `colour`"),
        ("      - sns: {arn: 'arn:aws:sqs:us-east-1:123456789012:q'}\n", "not an SNS topic ARN"),
        ("      - sns: {topicName: t, filterPolicyScope: Body}\n", "filterPolicyScope 'Body'"),
        (
            "      - sns: {topicName: t, redrivePolicy: {deadLetterTargetRef: Dlq}}\n",
            "by ARN only",
        ),
    ],
)
def test_what_serverless_refuses_is_refused_at_its_line(
    tmp_path: Path, event: str, message: str
) -> None:
    (refused,) = load_service(service(tmp_path, event), env={}).problems
    assert refused.line == 9 and message in refused.message
    assert "function 'read'" in refused.message


@pytest.mark.slow
def test_local_deploy_records_them_and_says_they_are_not_delivered(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = service(tmp_path / "svc", "      - sns: alerts\n")
    monkeypatch.chdir(folder)
    assert main(["deploy"]) == 0
    err = capsys.readouterr().err
    (said,) = [line for line in err.splitlines() if line.startswith("warning:")]
    assert "serverless.yml:9:" in said and "topic alerts" in said and "not delivered" in said
    events = EventStore(LocalBackend(folder, REGION).store.path)
    assert events.get("topic", REGION, "alerts") is not None
    subscription = events.get("subscription", REGION, "alerts -> news-dev-read")
    assert subscription is not None
    assert subscription.document["Endpoint"].endswith(":function:news-dev-read")
    assert main(["deploy"]) == 0
    assert "No changes." in capsys.readouterr().out
    assert main(["remove"]) == 0
    assert events.get("topic", REGION, "alerts") is None
    assert events.get("subscription", REGION, "alerts -> news-dev-read") is None
