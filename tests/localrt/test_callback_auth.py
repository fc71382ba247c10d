"""No one answers another's task token: the loopback endpoint takes only requests signed with
the credentials its own execution's handlers were given; `tool task` (through the store) still
answers."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tooling.cli import main
from tooling.engine.callbacks import InMemoryTaskCallbacks
from tooling.engine.clock import VirtualClock
from tooling.localrt.callback_endpoint import CallbackEndpoint

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

ARN = "arn:aws:states:us-east-1:000000000000:execution:m:run"


def client(url: str, key: str, secret: str, token: str | None) -> Any:
    return boto3.client(
        "stepfunctions",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    )


@pytest.fixture
def endpoint() -> Iterator[tuple[CallbackEndpoint, InMemoryTaskCallbacks]]:
    callbacks = InMemoryTaskCallbacks(VirtualClock())
    with CallbackEndpoint(callbacks) as running:
        yield running, callbacks


def error_code(call: Any, **params: Any) -> str:
    with pytest.raises(ClientError) as info:
        call(**params)
    return str(info.value.response["Error"]["Code"])


def test_only_the_credentials_given_to_the_handlers_are_accepted(endpoint) -> None:
    running, callbacks = endpoint
    env = running.environment()
    url = env["AWS_ENDPOINT_URL_SFN"]
    token = callbacks.issue(ARN, "T")
    other = CallbackEndpoint(InMemoryTaskCallbacks(VirtualClock()))  # another execution's
    try:
        foreign = other.environment()
        attempts = {
            "another endpoint's keys": client(
                url,
                foreign["AWS_ACCESS_KEY_ID"],
                foreign["AWS_SECRET_ACCESS_KEY"],
                foreign["AWS_SESSION_TOKEN"],
            ),
            "the old fixed stand-ins": client(
                url, "LOCALRUNTIMEKEYID", "local-runtime-secret", "local-runtime-session"
            ),
            "the right key id, a wrong secret": client(
                url, env["AWS_ACCESS_KEY_ID"], "guess", env["AWS_SESSION_TOKEN"]
            ),
            "no session token": client(
                url, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], None
            ),
        }
        codes = {
            why: error_code(sfn.send_task_success, taskToken=token, output="{}")
            for why, sfn in attempts.items()
        }
    finally:
        other.close()
    assert codes == {
        "another endpoint's keys": "UnrecognizedClientException",
        "the old fixed stand-ins": "UnrecognizedClientException",
        "the right key id, a wrong secret": "InvalidSignatureException",
        "no session token": "UnrecognizedClientException",
    }
    assert callbacks.status(token).outcome is None  # still waiting
    own = client(
        url, env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"]
    )
    own.send_task_success(taskToken=token, output='{"ok": 1}')
    assert callbacks.status(token).outcome is not None


def raw_post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read() or b"{}")
    except urllib.error.HTTPError as refused:
        return refused.code, json.loads(refused.read() or b"{}")


def sigv4_headers(
    url: str, body: bytes, key: str, secret: str, token: str, when: datetime
) -> dict[str, str]:
    """A request signed by hand (what botocore does), to alter one part at a time."""
    host = url.removeprefix("http://")
    stamp = when.strftime("%Y%m%dT%H%M%SZ")
    scope = f"{stamp[:8]}/us-east-1/states/aws4_request"
    headers = {
        "content-type": "application/x-amz-json-1.0",
        "host": host,
        "x-amz-date": stamp,
        "x-amz-security-token": token,
        "x-amz-target": "AWSStepFunctions.SendTaskSuccess",
    }
    names = ";".join(sorted(headers))
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{n}:{headers[n]}\n" for n in sorted(headers)),
            names,
            hashlib.sha256(body).hexdigest(),
        ]
    )
    to_sign = "\n".join(
        ["AWS4-HMAC-SHA256", stamp, scope, hashlib.sha256(canonical.encode()).hexdigest()]
    )
    signing = ("AWS4" + secret).encode()
    for part in scope.split("/"):
        signing = hmac.new(signing, part.encode(), hashlib.sha256).digest()
    signature = hmac.new(signing, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={key}/{scope}, SignedHeaders={names}, Signature={signature}"
    )
    return headers


def test_unsigned_altered_and_stale_requests_are_refused(endpoint) -> None:
    running, callbacks = endpoint
    env = running.environment()
    url = env["AWS_ENDPOINT_URL_SFN"]
    token = callbacks.issue(ARN, "T")
    body = json.dumps({"taskToken": token, "output": '{"forged": true}'}).encode()
    keys = (env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], env["AWS_SESSION_TOKEN"])
    now = datetime.now(UTC)

    unsigned = {"X-Amz-Target": "AWSStepFunctions.SendTaskSuccess"}
    assert raw_post(url, body, unsigned)[1]["__type"] == "MissingAuthenticationTokenException"
    signed = sigv4_headers(url, b'{"taskToken": "x", "output": "{}"}', *keys, now)
    status, answer = raw_post(url, body, signed)  # the signature of another body
    assert (status, answer["__type"]) == (400, "InvalidSignatureException")
    stale = sigv4_headers(url, body, *keys, now - timedelta(minutes=20))
    status, answer = raw_post(url, body, stale)
    assert answer["__type"] == "InvalidSignatureException" and "expired" in answer["message"]
    assert callbacks.status(token).outcome is None
    assert raw_post(url, body, sigv4_headers(url, body, *keys, now)) == (200, {})
    assert callbacks.status(token).outcome is not None


# -- through deployed services: the scenarios of the issue ----------------------------------

WAITER = """
import json, os


