"""Validate an ASL definition and compile it into a StateMachine.

Errors are DefinitionErrors located with the SourceMap when one is given. What the engine does
not run yet (Map, Parallel, JSONata, other integrations...) is rejected here, never skipped.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, NoReturn

from tooling.engine import choice as choice_ops
from tooling.engine.errors import ALL
from tooling.engine.jsonpath import JsonPath, PathSyntaxError
from tooling.engine.model import (
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    PassState,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from tooling.engine.payload import compile_expression, compile_template
from tooling.engine.timestamps import parse_timestamp
from tooling.errors import DefinitionError
from tooling.sourcemap import SourceMap, pointer_join

_LAMBDA_FUNCTION_ARN = re.compile(r"arn:[\w-]+:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?")
_LAMBDA_INVOKE = re.compile(r"arn:[\w-]+:states:::lambda:invoke")
_UNSUPPORTED_TYPES = ("Map", "Parallel")
_NOT_YET = "is not supported yet by the local engine"
_COMMON = {"Type", "Comment"}
_FLOW = {"Next", "End"}
_IO = {"InputPath", "OutputPath"}
_FIELDS: dict[str, set[str]] = {
    "Pass": _COMMON | _FLOW | _IO | {"Result", "ResultPath", "Parameters"},
    "Task": _COMMON
    | _FLOW
    | _IO
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"}
    | {"TimeoutSeconds", "TimeoutSecondsPath"},
    "Choice": _COMMON | _IO | {"Choices", "Default"},
    "Wait": _COMMON | _FLOW | _IO | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "Cause", "ErrorPath", "CausePath"},
}
# Valid ASL that the engine cannot run yet: rejected with a clear message.
_FIELDS_NOT_YET = {
    "Assign",
    "Output",
    "Arguments",
    "Credentials",
    "HeartbeatSeconds",
    "HeartbeatSecondsPath",
    "ItemProcessor",
    "Iterator",
    "Branches",
}
_RULE_KEYS = {"Variable", "Next", "Comment"}


def parse_definition(definition: Any, source: SourceMap | None = None) -> StateMachine:
    """Validate `definition` (a parsed JSON object) and compile it for run_execution."""
    return _Parser(source).machine(definition)


class _Parser:
    def __init__(self, source: SourceMap | None) -> None:
        self.source = source

    # ---- errors -------------------------------------------------------------------------------

    def fail(self, pointer: str, message: str, hint: str | None = None) -> NoReturn:
        raise self.error(pointer, message, hint)

    def error(self, pointer: str, message: str, hint: str | None = None) -> DefinitionError:
        where = self.source.error_kwargs(pointer) if self.source else {}
        return DefinitionError(message, hint=hint, **where)

    def _payload_error(self, pointer: str, message: str) -> Exception:
        return self.error(pointer, f"{_dotted(pointer)}: {message}")

    # ---- typed field readers ------------------------------------------------------------------

    def string(self, obj: dict[str, Any], key: str, pointer: str, required: bool = False) -> Any:
        if key not in obj:
            if required:
                self.fail(pointer, f"{_dotted(pointer) or 'the definition'} is missing '{key}'")
            return None
        value = obj[key]
        if not isinstance(value, str):
            self.fail(
                pointer_join(pointer, key),
                f"{_dotted(pointer_join(pointer, key))} must be a string",
            )
        return value

    def integer(self, obj: dict[str, Any], key: str, pointer: str, minimum: int) -> int | None:
        if key not in obj:
            return None
        value = obj[key]
        at = pointer_join(pointer, key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.fail(at, f"{_dotted(at)} must be an integer >= {minimum}")
        return value

    def path(self, obj: dict[str, Any], key: str, pointer: str, nullable: bool) -> JsonPath | None:
        """A path field; absent means "$". None is returned for an explicit null."""
        if key not in obj:
            return JsonPath("$")
        value = obj[key]
        at = pointer_join(pointer, key)
        if value is None:
            if not nullable:
                self.fail(at, f"{_dotted(at)} cannot be null")
            return None
        if not isinstance(value, str):
            self.fail(at, f"{_dotted(at)} must be a JSONPath string")
        try:
            return JsonPath(value)
        except PathSyntaxError as exc:
            self.fail(at, f"{_dotted(at)}: {exc}")

    def reference_path(self, obj: dict[str, Any], key: str, pointer: str) -> JsonPath | None:
        path = self.path(obj, key, pointer, nullable=True)
        if path is not None and not path.is_reference:
            at = pointer_join(pointer, key)
            self.fail(
                at,
                f"{_dotted(at)} must be a reference path ($, $.field, $.list[0]), "
                f"not '{path.text}'",
            )
        return path

    # ---- machine ------------------------------------------------------------------------------

    def machine(self, definition: Any) -> StateMachine:
        if not isinstance(definition, dict):
            self.fail("", "a state machine definition must be a JSON object")
        for key in definition:
            if key in ("TimeoutSeconds",):
                self.fail(f"/{key}", f"top-level '{key}' {_NOT_YET}")
            if key == "QueryLanguage" and definition[key] != "JSONPath":
                self.fail(
                    f"/{key}", f"QueryLanguage {definition[key]!r} {_NOT_YET} (only JSONPath)"
                )
            if key not in ("StartAt", "States", "Comment", "Version", "QueryLanguage"):
                self.fail(
                    f"/{key}",
                    f"unknown top-level field '{key}'",
                    hint=_suggest(key, ["StartAt", "States", "Comment", "Version"]),
                )
        start_at = self.string(definition, "StartAt", "", required=True)
        if "States" not in definition:
            self.fail("", "the definition is missing 'States'")
        raw_states = definition["States"]
        if not isinstance(raw_states, dict) or not raw_states:
            self.fail("/States", "States must be a non-empty object of state names to states")
        names = list(raw_states)
        self.target(start_at, "/StartAt", "StartAt", names)
        states = {
            name: self.state(name, raw_states[name], pointer_join("/States", name), names)
            for name in names
        }
        comment = definition.get("Comment")
        return StateMachine(
            start_at, states, definition, comment if isinstance(comment, str) else None
        )

    def target(self, name: str, pointer: str, label: str, names: list[str]) -> None:
        if name not in names:
            close = _closest(name, names)
            suffix = f'; did you mean "{close}"?' if close else ""
            self.fail(pointer, f'{label} names "{name}", which is not a state{suffix}')

    # ---- states -------------------------------------------------------------------------------

    def state(self, name: str, raw: Any, pointer: str, names: list[str]) -> State:
        if not isinstance(raw, dict):
            self.fail(pointer, f"state '{name}' must be a JSON object")
        kind = self.string(raw, "Type", pointer, required=True)
        if kind in _UNSUPPORTED_TYPES:
            self.fail(
                pointer_join(pointer, "Type"), f"States.{name}: {kind} states are {_NOT_YET[3:]}"
            )
        if kind not in _FIELDS:
            self.fail(
                pointer_join(pointer, "Type"),
                f'States.{name}.Type "{kind}" is not a state type',
                hint=_suggest(kind, [*_FIELDS, *_UNSUPPORTED_TYPES]),
            )
        for key in raw:
            at = pointer_join(pointer, key)
            if key == "QueryLanguage":
                if raw[key] != "JSONPath":
                    self.fail(
                        at, f"States.{name}.QueryLanguage {raw[key]!r} {_NOT_YET} (only JSONPath)"
                    )
            elif key in _FIELDS_NOT_YET:
                self.fail(at, f"States.{name}.{key} {_NOT_YET}")
            elif key not in _FIELDS[kind]:
                self.fail(
                    at,
                    f"States.{name}: field '{key}' is not valid in a {kind} state",
                    hint=_suggest(key, sorted(_FIELDS[kind])),
                )
        flow = self.flow(name, kind, raw, pointer, names)
        io = {}
        if "InputPath" in _FIELDS[kind]:
            io = {
                "input_path": self.path(raw, "InputPath", pointer, nullable=True),
                "output_path": self.path(raw, "OutputPath", pointer, nullable=True),
            }
        base = {"name": name, **flow, **io}
        return getattr(self, f"_{kind.lower()}")(base, raw, pointer, names)

    def flow(
        self, name: str, kind: str, raw: dict[str, Any], pointer: str, names: list[str]
    ) -> dict[str, Any]:
        if kind in ("Choice", "Succeed", "Fail"):
            return {}
        end = raw.get("End", False)
        if end is not True and end is not False:
            self.fail(pointer_join(pointer, "End"), f"States.{name}.End must be true or false")
        nxt = self.string(raw, "Next", pointer)
        if nxt is not None and end:
            self.fail(pointer, f"States.{name} has both Next and End; keep one")
        if nxt is None and not end:
            self.fail(pointer, f'States.{name} needs either "Next" or "End": true')
        if nxt is not None:
            self.target(nxt, pointer_join(pointer, "Next"), f"States.{name}.Next", names)
        return {"next": nxt, "end": bool(end)}

    def template(self, raw: dict[str, Any], key: str, pointer: str) -> tuple[Any, bool]:
        if key not in raw:
            return None, False
        return compile_template(raw[key], pointer_join(pointer, key), self._payload_error), True

    def _pass(
        self, base: dict[str, Any], raw: dict[str, Any], pointer: str, names: list[str]
    ) -> State:
        parameters, has_parameters = self.template(raw, "Parameters", pointer)
        return PassState(
            **base,
            parameters=parameters,
            has_parameters=has_parameters,
            result=raw.get("Result"),
            has_result="Result" in raw,
            result_path=self.reference_path(raw, "ResultPath", pointer),
        )

    def _task(
        self, base: dict[str, Any], raw: dict[str, Any], pointer: str, names: list[str]
    ) -> State:
        name = base["name"]
        resource = self.string(raw, "Resource", pointer, required=True)
        at = pointer_join(pointer, "Resource")
        optimized = bool(_LAMBDA_INVOKE.fullmatch(resource))
        if not optimized and not _LAMBDA_FUNCTION_ARN.fullmatch(resource):
            self.fail(
                at,
                f'States.{name}.Resource "{resource}" {_NOT_YET}',
                hint="use a Lambda function ARN "
                "(arn:aws:lambda:<region>:<account>:function:<name>) "
                "or arn:aws:states:::lambda:invoke",
            )
        parameters, has_parameters = self.template(raw, "Parameters", pointer)
        if optimized:
            params = raw.get("Parameters")
            if not isinstance(params, dict) or not (
                {"FunctionName", "FunctionName.$"} & set(params)
            ):
                self.fail(
                    pointer_join(pointer, "Parameters") if "Parameters" in raw else pointer,
                    f"States.{name}: arn:aws:states:::lambda:invoke needs Parameters.FunctionName",
                )
        result_selector, has_result_selector = self.template(raw, "ResultSelector", pointer)
        timeout = self.integer(raw, "TimeoutSeconds", pointer, minimum=1)
        timeout_path = None
        if "TimeoutSecondsPath" in raw:
            if timeout is not None:
                self.fail(
                    pointer,
                    f"States.{name} has both TimeoutSeconds and TimeoutSecondsPath; keep one",
                )
            timeout_path = self.path(raw, "TimeoutSecondsPath", pointer, nullable=False)
        return TaskState(
            **base,
            resource=resource,
            optimized=optimized,
            parameters=parameters,
            has_parameters=has_parameters,
            result_selector=result_selector,
            has_result_selector=has_result_selector,
            result_path=self.reference_path(raw, "ResultPath", pointer),
            retry=self.retriers(name, raw, pointer),
            catch=self.catchers(name, raw, pointer, names),
            timeout_seconds=timeout,
            timeout_seconds_path=timeout_path,
        )

    def error_equals(
        self, rule: dict[str, Any], pointer: str, last: bool, label: str
    ) -> tuple[str, ...]:
        at = pointer_join(pointer, "ErrorEquals")
        errors = rule.get("ErrorEquals")
        if (
            not isinstance(errors, list)
            or not errors
            or not all(isinstance(e, str) for e in errors)
        ):
            self.fail(
                at if "ErrorEquals" in rule else pointer,
                f"{_dotted(pointer)}.ErrorEquals must be a non-empty list of error names",
            )
        if ALL in errors and (len(errors) > 1 or not last):
            self.fail(at, f"States.ALL must appear alone and in the last {label}")
        return tuple(errors)

    def retriers(self, name: str, raw: dict[str, Any], pointer: str) -> tuple[Retrier, ...]:
        rules = raw.get("Retry", [])
        at = pointer_join(pointer, "Retry")
        if not isinstance(rules, list):
            self.fail(at, f"States.{name}.Retry must be a list")
        out = []
        allowed = {
            "ErrorEquals",
            "IntervalSeconds",
            "MaxAttempts",
            "BackoffRate",
            "MaxDelaySeconds",
            "JitterStrategy",
            "Comment",
        }
        for i, rule in enumerate(rules):
            rp = pointer_join(at, i)
            if not isinstance(rule, dict):
                self.fail(rp, f"{_dotted(rp)} must be an object")
            for key in rule:
                if key not in allowed:
                    self.fail(
                        pointer_join(rp, key),
                        f"{_dotted(rp)}: field '{key}' is not valid in a Retrier",
                        hint=_suggest(key, sorted(allowed)),
                    )
            errors = self.error_equals(rule, rp, i == len(rules) - 1, "Retrier")
            backoff = rule.get("BackoffRate", 2.0)
            if not isinstance(backoff, int | float) or isinstance(backoff, bool) or backoff < 1:
                self.fail(
                    pointer_join(rp, "BackoffRate"),
                    f"{_dotted(rp)}.BackoffRate must be a number >= 1.0",
                )
            jitter = rule.get("JitterStrategy", "NONE")
            if jitter not in ("FULL", "NONE"):
                self.fail(
                    pointer_join(rp, "JitterStrategy"),
                    f"{_dotted(rp)}.JitterStrategy must be FULL or NONE",
                )
            interval = self.integer(rule, "IntervalSeconds", rp, minimum=1)
            attempts = self.integer(rule, "MaxAttempts", rp, minimum=0)
            out.append(
                Retrier(
                    errors=errors,
                    interval_seconds=1 if interval is None else interval,
                    max_attempts=3 if attempts is None else attempts,
                    backoff_rate=float(backoff),
                    max_delay_seconds=self.integer(rule, "MaxDelaySeconds", rp, minimum=1),
                    jitter=jitter,
                )
            )
        return tuple(out)

    def catchers(
        self, name: str, raw: dict[str, Any], pointer: str, names: list[str]
    ) -> tuple[Catcher, ...]:
        rules = raw.get("Catch", [])
        at = pointer_join(pointer, "Catch")
        if not isinstance(rules, list):
            self.fail(at, f"States.{name}.Catch must be a list")
        out = []
        for i, rule in enumerate(rules):
            rp = pointer_join(at, i)
            if not isinstance(rule, dict):
                self.fail(rp, f"{_dotted(rp)} must be an object")
            for key in rule:
                if key in ("Assign", "Output"):
                    self.fail(pointer_join(rp, key), f"{_dotted(rp)}.{key} {_NOT_YET}")
                if key not in ("ErrorEquals", "Next", "ResultPath", "Comment"):
                    self.fail(
                        pointer_join(rp, key),
                        f"{_dotted(rp)}: field '{key}' is not valid in a Catcher",
                    )
            errors = self.error_equals(rule, rp, i == len(rules) - 1, "Catcher")
            nxt = self.string(rule, "Next", rp, required=True)
            self.target(nxt, pointer_join(rp, "Next"), f"{_dotted(rp)}.Next", names)
            out.append(Catcher(errors, nxt, self.reference_path(rule, "ResultPath", rp)))
        return tuple(out)

    def _choice(
        self, base: dict[str, Any], raw: dict[str, Any], pointer: str, names: list[str]
    ) -> State:
        name = base["name"]
        at = pointer_join(pointer, "Choices")
        rules = raw.get("Choices")
        if not isinstance(rules, list) or not rules:
            self.fail(
                at if "Choices" in raw else pointer,
                f"States.{name}.Choices must be a non-empty list of rules",
            )
        choices = []
        for i, rule in enumerate(rules):
            rp = pointer_join(at, i)
            condition = self.condition(rule, rp, top=True)
            nxt = self.string(rule, "Next", rp, required=True)
            self.target(nxt, pointer_join(rp, "Next"), f"{_dotted(rp)}.Next", names)
            choices.append(ChoiceRule(condition, nxt))
        default = self.string(raw, "Default", pointer)
        if default is not None:
            self.target(default, pointer_join(pointer, "Default"), f"States.{name}.Default", names)
        return ChoiceState(**base, choices=tuple(choices), default=default)

    def condition(self, rule: Any, pointer: str, top: bool) -> choice_ops.Condition:
        if not isinstance(rule, dict):
            self.fail(pointer, f"{_dotted(pointer)} must be an object")
        if "Condition" in rule:
            self.fail(
                pointer_join(pointer, "Condition"),
                f"{_dotted(pointer)}.Condition (JSONata) {_NOT_YET}",
            )
        if "Assign" in rule or "Output" in rule:
            self.fail(pointer, f"{_dotted(pointer)}: Assign/Output in choice rules {_NOT_YET}")
        if not top and "Next" in rule:
            self.fail(
                pointer_join(pointer, "Next"), f"{_dotted(pointer)}: nested rules cannot have Next"
            )
        operators = [k for k in rule if k not in _RULE_KEYS]
        if len(operators) != 1:
            known = [
                *choice_ops.COMPARISONS,
                *[c + "Path" for c in choice_ops.COMPARISONS],
                "StringMatches",
                *choice_ops.TYPE_TESTS,
                "IsPresent",
                "And",
                "Or",
                "Not",
            ]
            hint = _suggest(operators[0], known) if len(operators) == 1 else None
            self.fail(
                pointer,
                f"{_dotted(pointer)} must have exactly one comparison operator "
                f"(found {', '.join(operators) or 'none'})",
                hint=hint,
            )
        op = operators[0]
        value = rule[op]
        at = pointer_join(pointer, op)
        if op in ("And", "Or"):
            if "Variable" in rule:
                self.fail(pointer, f"{_dotted(pointer)}: {op} rules take no Variable")
            if not isinstance(value, list) or not value:
                self.fail(at, f"{_dotted(at)} must be a non-empty list of rules")
            parts = tuple(
                self.condition(r, pointer_join(at, i), top=False) for i, r in enumerate(value)
            )
            return choice_ops.And(parts) if op == "And" else choice_ops.Or(parts)
        if op == "Not":
            if "Variable" in rule:
                self.fail(pointer, f"{_dotted(pointer)}: Not rules take no Variable")
            return choice_ops.Not(self.condition(value, at, top=False))
        variable = (
            self.path(rule, "Variable", pointer, nullable=False) if "Variable" in rule else None
        )
        if variable is None:
            self.fail(pointer, f"{_dotted(pointer)} is missing 'Variable'")
        if op in choice_ops.TYPE_TESTS or op == "IsPresent":
            if not isinstance(value, bool):
                self.fail(at, f"{_dotted(at)} must be true or false")
            return choice_ops.TypeTest(variable, op, value)
        by_path = op.endswith("Path") and op[:-4] in choice_ops.COMPARISONS
        base_op = op[:-4] if by_path else op
        if base_op not in choice_ops.COMPARISONS and base_op != "StringMatches":
            self.fail(
                at,
                f"{_dotted(pointer)}: '{op}' is not a comparison operator",
                hint=_suggest(
                    op,
                    [*choice_ops.COMPARISONS, "StringMatches", *choice_ops.TYPE_TESTS, "IsPresent"],
                ),
            )
        if by_path:
            if not isinstance(value, str):
                self.fail(at, f"{_dotted(at)} must be a JSONPath string")
            try:
                expected: Any = JsonPath(value)
            except PathSyntaxError as exc:
                self.fail(at, f"{_dotted(at)}: {exc}")
        else:
            if not choice_ops.accepts_constant(base_op, value):
                self.fail(at, f"{_dotted(at)} has the wrong type for {op}")
            if base_op.startswith("Timestamp") and parse_timestamp(value) is None:
                self.fail(
                    at, f"{_dotted(at)} is not an ISO-8601 timestamp such as 2024-01-01T00:00:00Z"
                )
            expected = value
        return choice_ops.Compare(variable, base_op, expected, by_path)

    def _wait(
        self, base: dict[str, Any], raw: dict[str, Any], pointer: str, names: list[str]
    ) -> State:
        name = base["name"]
        given = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in raw]
        if len(given) != 1:
            self.fail(
                pointer,
                f"States.{name} needs exactly one of "
                "Seconds, SecondsPath, Timestamp, TimestampPath",
            )
        key = given[0]
        at = pointer_join(pointer, key)
        if key == "Seconds":
            return WaitState(**base, seconds=self.integer(raw, "Seconds", pointer, minimum=0))
        if key == "Timestamp":
            stamp = parse_timestamp(raw[key])
            if stamp is None:
                self.fail(
                    at,
                    f"States.{name}.Timestamp is not an ISO-8601 timestamp "
                    "such as 2024-01-01T00:00:00Z",
                )
            return WaitState(**base, timestamp=stamp)
        path = self.path(raw, key, pointer, nullable=False)
        if key == "SecondsPath":
            return WaitState(**base, seconds_path=path)
        return WaitState(**base, timestamp_path=path)

    def _succeed(
        self, base: dict[str, Any], raw: dict[str, Any], pointer: str, names: list[str]
    ) -> State:
        return SucceedState(**base)

    def _fail(
        self, base: dict[str, Any], raw: dict[str, Any], pointer: str, names: list[str]
    ) -> State:
        name = base["name"]
        fields: dict[str, Any] = {}
        for plain, dynamic in (("Error", "ErrorPath"), ("Cause", "CausePath")):
            if plain in raw and dynamic in raw:
                self.fail(pointer, f"States.{name} has both {plain} and {dynamic}; keep one")
            fields[plain.lower()] = self.string(raw, plain, pointer)
            if dynamic in raw:
                fields[f"{plain.lower()}_path"] = compile_expression(
                    raw[dynamic], dynamic, pointer_join(pointer, dynamic), self._payload_error
                )
        return FailState(**base, **fields)


def _dotted(pointer: str) -> str:
    """'/States/A/Retry/0' -> 'States.A.Retry[0]' for messages."""
    out = ""
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out


def _closest(word: str, choices: list[str]) -> str | None:
    """The likeliest intended name: same letters in another case, else the closest spelling."""
    for choice in choices:
        if choice.lower() == word.lower():
            return choice
    close = difflib.get_close_matches(word, choices, n=1)
    return close[0] if close else None


def _suggest(word: str, choices: list[str]) -> str | None:
    close = _closest(word, choices)
    return f'did you mean "{close}"?' if close else None
