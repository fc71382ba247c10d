"""The local AWS services: how long a start takes (empty, and replaying a journal), and what an
integration call costs next to the same call made directly with boto3 (the yardstick).

    .venv/bin/python bench/local_aws.py [--items 1000] [--calls 200]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

from tooling.engine.clock import SystemClock
from tooling.localaws.integrations import LocalAwsIntegrations
from tooling.localaws.manager import LocalAwsServices
from tooling.localaws.signing import Credentials

REGION = "us-east-1"


def dynamodb(url: str, credentials: Credentials) -> Any:  # boto3-stubs without its dynamodb part
    return boto3.client(
        "dynamodb",
        endpoint_url=url,
        region_name=REGION,
        aws_access_key_id=credentials.access_key_id,
        aws_secret_access_key=credentials.secret_access_key,
        aws_session_token=credentials.session_token,
    )


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def per_call_ms(action: Callable[[int], object], calls: int) -> float:
    started = time.perf_counter()
    for number in range(calls):
        action(number)
    return (time.perf_counter() - started) * 1000 / calls


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--items", type=int, default=1000, help="items journaled before a restart")
    parser.add_argument("--calls", type=int, default=200, help="calls per latency figure")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="local-aws-bench-") as folder:
        services = LocalAwsServices(Path(folder) / ".tool")
        try:
            cold = []
            for _ in range(3):
                services.stop()
                cold.append(timed(services.endpoint))
            url = services.endpoint()
            client = dynamodb(url, services.credentials())
            client.create_table(
                TableName="bench",
                KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                BillingMode="PAY_PER_REQUEST",
            )
            integrations = LocalAwsIntegrations(services, REGION, SystemClock())
            direct: list[float] = []
            through: list[float] = []
            for round_ in range(4):  # alternated, so both see the same machine and table

                def put_direct(n: int, r: int = round_) -> object:
                    return client.put_item(TableName="bench", Item={"id": {"S": f"direct-{r}-{n}"}})

                def put_through(n: int, r: int = round_) -> object:
                    return integrations.call(
                        "dynamodb",
                        "putItem",
                        {"TableName": "bench", "Item": {"id": {"S": f"task-{r}-{n}"}}},
                    )

                direct.append(per_call_ms(put_direct, args.calls // 4))
                through.append(per_call_ms(put_through, args.calls // 4))
            for number in range(args.items - 2 * args.calls):
                client.put_item(TableName="bench", Item={"id": {"S": f"fill-{number}"}})
            entries = services.journal_entries()
            services.stop()
            replay = timed(services.endpoint)
            count = dynamodb(services.endpoint(), services.credentials()).scan(
                TableName="bench", Select="COUNT"
            )["Count"]
        finally:
            services.stop()
    print(f"start, empty journal (median of {len(cold)}): {statistics.median(cold):.2f} s")
    print(f"start replaying {entries} journaled changes: {replay:.2f} s ({count} items back)")
    yardstick, measured = statistics.median(direct), statistics.median(through)
    print(f"putItem, boto3 direct (yardstick): {yardstick:.2f} ms/call")
    print(
        f"putItem, dynamodb:putItem integration: {measured:.2f} ms/call "
        f"({measured / yardstick:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
