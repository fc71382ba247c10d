"""Mocked tasks: replace named Task states' answers per invocation, without running a handler.

In the spirit of Step Functions Local's mock config, reduced to what a test needs:

    {"LambdaFunction": {"0-1": {"Throw": {"Error": "CustomError", "Cause": "not yet"}},
                        "2":   {"Return": {"count": 5}}}}

Keys are 0-based invocation numbers of that state in the execution (retries count), or ranges
"a-b". `Return` is what the function returns (the engine wraps it for lambda:invoke as usual),
or for another service's integration (sqs:sendMessage, aws-sdk:s3:listBuckets, ...) the
service's response; `Throw` fails the attempt with that Error and Cause. A state with mocks
whose invocation number has no entry fails with States.Runtime rather than calling the real
function.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import StatesError
from tooling.engine.ports import LambdaResponse
from tooling.errors import BadInput
from tooling.sourcemap import SourceMap, pointer_join

_KEY = re.compile(r"(\d+)(?:-(\d+))?")


class MockError(BadInput):
    """A mock file that cannot be used (its location says where)."""


@dataclass(frozen=True)
class MockedAnswer:
    returns: Any = None
    error: str | None = None  # set: the attempt throws this error
    cause: str | None = None


class TaskMocks:
    def __init__(self, answers: dict[str, list[tuple[int, int, MockedAnswer]]]) -> None:
        self._answers = answers
        self._calls: dict[str, int] = {}

    @classmethod
    def from_config(cls, config: Any, source: SourceMap | None = None) -> TaskMocks:
        def fail(pointer: str, message: str) -> MockError:
            where = source.error_kwargs(pointer) if source else {}
            return MockError(message, hint='e.g. {"MyTask": {"0": {"Return": {}}}}', **where)

        if not isinstance(config, dict):
            raise fail("", "a mock file must be an object of Task state names to answers")
        answers: dict[str, list[tuple[int, int, MockedAnswer]]] = {}
        for state, per_call in config.items():
            at = pointer_join("", state)
            if not isinstance(per_call, dict) or not per_call:
                raise fail(at, f"mocks for '{state}' must be an object of invocation numbers")
            ranges = []
            for key, answer in per_call.items():
                key_at = pointer_join(at, key)
                match = _KEY.fullmatch(key)
                if not match:
                    raise fail(key_at, f"'{key}' is not an invocation number or range like 1-2")
                first = int(match.group(1))
                last = int(match.group(2) or first)
                if last < first:
                    raise fail(key_at, f"the range '{key}' ends before it starts")
                ranges.append((first, last, _answer(answer, key_at, fail)))
            answers[state] = sorted(ranges, key=lambda r: r[0])
        return cls(answers)

    @property
    def states(self) -> frozenset[str]:
        """The Task states these mocks answer."""
        return frozenset(self._answers)

    def covers(self, state: str) -> bool:
        return state in self._answers

    def next_answer(self, state: str) -> MockedAnswer | None:
        """The answer for this state's next invocation (None: no entry for that number)."""
        number = self._calls.get(state, 0)
        self._calls[state] = number + 1
        for first, last, answer in self._answers[state]:
            if first <= number <= last:
                return answer
        return None


def _answer(value: Any, pointer: str, fail: Any) -> MockedAnswer:
    if (
        not isinstance(value, dict)
        or len(value) != 1
        or next(iter(value))
        not in (
            "Return",
            "Throw",
        )
    ):
        raise fail(pointer, 'each answer is {"Return": value} or {"Throw": {Error, Cause}}')
    if "Return" in value:
        return MockedAnswer(returns=value["Return"])
    thrown = value["Throw"]
    if not isinstance(thrown, dict) or not isinstance(thrown.get("Error"), str):
        raise fail(pointer_join(pointer, "Throw"), "Throw needs an Error string")
    cause = thrown.get("Cause")
    if cause is not None and not isinstance(cause, str):
        raise fail(pointer_join(pointer, "Throw/Cause"), "Throw.Cause must be a string")
    return MockedAnswer(error=thrown["Error"], cause=cause)


class MockedInvoker:
    """A LambdaInvoker that gives one mocked answer instead of calling the function."""

    def __init__(self, answer: MockedAnswer) -> None:
        self.answer = answer

    def invoke(
        self, function: str, payload: str, *, timeout_seconds: float | None = None
    ) -> LambdaResponse:
        if self.answer.error is not None:
            raise StatesError(self.answer.error, self.answer.cause)
        return LambdaResponse(payload=jsontext.dumps(self.answer.returns))

    def invoke_event(self, function: str, payload: str) -> LambdaResponse:
        return self.invoke(function, payload)  # a Throw fails the task; a Return is not seen
