"""Compile a definition's syntax tree (tooling.asl) into the StateMachine the interpreter runs.

The compiler refuses, with a DefinitionError located with the definition's SourceMap, what the
engine cannot run: a definition that is not valid, and valid ASL the engine does not run yet
(fields the table marks `runs=False`, service integrations nothing answers, ...). Nothing is
skipped silently. What depends on the query language or the Task's integration is decided here:
each state gets its data flow, each Task its invoker.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Collection
from typing import Any, NoReturn

from tooling.asl import Definition, Scope, StateNode, fields, parse
from tooling.asl.fields import (
    JSONATA,
    JSONPATH,
    NOT_RUN,
    QUERY_LANGUAGES,
    STATE_TYPES,
    TOKEN_READ,
)
from tooling.asl.timestamps import parse_timestamp
from tooling.engine import choice as choice_ops
from tooling.engine import jsonata_eval
from tooling.engine.dataflow import (
    MAX_PAYLOAD_BYTES,
    ROOT,
    DataFlow,
    JsonataFlow,
    JsonPathFlow,
)
from tooling.engine.errors import ALL
from tooling.engine.jsonpath import JsonPath, PathSyntaxError
from tooling.engine.model import (
    ABSENT,
    AtPath,
    Catcher,
    ChoiceRule,
    ChoiceState,
    Dynamic,
    Evaluated,
    FailState,
    Fixed,
    ItemBatcher,
    MapState,
    ParallelState,
    PassState,
    Processor,
    Retrier,
    RetryingState,
    State,
    StateMachine,
    SucceedState,
    TaskState,
    WaitFor,
    WaitState,
)
from tooling.engine.payload import compile_expression, compile_template
from tooling.engine.ports import IntegrationCatalog
from tooling.engine.tasks import (
    ActivityTask,
    LambdaCallbackTask,
    LambdaFunctionTask,
    LambdaInvokeTask,
    ServiceCallbackTask,
    ServiceJobTask,
    ServiceTask,
    TaskInvoker,
)
from tooling.errors import DefinitionError
from tooling.sourcemap import SourceMap, pointer_join

_LAMBDA_FUNCTION_ARN = re.compile(r"arn:[\w-]+:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?")
_LAMBDA_INVOKE = re.compile(r"arn:[\w-]+:states:::lambda:invoke")
# An activity (CreateActivity: a name of 1-80 characters, no whitespace, brackets, wildcards or
# special characters).
_ACTIVITY_ARN = re.compile(
    r"arn:[\w-]+:states:[a-z0-9-]+:\d{12}:activity:[^\s\"#%\\^|~`$&,;:/<>{}\[\]?*]{1,80}"
)
_LAMBDA_INVOKE_WAIT = re.compile(r"arn:[\w-]+:states:::lambda:invoke\.waitForTaskToken")
# Any other service integration (optimized, or AWS SDK: aws-sdk:<service>), request-response,
# its callback pattern (.waitForTaskToken) or Run a Job (.sync, .sync:2).
_SERVICE_INTEGRATION = re.compile(
    r"arn:[\w-]+:states:::(?P<type>(?:aws-sdk:)?[a-z0-9-]+):(?P<action>[A-Za-z][A-Za-z0-9]*)"
    r"(?:(?P<wait>\.waitForTaskToken)|(?P<sync>\.sync(?::2)?))?"
)
_SQS_SEND = ("sqs", "sendMessage")
_NOT_YET = "is not supported yet by the local engine"
_RULE_KEYS = {"Variable", "Next", "Comment"}
_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def parse_definition(
    definition: Any,
    source: SourceMap | None = None,
    mocked: Collection[str] = (),
    provided: IntegrationCatalog | None = None,
) -> StateMachine:
    """Read `definition` (a loaded JSON or YAML object) and compile it (compile_definition)."""
    return compile_definition(parse(definition, source), mocked, provided)


def compile_definition(
    tree: Definition,
    mocked: Collection[str] = (),
    provided: IntegrationCatalog | None = None,
) -> StateMachine:
    """The StateMachine of `tree`, or DefinitionError for what the engine cannot run.

    A Task calling another AWS service runs when something answers it: its mock (states named
    in `mocked`, see tooling.engine.mocks) or an integration the runtime provides (`provided`,
    the runtime's ServiceIntegrations or its catalog). Any other such Task is refused.
    """
    return _Compiler(tree, frozenset(mocked), provided or _NOTHING_PROVIDED).machine()


class _NothingProvided:
    def supports(self, resource_type: str, action: str) -> bool:
        return False


_NOTHING_PROVIDED = _NothingProvided()


class _Compiler:
    def __init__(
        self, tree: Definition, mocked: frozenset[str], provided: IntegrationCatalog
    ) -> None:
        self.tree = tree
        self.mocked = mocked
        self.provided = provided

    # ---- errors -------------------------------------------------------------------------------

    def fail(self, pointer: str, message: str, hint: str | None = None) -> NoReturn:
        raise self.error(pointer, message, hint)

    def non_empty_list(self, node: StateNode, key: str, what: str) -> list[Any]:
        """The state's `key`, which must be a non-empty list (of `what`)."""
        value = node.fields.get(key)
        if not isinstance(value, list) or not value:
            self.fail(
                pointer_join(node.pointer, key) if key in node.fields else node.pointer,
                f"States.{node.name}.{key} must be a non-empty list of {what}",
            )
        return value

    def error(self, pointer: str, message: str, hint: str | None = None) -> DefinitionError:
        return DefinitionError(message, hint=hint, **self.tree.error_kwargs(pointer))

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
            return ROOT
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

    def present_path(self, obj: dict[str, Any], key: str, pointer: str) -> JsonPath:
        """A path field that is present and cannot be null."""
        path = self.path(obj, key, pointer, nullable=False)
        assert path is not None
        return path

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

    def template(self, raw: dict[str, Any], key: str, pointer: str) -> Any:
        """A JSONPath payload template, or ABSENT."""
        if key not in raw:
            return ABSENT
        return compile_template(raw[key], pointer_join(pointer, key), self._payload_error)

    def jsonata_value(self, value: Any, pointer: str, field: str) -> Any:
        try:
            return jsonata_eval.compile_value(value, field)
        except jsonata_eval.JsonataSyntaxError as exc:
            self.fail(pointer, f"{_dotted(pointer)}: {exc}")

    # ---- machine and scopes -------------------------------------------------------------------

    def machine(self) -> StateMachine:
        definition = self.tree.value
        if not isinstance(definition, dict):
            self.fail("", "a state machine definition must be a JSON object")
        top = sorted(fields.object_fields("Definition"), key=_TOP_ORDER.index)
        for key in definition:
            if key not in top:
                self.fail(f"/{key}", f"unknown top-level field '{key}'", hint=_suggest(key, top))
        self.query_language(definition, "", JSONPATH)
        timeout = self.integer(definition, "TimeoutSeconds", "", minimum=1)
        assert self.tree.machine is not None
        start_at, states = self.block(self.tree.machine)
        comment = definition.get("Comment")
        return StateMachine(
            start_at,
            states,
            definition,
            comment if isinstance(comment, str) else None,
            timeout_seconds=timeout,
        )

    def query_language(self, raw: dict[str, Any], pointer: str, machine: str) -> None:
        """QueryLanguage is JSONPath or JSONata; a state may not use JSONPath in a JSONata
        machine."""
        if "QueryLanguage" not in raw:
            return
        value = raw["QueryLanguage"]
        if value not in QUERY_LANGUAGES:
            at = pointer_join(pointer, "QueryLanguage")
            self.fail(at, f"{_dotted(at) or 'QueryLanguage'} must be JSONPath or JSONata")
        if value == JSONPATH and machine == JSONATA:
            at = pointer_join(pointer, "QueryLanguage")
            self.fail(
                at,
                f"{_dotted(at)}: a state cannot use JSONPath when the state machine uses JSONata",
            )

    def block(self, scope: Scope) -> tuple[str, dict[str, State]]:
        """StartAt and States of the machine, a Parallel branch or a Map's ItemProcessor."""
        raw, pointer = scope.value, scope.pointer
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
        names = [node.name for node in scope.states]
        self.target(
            start_at,
            pointer_join(pointer, "StartAt"),
            _dotted(pointer_join(pointer, "StartAt")),
            names,
        )
        return start_at, {node.name: self.state(node, names) for node in scope.states}

    def target(self, name: str, pointer: str, label: str, names: list[str]) -> None:
        if name not in names:
            close = _closest(name, names)
            suffix = f'; did you mean "{close}"?' if close else ""
            self.fail(pointer, f'{label} names "{name}", which is not a state{suffix}')

    def processor(self, scope: Scope) -> Processor:
        table = fields.object_fields(scope.kind.value)
        raw, pointer = scope.value, scope.pointer
        for key in raw:
            if key not in table:
                self.fail(
                    pointer_join(pointer, key),
                    f"{_dotted(pointer)}: field '{key}' is not valid here",
                    hint="a branch or ItemProcessor has StartAt, States and Comment",
                )
        start_at, states = self.block(scope)
        can_block = any(_can_block(state) for state in states.values())
        return Processor(start_at, states, can_block)

    # ---- states -------------------------------------------------------------------------------

    def state(self, node: StateNode, names: list[str]) -> State:
        name, raw, pointer = node.name, node.value, node.pointer
        if not isinstance(raw, dict):
            self.fail(pointer, f"state '{name}' must be a JSON object")
        kind = self.string(raw, "Type", pointer, required=True)
        if kind not in STATE_TYPES:
            self.fail(
                pointer_join(pointer, "Type"),
                f'States.{name}.Type "{kind}" is not a state type',
                hint=_suggest(kind, list(_TYPE_ORDER)),
            )
        self.query_language(raw, pointer, self.tree.language)
        language = node.language
        allowed = fields.ALLOWED[language][kind]
        for key in raw:
            at = pointer_join(pointer, key)
            if key in NOT_RUN:
                self.fail(at, f"States.{name}.{key} {_NOT_YET}")
            elif key not in allowed:
                if key in fields.ALLOWED[fields.other_language(language)][kind]:
                    self.fail(at, f"States.{name}: field '{key}' is not valid in {language} mode")
                self.fail(
                    at,
                    f"States.{name}: field '{key}' is not valid in a {kind} state",
                    hint=_suggest(key, sorted(allowed - NOT_RUN)),
                )
        flow = self.flow(name, kind, raw, pointer, names)
        parts: dict[str, Any] = {}
        jsonata = node.jsonata
        if not jsonata and "InputPath" in allowed:
            parts["input_path"] = self.path(raw, "InputPath", pointer, nullable=True)
            parts["output_path"] = self.path(raw, "OutputPath", pointer, nullable=True)
        if "Assign" in raw:
            parts["assign"] = self.assign(raw["Assign"], pointer_join(pointer, "Assign"), jsonata)
        if jsonata:
            for key in ("Output", "Arguments"):
                if key in raw:
                    parts[key.lower()] = self.jsonata_value(
                        raw[key], pointer_join(pointer, key), key
                    )
        compile_type = getattr(self, f"_{kind.lower()}")
        state: State = compile_type(node, {"name": name, **flow}, parts, names)
        return state

    def data_flow(self, node: StateNode, parts: dict[str, Any]) -> DataFlow:
        """The state's data flow, of its query language, from the parts compiled for it."""
        if node.jsonata:
            return JsonataFlow(**parts)
        return JsonPathFlow(**parts)

    def assign(self, value: Any, pointer: str, jsonata: bool) -> Any:
        if not isinstance(value, dict):
            self.fail(pointer, f"{_dotted(pointer)} must be an object of variable names to values")
        for key in value:
            variable = key[:-2] if key.endswith(".$") and not jsonata else key
            if not _VARIABLE.fullmatch(variable):
                self.fail(
                    pointer_join(pointer, key),
                    f"{_dotted(pointer)}: '{variable}' is not a valid variable name",
                )
        if jsonata:
            return self.jsonata_value(value, pointer, "Assign")
        return compile_template(value, pointer, self._payload_error)

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

    def _pass(
        self, node: StateNode, base: dict[str, Any], parts: dict[str, Any], names: list[str]
    ) -> State:
        raw, pointer = node.fields, node.pointer
        if node.jsonata:
            return PassState(**base, flow=self.data_flow(node, parts))
        parts["parameters"] = self.template(raw, "Parameters", pointer)
        parts["result_path"] = self.reference_path(raw, "ResultPath", pointer)
        return PassState(**base, flow=self.data_flow(node, parts), result=raw.get("Result", ABSENT))

    def _succeed(
        self, node: StateNode, base: dict[str, Any], parts: dict[str, Any], names: list[str]
    ) -> State:
        return SucceedState(**base, flow=self.data_flow(node, parts))

    # ---- Task ---------------------------------------------------------------------------------

    def _task(
        self, node: StateNode, base: dict[str, Any], parts: dict[str, Any], names: list[str]
    ) -> State:
        name, raw, pointer = node.name, node.fields, node.pointer
        jsonata = node.jsonata
        resource = self.string(raw, "Resource", pointer, required=True)
        invoker = self.invoker(name, resource, pointer_join(pointer, "Resource"))
        optimized = isinstance(invoker, LambdaInvokeTask | LambdaCallbackTask)
        callback = isinstance(invoker, LambdaCallbackTask | ServiceCallbackTask)
        if not jsonata:
            parts["parameters"] = self.template(raw, "Parameters", pointer)
        key = "Arguments" if jsonata else "Parameters"
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
        if callback and not _mentions_token(params, jsonata):
            # Without the token nobody can answer the task. That AWS rejects such a
            # definition is not confirmed (the CDK does); the engine refuses it.
            # The field that carries it: Lambda's Payload, SQS's MessageBody (AWS guide examples).
            sqs = isinstance(invoker, ServiceTask) and invoker.integration == _SQS_SEND
            where = "Payload" if optimized else "MessageBody" if sqs else None
            token = (
                '{"token": "{% $states.context.Task.Token %}"}'
                if jsonata
                else '{"token.$": "$$.Task.Token"}'
            )
            self.fail(
                pointer_join(pointer, key) if key in raw else pointer,
                f"States.{name}: .waitForTaskToken needs {key} to pass the task token",
                hint=f'e.g. "{where}": {token}' if where else f"e.g. {token} in what it sends",
            )
        if not jsonata:
            parts["result_selector"] = self.template(raw, "ResultSelector", pointer)
        timeout = self.task_seconds(raw, "TimeoutSeconds", pointer, name, jsonata)
        heartbeat = self.task_seconds(raw, "HeartbeatSeconds", pointer, name, jsonata)
        if heartbeat is not None and not (callback or isinstance(invoker, ActivityTask)):
            field = "HeartbeatSeconds" if "HeartbeatSeconds" in raw else "HeartbeatSecondsPath"
            self.fail(
                pointer_join(pointer, field),
                f"States.{name}: {field} without .waitForTaskToken {_NOT_YET}",
            )
        if (
            isinstance(timeout, Fixed)
            and isinstance(heartbeat, Fixed)
            and heartbeat.value >= timeout.value
        ):
            self.fail(
                pointer_join(pointer, "HeartbeatSeconds"),
                f"States.{name}.HeartbeatSeconds ({heartbeat.value}) must be smaller than "
                f"TimeoutSeconds ({timeout.value})",
            )
        if not jsonata:
            parts["result_path"] = self.reference_path(raw, "ResultPath", pointer)
        return TaskState(
            **base,
            flow=self.data_flow(node, parts),
            invoker=invoker,
            retry=self.retriers(name, raw, pointer),
            catch=self.catchers(name, raw, pointer, names, jsonata),
            timeout_seconds=timeout,
            heartbeat_seconds=heartbeat,
        )

    def invoker(self, name: str, resource: str, at: str) -> TaskInvoker:
        """How the Task's attempts run, from its Resource; refused when nothing can answer it."""
        if _LAMBDA_INVOKE_WAIT.fullmatch(resource):
            return LambdaCallbackTask()
        if _ACTIVITY_ARN.fullmatch(resource):
            return ActivityTask(resource)
        if _LAMBDA_INVOKE.fullmatch(resource):
            return LambdaInvokeTask()
        service = _SERVICE_INTEGRATION.fullmatch(resource)
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
            if sync:
                return ServiceJobTask(integration, sync)
            if service["wait"]:
                return ServiceCallbackTask(integration)
            return ServiceTask(integration)
        if not _LAMBDA_FUNCTION_ARN.fullmatch(resource):
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
        return LambdaFunctionTask(resource)

    def task_seconds(
        self, raw: dict[str, Any], key: str, pointer: str, name: str, jsonata: bool
    ) -> Dynamic | None:
        """TimeoutSeconds or HeartbeatSeconds: an int (a JSONata template in JSONata mode when
        written as {% %}), or the reference path of its ...Path variant."""
        dynamic = key + "Path"
        if key in raw and dynamic in raw:
            self.fail(pointer, f"States.{name} has both {key} and {dynamic}; keep one")
        if dynamic in raw:
            return AtPath(self.present_path(raw, dynamic, pointer))
        if jsonata and key in raw and jsonata_eval.is_expression(raw[key]):
            return Evaluated(self.jsonata_value(raw[key], pointer_join(pointer, key), key))
        seconds = self.integer(raw, key, pointer, minimum=1)
        return None if seconds is None else Fixed(seconds)

    # ---- Retry and Catch ----------------------------------------------------------------------

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

    def rule_objects(
        self,
        name: str,
        raw: dict[str, Any],
        pointer: str,
        key: str,
        kind: str,
        language: str | None,
    ) -> list[tuple[dict[str, Any], str, bool]]:
        """The Retry or Catch list's rules, each checked to be an object of `kind`'s fields:
        (rule, its pointer, whether it is the last)."""
        rules = raw.get(key, [])
        at = pointer_join(pointer, key)
        if not isinstance(rules, list):
            self.fail(at, f"States.{name}.{key} must be a list")
        allowed = fields.object_fields(kind, language)
        checked = []
        for i, rule in enumerate(rules):
            rp = pointer_join(at, i)
            if not isinstance(rule, dict):
                self.fail(rp, f"{_dotted(rp)} must be an object")
            for field_name in rule:
                if field_name not in allowed:
                    self.fail(
                        pointer_join(rp, field_name),
                        f"{_dotted(rp)}: field '{field_name}' is not valid in a {kind}",
                        hint=_suggest(field_name, sorted(allowed)),
                    )
            checked.append((rule, rp, i == len(rules) - 1))
        return checked

    def retriers(self, name: str, raw: dict[str, Any], pointer: str) -> tuple[Retrier, ...]:
        out = []
        for rule, rp, last in self.rule_objects(name, raw, pointer, "Retry", "Retrier", None):
            errors = self.error_equals(rule, rp, last, "Retrier")
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
        out = []
        language = JSONATA if jsonata else JSONPATH
        for rule, rp, last in self.rule_objects(name, raw, pointer, "Catch", "Catcher", language):
            errors = self.error_equals(rule, rp, last, "Catcher")
            nxt = self.string(rule, "Next", rp, required=True)
            self.target(nxt, pointer_join(rp, "Next"), f"{_dotted(rp)}.Next", names)
            extra: dict[str, Any] = {}
            if "Assign" in rule:
                extra["assign"] = self.assign(rule["Assign"], pointer_join(rp, "Assign"), jsonata)
            if "Output" in rule:
                extra["output"] = self.jsonata_value(
                    rule["Output"], pointer_join(rp, "Output"), "Output"
                )
            result_path = ROOT if jsonata else self.reference_path(rule, "ResultPath", rp)
            out.append(Catcher(errors, nxt, result_path, **extra))
        return tuple(out)

    # ---- Choice -------------------------------------------------------------------------------

    def _choice(
        self, node: StateNode, base: dict[str, Any], parts: dict[str, Any], names: list[str]
    ) -> State:
        name, raw, pointer = node.name, node.fields, node.pointer
        at = pointer_join(pointer, "Choices")
        rules = self.non_empty_list(node, "Choices", "rules")
        choices = []
        jsonata = node.jsonata
        for i, rule in enumerate(rules):
            rp = pointer_join(at, i)
            if not isinstance(rule, dict):
                self.fail(rp, f"{_dotted(rp)} must be an object")
            extra: dict[str, Any] = {}
            if "Assign" in rule:
                extra["assign"] = self.assign(rule["Assign"], pointer_join(rp, "Assign"), jsonata)
            condition: Any
            if jsonata:
                condition = self.jsonata_condition(rule, rp)
                if "Output" in rule:
                    extra["output"] = self.jsonata_value(
                        rule["Output"], pointer_join(rp, "Output"), "Output"
                    )
            else:
                body = {k: v for k, v in rule.items() if k != "Assign"}
                condition = self.condition(body, rp, top=True)
            nxt = self.string(rule, "Next", rp, required=True)
            self.target(nxt, pointer_join(rp, "Next"), f"{_dotted(rp)}.Next", names)
            choices.append(ChoiceRule(condition, nxt, **extra))
        default = self.string(raw, "Default", pointer)
        if default is not None:
            self.target(default, pointer_join(pointer, "Default"), f"States.{name}.Default", names)
        return ChoiceState(
            **base, flow=self.data_flow(node, parts), choices=tuple(choices), default=default
        )

    def jsonata_condition(self, rule: dict[str, Any], pointer: str) -> Any:
        allowed = fields.object_fields("JSONataRule")
        for key in rule:
            if key not in allowed:
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
        if "Variable" not in rule:
            self.fail(pointer, f"{_dotted(pointer)} is missing 'Variable'")
        variable = self.present_path(rule, "Variable", pointer)
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
        expected: Any
        if by_path:
            if not isinstance(value, str):
                self.fail(at, f"{_dotted(at)} must be a JSONPath string")
            try:
                expected = JsonPath(value)
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

    # ---- Wait and Fail ------------------------------------------------------------------------

    def _wait(
        self, node: StateNode, base: dict[str, Any], parts: dict[str, Any], names: list[str]
    ) -> State:
        name, raw, pointer = node.name, node.fields, node.pointer
        given = [k for k in ("Seconds", "SecondsPath", "Timestamp", "TimestampPath") if k in raw]
        if len(given) != 1:
            self.fail(
                pointer,
                f"States.{name} needs exactly one of "
                "Seconds, SecondsPath, Timestamp, TimestampPath",
            )
        key = given[0]
        at = pointer_join(pointer, key)
        flow = self.data_flow(node, parts)
        found: Dynamic
        if node.jsonata and jsonata_eval.is_expression(raw[key]):
            found = Evaluated(self.jsonata_value(raw[key], at, key))
        elif key == "Seconds":
            found = Fixed(self.integer(raw, "Seconds", pointer, minimum=0))
        elif key == "Timestamp":
            stamp = parse_timestamp(raw[key])
            if stamp is None:
                self.fail(
                    at,
                    f"States.{name}.Timestamp is not an ISO-8601 timestamp "
                    "such as 2024-01-01T00:00:00Z",
                )
            found = Fixed(stamp)
        else:
            found = AtPath(self.present_path(raw, key, pointer))
        wait = WaitFor(seconds=found) if key.startswith("Seconds") else WaitFor(timestamp=found)
        return WaitState(**base, flow=flow, wait=wait)

    def _fail(
        self, node: StateNode, base: dict[str, Any], parts: dict[str, Any], names: list[str]
    ) -> State:
        name, raw, pointer = node.name, node.fields, node.pointer
        found: dict[str, Fixed | Evaluated] = {}
        if node.jsonata:
            for key in ("Error", "Cause"):
                if key in raw:
                    value = self.jsonata_value(raw[key], pointer_join(pointer, key), key)
                    # An empty value gives no Error/Cause at all.
                    found[key] = Evaluated(value) if value else Fixed(None)
        else:
            for plain, dynamic in (("Error", "ErrorPath"), ("Cause", "CausePath")):
                if plain in raw and dynamic in raw:
                    self.fail(pointer, f"States.{name} has both {plain} and {dynamic}; keep one")
                found[plain] = Fixed(self.string(raw, plain, pointer))
                if dynamic in raw:
                    found[plain] = Evaluated(
                        compile_expression(
                            raw[dynamic],
                            dynamic,
                            pointer_join(pointer, dynamic),
                            self._payload_error,
                        )
                    )
        return FailState(
            **base,
            flow=self.data_flow(node, parts),
            error=found.get("Error", Fixed(None)),
            cause=found.get("Cause", Fixed(None)),
        )

    # ---- Parallel and Map ---------------------------------------------------------------------

    def _parallel(
        self, node: StateNode, base: dict[str, Any], parts: dict[str, Any], names: list[str]
    ) -> State:
        name, raw, pointer = node.name, node.fields, node.pointer
        self.non_empty_list(node, "Branches", "branches")
        compiled = []
        for scope in node.branches:
            if not isinstance(scope.value, dict):
                self.fail(
                    scope.pointer,
                    f"{_dotted(scope.pointer)} must be an object with StartAt and States",
                )
            compiled.append(self.processor(scope))
        if not node.jsonata:
            parts["parameters"] = self.template(raw, "Parameters", pointer)
            parts["result_selector"] = self.template(raw, "ResultSelector", pointer)
            parts["result_path"] = self.reference_path(raw, "ResultPath", pointer)
        return ParallelState(
            **base,
            flow=self.data_flow(node, parts),
            branches=tuple(compiled),
            retry=self.retriers(name, raw, pointer),
            catch=self.catchers(name, raw, pointer, names, node.jsonata),
        )

    def _map(
        self, node: StateNode, base: dict[str, Any], parts: dict[str, Any], names: list[str]
    ) -> State:
        name, raw, pointer = node.name, node.fields, node.pointer
        jsonata = node.jsonata
        if "ItemProcessor" in raw and "Iterator" in raw:
            self.fail(pointer, f"States.{name} has both ItemProcessor and Iterator; keep one")
        scope = node.processor
        if scope is None:
            self.fail(pointer, f"States.{name} is missing 'ItemProcessor'")
        at = scope.pointer
        raw_processor = scope.value
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
        found: dict[str, Any] = {
            "processor": self.processor(scope),
            "distributed": mode == "DISTRIBUTED",
            "label": self.string(raw, "Label", pointer),
        }
        if "ItemBatcher" in raw:
            found["item_batcher"] = self.item_batcher(
                name, raw["ItemBatcher"], pointer_join(pointer, "ItemBatcher"), jsonata, mode
            )
        if jsonata:
            if "Items" in raw:
                found["items"] = Evaluated(
                    self.jsonata_value(raw["Items"], pointer_join(pointer, "Items"), "Items")
                )
            if "ItemSelector" in raw:
                found["item_selector"] = self.jsonata_value(
                    raw["ItemSelector"], pointer_join(pointer, "ItemSelector"), "ItemSelector"
                )
        else:
            items_path = self.path(raw, "ItemsPath", pointer, nullable=False)
            assert items_path is not None
            found["items"] = AtPath(items_path)
            selector_key = "ItemSelector" if "ItemSelector" in raw else "Parameters"
            found["item_selector"] = self.template(raw, selector_key, pointer)
            parts["result_selector"] = self.template(raw, "ResultSelector", pointer)
            parts["result_path"] = self.reference_path(raw, "ResultPath", pointer)
        for plain, attribute in (
            ("MaxConcurrency", "max_concurrency"),
            ("ToleratedFailureCount", "tolerated_failure_count"),
            ("ToleratedFailurePercentage", "tolerated_failure_percentage"),
        ):
            dynamic = plain + "Path"
            if plain in raw and dynamic in raw:
                self.fail(pointer, f"States.{name} has both {plain} and {dynamic}; keep one")
            if plain in raw:
                found[attribute] = self.map_number(raw, plain, pointer, jsonata)
            elif dynamic in raw:
                found[attribute] = AtPath(self.present_path(raw, dynamic, pointer))
        return MapState(
            **base,
            flow=self.data_flow(node, parts),
            **found,
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
        language = JSONATA if jsonata else JSONPATH
        allowed = sorted(fields.object_fields("ItemBatcher", language), key=_BATCHER_ORDER.index)
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
        found: dict[str, Any] = {}
        for key, attribute, most in (
            ("MaxItemsPerBatch", "max_items_per_batch", None),
            ("MaxInputBytesPerBatch", "max_input_bytes_per_batch", MAX_PAYLOAD_BYTES),
        ):
            at = pointer_join(pointer, key)
            if key in raw and key + "Path" in raw:
                self.fail(pointer, f"{_dotted(pointer)} has both {key} and {key}Path; keep one")
            if key + "Path" in raw:
                path = self.present_path(raw, key + "Path", pointer)
                if not path.is_reference:
                    self.fail(
                        pointer_join(pointer, key + "Path"),
                        f"{_dotted(pointer)}.{key}Path must be a reference path ($.field), "
                        f"not '{path.text}'",
                    )
                found[attribute] = AtPath(path)
            elif key in raw and jsonata and jsonata_eval.is_expression(raw[key]):
                found[attribute] = Evaluated(self.jsonata_value(raw[key], at, key))
            elif key in raw:
                number = self.integer(raw, key, pointer, minimum=1)
                if most is not None and number is not None and number > most:
                    self.fail(at, f"{_dotted(at)} must be at most {most} (256 KiB)")
                found[attribute] = Fixed(number)
        if "BatchInput" in raw:
            at = pointer_join(pointer, "BatchInput")
            if jsonata:
                found["batch_input"] = self.jsonata_value(raw["BatchInput"], at, "BatchInput")
            else:
                found["batch_input"] = compile_template(raw["BatchInput"], at, self._payload_error)
        return ItemBatcher(**found)

    def map_number(self, raw: dict[str, Any], key: str, pointer: str, jsonata: bool) -> Dynamic:
        value = raw[key]
        at = pointer_join(pointer, key)
        if jsonata and jsonata_eval.is_expression(value):
            return Evaluated(self.jsonata_value(value, at, key))
        if key == "ToleratedFailurePercentage":
            if (
                not isinstance(value, int | float)
                or isinstance(value, bool)
                or not 0 <= value <= 100
            ):
                self.fail(at, f"{_dotted(at)} must be a number between 0 and 100")
            return Fixed(value)
        return Fixed(self.integer(raw, key, pointer, minimum=0))


# The order the engine lists fields in its hints.
_TOP_ORDER = ("StartAt", "States", "Comment", "Version", "QueryLanguage", "TimeoutSeconds")
_TYPE_ORDER = ("Pass", "Task", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")
_BATCHER_ORDER = (
    "MaxItemsPerBatch",
    "MaxInputBytesPerBatch",
    "BatchInput",
    "MaxItemsPerBatchPath",
    "MaxInputBytesPerBatchPath",
)


def _can_block(state: State) -> bool:
    """Whether running the state may wait on something: a Task, a Wait, a Retry interval."""
    if state.can_block or (isinstance(state, RetryingState) and state.retry):
        return True
    if isinstance(state, ParallelState):
        return any(branch.can_block for branch in state.branches)
    if isinstance(state, MapState):
        return state.processor.can_block
    return False


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
