"""The local AWS services of a service folder: started on demand, reused, stopped, their state
kept across restarts, and safe against a SIGKILL and against two commands starting them."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tooling.localaws.manager import LocalAwsServices

from .helpers import Endpoint, client, create_table, endpoint

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not


def server_processes(data_dir: Path) -> list[int]:
    """Pids of the live local AWS services processes serving `data_dir`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().split()[2]
        except OSError:
            continue
        if (
            state != "Z"
            and b"tooling.localaws.server" in command
            and str(data_dir).encode() in command
        ):
            found.append(int(entry.name))
    return found


@pytest.fixture
def services(tmp_path: Path):
    services = LocalAwsServices(tmp_path / "svc" / ".tool")
    yield services
    services.stop()


def test_it_starts_on_demand_and_later_commands_reuse_it(services: LocalAwsServices) -> None:
    assert services.running() is None and not services.has_data()
    url = services.endpoint()
    first = services.running()
    assert first is not None and url == first.url and url.startswith("http://127.0.0.1:")
    assert LocalAwsServices(services.data_dir.parent).endpoint() == url  # another command
    assert server_processes(services.data_dir) == [first.pid]
    assert oct(services.data_dir.stat().st_mode & 0o777) == "0o700"


def test_a_table_keeps_its_items_across_a_stop_and_a_start(services: LocalAwsServices) -> None:
    url = endpoint(services)
    create_table(url, "orders")
    client(url, "dynamodb").put_item(TableName="orders", Item={"id": {"S": "o-1"}, "n": {"N": "3"}})
    stopped = services.stop()
    assert stopped is not None and services.running() is None
    assert server_processes(services.data_dir) == []
    assert services.stop() is None  # nothing runs any more

    url = endpoint(services)
    item = client(url, "dynamodb").get_item(TableName="orders", Key={"id": {"S": "o-1"}})
    assert item["Item"] == {"id": {"S": "o-1"}, "n": {"N": "3"}}
    running = services.running()
    assert running is not None and running.replayed == 2  # CreateTable, PutItem


def test_a_sigkilled_server_is_found_dead_and_started_again(services: LocalAwsServices) -> None:
    url = endpoint(services)
    create_table(url, "orders")
    client(url, "dynamodb").put_item(TableName="orders", Item={"id": {"S": "o-1"}})
    killed = services.running()
    assert killed is not None
    os.kill(killed.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server_processes(services.data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert services.running() is None  # its server.json is still there, but nobody holds the lock

    services.endpoint()
    again = services.running()
    assert again is not None and again.pid != killed.pid
    item = client(Endpoint(again.url, url.credentials), "dynamodb").get_item(
        TableName="orders", Key={"id": {"S": "o-1"}}
    )
    assert item["Item"] == {"id": {"S": "o-1"}}


def test_two_commands_racing_to_start_it_end_with_one_server(tmp_path: Path) -> None:
    tool_dir = tmp_path / "svc" / ".tool"
    script = (
        "import sys; from pathlib import Path; "
        "from tooling.localaws.manager import LocalAwsServices; "
        "print(LocalAwsServices(Path(sys.argv[1])).endpoint())"
    )
    racers = [
        subprocess.Popen([sys.executable, "-c", script, str(tool_dir)], stdout=subprocess.PIPE)
        for _ in range(3)
    ]
    try:
        urls = {racer.communicate(timeout=120)[0].decode().strip() for racer in racers}
        assert all(racer.returncode == 0 for racer in racers)
        assert len(urls) == 1
        assert len(server_processes(tool_dir / "aws")) == 1
    finally:
        LocalAwsServices(tool_dir).stop()


def test_a_port_that_does_not_answer_with_the_token_is_not_taken_for_it(
    services: LocalAwsServices,
) -> None:
    services.endpoint()
    state_file = services.data_dir / "server.json"
    state = json.loads(state_file.read_text())
    state_file.write_text(json.dumps({**state, "token": "someone-else"}))
    assert services.running() is None
    # Stopping still finds the folder's own server process (its command line names the folder).
    assert services.stop() is not None
    assert server_processes(services.data_dir) == []


def test_a_crash_during_a_journal_write_loses_only_that_write(services: LocalAwsServices) -> None:
    url = endpoint(services)
    create_table(url, "orders")
    services.stop()
    with services.journal_path.open("ab") as journal:
        journal.write(b'{"method":"POST","uri":"/","headers":{"X-Amz-Tar')  # cut by a crash
    url = endpoint(services)
    assert client(url, "dynamodb").list_tables()["TableNames"] == ["orders"]
    assert "dropped" in (services.data_dir / "server.log").read_text()


def test_reset_forgets_everything(services: LocalAwsServices) -> None:
    create_table(endpoint(services), "orders")
    assert services.reset() is not None
    assert not services.has_data()
    assert client(endpoint(services), "dynamodb").list_tables()["TableNames"] == []


def test_a_server_whose_starter_died_is_adopted_not_doubled(services: LocalAwsServices) -> None:
    services.data_dir.mkdir(parents=True)
    services.signing()  # made before any server starts
    # What a command killed right after starting the server leaves: a server, no one waiting.
    orphan = subprocess.Popen(
        [sys.executable, "-m", "tooling.localaws.server", str(services.data_dir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while not services._server_lock_held() and time.monotonic() < deadline:
            time.sleep(0.01)
        services.endpoint()
        running = services.running()
        assert running is not None and running.pid == orphan.pid
        assert server_processes(services.data_dir) == [orphan.pid]
        # A second server for the same folder gives up at once.
        second = subprocess.run(
            [sys.executable, "-m", "tooling.localaws.server", str(services.data_dir)],
            capture_output=True,
            timeout=60,
        )
        assert second.returncode == 75
    finally:
        services.stop()
        orphan.wait(timeout=30)


def _bodies(sqs: Any, url: str) -> list[str]:
    received = sqs.receive_message(
        QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=0, WaitTimeSeconds=0
    )
    return sorted(m["Body"] for m in received.get("Messages", []))


def test_deleted_sqs_messages_stay_deleted_after_a_sigkill(services: LocalAwsServices) -> None:
    url = endpoint(services)
    sqs = client(url, "sqs")
    sns = client(url, "sns")
    queue = sqs.create_queue(QueueName="jobs")["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    topic = sns.create_topic(Name="news")["TopicArn"]
    sns.subscribe(
        TopicArn=topic, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"}
    )
    for body in ("a", "b", "a", "c"):  # "a" twice: the second one stays
        sqs.send_message(QueueUrl=queue, MessageBody=body)
    sns.publish(TopicArn=topic, Message="from-sns")
    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, VisibilityTimeout=60)
    by_body: dict[str, list[str]] = {}
    for message in received["Messages"]:
        by_body.setdefault(message["Body"], []).append(message["ReceiptHandle"])
    assert len(received["Messages"]) == 5
    sqs.delete_message(QueueUrl=queue, ReceiptHandle=by_body["a"][0])
    sqs.delete_message_batch(
        QueueUrl=queue,
        Entries=[
            {"Id": "1", "ReceiptHandle": by_body["b"][0]},
            {"Id": "2", "ReceiptHandle": by_body["from-sns"][0]},
        ],
    )
    killed = services.running()
    assert killed is not None
    os.kill(killed.pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while server_processes(services.data_dir) and time.monotonic() < deadline:
        time.sleep(0.05)

    again = endpoint(services)  # replays the journal
    assert _bodies(client(again, "sqs"), queue) == ["a", "c"]
