"""In-memory task tokens: SendTaskSuccess/Failure/Heartbeat and their errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tooling.engine.callbacks import (
    MAX_OUTPUT_CHARS,
    Heartbeat,
    InMemoryTaskCallbacks,
    TaskTokenError,
    check_output,
    check_token,
    new_token,
)
from tooling.engine.clock import VirtualClock
from tooling.engine.ports import CallbackOutcome

ARN = "arn:aws:states:us-east-1:123456789012:execution:m:e"


@pytest.fixture
def callbacks() -> InMemoryTaskCallbacks:
    return InMemoryTaskCallbacks(VirtualClock())


def code_of(call: Callable[..., object], *args: object) -> str:
    with pytest.raises(TaskTokenError) as info:
        call(*args)
    return info.value.code


def test_an_answer_shows_in_the_status(callbacks: InMemoryTaskCallbacks) -> None:
    token = callbacks.issue(ARN, "T")
    assert callbacks.status(token).outcome is None
    callbacks.send_heartbeat(token)
    callbacks.send_success(token, '{"a": 1}')
    status = callbacks.status(token)
    assert status.outcome == CallbackOutcome(output='{"a": 1}') and status.heartbeats == 1


def test_errors_follow_the_api(callbacks: InMemoryTaskCallbacks) -> None:
    token = callbacks.issue(ARN, "T")
    assert code_of(callbacks.send_success, "not a token", "{}") == "InvalidToken"
    assert code_of(callbacks.send_success, new_token(), "{}") == "TaskDoesNotExist"
    assert code_of(callbacks.send_success, token, "{not json") == "InvalidOutput"
    callbacks.send_failure(token, "E", "C")
    assert code_of(callbacks.send_heartbeat, token) == "TaskTimedOut"  # already answered
    other = callbacks.issue(ARN, "T")
    callbacks.close(other)
    assert code_of(callbacks.send_failure, other) == "TaskTimedOut"


def test_scheduled_actions_arrive_on_the_clock() -> None:
    clock = VirtualClock()
    callbacks = InMemoryTaskCallbacks(clock)
    token = callbacks.issue(ARN, "T")
    callbacks.schedule(token, 2, Heartbeat())
    callbacks.schedule(token, 5, CallbackOutcome(output="1"))
    clock.advance(3)
    assert callbacks.status(token).heartbeats == 1 and callbacks.status(token).outcome is None
    clock.advance(2)
    assert callbacks.status(token).outcome == CallbackOutcome(output="1")


def test_checks_are_bad_input_or_gone() -> None:
    with pytest.raises(TaskTokenError) as info:
        check_output("x" * (MAX_OUTPUT_CHARS + 1))
    assert info.value.bad_input
    with pytest.raises(TaskTokenError) as info:
        check_token("")
    assert info.value.bad_input
    check_token(new_token())
    assert not TaskTokenError("TaskTimedOut", "gone").bad_input


def test_tokens_never_look_like_command_line_options() -> None:
    tokens = {new_token() for _ in range(2000)}
    assert len(tokens) == 2000
    assert not any(token.startswith("-") for token in tokens)
    for token in tokens:
        check_token(token)
