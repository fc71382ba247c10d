"""One timestamp grammar: what `tool validate` accepts is exactly what the engine runs."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tooling.engine import ExecutionInfo, ExecutionOutcome, parse_definition, run_execution
from tooling.engine.clock import VirtualClock
from tooling.errors import DefinitionError
from tooling.validate import validate_definition

INFO = ExecutionInfo(
    execution_arn="arn:aws:states:us-east-1:123456789012:execution:m:run",
    name="run",
    state_machine_arn="arn:aws:states:us-east-1:123456789012:stateMachine:m",
    state_machine_name="m",
    role_arn="arn:aws:iam::123456789012:role/m",
)


class _Events:
    def append(self, event: dict[str, Any]) -> None:
        pass


class _NoLambdas:
    def invoke(self, function: str, payload: str, *, timeout_seconds: float | None = None) -> Any:
        raise AssertionError("no Lambda here")

    def invoke_event(self, function: str, payload: str) -> Any:
        raise AssertionError("no Lambda here")


class Runner:
    def run(self, definition: dict[str, Any], data: Any) -> ExecutionOutcome:
        return run_execution(
            parse_definition(definition),
            json.dumps(data),
            info=INFO,
            clock=VirtualClock(),
            lambdas=_NoLambdas(),
            history=_Events(),
        )


ACCEPTED = [
    "2016-03-14T01:59:00Z",
    "2016-03-05T21:29:29.243167252Z",  # nine fraction digits: recorded on AWS (conformance)
    "2024-01-01T00:00:00.00Z",
    "2024-01-01T00:00:00.000000Z",
    "2012-10-09T19:00:55+01:00",
    "2012-10-09T19:00:55-18:00",
]
REFUSED = [
    "2016-12-05 21:29:29Z",  # no T: recorded as refused on AWS
    "2016-12-05T21:29:29",  # no offset: recorded as refused on AWS
    "2024-01-01T00:00:00.000000",
    "2026-01-01t00:00:00z",  # AWS: "an uppercase T ... an uppercase Z"
    "2026-01-01T00:00:00.1234567891Z",  # more than nanoseconds
    "2016-13-05T21:29:29Z",
    "2016-12-05T25:29:29Z",
    "2016-12-31T23:59:60Z",
    "2024-01-01T00:00:00+19:00",
    "2024-01-01T00:00Z",
    "",
]


def wait_until(stamp: Any) -> dict[str, Any]:
    return {"StartAt": "W", "States": {"W": {"Type": "Wait", "Timestamp": stamp, "End": True}}}


@pytest.mark.parametrize("stamp", ACCEPTED)
def test_accepted_by_validate_the_compiler_and_the_run(stamp: str) -> None:
    assert validate_definition(wait_until(stamp)) == []
    parse_definition(wait_until(stamp))
    path = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}},
    }
    assert Runner().run(path, {"t": stamp}).status == "SUCCEEDED"


@pytest.mark.parametrize("stamp", REFUSED)
def test_refused_by_validate_the_compiler_and_the_run(stamp: str) -> None:
    assert [d.code for d in validate_definition(wait_until(stamp))] == ["TIMESTAMP_INVALID"]
    with pytest.raises(DefinitionError, match="is not an ISO-8601 timestamp"):
        parse_definition(wait_until(stamp))
    path = {
        "StartAt": "W",
        "States": {"W": {"Type": "Wait", "TimestampPath": "$.t", "End": True}},
    }
    outcome = Runner().run(path, {"t": stamp})
    assert (outcome.status, outcome.error) == ("FAILED", "States.Runtime")


def test_choice_operands_and_is_timestamp_read_the_same_grammar() -> None:
    rule = {"Variable": "$.t", "TimestampLessThan": "2026-01-01t00:00:00z", "Next": "D"}
    definition = {
        "StartAt": "C",
        "States": {"C": {"Type": "Choice", "Choices": [rule]}, "D": {"Type": "Succeed"}},
    }
    assert [d.code for d in validate_definition(definition)] == ["CHOICE_OPERAND_TYPE"]
    with pytest.raises(DefinitionError, match="is not an ISO-8601 timestamp"):
        parse_definition(definition)
    is_stamp = {
        "StartAt": "C",
        "States": {
            "C": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.t", "IsTimestamp": True, "Next": "Yes"}],
                "Default": "No",
            },
            "Yes": {"Type": "Succeed"},
            "No": {"Type": "Fail", "Error": "NotATimestamp"},
        },
    }
    assert Runner().run(is_stamp, {"t": "2026-01-01T00:00:00Z"}).status == "SUCCEEDED"
    assert Runner().run(is_stamp, {"t": "2026-01-01t00:00:00z"}).error == "NotATimestamp"


def test_parsed_timestamps_sort_by_instant() -> None:
    from tooling.asl.timestamps import is_timestamp, parse_timestamp

    assert all(is_timestamp(stamp) for stamp in ACCEPTED)
    assert not any(is_timestamp(stamp) for stamp in REFUSED)
    earlier = parse_timestamp("2012-10-09T19:00:55+01:00")
    later = parse_timestamp("2012-10-09T18:00:56Z")
    assert earlier is not None and later is not None and earlier < later
    assert parse_timestamp("2016-03-05T21:29:29.243167252Z") == (1457213369, 243167252)
