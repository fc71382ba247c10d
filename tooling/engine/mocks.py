"""Mocked tasks: replace named Task states' answers per invocation, without running a handler.

Two file formats, told apart by their keys.

AWS Step Functions Local's mock configuration file (`MockConfigFile.json`), as it is:

    {"StateMachines": {"LambdaSQSIntegration": {"TestCases": {"RetryPath": {
         "LambdaState": "MockedLambdaRetry"}}}},
     "MockedResponses": {"MockedLambdaRetry": {
         "0":   {"Throw": {"Error": "Lambda.ResourceNotReadyException", "Cause": "not ready"}},
         "1-2": {"Throw": {"Error": "Lambda.TimeoutException", "Cause": "timed out"}},
         "3":   {"Return": {"StatusCode": 200, "Payload": {"body": "hello"}}}}}}

One state machine entry and one of its test cases apply to a run (`--test-case`); states the test
case does not name run for real. As in Step Functions Local, `Return` is the Task's result as is
(for `lambda:invoke`, the whole Invoke answer).

The short format, one object of state names (the test case and its responses in one):

    {"LambdaFunction": {"0-1": {"Throw": {"Error": "CustomError", "Cause": "not yet"}},
                        "2":   {"Return": {"count": 5}}}}

Here `Return` is what the function returns (for lambda:invoke the engine wraps it in the Invoke
answer as usual), or for another service's integration the service's response.

In both, keys are 0-based invocation numbers of that state in the execution (retries count), or
ranges "a-b"; `Throw` fails the attempt with that Error and Cause. A state with mocks whose
invocation number has no entry fails with States.Runtime rather than calling the real function.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from tooling.asl import Definition, parse
from tooling.engine import jsontext
from tooling.engine.errors import StatesError
from tooling.engine.ports import LambdaResponse
from tooling.errors import BadInput, Where
from tooling.sourcemap import SourceMap, pointer_join

_KEY = re.compile(r"(\d+)(?:-(\d+))?")
AWS_FORMAT_KEYS = frozenset({"StateMachines", "MockedResponses"})
_SHORT_HINT = 'e.g. {"MyTask": {"0": {"Return": {}}}}'
_AWS_HINT = "see AWS's MockConfigFile.json: StateMachines -> TestCases, MockedResponses"


class MockError(BadInput):
    """A mock file that cannot be used (its location says where)."""


@dataclass(frozen=True)
class MockedAnswer:
    returns: Any = None
    error: str | None = None  # set: the attempt throws this error
    cause: str | None = None
    whole_result: bool = False  # Step Functions Local: `returns` is the Task's result as is


_Ranges = list[tuple[int, int, MockedAnswer]]


def is_aws_format(config: Any) -> bool:
    """Step Functions Local's file: an object whose keys are StateMachines / MockedResponses."""
    return isinstance(config, dict) and bool(config) and set(config) <= AWS_FORMAT_KEYS


class TaskMocks:
    def __init__(self, answers: dict[str, _Ranges], where: dict[str, Where] | None = None) -> None:
        self._answers = answers
        self._where = where or {}  # state -> file/line/column of its entry, for errors
        self._calls: dict[str, int] = {}

    @classmethod
    def from_config(
        cls,
        config: Any,
        source: SourceMap | None = None,
        *,
        machine_names: Sequence[str] = (),
        test_case: str | None = None,
    ) -> TaskMocks:
        """Mocks from either format. For Step Functions Local's, the state machine entry is the
        first of `machine_names` the file has (or its only entry), the test case `test_case`
        (or the entry's only one)."""
        if is_aws_format(config):
            return _from_aws_format(config, source, machine_names, test_case)
        if test_case is not None:
            raise MockError(
                "--test-case needs a Step Functions Local mock file "
                "(StateMachines, TestCases, MockedResponses)",
                file=source.file if source else None,
                hint="drop --test-case: this file names its states directly",
            )
        fail = _failer(source, _SHORT_HINT)
        if not isinstance(config, dict):
            raise fail("", "a mock file must be an object of Task state names to answers")
        answers: dict[str, _Ranges] = {}
        where: dict[str, Where] = {}
        for state, per_call in config.items():
            at = pointer_join("", state)
            answers[state] = _ranges(per_call, at, fail, f"mocks for '{state}'")
            where[state] = source.error_kwargs(at) if source else {}
        return cls(answers, where)

    @property
    def states(self) -> frozenset[str]:
        """The Task states these mocks answer."""
        return frozenset(self._answers)

    def check_states(self, definition: Any) -> None:
        """Every mocked state must be a Task state of the definition (at any depth): a
        misspelled name would otherwise leave the real function running."""
        types = dict(_state_types(definition))
        for state in self._answers:
            kind = types.get(state)
            if kind == "Task":
                continue
            if kind is None:
                known = sorted(name for name, t in types.items() if t == "Task")
                message = f"the mock names a state '{state}' that the definition does not have"
                hint = "Task states: " + (", ".join(known) or "none")
            else:
                message = f"the mock names '{state}', a {kind} state; only Task states take mocks"
                hint = "remove it from the mock file"
            raise MockError(message, hint=hint, **self._where.get(state, {}))

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