def handler(event, context):
    # Hands its token and endpoint to the test (as a leaked token would be), then returns
    # without answering: the execution waits.
    with open(event["drop"], "w") as out:
        json.dump({"token": event["token"], "url": os.environ["AWS_ENDPOINT_URL_SFN"]}, out)
    return {}
"""
INTRUDER = """
import boto3


def handler(event, context):
    # Another service's handler: it has credentials of its own (for its own endpoint).
    mine = boto3.client("stepfunctions")
    theirs = boto3.client("stepfunctions", endpoint_url=event["url"])
    try:
        theirs.send_task_success(taskToken=event["victim"], output='{"forged": true}')
        result = "ACCEPTED"
    except theirs.exceptions.ClientError as refused:
        result = refused.response["Error"]["Code"]
    mine.send_task_success(taskToken=event["token"], output='{"attempt": "%s"}' % result)
"""


def service_folder(root: Path, name: str, module: str, source: str) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / f"{module}.py").write_text(source)
    payload = {"token.$": "$$.Task.Token", "drop.$": "$.drop"}
    if module == "intruder":
        payload = {"token.$": "$$.Task.Token", "url.$": "$.url", "victim.$": "$.victim"}
    definition = {
        "StartAt": "Wait",
        "States": {
            "Wait": {
                "Type": "Task",
                "Resource": "arn:aws:states:::lambda:invoke.waitForTaskToken",
                "Parameters": {"FunctionName": f"{name}-dev-fn", "Payload": payload},
                "TimeoutSeconds": 300,
                "End": True,
            }
        },
    }
    (folder / "machine.asl.json").write_text(json.dumps(definition))
    (folder / "serverless.yml").write_text(
        f"service: {name}\nprovider:\n  name: aws\n  runtime: python3.12\n"
        f"functions:\n  fn:\n    handler: {module}.handler\n"
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


def waiting_execution(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> tuple[Path, str, dict[str, str]]:
    """Service `victim` deployed, one execution waiting on its token: (folder, arn, drop)."""
    victim = service_folder(tmp_path, "victim", "waiter", WAITER)
    drop = tmp_path / "drop.json"
    (victim / "in.json").write_text(json.dumps({"drop": str(drop)}))
    assert tool(capsys, victim, "deploy")[0] == 0
    code, started, err = tool(capsys, victim, "invoke", "--input", "in.json", "--no-wait", "--json")
    assert code == 0, err
    deadline = time.monotonic() + 60
    while not drop.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.2)  # the handler has written and closed the file
    return victim, started["executionArn"], json.loads(drop.read_text())


def status_of(capsys: pytest.CaptureFixture[str], folder: Path, arn: str) -> tuple[str, Any]:
    code, history, err = tool(capsys, folder, "history", arn, "--json")
    assert code == 0, err
    types = [event["type"] for event in history["events"]]
    return history["status"], types


def test_another_services_handler_cannot_answer_the_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim, arn, leaked = waiting_execution(tmp_path, capsys)
    intruder = service_folder(tmp_path, "intruder", "intruder", INTRUDER)
    (intruder / "in.json").write_text(json.dumps({"url": leaked["url"], "victim": leaked["token"]}))
    assert tool(capsys, intruder, "deploy")[0] == 0
    code, result, err = tool(capsys, intruder, "invoke", "--input", "in.json", "--json")
    assert code == 0, err
    assert result["output"] == {"attempt": "UnrecognizedClientException"}

    status, types = status_of(capsys, victim, arn)
    assert status == "RUNNING" and "TaskSucceeded" not in types
    # The owner answers through the store, as before.
    (victim / "answer.json").write_text('{"approved": true}')
    code, _, err = tool(
        capsys, victim, "task", "success", leaked["token"], "--output", "answer.json"
    )
    assert code == 0, err
    deadline = time.monotonic() + 60
    while status_of(capsys, victim, arn)[0] == "RUNNING" and time.monotonic() < deadline:
        time.sleep(0.1)
    code, history, _ = tool(capsys, victim, "history", arn, "--json")
    assert history["status"] == "SUCCEEDED" and history["output"] == {"approved": True}


ATTACKER = """
import encodings.idna, json, os, sys, urllib.error, urllib.request  # imported while still root

