from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.config.service import load_service
from tooling.config.triggers import DEFAULT_VISIBILITY_TIMEOUT
from tooling.errors import ConfigError

ASL = {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}

HEAD = """\
service: hello-loop
provider:
  name: aws
  region: eu-west-1
stepFunctions:
  stateMachines:
    loop:
      definition: ${file(statemachine.asl.json)}
"""


def load_with_events(tmp_path: Path, events_yaml: str):
    (tmp_path / "serverless.yml").write_text(HEAD + events_yaml, encoding="utf-8")
    (tmp_path / "statemachine.asl.json").write_text(json.dumps(ASL), encoding="utf-8")
    return load_service(tmp_path, env={}, account_id="123456789012")


def test_managed_queue_with_defaults_and_its_dead_letter_queue(tmp_path: Path) -> None:
    service = load_with_events(
        tmp_path,
        "      events:\n        - sqs:\n            queue: ${self:service}-${sls:stage}-in\n",
    )
    (trigger,) = service.state_machines["loop"].sqs_triggers
    assert trigger.queue_name == "hello-loop-dev-in"
    assert trigger.queue_arn == "arn:aws:sqs:eu-west-1:123456789012:hello-loop-dev-in"
    assert trigger.managed is True
    assert trigger.dead_letter_queue_name == "hello-loop-dev-in-dlq"
    assert (
        trigger.dead_letter_queue_arn == "arn:aws:sqs:eu-west-1:123456789012:hello-loop-dev-in-dlq"
    )
    assert (trigger.batch_size, trigger.maximum_batching_window) == (10, 0)
    assert (trigger.visibility_timeout, trigger.max_receive_count) == (
        DEFAULT_VISIBILITY_TIMEOUT,
        5,
    )


def test_all_settings_and_other_event_types_left_alone(tmp_path: Path) -> None:
    service = load_with_events(
        tmp_path,
        "      events:\n"
        "        - schedule: rate(1 hour)\n"
        "        - sqs:\n"
        "            queue: jobs\n"
        "            batchSize: 100\n"
        "            maximumBatchingWindow: 5\n"
        "            visibilityTimeout: 300\n"
        "            maxReceiveCount: 3\n",
    )
    (trigger,) = service.state_machines["loop"].sqs_triggers
    assert (trigger.batch_size, trigger.maximum_batching_window) == (100, 5)
    assert (trigger.visibility_timeout, trigger.max_receive_count) == (300, 3)


def test_existing_queue_by_arn_and_string_shorthand(tmp_path: Path) -> None:
    arn = "arn:aws:sqs:eu-west-1:210987654321:existing"
    service = load_with_events(tmp_path, f"      events:\n        - sqs: {arn}\n")
    (trigger,) = service.state_machines["loop"].sqs_triggers
    assert (trigger.queue_name, trigger.queue_arn, trigger.managed) == ("existing", arn, False)
    assert trigger.dead_letter_queue_name is None


def test_no_events_means_no_triggers(tmp_path: Path) -> None:
    assert load_with_events(tmp_path, "").state_machines["loop"].sqs_triggers == ()


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ("            batchSize: 0\n", "batchSize must be a whole number from 1 to 10000", 12),
        ("            batchSize: 50\n", "batchSize 50 is above 10", 12),
        ("            maximumBatchingWindow: 301\n", "from 0 to 300", 12),
        ("            maxReceiveCount: 1001\n", "maxReceiveCount must be", 12),
        ("            visibilityTimeout: 5\n", "visibilityTimeout must be", 12),
        ("            retries: 3\n", "unknown key 'retries'", 12),
    ],
)
def test_bad_values_point_at_their_line(tmp_path: Path, body: str, message: str, line: int):
    with pytest.raises(ConfigError) as caught:
        load_with_events(
            tmp_path, "      events:\n        - sqs:\n            queue: jobs\n" + body
        )
    assert message in caught.value.message
    assert (caught.value.file, caught.value.line) == ("serverless.yml", line)


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ("        - sqs:\n            batchSize: 5\n", "exactly one of `queue`"),
        (
            "        - sqs:\n            queue: a\n            arn: arn:aws:sqs:eu-west-1:1:a\n",
            "exactly one of `queue`",
        ),
        ("        - sqs:\n            queue: 'has space'\n", "not a valid SQS queue name"),
        ("        - sqs:\n            queue: jobs.fifo\n", "FIFO queues"),
        ("        - sqs: not-an-arn\n", "not an SQS queue ARN"),
        (
            "        - sqs:\n            arn: arn:aws:sqs:eu-west-1:123456789012:q\n"
            "            maxReceiveCount: 2\n",
            "applies only to a queue the toolkit creates",
        ),
        ("        - sqs:\n            queue: " + "q" * 77 + "\n", "too long to add '-dlq'"),
    ],
)
def test_invalid_sqs_events(tmp_path: Path, events: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_with_events(tmp_path, "      events:\n" + events)
    assert message in caught.value.message
    assert caught.value.line is not None


def test_events_must_be_a_list(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="events must be a list") as caught:
        load_with_events(tmp_path, "      events:\n        sqs: {queue: jobs}\n")
    assert caught.value.line == 10


def test_two_triggers_cannot_share_a_queue(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="used by two sqs triggers"):
        load_with_events(
            tmp_path,
            "      events:\n        - sqs: {queue: jobs}\n        - sqs: {queue: jobs}\n",
        )


def test_the_example_service_declares_a_trigger() -> None:
    root = Path(__file__).resolve().parents[2]
    service = load_service(root, env={})
    (trigger,) = service.state_machines["loop"].sqs_triggers
    assert trigger.queue_name == "hello-loop-dev-loop-trigger"
    assert trigger.managed
