"""The local AWS services take only requests signed with the folder's local credentials (its
handlers', its commands'), as the callback endpoint does: a foreign process, unsigned or with
other credentials, another service's handler, another user, are refused; one set of credentials
per run serves a handler for both the services and SendTaskSuccess."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.auth import S3SigV4QueryAuth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest
from botocore.credentials import Credentials as BotoCredentials
from botocore.exceptions import ClientError

from tooling.cli import main
from tooling.errors import InputError
from tooling.localaws.manager import LocalAwsServices
from tooling.localaws.signing import KEY_FILE, LocalSigning, SignatureRefused, SignedRequest

from .helpers import REGION, Endpoint, client, create_table, endpoint

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalAwsServices]:
    folder = tmp_path_factory.mktemp("owner")
    services = LocalAwsServices(folder / ".tool")
    create_table(endpoint(services), "orders")
    yield services
    services.stop()


def raw(url: str, body: bytes, headers: dict[str, str], method: str = "POST") -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=body or None, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def code_of(call: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return str(refused.value.response["Error"]["Code"])


def test_the_key_is_private_and_each_command_gets_key_ids_of_its_own(
    services: LocalAwsServices,
) -> None:
    key = services.tool_dir / KEY_FILE
    assert oct(key.stat().st_mode & 0o777) == "0o600"
    other = LocalAwsServices(services.tool_dir).credentials()
    mine = services.credentials()
    assert other.access_key_id != mine.access_key_id and mine.access_key_id.startswith("ASIA")
    # Both pass: derived from the same key, no state shared between the two commands.
    for credentials in (mine, other):
        url = Endpoint(services.endpoint(), credentials)
        assert "orders" in client(url, "dynamodb").list_tables()["TableNames"]


def test_unsigned_foreign_and_forged_requests_are_refused_by_every_protocol(
    services: LocalAwsServices, tmp_path: Path
) -> None:
    url = services.endpoint()
    entries = services.journal_entries()
    own = services.credentials()
    foreign = LocalSigning.ephemeral().issue()  # another folder's
    attempts = {
        "another folder's credentials": (foreign.access_key_id, foreign.secret_access_key,
                                         foreign.session_token),
        "the old fixed stand-ins": ("LOCALRUNTIMEKEYID", "local-runtime-secret", None),
        "the right key id, a wrong secret": (own.access_key_id, "guess", own.session_token),
        "no session token": (own.access_key_id, own.secret_access_key, None),
    }  # fmt: skip
    found: dict[str, list[str]] = {}
    for why, (key, secret, token) in attempts.items():
        session = boto3.Session(
            aws_access_key_id=key,
            aws_secret_access_key=secret,
            aws_session_token=token,
            region_name=REGION,
        )
        dynamodb, sns, s3 = (session.client(n, endpoint_url=url) for n in ("dynamodb", "sns", "s3"))
        found[why] = [
            code_of(lambda: dynamodb.create_table(  # noqa: B023 - called at once
                TableName="stolen", KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST")),
            code_of(lambda: sns.create_topic(Name="stolen")),  # noqa: B023
            code_of(lambda: s3.create_bucket(Bucket="stolen")),  # noqa: B023
        ]  # fmt: skip
    assert found == {
        "another folder's credentials": [
            "UnrecognizedClientException", "InvalidClientTokenId", "InvalidToken"
        ],
        "the old fixed stand-ins": [
            "UnrecognizedClientException", "InvalidClientTokenId", "InvalidToken"
        ],
        "the right key id, a wrong secret": [
            "InvalidSignatureException", "SignatureDoesNotMatch", "SignatureDoesNotMatch"
        ],
        "no session token": [
            "UnrecognizedClientException", "InvalidClientTokenId", "InvalidToken"
        ],
    }  # fmt: skip

    # Unsigned: a JSON call, moto's own reset API, S3.
    status, body = raw(
        url + "/",
        b"{}",
        {
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0",
        },
    )
    assert (status, json.loads(body)["__type"]) == (400, "MissingAuthenticationTokenException")
    assert raw(url + "/moto-api/reset", b"", {})[0] == 403
    assert raw(url + "/", b"", {}, method="GET")[0] == 403  # ListBuckets
    # An altered body under a valid signature (the signature of another table's name).
    dynamodb = client(Endpoint(url, own), "dynamodb")
    altered: list[str] = []

    def swap_body(request: AWSPreparedRequest, **kwargs: Any) -> None:
        assert isinstance(request.body, bytes)
        request.body = request.body.replace(b"orders", b"ordersX")  # after signing
        request.headers["Content-Length"] = str(len(request.body))
        altered.append("yes")

    dynamodb.meta.events.register("before-send.dynamodb.DeleteTable", swap_body)  # signed
    assert code_of(lambda: dynamodb.delete_table(TableName="orders")) == "InvalidSignatureException"
    assert altered

    # Nothing changed, nothing journaled; the owner still has everything.
    assert services.journal_entries() == entries
    assert client(endpoint(services), "dynamodb").list_tables()["TableNames"] == ["orders"]


def test_s3_paths_queries_and_presigned_urls_are_checked_as_signed(
    services: LocalAwsServices,
) -> None:
    url = endpoint(services)
    s3 = client(url, "s3")
    s3.create_bucket(Bucket="reports")
    key = "2026/a b+c=€ (1).txt"
    s3.put_object(Bucket="reports", Key=key, Body=b"hello")
    listed = s3.list_objects_v2(Bucket="reports", Prefix="2026/a b+")["Contents"]
    assert [item["Key"] for item in listed] == [key]
    presigned = s3.generate_presigned_url(
        "get_object", Params={"Bucket": "reports", "Key": key}, ExpiresIn=60
    )
    assert raw(presigned, b"", {}, method="GET") == (200, b"hello")
    tampered = presigned.replace("reports", "reportz", 1)
    assert raw(tampered, b"", {}, method="GET")[0] == 403


def test_a_presigned_url_expires_and_a_stale_signature_is_refused() -> None:
    signing = LocalSigning.ephemeral()
    keys = signing.issue()
    creds = BotoCredentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    request = AWSRequest("GET", "http://127.0.0.1:1/reports/key.txt", headers={})
    S3SigV4QueryAuth(creds, "s3", REGION, expires=60).add_auth(request)
    assert request.url is not None
    target = request.url.removeprefix("http://127.0.0.1:1")
    signed = SignedRequest("GET", target, {"host": "127.0.0.1:1"}, b"")
    now = datetime.now(UTC)
    assert signing.verify(signed, now) == "s3"
    with pytest.raises(SignatureRefused) as late:
        signing.verify(signed, now + timedelta(seconds=120))
    assert late.value.reason == "expired"


def test_a_key_that_is_not_the_toolkits_is_one_clear_error(tmp_path: Path) -> None:
    tool_dir = tmp_path / ".tool"
    tool_dir.mkdir()
    (tool_dir / KEY_FILE).write_text("not a key\n")
    with pytest.raises(InputError, match="is not a key made by tool"):
        LocalSigning.of_folder(tool_dir, create=True)


# -- handlers: the scenarios ------------------------------------------------------------------

OWNER = """
import json, os