def _failer(source: SourceMap | None, hint: str) -> Any:
    def fail(pointer: str, message: str) -> MockError:
        where = source.error_kwargs(pointer) if source else {}
        return MockError(message, hint=hint, **where)

    return fail


def _ranges(per_call: Any, at: str, fail: Any, what: str, whole: bool = False) -> _Ranges:
    """Invocation numbers or ranges to answers, sorted by their first number."""
    if not isinstance(per_call, dict) or not per_call:
        raise fail(at, f"{what} must be an object of invocation numbers")
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
        ranges.append((first, last, _answer(answer, key_at, fail, whole)))
    return sorted(ranges, key=lambda r: r[0])


def _answer(value: Any, pointer: str, fail: Any, whole: bool) -> MockedAnswer:
    if not isinstance(value, dict) or len(value) != 1 or not {"Return", "Throw"} & set(value):
        raise fail(pointer, 'each answer is {"Return": value} or {"Throw": {Error, Cause}}')
    if "Return" in value:
        return MockedAnswer(returns=value["Return"], whole_result=whole)
    thrown = value["Throw"]
    if not isinstance(thrown, dict) or not isinstance(thrown.get("Error"), str):
        raise fail(pointer_join(pointer, "Throw"), "Throw needs an Error string")
    cause = thrown.get("Cause")
    if cause is not None and not isinstance(cause, str):
        raise fail(pointer_join(pointer, "Throw/Cause"), "Throw.Cause must be a string")
    return MockedAnswer(error=thrown["Error"], cause=cause)


def _from_aws_format(
    config: dict[str, Any],
    source: SourceMap | None,
    machine_names: Sequence[str],
    test_case: str | None,
) -> TaskMocks:
    fail = _failer(source, _AWS_HINT)
    file = source.file if source else None
    machines = config.get("StateMachines")
    responses = config.get("MockedResponses", {})
    if not isinstance(machines, dict) or not machines:
        raise fail("/StateMachines", "StateMachines must be an object of state machine names")
    if not isinstance(responses, dict):
        raise fail("/MockedResponses", "MockedResponses must be an object of response names")
    entry = next((name for name in machine_names if name in machines), None)
    if entry is None:
        if len(machines) != 1:
            wanted = " or ".join(f"'{n}'" for n in dict.fromkeys(machine_names)) or "this run"
            raise MockError(
                f"the mock file has no state machine entry for {wanted}",
                file=file,
                hint="entries: " + ", ".join(sorted(machines)),
            )
        entry = next(iter(machines))
    entry_at = pointer_join("/StateMachines", entry)
    cases = machines[entry].get("TestCases") if isinstance(machines[entry], dict) else None
    if not isinstance(cases, dict) or not cases:
        raise fail(entry_at, f"state machine '{entry}' needs TestCases: an object of test cases")
    if test_case is None:
        if len(cases) != 1:
            raise MockError(
                f"state machine '{entry}' has {len(cases)} test cases",
                file=file,
                hint="choose one with --test-case " + "|".join(sorted(cases)),
            )
        test_case = next(iter(cases))
    elif test_case not in cases:
        raise MockError(
            f"state machine '{entry}' has no test case '{test_case}'",
            file=file,
            hint="test cases: " + ", ".join(sorted(cases)),
        )
    case_at = pointer_join(pointer_join(entry_at, "TestCases"), test_case)
    case = cases[test_case]
    if not isinstance(case, dict):
        raise fail(case_at, f"test case '{test_case}' must map state names to mocked responses")
    answers: dict[str, _Ranges] = {}
    where: dict[str, Where] = {}
    for state, response in case.items():
        at = pointer_join(case_at, state)
        if not isinstance(response, str) or response not in responses:
            raise fail(at, f"state '{state}' uses the mocked response {response!r}, not defined")
        per_call = responses[response]
        response_at = pointer_join("/MockedResponses", response)
        answers[state] = _ranges(per_call, response_at, fail, f"'{response}'", whole=True)
        where[state] = source.error_kwargs(at) if source else {}
    return TaskMocks(answers, where)


def _state_types(definition: Any) -> Iterator[tuple[str, str]]:
    """(name, Type) of every state, in Parallel branches and Map processors too, of a definition
    or its syntax tree."""
    tree = definition if isinstance(definition, Definition) else parse(definition)
    for node in tree.states():
        if node.is_object:
            yield node.name, str(node.get("Type"))


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


def whole_result_of(invoker: object) -> tuple[bool, Any]:
    """(True, result) when a Step Functions Local mock gives a lambda:invoke Task's whole
    result; (False, None) otherwise."""
    if isinstance(invoker, MockedInvoker) and invoker.answer.whole_result:
        return True, invoker.answer.returns
    return False, None
