"""Validate an ASL definition and compile it into a StateMachine.

Errors are DefinitionErrors located with the SourceMap when one is given. What the engine does
not run yet (other service integrations, ItemReader...) is rejected here, never skipped.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from typing import Any, NoReturn

from tooling.engine import choice as choice_ops
from tooling.engine import jsonata_eval
from tooling.engine.dataflow import MAX_PAYLOAD_BYTES
from tooling.engine.errors import ALL
from tooling.engine.jsonpath import JsonPath, PathSyntaxError
from tooling.engine.model import (
    Catcher,
    ChoiceRule,
    ChoiceState,
    FailState,
    ItemBatcher,
    MapState,
    ParallelState,
    PassState,
    Processor,
    Retrier,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitState,
)
from tooling.engine.payload import compile_expression, compile_template
from tooling.engine.ports import IntegrationCatalog
from tooling.engine.timestamps import parse_timestamp
from tooling.errors import DefinitionError
from tooling.sourcemap import SourceMap, pointer_join

_LAMBDA_FUNCTION_ARN = re.compile(r"arn:[\w-]+:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?")
_LAMBDA_INVOKE = re.compile(r"arn:[\w-]+:states:::lambda:invoke")
_LAMBDA_INVOKE_WAIT = re.compile(r"arn:[\w-]+:states:::lambda:invoke\.waitForTaskToken")
# Any other service integration (optimized, or AWS SDK: aws-sdk:<service>), request-response,
# its callback pattern (.waitForTaskToken) or Run a Job (.sync, .sync:2).
_SERVICE_INTEGRATION = re.compile(
    r"arn:[\w-]+:states:::(?P<type>(?:aws-sdk:)?[a-z0-9-]+):(?P<action>[A-Za-z][A-Za-z0-9]*)"
    r"(?:(?P<wait>\.waitForTaskToken)|(?P<sync>\.sync(?::2)?))?"
)
_SQS_SEND = ("sqs", "sendMessage")
# How Parameters (JSONPath) or Arguments (JSONata) hand the task token to the function: the
# token itself, or the Task object or whole context holding it (AWS's human-approval sample
# passes "ExecutionContext.$": "$$").
TOKEN_READ = re.compile(r"(?:\$\$|\$states\.context)(?:\.Task(?:\.Token)?)?(?![\w.\[])")
_NOT_YET = "is not supported yet by the local engine"
_COMMON = {"Type", "Comment", "QueryLanguage"}
_FLOW = {"Next", "End"}
_IO = {"InputPath", "OutputPath"}
_RETRY_CATCH = {"Retry", "Catch"}
_MAP_COMMON = {
    "ItemProcessor",
    "Iterator",
    "ItemSelector",
    "MaxConcurrency",
    "ToleratedFailureCount",
    "ToleratedFailurePercentage",
    "Label",
    "ItemBatcher",
}
# Fields each state type takes in JSONPath mode; JSONata mode swaps the path fields for
# Arguments/Output (AWS guide, "Transforming data with JSONata").
_FIELDS: dict[str, set[str]] = {
    "Pass": _COMMON | _FLOW | _IO | {"Result", "ResultPath", "Parameters", "Assign"},
    "Task": _COMMON
    | _FLOW
    | _IO
    | _RETRY_CATCH
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "Assign"}
    | {"TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"},
    "Choice": _COMMON | _IO | {"Choices", "Default", "Assign"},
    "Wait": _COMMON
    | _FLOW
    | _IO
    | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"},
    "Succeed": _COMMON | _IO,
    "Fail": _COMMON | {"Error", "Cause", "ErrorPath", "CausePath"},
    "Parallel": _COMMON
    | _FLOW
    | _IO
    | _RETRY_CATCH
    | {"Branches", "Parameters", "ResultSelector", "ResultPath", "Assign"},
    "Map": _COMMON
    | _FLOW
    | _IO
    | _RETRY_CATCH
    | _MAP_COMMON
    | {"ItemsPath", "Parameters", "ResultSelector", "ResultPath", "Assign"}
    | {"MaxConcurrencyPath", "ToleratedFailureCountPath", "ToleratedFailurePercentagePath"},
}
_JSONATA_FIELDS: dict[str, set[str]] = {
    "Pass": _COMMON | _FLOW | {"Output", "Assign"},
    "Task": _COMMON
    | _FLOW
    | _RETRY_CATCH
    | {"Resource", "Arguments", "Output", "Assign", "TimeoutSeconds", "HeartbeatSeconds"},
    "Choice": _COMMON | {"Choices", "Default", "Output", "Assign"},
    "Wait": _COMMON | _FLOW | {"Seconds", "Timestamp", "Output", "Assign"},
    "Succeed": _COMMON | {"Output"},
    "Fail": _COMMON | {"Error", "Cause"},
    "Parallel": _COMMON | _FLOW | _RETRY_CATCH | {"Branches", "Arguments", "Output", "Assign"},
    "Map": _COMMON | _FLOW | _RETRY_CATCH | _MAP_COMMON | {"Items", "Output", "Assign"},
}
# Valid ASL that the engine cannot run yet: rejected with a clear message.
_FIELDS_NOT_YET = {
    "Credentials",
    "ItemReader",
    "ResultWriter",
}
_QUERY_LANGUAGES = ("JSONPath", "JSONata")
_RULE_KEYS = {"Variable", "Next", "Comment"}


def parse_definition(
    definition: Any,
    source: SourceMap | None = None,
    mocked: Collection[str] = (),
    provided: IntegrationCatalog | None = None,
) -> StateMachine:
    """Validate `definition` (a parsed JSON object) and compile it for run_execution.

    A Task calling another AWS service runs when something answers it: its mock (states named
    in `mocked`, see tooling.engine.mocks) or an integration the runtime provides (`provided`,
    the runtime's ServiceIntegrations or its catalog). Any other such Task is refused.
    """
    return _Parser(source, frozenset(mocked), provided or _NOTHING_PROVIDED).machine(definition)


class _NothingProvided:
    def supports(self, resource_type: str, action: str) -> bool:
        return False


_NOTHING_PROVIDED = _NothingProvided()


class _Parser:
    def __init__(
        self,
        source: SourceMap | None,
        mocked: frozenset[str] = frozenset(),
        provided: IntegrationCatalog = _NOTHING_PROVIDED,
    ) -> None:
        self.source = source
        self.mocked = mocked
        self.provided = provided

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
        top = ["StartAt", "States", "Comment", "Version", "QueryLanguage", "TimeoutSeconds"]
        for key in definition:
            if key not in top:
                self.fail(f"/{key}", f"unknown top-level field '{key}'", hint=_suggest(key, top))
        jsonata = self.query_language(definition, "", False)
        timeout = self.integer(definition, "TimeoutSeconds", "", minimum=1)
        start_at, states = self.block(definition, "", jsonata)
        comment = definition.get("Comment")
        return StateMachine(
            start_at,
            states,
            definition,
            comment if isinstance(comment, str) else None,
            timeout_seconds=timeout,
        )

    def query_language(self, raw: dict[str, Any], pointer: str, default: bool) -> bool:
        """Whether JSONata is the query language here (else JSONPath)."""
        if "QueryLanguage" not in raw:
            return default
        value = raw["QueryLanguage"]
        if value not in _QUERY_LANGUAGES:
            at = pointer_join(pointer, "QueryLanguage")
            self.fail(at, f"{_dotted(at) or 'QueryLanguage'} must be JSONPath or JSONata")
        if value == "JSONPath" and default:
            at = pointer_join(pointer, "QueryLanguage")
            self.fail(
                at,
                f"{_dotted(at)}: a state cannot use JSONPath when the state machine uses JSONata",
            )
        return value == "JSONata"

    def block(
        self, raw: dict[str, Any], pointer: str, jsonata: bool
    ) -> tuple[str, dict[str, State]]:
        """StartAt and States of the machine, a Parallel branch or a Map's ItemProcessor."""
        start_at = self.string(raw, "StartAt", pointer, required=True)
        if "States" not in raw:
            self.fail(pointer, f"{_dotted(pointer) or 'the definition'} is missing 'States'")
        raw_states = raw["States"]
        states_at = pointer_join(pointer, "States")
        if not isinstance(raw_states, dict) or not raw_states:
            self.fail(
                states_at,
                f"{_dotted(states_at)} must be a non-empty object of state names to states",
            )
        names = list(raw_states)
        self.target(
            start_at,
            pointer_join(pointer, "StartAt"),
            _dotted(pointer_join(pointer, "StartAt")),
            names,
        )
        states = {
            name: self.state(name, raw_states[name], pointer_join(states_at, name), names, jsonata)
            for name in names
        }
        return start_at, states

    def target(self, name: str, pointer: str, label: str, names: list[str]) -> None:
        if name not in names:
            close = _closest(name, names)
            suffix = f'; did you mean "{close}"?' if close else ""
            self.fail(pointer, f'{label} names "{name}", which is not a state{suffix}')

    # ---- states -------------------------------------------------------------------------------

    def state(
        self, name: str, raw: Any, pointer: str, names: list[str], default_jsonata: bool
    ) -> State:
        if not isinstance(raw, dict):
            self.fail(pointer, f"state '{name}' must be a JSON object")
        kind = self.string(raw, "Type", pointer, required=True)
        if kind not in _FIELDS:
            self.fail(
                pointer_join(pointer, "Type"),
                f'States.{name}.Type "{kind}" is not a state type',
                hint=_suggest(kind, list(_FIELDS)),
            )
        jsonata = self.query_language(raw, pointer, default_jsonata)
        allowed = _JSONATA_FIELDS[kind] if jsonata else _FIELDS[kind]
        for key in raw:
            at = pointer_join(pointer, key)
            if key in _FIELDS_NOT_YET:
                self.fail(at, f"States.{name}.{key} {_NOT_YET}")
            elif key not in allowed:
                other = _FIELDS[kind] if jsonata else _JSONATA_FIELDS[kind]
                language = "JSONata" if jsonata else "JSONPath"
                if key in other:
                    self.fail(at, f"States.{name}: field '{key}' is not valid in {language} mode")
                self.fail(
                    at,
                    f"States.{name}: field '{key}' is not valid in a {kind} state",
                    hint=_suggest(key, sorted(allowed)),
                )
        flow = self.flow(name, kind, raw, pointer, names)
        io: dict[str, Any] = {"jsonata": jsonata}
        if not jsonata and "InputPath" in _FIELDS[kind]:
            io["input_path"] = self.path(raw, "InputPath", pointer, nullable=True)
            io["output_path"] = self.path(raw, "OutputPath", pointer, nullable=True)
        if "Assign" in raw:
            io["assign"] = self.assign(raw["Assign"], pointer_join(pointer, "Assign"), jsonata)
            io["has_assign"] = True
        if jsonata:
            for key in ("Output", "Arguments"):
                if key in raw:
                    io[key.lower()] = self.jsonata_value(raw[key], pointer_join(pointer, key), key)
                    io[f"has_{key.lower()}"] = True
        base = {"name": name, **flow, **io}
        return getattr(self, f"_{kind.lower()}")(base, raw, pointer, names)

    def assign(self, value: Any, pointer: str, jsonata: bool) -> Any:
        if not isinstance(value, dict):
            self.fail(pointer, f"{_dotted(pointer)} must be an object of variable names to values")
        for key in value:
            variable = key[:-2] if key.endswith(".$") and not jsonata else key
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", variable):
                self.fail(
                    pointer_join(pointer, key),
                    f"{_dotted(pointer)}: '{variable}' is not a valid variable name",
                )
        if jsonata:
            return self.jsonata_value(value, pointer, "Assign")
        return compile_template(value, pointer, self._payload_error)

    def jsonata_value(self, value: Any, pointer: str, field: str) -> Any:
        try:
            return jsonata_eval.compile_value(value, field)
        except jsonata_eval.JsonataSyntaxError as exc:
            self.fail(pointer, f"{_dotted(pointer)}: {exc}")

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
        if base["jsonata"]:
            return PassState(**base)
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
        wait_for_token = bool(_LAMBDA_INVOKE_WAIT.fullmatch(resource))
        optimized = wait_for_token or bool(_LAMBDA_INVOKE.fullmatch(resource))
        integration = None
        service = None if optimized else _SERVICE_INTEGRATION.fullmatch(resource)
        # `.sync` runs only where the runtime's catalog names that pattern (a mock may then
        # answer it); the other patterns also when a mock answers the state.
        sync = (service["sync"] or "") if service is not None else ""
        # The catalog is asked for the pattern too ("publish.waitForTaskToken"): not every
        # integration offers every pattern.
        pattern = sync or ((service["wait"] or "") if service is not None else "")
        if service is not None and (
            (name in self.mocked and not sync)
            or self.provided.supports(service["type"], service["action"] + pattern)
        ):
            integration = (service["type"], service["action"])
            wait_for_token = bool(service["wait"])
        elif not optimized and not _LAMBDA_FUNCTION_ARN.fullmatch(resource):
            hint = (
                "the local engine runs .sync for states:startExecution only: run this state on AWS"
                if sync
                else "the local runtime calls Lambda functions, sqs:sendMessage, "
                "states:startExecution and the integrations of the local AWS services "
                "(docs/engine.md) only: answer this state from a mock file (`tool run "
                "--mock FILE`, see docs/engine.md) or run it on AWS"
                if service is not None
                else "use a Lambda function ARN (arn:aws:lambda:<region>:<account>:function:"
                "<name>), arn:aws:states:::lambda:invoke, arn:aws:states:::lambda:invoke"
                ".waitForTaskToken, or a service integration answered by `tool run --mock FILE`"
            )
            self.fail(at, f'States.{name}.Resource "{resource}" {_NOT_YET}', hint=hint)
        parameters, has_parameters = self.template(raw, "Parameters", pointer)
        key = "Arguments" if base["jsonata"] else "Parameters"
        params = raw.get(key)
        if (
            optimized
            and not (isinstance(params, dict) and {"FunctionName", "FunctionName.$"} & set(params))
            and not jsonata_eval.is_expression(params)
        ):
            self.fail(
                pointer_join(pointer, key) if key in raw else pointer,
                f"States.{name}: {resource} needs {key}.FunctionName",
            )
        if optimized and isinstance(params, dict) and params.get("InvocationType") == "DryRun":
            self.fail(
                pointer_join(pointer_join(pointer, key), "InvocationType"),
                f'States.{name}: InvocationType "DryRun" {_NOT_YET}',
                hint="use RequestResponse or Event locally; AWS runs DryRun",
            )
        if wait_for_token and not _mentions_token(params, base["jsonata"]):
            # Without the token nobody can answer the task. That AWS rejects such a
            # definition is not confirmed (the CDK does); the engine refuses it.
            # The field that carries it: Lambda's Payload, SQS's MessageBody (AWS guide examples).
            where = "Payload" if optimized else "MessageBody" if integration == _SQS_SEND else None
            token = (
                '{"token": "{% $states.context.Task.Token %}"}'
                if base["jsonata"]
                else '{"token.$": "$$.Task.Token"}'
            )
            self.fail(
                pointer_join(pointer, key) if key in raw else pointer,
                f"States.{name}: .waitForTaskToken needs {key} to pass the task token",
                hint=f'e.g. "{where}": {token}' if where else f"e.g. {token} in what it sends",
            )
        result_selector, has_result_selector = self.template(raw, "ResultSelector", pointer)
        jsonata = base["jsonata"]
        timeout, timeout_path = self.task_seconds(raw, "TimeoutSeconds", pointer, name, jsonata)
        heartbeat, heartbeat_path = self.task_seconds(
            raw, "HeartbeatSeconds", pointer, name, jsonata
        )
        if (heartbeat is not None or heartbeat_path is not None) and not wait_for_token:
            field = "HeartbeatSeconds" if "HeartbeatSeconds" in raw else "HeartbeatSecondsPath"
            self.fail(
                pointer_join(pointer, field),
                f"States.{name}: {field} without .waitForTaskToken {_NOT_YET}",
            )
        if isinstance(timeout, int) and isinstance(heartbeat, int) and heartbeat >= timeout:
            self.fail(
                pointer_join(pointer, "HeartbeatSeconds"),
                f"States.{name}.HeartbeatSeconds ({heartbeat}) must be smaller than "
                f"TimeoutSeconds ({timeout})",
            )
        return TaskState(
            **base,
            resource=resource,
            optimized=optimized,
            wait_for_token=wait_for_token,
            integration=integration,
            sync=sync if integration is not None else "",
            parameters=parameters,
            has_parameters=has_parameters,
            result_selector=result_selector,
            has_result_selector=has_result_selector,
            result_path=self.reference_path(raw, "ResultPath", pointer),
            retry=self.retriers(name, raw, pointer),
            catch=self.catchers(name, raw, pointer, names, base["jsonata"]),
            timeout_seconds=timeout,
            timeout_seconds_path=timeout_path,
            heartbeat_seconds=heartbeat,
            heartbeat_seconds_path=heartbeat_path,
        )

    def task_seconds(
        self, raw: dict[str, Any], key: str, pointer: str, name: str, jsonata: bool
    ) -> tuple[Any, JsonPath | None]:
        """TimeoutSeconds or HeartbeatSeconds: an int (a JSONata template in JSONata mode when
        written as {% %}), or the reference path of its ...Path variant."""
        dynamic = key + "Path"
        if key in raw and dynamic in raw:
            self.fail(pointer, f"States.{name} has both {key} and {dynamic}; keep one")
        if dynamic in raw:
            return None, self.path(raw, dynamic, pointer, nullable=False)
        if jsonata and key in raw and jsonata_eval.is_expression(raw[key]):
            return self.jsonata_value(raw[key], pointer_join(pointer, key), key), None
        return self.integer(raw, key, pointer, minimum=1), None

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
        self, name: str, raw: dict[str, Any], pointer: str, names: list[str], jsonata: bool
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
            allowed = {"ErrorEquals", "Next", "Comment", "Assign"}
            allowed.add("Output" if jsonata else "ResultPath")
            for key in rule:
                if key not in allowed:
                    self.fail(
                        pointer_join(rp, key),
                        f"{_dotted(rp)}: field '{key}' is not valid in a Catcher",
                    )
            errors = self.error_equals(rule, rp, i == len(rules) - 1, "Catcher")
            nxt = self.string(rule, "Next", rp, required=True)
            self.target(nxt, pointer_join(rp, "Next"), f"{_dotted(rp)}.Next", names)
            extra: dict[str, Any] = {}
            if "Assign" in rule:
                extra["assign"] = self.assign(rule["Assign"], pointer_join(rp, "Assign"), jsonata)
                extra["has_assign"] = True
            if "Output" in rule:
                extra["output"] = self.jsonata_value(
                    rule["Output"], pointer_join(rp, "Output"), "Output"
                )
                extra["has_output"] = True
            result_path = None if jsonata else self.reference_path(rule, "ResultPath", rp)
            if jsonata:
                result_path = JsonPath("$")
            out.append(Catcher(errors, nxt, result_path, **extra))
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
        jsonata = base["jsonata"]
        for i, rule in enumerate(rules):
            rp = pointer_join(at, i)
            if not isinstance(rule, dict):
                self.fail(rp, f"{_dotted(rp)} must be an object")
            extra: dict[str, Any] = {}
            if "Assign" in rule:
                extra["assign"] = self.assign(rule["Assign"], pointer_join(rp, "Assign"), jsonata)
                extra["has_assign"] = True
            if jsonata:
                condition: Any = self.jsonata_condition(rule, rp)
                if "Output" in rule:
                    extra["output"] = self.jsonata_value(
                        rule["Output"], pointer_join(rp, "Output"), "Output"
                    )
                    extra["has_output"] = True
            else:
                body = {k: v for k, v in rule.items() if k != "Assign"}
                condition = self.condition(body, rp, top=True)
            nxt = self.string(rule, "Next", rp, required=True)
            self.target(nxt, pointer_join(rp, "Next"), f"{_dotted(rp)}.Next", names)
            choices.append(ChoiceRule(condition, nxt, **extra))
        default = self.string(raw, "Default", pointer)
        if default is not None:
            self.target(default, pointer_join(pointer, "Default"), f"States.{name}.Default", names)
        return ChoiceState(**base, choices=tuple(choices), default=default)

    def jsonata_condition(self, rule: dict[str, Any], pointer: str) -> Any:
        for key in rule:
            if key not in ("Condition", "Next", "Comment", "Assign", "Output"):
                self.fail(
                    pointer_join(pointer, key),
                    f"{_dotted(pointer)}: field '{key}' is not valid in a JSONata choice rule",
                    hint='write the test as "Condition": "{% ... %}"',
                )
        if "Condition" not in rule:
            self.fail(pointer, f"{_dotted(pointer)} is missing 'Condition'")
        value = rule["Condition"]
        at = pointer_join(pointer, "Condition")
        if isinstance(value, bool):
            return value
        if not jsonata_eval.is_expression(value):
            self.fail(at, f"{_dotted(at)} must be a JSONata expression {{% ... %}} or a boolean")
        return self.jsonata_value(value, at, "Condition").expression

    def condition(self, rule: Any, pointer: str, top: bool) -> choice_ops.Condition:
        if not isinstance(rule, dict):
            self.fail(pointer, f"{_dotted(pointer)} must be an object")
        if "Condition" in rule:
            self.fail(
                pointer_join(pointer, "Condition"),
                f"{_dotted(pointer)}.Condition needs QueryLanguage JSONata",
            )
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
        if base["jsonata"] and jsonata_eval.is_expression(raw[key]):
            compiled = self.jsonata_value(raw[key], at, key)
            if key == "Seconds":
                return WaitState(**base, seconds=compiled)
            return WaitState(**base, timestamp=compiled)
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
        if base["jsonata"]:
            for key in ("Error", "Cause"):
                if key in raw:
                    fields[key.lower()] = self.jsonata_value(
                        raw[key], pointer_join(pointer, key), key
                    )
            return FailState(**base, **fields)
        for plain, dynamic in (("Error", "ErrorPath"), ("Cause", "CausePath")):
            if plain in raw and dynamic in raw:
                self.fail(pointer, f"States.{name} has both {plain} and {dynamic}; keep one")
            fields[plain.lower()] = self.string(raw, plain, pointer)
            if dynamic in raw:
                fields[f"{plain.lower()}_path"] = compile_expression(
                    raw[dynamic], dynamic, pointer_join(pointer, dynamic), self._payload_error
                )
        return FailState(**base, **fields)

    # ---- Parallel and Map ---------------------------------------------------------------------

    def _parallel(
        self, base: dict[str, Any], raw: dict[str, Any], pointer: str, names: list[str]
    ) -> State:
        name = base["name"]
        at = pointer_join(pointer, "Branches")
        branches = raw.get("Branches")
        if not isinstance(branches, list) or not branches:
            self.fail(
                at if "Branches" in raw else pointer,
                f"States.{name}.Branches must be a non-empty list of branches",
            )
        compiled = []
        for i, branch in enumerate(branches):
            bp = pointer_join(at, i)
            if not isinstance(branch, dict):
                self.fail(bp, f"{_dotted(bp)} must be an object with StartAt and States")
            compiled.append(self.processor(branch, bp, base["jsonata"]))
        parameters, has_parameters = self.template(raw, "Parameters", pointer)
        result_selector, has_result_selector = self.template(raw, "ResultSelector", pointer)
        return ParallelState(
            **base,
            branches=tuple(compiled),
            parameters=parameters,
            has_parameters=has_parameters,
            result_selector=result_selector,
            has_result_selector=has_result_selector,
            result_path=self.reference_path(raw, "ResultPath", pointer),
            retry=self.retriers(name, raw, pointer),
            catch=self.catchers(name, raw, pointer, names, base["jsonata"]),
        )

    def processor(self, raw: dict[str, Any], pointer: str, jsonata: bool) -> Processor:
        for key in raw:
            if key not in ("StartAt", "States", "Comment", "ProcessorConfig", "QueryLanguage"):
                self.fail(
                    pointer_join(pointer, key),
                    f"{_dotted(pointer)}: field '{key}' is not valid here",
                    hint="a branch or ItemProcessor has StartAt, States and Comment",
                )
        jsonata = self.query_language(raw, pointer, jsonata)
        start_at, states = self.block(raw, pointer, jsonata)
        return Processor(start_at, states)

    def _map(
        self, base: dict[str, Any], raw: dict[str, Any], pointer: str, names: list[str]
    ) -> State:
        name = base["name"]
        jsonata = base["jsonata"]
        if "ItemProcessor" in raw and "Iterator" in raw:
            self.fail(pointer, f"States.{name} has both ItemProcessor and Iterator; keep one")
        key = "ItemProcessor" if "ItemProcessor" in raw else "Iterator"
        at = pointer_join(pointer, key)
        if key not in raw:
            self.fail(pointer, f"States.{name} is missing 'ItemProcessor'")
        raw_processor = raw[key]
        if not isinstance(raw_processor, dict):
            self.fail(at, f"{_dotted(at)} must be an object with StartAt and States")
        config = raw_processor.get("ProcessorConfig", {})
        config_at = pointer_join(at, "ProcessorConfig")
        if not isinstance(config, dict):
            self.fail(config_at, f"{_dotted(config_at)} must be an object")
        mode = config.get("Mode", "INLINE")
        if mode not in ("INLINE", "DISTRIBUTED"):
            self.fail(
                pointer_join(config_at, "Mode"),
                f"{_dotted(config_at)}.Mode must be INLINE or DISTRIBUTED",
            )
        if "Parameters" in raw and "ItemSelector" in raw:
            self.fail(pointer, f"States.{name} has both Parameters and ItemSelector; keep one")
        fields: dict[str, Any] = {
            "processor": self.processor(raw_processor, at, jsonata),
            "distributed": mode == "DISTRIBUTED",
            "label": self.string(raw, "Label", pointer),
        }
        if "ItemBatcher" in raw:
            fields["item_batcher"] = self.item_batcher(
                name, raw["ItemBatcher"], pointer_join(pointer, "ItemBatcher"), jsonata, mode
            )
        if jsonata:
            if "Items" in raw:
                fields["items"] = self.jsonata_value(
                    raw["Items"], pointer_join(pointer, "Items"), "Items"
                )
                fields["has_items"] = True
            if "ItemSelector" in raw:
                fields["item_selector"] = self.jsonata_value(
                    raw["ItemSelector"], pointer_join(pointer, "ItemSelector"), "ItemSelector"
                )
                fields["has_item_selector"] = True
        else:
            fields["items_path"] = self.path(raw, "ItemsPath", pointer, nullable=False)
            selector_key = "ItemSelector" if "ItemSelector" in raw else "Parameters"
            selector, has_selector = self.template(raw, selector_key, pointer)
            fields["item_selector"] = selector
            fields["has_item_selector"] = has_selector
            selector_result, has_result_selector = self.template(raw, "ResultSelector", pointer)
            fields["result_selector"] = selector_result
            fields["has_result_selector"] = has_result_selector
            fields["result_path"] = self.reference_path(raw, "ResultPath", pointer)
        for plain, attribute in (
            ("MaxConcurrency", "max_concurrency"),
            ("ToleratedFailureCount", "tolerated_failure_count"),
            ("ToleratedFailurePercentage", "tolerated_failure_percentage"),
        ):
            dynamic = plain + "Path"
            if plain in raw and dynamic in raw:
                self.fail(pointer, f"States.{name} has both {plain} and {dynamic}; keep one")
            if plain in raw:
                fields[attribute] = self.map_number(raw, plain, pointer, jsonata)
            elif dynamic in raw:
                fields[f"{attribute}_path"] = self.path(raw, dynamic, pointer, nullable=False)
        return MapState(
            **base,
            **fields,
            retry=self.retriers(name, raw, pointer),
            catch=self.catchers(name, raw, pointer, names, jsonata),
        )

    def item_batcher(
        self, name: str, raw: Any, pointer: str, jsonata: bool, mode: str
    ) -> ItemBatcher:
        # AWS documents ItemBatcher for Distributed mode only.
        if mode != "DISTRIBUTED":
            self.fail(
                pointer,
                f"States.{name}.ItemBatcher needs a Distributed Map",
                hint='set "ProcessorConfig": {"Mode": "DISTRIBUTED"} in the ItemProcessor',
            )
        if not isinstance(raw, dict):
            self.fail(pointer, f"{_dotted(pointer)} must be an object")
        limits = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")
        allowed = [*limits, "BatchInput"]
        if not jsonata:
            allowed += [f"{key}Path" for key in limits]
        for key in raw:
            if key in allowed:
                continue
            at = pointer_join(pointer, key)
            if key.endswith("Path") and key[:-4] in limits:
                self.fail(
                    at,
                    f"{_dotted(pointer)}: field '{key}' is not valid in JSONata mode",
                    hint=f'write "{key[:-4]}": "{{% ... %}}"',
                )
            self.fail(
                at,
                f"{_dotted(pointer)}: field '{key}' is not valid in an ItemBatcher",
                hint=_suggest(key, allowed),
            )
        if not any(key in raw for key in limits) and not any(key + "Path" in raw for key in limits):
            # AWS: "specify the maximum number of items to batch, the maximum batch size (in
            # bytes), or both" (ItemBatcher guide).
            self.fail(
                pointer, f"{_dotted(pointer)} needs MaxItemsPerBatch or MaxInputBytesPerBatch"
            )
        fields: dict[str, Any] = {}
        for key, attribute, most in (
            ("MaxItemsPerBatch", "max_items_per_batch", None),
            ("MaxInputBytesPerBatch", "max_input_bytes_per_batch", MAX_PAYLOAD_BYTES),
        ):
            at = pointer_join(pointer, key)
            if key in raw and key + "Path" in raw:
                self.fail(pointer, f"{_dotted(pointer)} has both {key} and {key}Path; keep one")
            if key + "Path" in raw:
                path = self.path(raw, key + "Path", pointer, nullable=False)
                if path is not None and not path.is_reference:
                    self.fail(
                        pointer_join(pointer, key + "Path"),
                        f"{_dotted(pointer)}.{key}Path must be a reference path ($.field), "
                        f"not '{path.text}'",
                    )
                fields[f"{attribute}_path"] = path
            elif key in raw and jsonata and jsonata_eval.is_expression(raw[key]):
                fields[attribute] = self.jsonata_value(raw[key], at, key)
            elif key in raw:
                number = self.integer(raw, key, pointer, minimum=1)
                if most is not None and number is not None and number > most:
                    self.fail(at, f"{_dotted(at)} must be at most {most} (256 KiB)")
                fields[attribute] = number
        if "BatchInput" in raw:
            at = pointer_join(pointer, "BatchInput")
            if jsonata:
                fields["batch_input"] = self.jsonata_value(raw["BatchInput"], at, "BatchInput")
            else:
                fields["batch_input"] = compile_template(raw["BatchInput"], at, self._payload_error)
            fields["has_batch_input"] = True
        return ItemBatcher(**fields)

    def map_number(self, raw: dict[str, Any], key: str, pointer: str, jsonata: bool) -> Any:
        value = raw[key]
        at = pointer_join(pointer, key)
        if jsonata and jsonata_eval.is_expression(value):
            return self.jsonata_value(value, at, key)
        if key == "ToleratedFailurePercentage":
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not 0 <= value <= 100
            ):
                self.fail(at, f"{_dotted(at)} must be a number between 0 and 100")
            return value
        return self.integer(raw, key, pointer, minimum=0)


def _mentions_token(params: Any, jsonata: bool) -> bool:
    """Whether the task's Parameters/Arguments read the task token anywhere."""
    if isinstance(params, dict):
        return any(
            _mentions_token(value, jsonata)
            if isinstance(value, dict | list) or jsonata
            else (key.endswith(".$") and _mentions_token(value, jsonata))
            for key, value in params.items()
        )
    if isinstance(params, list):
        return any(_mentions_token(value, jsonata) for value in params)
    return isinstance(params, str) and TOKEN_READ.search(params) is not None


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