import boto3


def handler(event, context):
    # One set of credentials: the local AWS services and the callback endpoint both take it.
    boto3.client("dynamodb").put_item(TableName="vault", Item={"id": {"S": event["id"]}})
    boto3.client("stepfunctions").send_task_success(
        taskToken=event["token"], output=json.dumps({"stored": event["id"]})
    )
"""
INTRUDER = """
import boto3
from botocore.exceptions import ClientError


def handler(event, context):
    # Another service's handler, with its own folder's credentials, at the victim's services.
    theirs = boto3.client("dynamodb", endpoint_url=event["url"])
    try:
        theirs.scan(TableName="vault")
        return {"attempt": "ACCEPTED"}
    except ClientError as refused:
        return {"attempt": refused.response["Error"]["Code"]}
"""


def service(root: Path, name: str, source: str, definition: dict[str, Any]) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "handler.py").write_text(source)
    (folder / "machine.asl.json").write_text(json.dumps(definition))
    (folder / "serverless.yml").write_text(
        f"service: {name}\nprovider:\n  name: aws\n  runtime: python3.12\n"
        "functions:\n  fn:\n    handler: handler.handler\n"
        "stepFunctions:\n  stateMachines:\n    m:\n      definition: ${file(machine.asl.json)}\n"
    )
    return folder


def tool(capsys: pytest.CaptureFixture[str], folder: Path, *args: str) -> tuple[int, Any, str]:
    cwd = os.getcwd()
    os.chdir(folder)
    try:
        code = main(list(args))
    finally:
        os.chdir(cwd)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith("{") else out, err


def test_a_handler_uses_the_services_and_send_task_success_with_its_own_credentials(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    waits = {
        "StartAt": "Store",
        "States": {
            "Store": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {
                    "FunctionName": "vault-dev-fn",
                    "Payload": {"token.$": "$$.Task.Token", "id.$": "$.id"},
                },
                "TimeoutSeconds": 120,
                "End": True,
            }
        },
    }
    vault = service(tmp_path, "vault", OWNER, waits)
    services = LocalAwsServices(vault / ".tool")
    try:
        create_table(endpoint(services), "vault")
        (vault / "in.json").write_text('{"id": "v-1"}')
        assert tool(capsys, vault, "deploy")[0] == 0
        code, result, err = tool(capsys, vault, "invoke", "--input", "in.json", "--json")
        assert code == 0, err
        assert result["output"] == {"stored": "v-1"}
        item = client(endpoint(services), "dynamodb").get_item(
            TableName="vault", Key={"id": {"S": "v-1"}}
        )
        assert item["Item"] == {"id": {"S": "v-1"}}

        # Another service's handler, pointed at these services, is refused.
        reads = {
            "StartAt": "Read",
            "States": {
                "Read": {
                    "Type": "Task",
                    "Resource": "arn:aws:lambda:us-east-1:000000000000:function:intruder-dev-fn",
                    "End": True,
                }
            },
        }
        intruder = service(tmp_path, "intruder", INTRUDER, reads)
        theirs = LocalAwsServices(intruder / ".tool")
        try:
            create_table(endpoint(theirs), "own")  # so its handlers get credentials of its own
            (intruder / "in.json").write_text(json.dumps({"url": services.endpoint()}))
            assert tool(capsys, intruder, "deploy")[0] == 0
            code, result, err = tool(capsys, intruder, "invoke", "--input", "in.json", "--json")
            assert code == 0, err
            assert result["output"] == {"attempt": "UnrecognizedClientException"}
        finally:
            theirs.stop()
    finally:
        services.stop()


ATTACKER = """
import encodings.idna, json, os, sys, urllib.error, urllib.request  # imported while still root

