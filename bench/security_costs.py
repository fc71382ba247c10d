"""What the security checks of issue 13 cost, each next to a yardstick measured in this run.

- YAML: refusing a nine-level "billion laughs" serverless.yml, next to loading the example
  service's serverless.yml (the refusal happens while composing, before any tree is built);
  peak Python memory of the refusal (tracemalloc).
- Workers: starting a process detached with a scrubbed environment (a launcher forks it and
  exits), next to a plain `subprocess.Popen` of the same command.
- Callback endpoint: one SendTaskSuccess round trip through boto3 with the signature checked,
  next to the same call answered by an endpoint that skips the check.
- Local AWS services: a DynamoDB GetItem through boto3 against moto behind the journal with the
  signature check (tooling.localaws.auth), next to the same request on the same stack without
  the check, both served from this process.

Usage: python bench/security_costs.py [--repeat N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from unittest import mock

ROOT = Path(__file__).resolve().parents[1]


def laughs(levels: int = 9) -> str:
    lines = ["service: bomb", "provider:", "  name: aws", "custom:", '  l0: &l0 "lol"']
    for level in range(1, levels + 1):
        lines.append(f"  l{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def timed(action: Callable[[], object], repeat: int) -> float:
    """Median seconds of `repeat` runs after one warm-up."""
    action()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def yaml_costs(repeat: int) -> None:
    from tooling.config.yaml_loader import load_yaml
    from tooling.errors import ConfigError

    example = (ROOT / "serverless.yml").read_text()
    bomb = laughs()

    def refuse() -> None:
        try:
            load_yaml(bomb, "serverless.yml")
        except ConfigError:
            return
        raise AssertionError("the bomb was not refused")

    ordinary = timed(lambda: load_yaml(example, "serverless.yml"), repeat)
    refused = timed(refuse, repeat)
    tracemalloc.start()
    refuse()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print("YAML")
    print(f"  load the example serverless.yml   {ordinary * 1e3:8.3f} ms")
    print(
        f"  refuse the nine-level bomb        {refused * 1e3:8.3f} ms  ({refused / ordinary:.2f}x)"
    )
    print(f"  peak Python memory of the refusal {peak / 1024:8.0f} KiB")


def spawn_costs(repeat: int) -> None:
    from tooling.processes import is_zombie, spawn_detached, worker_environment

    argv = [sys.executable, "-c", "pass"]
    with open(os.devnull, "wb") as sink:

        def plain() -> None:
            subprocess.Popen(argv, stdout=sink, stderr=sink, start_new_session=True).wait()

        def detached() -> None:
            pid = spawn_detached(argv, env=worker_environment(), cwd=ROOT, output=sink)
            while True:  # the same wait as `plain`: until the process has ended
                try:
                    os.kill(pid, 0)
                except ProcessLookupError:
                    return
                if is_zombie(pid):  # ended; init reaps it (some inits only every few seconds)
                    return
                time.sleep(0.001)

        base = timed(plain, repeat)
        ours = timed(detached, repeat)
    print("Worker start (python -c pass, started and ended)")
    print(f"  subprocess.Popen                  {base * 1e3:8.1f} ms")
    print(
        f"  spawn_detached, scrubbed env      {ours * 1e3:8.1f} ms  (+{(ours - base) * 1e3:.1f} ms,"
        f" {ours / base:.2f}x)"
    )


def endpoint_costs(repeat: int) -> None:
    import boto3

    from tooling.engine.callbacks import InMemoryTaskCallbacks
    from tooling.engine.clock import VirtualClock
    from tooling.localaws.signing import LocalSigning
    from tooling.localrt import callback_endpoint
    from tooling.localrt.callback_endpoint import CallbackEndpoint

    def round_trip(check: bool) -> float:
        callbacks = InMemoryTaskCallbacks(VirtualClock())
        patch = (
            mock.patch.object(LocalSigning, "verify", lambda *a, **k: "states")
            if not check
            else mock.patch.object(callback_endpoint, "_REFUSED", callback_endpoint._REFUSED)
        )
        with patch, CallbackEndpoint(callbacks) as endpoint:
            env = endpoint.environment()
            sfn = boto3.client(
                "stepfunctions",
                endpoint_url=env["AWS_ENDPOINT_URL_SFN"],
                region_name="us-east-1",
                aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
                aws_session_token=env["AWS_SESSION_TOKEN"],
            )
            arn = "arn:aws:states:us-east-1:000000000000:execution:m:run"
            return timed(
                lambda: sfn.send_task_heartbeat(taskToken=callbacks.issue(arn, "T")), repeat * 10
            )

    base = round_trip(check=False)
    ours = round_trip(check=True)
    verify = verify_cost(repeat * 100)
    print("Callback endpoint (SendTaskHeartbeat through boto3, loopback)")
    print(f"  the signature check alone         {verify * 1e6:8.1f} µs")
    print(f"  signature not checked             {base * 1e3:8.2f} ms")
    print(
        f"  signature checked (SigV4)         {ours * 1e3:8.2f} ms  (+{(ours - base) * 1e3:.2f} ms,"
        f" {ours / base:.2f}x)"
    )


def verify_cost(repeat: int) -> float:
    """Seconds per `LocalSigning.verify` of a request signed as botocore signs it."""
    from datetime import UTC, datetime

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    from tooling.localaws.signing import LocalSigning, SignedRequest

    signing = LocalSigning.ephemeral()
    keys = signing.issue()
    body = b'{"taskToken": "t", "output": "{}"}'
    request = AWSRequest(
        "POST",
        "http://127.0.0.1:5000/",
        data=body,
        headers={"X-Amz-Target": "AWSStepFunctions.SendTaskSuccess"},
    )
    credentials = Credentials(keys.access_key_id, keys.secret_access_key, keys.session_token)
    SigV4Auth(credentials, "states", "us-east-1").add_auth(request)
    headers = {name.lower(): value for name, value in request.headers.items()}
    headers["host"] = "127.0.0.1:5000"
    signed = SignedRequest("POST", "/", headers, body)
    now = datetime.now(UTC)
    signing.verify(signed, now)  # raises if botocore's signature is refused
    return timed(lambda: signing.verify(signed, now), repeat)


def local_services_costs(repeat: int) -> None:
    """GetItem on moto + journal, with and without the signature check, in this process."""
    import logging
    import tempfile
    import threading

    import boto3
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
    from werkzeug.serving import make_server

    from tooling.localaws.auth import SignatureCheckingApp
    from tooling.localaws.journal import Journal, JournalingApp
    from tooling.localaws.signing import LocalSigning

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    signing = LocalSigning.ephemeral()
    keys = signing.issue()
    with tempfile.TemporaryDirectory(prefix="auth-bench-") as folder:
        moto = DomainDispatcherApplication(create_backend_app)
        journaled = JournalingApp(moto, Journal(Path(folder) / "journal.jsonl"))
        checked = SignatureCheckingApp(journaled, signing)
        servers = [make_server("127.0.0.1", 0, app, threaded=True) for app in (journaled, checked)]
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            clients = [
                boto3.client(
                    "dynamodb",
                    endpoint_url=f"http://127.0.0.1:{server.server_port}",
                    region_name="us-east-1",
                    aws_access_key_id=keys.access_key_id,
                    aws_secret_access_key=keys.secret_access_key,
                    aws_session_token=keys.session_token,
                )
                for server in servers
            ]
            clients[1].create_table(
                TableName="bench",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )  # one moto behind both servers: the table is there for both
            clients[1].put_item(TableName="bench", Item={"id": {"S": "a"}, "n": {"N": "1"}})
            key = {"id": {"S": "a"}}
            samples: dict[int, list[float]] = {0: [], 1: []}
            for _ in range(repeat * 10):  # interleaved, so that load on the machine hits both
                for which in (0, 1):
                    started = time.perf_counter()
                    clients[which].get_item(TableName="bench", Key=key)
                    samples[which].append(time.perf_counter() - started)
        finally:
            for server in servers:
                server.shutdown()
    base, ours = statistics.median(samples[0]), statistics.median(samples[1])
    print("Local AWS services (DynamoDB GetItem through boto3, loopback, moto + journal)")
    print(f"  signature not checked             {base * 1e3:8.2f} ms")
    print(
        f"  signature checked (SigV4)         {ours * 1e3:8.2f} ms  (+{(ours - base) * 1e3:.2f} ms,"
        f" {ours / base:.2f}x)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    yaml_costs(args.repeat)
    spawn_costs(args.repeat)
    endpoint_costs(args.repeat)
    local_services_costs(args.repeat)


if __name__ == "__main__":
    main()
