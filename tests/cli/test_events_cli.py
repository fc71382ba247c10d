"""The CLI on the local target with state-machine events: `tool plan --json` shows the new
kinds, `tool worker --once` fires a due schedule once, `tool serve` starts an execution from a
POST and answers with StartExecution's response."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tooling.cli import main
from tooling.localrt.store import Store
from tooling.names import LOCAL_ACCOUNT_ID

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

MACHINE_ARN = f"arn:aws:states:us-east-1:{LOCAL_ACCOUNT_ID}:stateMachine:web-dev-orders"

SERVICE = """\
service: web
provider:
  name: aws
stepFunctions:
  stateMachines:
    orders:
      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
      events:
        - schedule: rate(1 minute)
        - http: {path: orders, method: post, cors: true}
      alarms:
        topics: {alarm: arn:aws:sns:us-east-1:123456789012:alerts}
        metrics: [executionsFailed]
"""


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    service = tmp_path / "service"
    service.mkdir()
    (service / "serverless.yml").write_text(SERVICE)
    monkeypatch.chdir(service)
    return service


def test_plan_json_shows_the_new_kinds(folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", "--json"]) == 0
    captured = capsys.readouterr()
    kinds = [(c["kind"], c["name"], c["action"]) for c in json.loads(captured.out)["changes"]]
    assert ("rule", "web-dev-OrdersStepFunctionsEventsRuleSchedule1", "create") in kinds
    assert ("rest api", "dev-web", "create") in kinds
    assert ("alarm", "web-dev-OrdersStepFunctionsStateMachineExecutionsFailedAlarm", "create") in (
        kinds
    )
    assert (
        "warning: state machine web-dev-orders: 1 alarm(s) are kept as records on this target "
        "and never evaluated (they act on AWS only; see docs/aws.md, Alarms and notifications)"
    ) in captured.err


def test_worker_once_fires_a_due_schedule_once(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy"]) == 0
    capsys.readouterr()
    database = folder / ".tool" / "local.db"
    with sqlite3.connect(database) as db:  # deployed 90 seconds ago: one tick is due
        db.execute(
            "UPDATE event_resources SET created = ? WHERE kind = 'rule'",
            (time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() - 90)),),
        )
    assert main(["worker", "--once"]) == 0
    err = capsys.readouterr().err
    assert "schedule web-dev-OrdersStepFunctionsEventsRuleSchedule1: " in err and " started " in err
    assert len(Store(database).list_executions(MACHINE_ARN)) == 1
    assert main(["worker", "--once"]) == 0
    assert len(Store(database).list_executions(MACHINE_ARN)) == 1


def test_worker_with_nothing_to_do_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "serverless.yml").write_text(
        "service: quiet\nprovider:\n  name: aws\nstepFunctions:\n  stateMachines:\n    m:\n"
        "      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}\n"
    )
    monkeypatch.chdir(tmp_path)
    assert main(["worker", "--once"]) == 2
    assert "has an sqs trigger" in capsys.readouterr().err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_starts_an_execution_from_a_post(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy"]) == 0
    capsys.readouterr()
    port = _free_port()
    entry = "import sys; from tooling.cli import main; sys.exit(main())"
    tool = [sys.executable, "-c", entry, "serve", "--port", str(port)]
    server = subprocess.Popen(
        tool, cwd=folder, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=dict(os.environ)
    )
    try:
        url = f"http://127.0.0.1:{port}/dev/orders"
        request = urllib.request.Request(
            url, data=b'{"item": "book"}', headers={"Content-Type": "application/json"}
        )
        for _ in range(200):
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    status, headers, body = response.status, response.headers, response.read()
                break
            except urllib.error.URLError:
                time.sleep(0.05)
        else:
            raise AssertionError(server.stderr.read() if server.stderr else "no server")
        assert status == 200
        assert headers["Access-Control-Allow-Origin"] == "*"
        answer = json.loads(body)
        assert set(answer) == {"executionArn", "startDate"}
        (run,) = Store(folder / ".tool" / "local.db").list_executions(MACHINE_ARN)
        assert run.arn == answer["executionArn"]
        assert json.loads(run.input) == {"item": "book"}
        missing = urllib.request.Request(f"http://127.0.0.1:{port}/dev/nope", method="GET")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(missing, timeout=5)
        assert refused.value.code == 403
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_refuses_what_it_cannot_serve(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["serve", "--target", "aws"]) == 2
    assert "tool serve runs the local target's API" in capsys.readouterr().err
    assert main(["serve"]) == 2  # nothing deployed yet
    err = capsys.readouterr().err
    assert "no REST API is deployed for web (dev, us-east-1) on the local target" in err
    assert "run `tool deploy` first" in err


def test_serve_answers_only_requests_addressed_to_loopback(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import http.client
    import threading

    from tooling.config.service import load_service
    from tooling.triggers.http_api import make_server, open_local_api

    assert main(["deploy"]) == 0
    server = make_server(open_local_api(load_service(folder, env={})), 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        for host, expected in (("evil.example", 403), (f"localhost:{port}", 200)):
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            connection.request("POST", "/dev/orders", body="{}", headers={"Host": host})
            assert connection.getresponse().status == expected
            connection.close()
    finally:
        server.shutdown()
        server.server_close()


TEMPLATED = """\
service: web
provider:
  name: aws
stepFunctions:
  stateMachines:
    orders:
      definition: {StartAt: A, States: {A: {Type: Pass, End: true}}}
      events:
        - http:
            path: users/{id}/orders
            method: post
            request:
              template:
                application/json: |
                  #set($order = $input.path('$'))
                  {"input": "{\\"user\\": \\"$input.params('id')\\", \\"n\\": $order.n}",
                   "name": "order-$input.params('id')-$order.n",
                   "stateMachineArn": "MACHINE"}
            response:
              template:
                application/json: |
                  #set($answer = $input.path('$'))
                  {"started": "$answer.executionArn.split(':')[7]"}
"""


def test_serve_renders_a_custom_request_template_and_a_response_template(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tooling.config.service import load_service
    from tooling.triggers.http_api import Request, open_local_api

    (folder / "serverless.yml").write_text(TEMPLATED.replace("MACHINE", MACHINE_ARN))
    assert main(["deploy"]) == 0, capsys.readouterr().err
    api = open_local_api(load_service(folder, env={}))
    assert api.notes() == []  # the templates are evaluated: nothing to warn about
    try:
        response = api.handle(
            Request(
                "POST",
                "/dev/users/u7/orders",
                {},
                {"content-type": "application/json"},
                b'{"n": 3}',
            )  # fmt: skip
        )
    finally:
        api.close()
    assert response.status == 200, response.body
    assert json.loads(response.body) == {"started": "order-u7-3"}
    (run,) = Store(folder / ".tool" / "local.db").list_executions(MACHINE_ARN)
    assert run.name == "order-u7-3"
    assert json.loads(run.input) == {"user": "u7", "n": 3}
