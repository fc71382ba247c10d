"""Functions' `s3` events: read as Serverless reads them (what it refuses is refused at its
line), deployed locally as a bucket in the folder's local AWS services with the function's
notification, and delivered by `tool worker`: an object put there invokes the function with the
event S3 sends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.config.service import load_service
from tooling.localrt.eventbridge import local_aws_client

from .recording_service import recording_service

REGION = "us-east-1"


def service(folder: Path, events: str) -> Path:
    return recording_service(folder, events, service="photos", function="resize", handler="main")


def test_s3_events_are_read_as_serverless_reads_them(tmp_path: Path) -> None:
    folder = service(
        tmp_path,
        "      - s3: photos-in\n"
        "      - s3:\n          bucket: photos-in\n          event: s3:ObjectRemoved:*\n"
        "          rules:\n            - prefix: raw/\n            - suffix: .png\n"
        "      - s3: {bucket: legacy, existing: true, forceDeploy: true, description: x}\n",
    )
    svc = load_service(folder, env={})
    assert not svc.problems
    events = svc.functions["resize"].events.s3
    assert [(e.bucket, e.event, e.rules, e.existing) for e in events] == [
        ("photos-in", "s3:ObjectCreated:*", (), False),
        ("photos-in", "s3:ObjectRemoved:*", (("prefix", "raw/"), ("suffix", ".png")), False),
        ("legacy", "s3:ObjectCreated:*", (), True),
    ]
    assert not any("`s3` events of functions are not supported" in w for w in svc.warnings)
    assert any(":18:" in w and "forceDeploy changes nothing" in w for w in svc.warnings)
    assert any(":18:" in w and "s3 key `description` is unknown" in w for w in svc.warnings)


@pytest.mark.parametrize(
    ("events", "line", "message"),
    [
        ("      - s3: {bucket: photos-in}\n      - s3: photos-in\n", 12,
         "a second s3 event on photos-in"),
        ("      - s3: Photos_In\n", 11, "S3_INVALID_BUCKET_PATTERN"),
        ("      - s3: {bucket: {Ref: Photos}}\n", 11, "S3_INVALID_NEW_BUCKET_FORMAT"),
        ("      - s3: {bucket: a-b, existing: true}\n      - s3: {bucket: c-d, existing: true}\n",
         12, "S3_MULTIPLE_BUCKETS_PER_FUNCTION"),
        ("      - s3: {bucket: a-b, existing: 'yes'}\n", 11, "s3 existing must be true or false"),
        ("      - s3: {bucket: a-b, event: ObjectCreated}\n", 11, "must start with `s3:`"),
        ("      - s3:\n          bucket: a-b\n          rules: [{prefix: a, suffix: b}]\n", 13,
         "each s3 rule is one"),
    ],
)  # fmt: skip
def test_what_serverless_refuses_is_refused_at_its_line(
    tmp_path: Path, events: str, line: int, message: str
) -> None:
    (refused,) = load_service(service(tmp_path, events), env={}).problems
    assert refused.line == line and message in refused.message, refused
    assert "function 'resize'" in refused.message


@pytest.mark.slow
def test_an_object_put_locally_invokes_the_function_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = service(
        tmp_path / "svc",
        "      - s3:\n          bucket: photos-in\n          rules:\n            - prefix: raw/\n",
    )
    monkeypatch.chdir(folder)
    try:
        assert main(["deploy"]) == 0, capsys.readouterr().err
        s3 = local_aws_client(folder / ".tool", REGION)()
        assert s3 is not None
        answer = s3.call("s3", "get_bucket_notification_configuration", what="t",
                         Bucket="photos-in")  # fmt: skip
        (configuration,) = answer["LambdaFunctionConfigurations"]
        assert configuration["LambdaFunctionArn"].endswith(":function:photos-dev-resize")
        s3.call("s3", "put_object", what="t", Bucket="photos-in", Key="raw/cat 1.jpg",
                Body=b"meow")  # fmt: skip
        s3.call("s3", "put_object", what="t", Bucket="photos-in", Key="other/x.jpg", Body=b"x")
        assert main(["worker", "--once"]) == 0, capsys.readouterr().err
        (event,) = [json.loads(line) for line in (folder / "seen.jsonl").read_text().splitlines()]
        (record,) = event["Records"]
        assert record["eventSource"] == "aws:s3" and record["eventName"] == "ObjectCreated:Put"
        assert record["awsRegion"] == REGION and record["eventTime"]
        assert record["s3"]["bucket"]["name"] == "photos-in"
        assert record["s3"]["bucket"]["arn"] == "arn:aws:s3:::photos-in"
        assert record["s3"]["object"]["key"] == "raw/cat+1.jpg"  # URL-encoded, as S3 sends it
        assert record["s3"]["object"]["size"] == 4
        main(["local", "stop"])  # a restart replays the journal: no event is sent again
        assert main(["worker", "--once"]) == 0  # delivered once
        assert len((folder / "seen.jsonl").read_text().splitlines()) == 1
        capsys.readouterr()
        assert main(["remove"]) == 1  # S3 deletes only an empty bucket
        assert "bucket photos-in still holds objects" in capsys.readouterr().err
        s3 = local_aws_client(folder / ".tool", REGION)()  # remove stopped the services
        assert s3 is not None
        for key in ("raw/cat 1.jpg", "other/x.jpg"):
            s3.call("s3", "delete_object", what="t", Bucket="photos-in", Key=key)
        assert main(["remove"]) == 0, capsys.readouterr().err
        s3 = local_aws_client(folder / ".tool", REGION)()
        assert s3 is not None
        assert "photos-in" not in {
            b["Name"] for b in s3.call("s3", "list_buckets", what="t")["Buckets"]
        }
    finally:
        main(["local", "stop"])


def test_a_bucket_of_provider_s3_is_named_as_serverless_names_it(tmp_path: Path) -> None:
    folder = service(tmp_path, "      - s3: one\n")
    text = (folder / "serverless.yml").read_text()
    text = text.replace(
        "  name: aws\n",
        "  name: aws\n  s3:\n    one:\n      name: photos-one\n"
        "      versioningConfiguration: {Status: Enabled}\n",
    )
    (folder / "serverless.yml").write_text(text)
    svc = load_service(folder, env={})
    (event,) = svc.functions["resize"].events.s3
    assert event.bucket == "photos-one"
    assert any("provider.s3.one (versioningConfiguration) are not deployed" in w
               for w in svc.warnings)  # fmt: skip


def test_two_functions_with_the_same_notification_on_a_bucket_are_refused(tmp_path: Path) -> None:
    folder = service(tmp_path, "      - s3: photos-in\n")
    text = (folder / "serverless.yml").read_text()
    text += "  thumbs:\n    handler: handler.main\n    events:\n      - s3: photos-in\n"
    (folder / "serverless.yml").write_text(text)
    (refused,) = load_service(folder, env={}).problems
    assert refused.line == 15 and "Configurations overlap" in refused.message
    assert "function 'thumbs'" in refused.message and "function 'resize'" in refused.message