url, key = sys.argv[1:]
os.setgid(4242)
os.setuid(4242)
try:
    open(key, "rb").read(1)
    read = "READ"
except PermissionError:
    read = "DENIED"
answers = []
for headers in (
    {"X-Amz-Target": "DynamoDB_20120810.Scan"},
    {
        "X-Amz-Target": "DynamoDB_20120810.Scan",
        "X-Amz-Date": "20250101T000000Z",
        "X-Amz-Security-Token": "guess",
        "Authorization": "AWS4-HMAC-SHA256 Credential=ASIAGUESSGUESSGUESS/20250101/us-east-1/"
        "dynamodb/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    },
):
    request = urllib.request.Request(
        url, data=b'{"TableName": "orders"}', headers={
            "Content-Type": "application/x-amz-json-1.0", **headers}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10):
            answers.append("ACCEPTED")
    except urllib.error.HTTPError as refused:
        answers.append(json.loads(refused.read())["__type"])
print(json.dumps({"key": read, "answers": answers}))
"""


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_users_process_cannot_read_the_key_or_use_the_services() -> None:
    base = Path(tempfile.mkdtemp(prefix="tool-reachable-"))
    try:
        base.chmod(0o711)  # other users may pass through, as a home folder often allows
        folder = base / "svc"
        folder.mkdir(mode=0o755)
        services = LocalAwsServices(folder / ".tool")
        try:
            create_table(endpoint(services), "orders")
            done = subprocess.run(
                [
                    sys.executable,
                    "-c",
                    ATTACKER,
                    services.endpoint(),
                    str(folder / ".tool" / KEY_FILE),
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
        finally:
            services.stop()
    finally:
        shutil.rmtree(base)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "key": "DENIED",
        "answers": ["MissingAuthenticationTokenException", "UnrecognizedClientException"],
    }


def test_the_journal_replays_without_signatures_after_a_restart(
    services: LocalAwsServices,
) -> None:
    # The journal keeps no signature (nor session token): replaying does not go through the check.
    journal = services.journal_path.read_text()
    assert "Signature=journaled" in journal and services.credentials().session_token not in journal
    services.stop()
    assert "orders" in client(endpoint(services), "dynamodb").list_tables()["TableNames"]


def test_commands_racing_to_make_the_key_end_with_one(tmp_path: Path) -> None:
    script = (
        "import sys; from pathlib import Path; from tooling.localaws.signing import LocalSigning; "
        "signing = LocalSigning.of_folder(Path(sys.argv[1]), create=True); "
        "print(signing.credentials('ASIA0000000000000000').secret_access_key)"
    )
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path / ".tool")], stdout=subprocess.PIPE
        )
        for _ in range(4)
    ]
    secrets = {racer.communicate(timeout=60)[0] for racer in racers}
    assert len(secrets) == 1 and all(racer.returncode == 0 for racer in racers)
    assert sorted(p.name for p in (tmp_path / ".tool").iterdir()) == [KEY_FILE]  # no leftovers