url, token, db = sys.argv[1:]
os.setgid(4242)
os.setuid(4242)
try:
    open(db, "rb").read(1)
    read = "READ"
except PermissionError:
    read = "DENIED"
answers = []
for headers in (
    {"X-Amz-Target": "AWSStepFunctions.SendTaskSuccess"},
    {
        "X-Amz-Target": "AWSStepFunctions.SendTaskSuccess",
        "X-Amz-Date": "20250101T000000Z",
        "X-Amz-Security-Token": "guess",
        "Authorization": "AWS4-HMAC-SHA256 Credential=AKIAGUESS/20250101/us-east-1/states/"
        "aws4_request, SignedHeaders=host;x-amz-date, Signature=" + "0" * 64,
    },
):
    body = json.dumps({"taskToken": token, "output": '{"forged": true}'}).encode()
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            answers.append("ACCEPTED")
    except urllib.error.HTTPError as refused:
        answers.append(json.loads(refused.read())["__type"])
print(json.dumps({"store": read, "answers": answers}))
"""


@pytest.fixture
def reachable(tmp_path: Path) -> Iterator[Path]:
    """A folder other users may pass through (0711), as a home folder often is; pytest's own
    temporary folders are 0700."""
    base = Path(tempfile.mkdtemp(prefix="tool-reachable-"))
    try:
        base.chmod(0o711)
        yield base
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_users_process_cannot_read_or_answer_the_token(
    reachable: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    victim, arn, leaked = waiting_execution(reachable, capsys)
    victim.chmod(0o755)
    store = victim / ".tool" / "local.db"
    done = subprocess.run(
        [sys.executable, "-c", ATTACKER, leaked["url"], leaked["token"], str(store)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "store": "DENIED",
        "answers": ["MissingAuthenticationTokenException", "UnrecognizedClientException"],
    }
    status, types = status_of(capsys, victim, arn)
    assert status == "RUNNING" and "TaskSucceeded" not in types
    assert tool(capsys, victim, "stop", arn)[0] == 0
