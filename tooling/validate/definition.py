"""Structure of a definition: top level, scopes (branches, Map processors), each state's fields.

`validate_definition` runs every rule and returns the diagnostics, sorted by position.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tooling.sourcemap import SourceMap, pointer_join
from tooling.validate import graph
from tooling.validate.choice import check_choices
from tooling.validate.diagnostics import Collector, Diagnostic, did_you_mean, sort_key
from tooling.validate.fields import (
    ALLOWED,
    BRANCH,
    ITEM_BATCHER,
    ITEM_PROCESSOR,
    ITEM_READER,
    JSONATA,
    JSONPATH,
    MAX_SECONDS,
    MAX_STATE_NAME,
    PROCESSOR_CONFIG,
    QUERY_LANGUAGES,
    RESULT_WRITER,
    STATE_TYPES,
    TOP_LEVEL,
)
from tooling.validate.jsonata import is_expression
from tooling.validate.payload import (
    check_assign,
    check_jsonata_or,
    check_jsonata_string,
    check_jsonata_template,
    check_path,
    check_payload_template,
    check_reference_path,
    warn_result_dollar_keys,
)
from tooling.validate.retry import check_catch, check_retry
from tooling.validate.timestamps import is_timestamp

_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(?:\d{12})?:.+$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9_$-]+)?$"
)
_STATES_ARN = re.compile(r"^arn:aws[a-z-]*:states:(?::|[a-z0-9-]+:\d{12}:)[A-Za-z0-9_.:-]+$")
_PLACEHOLDER = re.compile(r"\$\{[^}]+\}")  # ${...} substituted before deploy (Serverless, SAM)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def validate_definition(
    definition: Any,
    source: SourceMap | None = None,
    *,
    query_language: str = JSONPATH,
    file: str | None = None,
) -> list[Diagnostic]:
    """Every rule of the States Language and of AWS's definition checks, plus trap warnings.

    `query_language` is the default when the definition sets no top-level QueryLanguage."""
    out = Collector(source, file)
    _Checker(out, query_language).machine(definition)
    return sorted(out.items, key=sort_key)


def iter_states(definition: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any], str]]:
    """(name, state, pointer) for every state, nested ones included, in document order."""
    if not isinstance(definition, dict) or not isinstance(definition.get("States"), dict):
        return
    states_at = pointer_join(pointer, "States")
    for name, state in definition["States"].items():
        if not isinstance(state, dict):
            continue
        at = pointer_join(states_at, name)
        yield name, state, at
        for scope, scope_at in _sub_scopes(state, at):
            yield from iter_states(scope, scope_at)


def _sub_scopes(state: dict[str, Any], pointer: str) -> Iterator[tuple[Any, str]]:
    """The scopes inside a Parallel (its branches) or a Map (its processor), with pointers."""
    branches = state.get("Branches")
    if state.get("Type") == "Parallel" and isinstance(branches, list):
        for index, branch in enumerate(branches):
            yield branch, pointer_join(pointer_join(pointer, "Branches"), index)
    if state.get("Type") == "Map":
        for key in ("ItemProcessor", "Iterator"):
            if key in state:
                yield state[key], pointer_join(pointer, key)


class _Checker:
    def __init__(self, out: Collector, default_language: str) -> None:
        self.out = out
        self.default_language = default_language
        self.machine_language = default_language
        self.seen_names: dict[str, str] = {}

    # ---- scopes ---------------------------------------------------------------------------

    def machine(self, definition: Any) -> None:
        if not isinstance(definition, dict):
            self.out.error("", "DEFINITION_NOT_OBJECT", "a definition must be a JSON object")
            return
        language = definition.get("QueryLanguage", self.default_language)
        if "QueryLanguage" in definition and language not in QUERY_LANGUAGES:
            self._bad_language(language, "/QueryLanguage")
            language = self.default_language
        self.machine_language = language
        if "Version" in definition and definition["Version"] != "1.0":
            self.out.error(
                "/Version",
                "FIELD_VALUE",
                f'Version must be "1.0" (the only States Language version), not '
                f"{definition['Version']!r}",
            )
        if "TimeoutSeconds" in definition:
            value = definition["TimeoutSeconds"]
            if not _is_int(value) or not 0 <= value <= MAX_SECONDS:
                self.out.error(
                    "/TimeoutSeconds",
                    "FIELD_VALUE",
                    f"TimeoutSeconds must be a whole number from 0 to {MAX_SECONDS}",
                )
        if "Comment" in definition and not isinstance(definition["Comment"], str):
            self.out.error("/Comment", "FIELD_TYPE", "Comment must be a string")
        self.scope(definition, "", TOP_LEVEL, "", language)

    def scope(
        self, scope: Any, pointer: str, allowed: frozenset[str], label: str, language: str
    ) -> None:
        where = label or "the definition"
        if not isinstance(scope, dict):
            self.out.error(pointer, "FIELD_TYPE", f"{where} must be an object with StartAt/States")
            return
        for key in scope:
            if key not in allowed:
                self.out.error(
                    pointer_join(pointer, key),
                    "FIELD_UNKNOWN",
                    f'"{key}" is not allowed in {where}{did_you_mean(key, allowed)}',
                )
        start = scope.get("StartAt")
        states = scope.get("States")
        if "StartAt" not in scope:
            self.out.error(pointer, "FIELD_MISSING", f'{where} needs "StartAt" (the first state)')
        elif not isinstance(start, str):
            self.out.error(
                pointer_join(pointer, "StartAt"), "FIELD_TYPE", "StartAt must be a string"
            )
        if "States" not in scope:
            self.out.error(pointer, "FIELD_MISSING", f'{where} needs "States"')
            return
        if not isinstance(states, dict):
            self.out.error(
                pointer_join(pointer, "States"), "FIELD_TYPE", "States must be an object"
            )
            return
        if not states:
            self.out.error(pointer_join(pointer, "States"), "STATES_EMPTY", "States is empty")
            return
        if isinstance(start, str) and start not in states:
            self.out.error(
                pointer_join(pointer, "StartAt"),
                "START_AT_MISSING",
                f'StartAt names "{start}", which is not a state{" of " + label if label else ""}'
                f"{did_you_mean(start, states)}",
            )
        states_at = pointer_join(pointer, "States")
        before = len(self.out.items)
        for name, state in states.items():
            self.state(name, state, pointer_join(states_at, name), language)
        flow_broken = any(
            d.code in _FLOW_CODES and _in_scope(d.pointer, states_at)
            for d in self.out.items[before:]
        )
        graph.check_scope_graph(self.out, start, states, pointer, label, flow_broken)

    # ---- states ---------------------------------------------------------------------------

    def state(self, name: str, state: Any, pointer: str, inherited: str) -> None:
        self._name(name, pointer)
        if not isinstance(state, dict):
            self.out.error(pointer, "FIELD_TYPE", f'state "{name}" must be an object')
            return
        state_type = state.get("Type")
        if "Type" not in state:
            self.out.error(pointer, "FIELD_MISSING", f'state "{name}" needs "Type"')
            return
        if state_type not in STATE_TYPES:
            shown = state_type if isinstance(state_type, str) else repr(state_type)
            self.out.error(
                pointer_join(pointer, "Type"),
                "STATE_TYPE_INVALID",
                f'"{shown}" is not a state type (Task, Pass, Choice, Wait, Succeed, Fail, '
                f"Parallel, Map){did_you_mean(str(shown), STATE_TYPES)}",
            )
            return
        language = self._language(state, pointer, inherited)
        jsonata = language == JSONATA
        allowed = ALLOWED[language][state_type]
        other = ALLOWED[JSONPATH if jsonata else JSONATA][state_type]
        for key in state:
            if key in allowed:
                continue
            at = pointer_join(pointer, key)
            if key in other:
                hint = (
                    f'use "{_JSONATA_EQUIVALENT.get(key, "Output")}" with a {{% %}} expression'
                    if jsonata
                    else 'set "QueryLanguage": "JSONata" on the state to use it'
                )
                self.out.error(
                    at,
                    "FIELD_QUERY_LANGUAGE",
                    f'"{key}" is not allowed in a {language} {state_type} state; {hint}',
                )
            else:
                self.out.error(
                    at,
                    "FIELD_UNKNOWN",
                    f'"{key}" is not allowed in a {state_type} state{did_you_mean(key, allowed)}',
                )
        if "Comment" in state and not isinstance(state["Comment"], str):
            self.out.error(
                pointer_join(pointer, "Comment"), "FIELD_TYPE", "Comment must be a string"
            )
        self._flow(state, state_type, pointer)
        if jsonata:
            self._jsonata_io(state, pointer)
        else:
            self._jsonpath_io(state, state_type, pointer)
        if "Assign" in state:
            check_assign(self.out, state["Assign"], pointer_join(pointer, "Assign"), jsonata)
        if "Retry" in state and state_type in ("Task", "Parallel", "Map"):
            check_retry(self.out, state, pointer, state_type, state)
        if "Catch" in state and state_type in ("Task", "Parallel", "Map"):
            check_catch(self.out, state, pointer, language)
        getattr(self, f"_{state_type.lower()}")(state, pointer, language)

    def _name(self, name: str, pointer: str) -> None:
        if not name or len(name) > MAX_STATE_NAME or _CONTROL.search(name):
            why = (
                "is empty"
                if not name
                else (
                    f"is longer than {MAX_STATE_NAME} characters"
                    if len(name) > MAX_STATE_NAME
                    else "contains control characters"
                )
            )
            self.out.error(pointer, "STATE_NAME_INVALID", f'state name "{name[:40]}" {why}')
        if name in self.seen_names:
            self.out.error(
                pointer,
                "STATE_NAME_DUPLICATE",
                f'state name "{name}" is already used at {self.seen_names[name]}; state names '
                "must be unique in the whole state machine, branches included",
            )
        else:
            position = self.out.source.locate(pointer) if self.out.source else None
            self.seen_names[name] = f"line {position.line}" if position else pointer

    def _language(self, state: dict[str, Any], pointer: str, inherited: str) -> str:
        if "QueryLanguage" not in state:
            return inherited
        language = state["QueryLanguage"]
        at = pointer_join(pointer, "QueryLanguage")
        if language not in QUERY_LANGUAGES:
            self._bad_language(language, at)
            return inherited
        if self.machine_language == JSONATA and language == JSONPATH:
            self.out.error(
                at,
                "QUERY_LANGUAGE_MIXED",
                "a state machine whose QueryLanguage is JSONata cannot have JSONPath states; "
                'set the top-level "QueryLanguage" to JSONPath to mix them',
            )
        return language

    def _bad_language(self, value: Any, pointer: str) -> None:
        self.out.error(
            pointer,
            "QUERY_LANGUAGE_INVALID",
            f'QueryLanguage must be "JSONPath" or "JSONata", not {value!r}'
            f"{did_you_mean(str(value), QUERY_LANGUAGES)}",
        )

    def _flow(self, state: dict[str, Any], state_type: str, pointer: str) -> None:
        if state_type in ("Choice", "Succeed", "Fail"):
            return
        has_next, has_end = "Next" in state, "End" in state
        if has_next and not isinstance(state["Next"], str):
            self.out.error(pointer_join(pointer, "Next"), "FIELD_TYPE", "Next must be a state name")
        if has_end and state["End"] is not True:
            self.out.error(
                pointer_join(pointer, "End"),
                "STATE_END_INVALID",
                f"End must be true (got {state['End']!r}); to continue, use Next instead",
            )
        if has_next and has_end:
            self.out.error(
                pointer_join(pointer, "End"),
                "STATE_NEXT_AND_END",
                'a state cannot have both "Next" and "End"; keep one',
            )
        elif not has_next and not has_end:
            self.out.error(
                pointer,
                "STATE_END_MISSING",
                f'a {state_type} state needs "Next" (the state after it) or "End": true',
            )

    def _jsonpath_io(self, state: dict[str, Any], state_type: str, pointer: str) -> None:
        for key in ("InputPath", "OutputPath"):
            if key in state:
                check_path(self.out, state[key], pointer_join(pointer, key), key, nullable=True)
        if "ResultPath" in state:
            check_reference_path(
                self.out,
                state["ResultPath"],
                pointer_join(pointer, "ResultPath"),
                "ResultPath",
                nullable=True,
                writes=True,
            )
        for key in ("Parameters", "ResultSelector", "ItemSelector", "Credentials"):
            if key not in state:
                continue
            value, at = state[key], pointer_join(pointer, key)
            if not isinstance(value, dict) and not (key == "Parameters" and state_type == "Pass"):
                self.out.error(at, "FIELD_TYPE", f"{key} must be an object (a payload template)")
                continue
            check_payload_template(self.out, value, at, key)

    def _jsonata_io(self, state: dict[str, Any], pointer: str) -> None:
        for key in ("Arguments", "Output", "ItemSelector", "Credentials"):
            if key in state:
                check_jsonata_template(self.out, state[key], pointer_join(pointer, key))
        if "Arguments" in state and not (
            isinstance(state["Arguments"], dict) or is_expression(state["Arguments"])
        ):
            self.out.error(
                pointer_join(pointer, "Arguments"),
                "FIELD_TYPE",
                'Arguments must be an object or a JSONata expression "{% ... %}"',
            )

    # ---- per state type -------------------------------------------------------------------

    def _pass(self, state: dict[str, Any], pointer: str, language: str) -> None:
        if "Result" in state:
            warn_result_dollar_keys(self.out, state["Result"], pointer_join(pointer, "Result"))

    def _succeed(self, state: dict[str, Any], pointer: str, language: str) -> None:
        pass

    def _task(self, state: dict[str, Any], pointer: str, language: str) -> None:
        if "Resource" not in state:
            self.out.error(pointer, "FIELD_MISSING", 'a Task state needs "Resource" (an ARN)')
        else:
            self._resource(state["Resource"], pointer_join(pointer, "Resource"))
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            self._number_or_path(state, pointer, key, MAX_SECONDS, language == JSONATA)
        timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
        if _is_int(timeout) and _is_int(heartbeat) and heartbeat >= timeout:
            self.out.error(
                pointer_join(pointer, "HeartbeatSeconds"),
                "TIMEOUT_HEARTBEAT",
                f"HeartbeatSeconds ({heartbeat}) must be smaller than TimeoutSeconds ({timeout})",
            )
        resource = state.get("Resource")
        if isinstance(resource, str) and resource.endswith(".waitForTaskToken"):
            template = state.get("Arguments" if language == "JSONata" else "Parameters")
            if not _passes_token(template):
                # Whether AWS refuses such a definition is not confirmed; the run would wait
                # for a token nobody was given.
                self.out.warning(
                    pointer_join(pointer, "Resource"),
                    "TASK_TOKEN_MISSING",
                    ".waitForTaskToken but the task token is never passed on "
                    '(add e.g. "token.$": "$$.Task.Token" to the Payload)',
                )

    def _resource(self, value: Any, pointer: str) -> None:
        if isinstance(value, dict) and len(value) == 1:
            key = next(iter(value))
            if key == "Ref" or key.startswith("Fn::"):
                return  # a CloudFormation intrinsic, resolved at deploy time
        if not isinstance(value, str):
            self.out.error(pointer, "FIELD_TYPE", "Resource must be an ARN string")
            return
        if _PLACEHOLDER.search(value):
            return
        if not _ARN.match(value):
            self.out.error(
                pointer,
                "RESOURCE_INVALID",
                f'Resource "{value}" is not an ARN; use a Lambda function ARN or an integration '
                'such as "arn:aws:states:::lambda:invoke"',
            )
        elif value.split(":")[2] == "lambda" and not _LAMBDA_ARN.match(value):
            self.out.error(
                pointer,
                "RESOURCE_INVALID",
                f'Resource "{value}" is not a Lambda function ARN '
                "(arn:aws:lambda:<region>:<account>:function:<name>)",
            )
        elif value.split(":")[2] == "states" and not _STATES_ARN.match(value):
            self.out.error(
                pointer,
                "RESOURCE_INVALID",
                f'Resource "{value}" is not a Step Functions integration ARN '
                '(e.g. "arn:aws:states:::lambda:invoke")',
            )

    def _number_or_path(
        self, obj: dict[str, Any], at: str, key: str, high: int | None, jsonata: bool
    ) -> None:
        """KEY, a whole number from 1 (to `high`), or in JSONPath KEY + "Path", a reference
        path; not both."""
        path_key = key + "Path"
        if key in obj and path_key in obj:
            self.out.error(
                pointer_join(at, path_key),
                "FIELDS_EXCLUSIVE",
                f"{key} and {path_key} cannot both be set; keep one",
            )
        if key in obj:
            value = obj[key]
            valid = _is_int(value) and value >= 1 and (high is None or value <= high)
            kind = f"a whole number from 1 to {high}" if high else "a whole number >= 1"
            self._number(value, pointer_join(at, key), key, kind, valid, jsonata)
        if path_key in obj and not jsonata:
            check_reference_path(self.out, obj[path_key], pointer_join(at, path_key), path_key)

    def _choice(self, state: dict[str, Any], pointer: str, language: str) -> None:
        check_choices(self.out, state, pointer, language == JSONATA)
        if "Default" in state and not isinstance(state["Default"], str):
            self.out.error(
                pointer_join(pointer, "Default"), "FIELD_TYPE", "Default must be a state name"
            )

    def _wait(self, state: dict[str, Any], pointer: str, language: str) -> None:
        options = (
            ("Seconds", "Timestamp")
            if language == JSONATA
            else ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")
        )
        present = [k for k in options if k in state]
        if len(present) != 1:
            what = "none" if not present else ", ".join(present)
            self.out.error(
                pointer if not present else pointer_join(pointer, present[1]),
                "WAIT_FIELDS",
                f"a Wait state needs exactly one of {', '.join(options)} (it has {what})",
            )
        if "Seconds" in state:
            value, at = state["Seconds"], pointer_join(pointer, "Seconds")
            valid = _is_int(value) and 0 <= value <= MAX_SECONDS
            kind = f"a whole number from 0 to {MAX_SECONDS}"
            self._number(value, at, "Seconds", kind, valid, language == JSONATA)
        if "Timestamp" in state:
            value, at = state["Timestamp"], pointer_join(pointer, "Timestamp")
            if language == JSONATA and isinstance(value, str) and value.startswith("{%"):
                check_jsonata_string(self.out, value, at)
            elif not is_timestamp(value):
                self.out.error(
                    at,
                    "TIMESTAMP_INVALID",
                    f"Timestamp {value!r} is not an RFC 3339 timestamp such as "
                    '"2026-01-31T12:00:00Z" (uppercase T and Z)',
                )
        if language == JSONPATH:
            for key in ("SecondsPath", "TimestampPath"):
                if key in state:
                    check_reference_path(self.out, state[key], pointer_join(pointer, key), key)

    def _fail(self, state: dict[str, Any], pointer: str, language: str) -> None:
        for key in ("Error", "Cause"):
            path_key = key + "Path"
            if key in state and path_key in state:
                self.out.error(
                    pointer_join(pointer, path_key),
                    "FIELDS_EXCLUSIVE",
                    f"{key} and {path_key} cannot both be set; keep one",
                )
            if key in state:
                value, at = state[key], pointer_join(pointer, key)
                if not isinstance(value, str):
                    self.out.error(at, "FIELD_TYPE", f"{key} must be a string")
                elif language == JSONATA:
                    check_jsonata_string(self.out, value, at)
            if path_key in state and language == JSONPATH:
                check_reference_path(
                    self.out,
                    state[path_key],
                    pointer_join(pointer, path_key),
                    path_key,
                    intrinsic=True,
                )

    def _parallel(self, state: dict[str, Any], pointer: str, language: str) -> None:
        branches = state.get("Branches")
        at = pointer_join(pointer, "Branches")
        if "Branches" not in state:
            self.out.error(pointer, "FIELD_MISSING", 'a Parallel state needs "Branches"')
            return
        if not isinstance(branches, list) or not branches:
            self.out.error(at, "FIELD_VALUE", "Branches must be a non-empty list of branches")
            return
        for index, branch in enumerate(branches):
            self.scope(
                branch,
                pointer_join(at, index),
                BRANCH,
                f"branch {index + 1}",
                self.machine_language,
            )

    def _map(self, state: dict[str, Any], pointer: str, language: str) -> None:
        if "ItemProcessor" in state and "Iterator" in state:
            self.out.error(
                pointer_join(pointer, "Iterator"),
                "FIELDS_EXCLUSIVE",
                "ItemProcessor and Iterator (its old name) cannot both be set; keep ItemProcessor",
            )
        processor_key = "ItemProcessor" if "ItemProcessor" in state else "Iterator"
        if processor_key not in state:
            self.out.error(pointer, "FIELD_MISSING", 'a Map state needs "ItemProcessor"')
        else:
            at = pointer_join(pointer, processor_key)
            processor = state[processor_key]
            self.scope(processor, at, ITEM_PROCESSOR, processor_key, self.machine_language)
            if isinstance(processor, dict) and "ProcessorConfig" in processor:
                self._processor_config(processor["ProcessorConfig"], at)
        for a, b in (("Parameters", "ItemSelector"), ("MaxConcurrency", "MaxConcurrencyPath")):
            if a in state and b in state:
                self.out.error(
                    pointer_join(pointer, b), "FIELDS_EXCLUSIVE", f"{a} and {b} cannot both be set"
                )
        for key in ("ToleratedFailurePercentage", "ToleratedFailureCount"):
            if key in state and key + "Path" in state:
                self.out.error(
                    pointer_join(pointer, key + "Path"),
                    "FIELDS_EXCLUSIVE",
                    f"{key} and {key}Path cannot both be set",
                )
        jsonata = language == JSONATA
        self._map_number(state, pointer, "MaxConcurrency", 0, None, jsonata)
        self._map_number(state, pointer, "ToleratedFailureCount", 0, None, jsonata)
        self._map_number(state, pointer, "ToleratedFailurePercentage", 0, 100, jsonata, whole=False)
        if not jsonata:
            if "ItemsPath" in state:
                check_reference_path(
                    self.out, state["ItemsPath"], pointer_join(pointer, "ItemsPath"), "ItemsPath"
                )
            for key in (
                "MaxConcurrencyPath",
                "ToleratedFailureCountPath",
                "ToleratedFailurePercentagePath",
            ):
                if key in state:
                    check_reference_path(self.out, state[key], pointer_join(pointer, key), key)
        elif "Items" in state:
            items = state["Items"]
            check_jsonata_or(
                self.out,
                items,
                pointer_join(pointer, "Items"),
                "Items",
                "an array",
                isinstance(items, list),
            )
        if "Label" in state:
            label = state["Label"]
            if not isinstance(label, str) or not 1 <= len(label) <= 40:
                self.out.error(
                    pointer_join(pointer, "Label"),
                    "FIELD_VALUE",
                    "Label must be a string of 1 to 40 characters",
                )
        for key, allowed in (("ItemReader", ITEM_READER), ("ResultWriter", RESULT_WRITER)):
            if key in state:
                self._known_fields(state[key], pointer_join(pointer, key), key, allowed)
        if "ItemBatcher" in state:
            self._item_batcher(state, pointer, jsonata)

    def _item_batcher(self, state: dict[str, Any], pointer: str, jsonata: bool) -> None:
        """ItemBatcher (AWS "ItemBatcher (Map)" guide): Distributed mode only; at least one
        limit; each limit a positive integer (bytes at most 256 KiB) or, in JSONPath states,
        a ...Path reference path, not both."""
        at = pointer_join(pointer, "ItemBatcher")
        batcher = state["ItemBatcher"]
        if not self._known_fields(batcher, at, "ItemBatcher", ITEM_BATCHER):
            return
        processor = state.get("ItemProcessor", state.get("Iterator"))
        config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
        if not isinstance(config, dict) or config.get("Mode", "INLINE") != "DISTRIBUTED":
            self.out.error(
                at,
                "FIELD_UNKNOWN",
                '"ItemBatcher" is only allowed in a Distributed Map; set "ProcessorConfig": '
                '{"Mode": "DISTRIBUTED"} in the ItemProcessor',
            )
        limits = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")
        if not any(key in batcher or key + "Path" in batcher for key in limits):
            self.out.error(
                at,
                "FIELD_MISSING",
                "ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch"
                + ("" if jsonata else " (or their ...Path)"),
            )
        for key, high in (("MaxItemsPerBatch", None), ("MaxInputBytesPerBatch", 262144)):
            self._number_or_path(batcher, at, key, high, jsonata)
            path_key = key + "Path"
            if path_key in batcher and jsonata:
                self.out.error(
                    pointer_join(at, path_key),
                    "FIELD_QUERY_LANGUAGE",
                    f'"{path_key}" is not allowed in a JSONata ItemBatcher; use "{key}" '
                    "with a {% %} expression",
                )
        if "BatchInput" in batcher:
            value, value_at = batcher["BatchInput"], pointer_join(at, "BatchInput")
            if jsonata:
                check_jsonata_template(self.out, value, value_at)
            elif isinstance(value, dict):
                check_payload_template(self.out, value, value_at, "BatchInput")

    def _map_number(
        self,
        state: dict[str, Any],
        pointer: str,
        key: str,
        low: int,
        high: int | None,
        jsonata: bool,
        whole: bool = True,
    ) -> None:
        if key not in state:
            return
        value, at = state[key], pointer_join(pointer, key)
        number_ok = _is_int(value) if whole else _is_number(value)
        valid = number_ok and value >= low and (high is None or value <= high)
        bounds = f"from {low} to {high}" if high is not None else f">= {low}"
        kind = f"a {'whole ' if whole else ''}number {bounds}"
        self._number(value, at, key, kind, valid, jsonata)

    def _number(self, value: Any, at: str, key: str, kind: str, valid: bool, jsonata: bool) -> None:
        """A numeric field: a number in range, or (JSONata states) a `{% %}` expression."""
        if jsonata and isinstance(value, str) and (value.startswith("{%") or value.endswith("%}")):
            check_jsonata_string(self.out, value, at)
        elif valid:
            return
        elif _is_number(value):
            self.out.error(at, "FIELD_VALUE", f"{key} must be {kind}, not {value}")
        else:
            more = " or a JSONata expression" if jsonata else ""
            self.out.error(at, "FIELD_TYPE", f"{key} must be {kind}{more}, not {value!r}")

    def _known_fields(self, value: Any, at: str, what: str, allowed: frozenset[str]) -> bool:
        """An object whose fields must be among `allowed`; False when it is not an object."""
        if not isinstance(value, dict):
            self.out.error(at, "FIELD_TYPE", f"{what} must be an object")
            return False
        for key in value:
            if key not in allowed:
                self.out.error(
                    pointer_join(at, key),
                    "FIELD_UNKNOWN",
                    f'"{key}" is not allowed in {what}{did_you_mean(key, allowed)}',
                )
        return True

    def _processor_config(self, config: Any, pointer: str) -> None:
        at = pointer_join(pointer, "ProcessorConfig")
        if not self._known_fields(config, at, "ProcessorConfig", PROCESSOR_CONFIG):
            return
        mode = config.get("Mode", "INLINE")
        if mode not in ("INLINE", "DISTRIBUTED"):
            self.out.error(
                pointer_join(at, "Mode"),
                "FIELD_VALUE",
                f'ProcessorConfig.Mode must be "INLINE" or "DISTRIBUTED", not {mode!r}',
            )
        if "ExecutionType" in config and config["ExecutionType"] not in ("STANDARD", "EXPRESS"):
            self.out.error(
                pointer_join(at, "ExecutionType"),
                "FIELD_VALUE",
                'ProcessorConfig.ExecutionType must be "STANDARD" or "EXPRESS"',
            )


# Where a JSONPath-only field's job is done in a JSONata state.
_JSONATA_EQUIVALENT = {
    "InputPath": "Arguments",
    "Parameters": "Arguments",
    "Result": "Output",
    "ItemsPath": "Items",
    "SecondsPath": "Seconds",
    "TimestampPath": "Timestamp",
    "TimeoutSecondsPath": "TimeoutSeconds",
    "HeartbeatSecondsPath": "HeartbeatSeconds",
    "ErrorPath": "Error",
    "CausePath": "Cause",
    "MaxConcurrencyPath": "MaxConcurrency",
    "ToleratedFailureCountPath": "ToleratedFailureCount",
    "ToleratedFailurePercentagePath": "ToleratedFailurePercentage",
}

# Errors that leave a scope's transitions unknown: reachability and loop checks would only
# repeat them, so they are skipped for that scope.
_FLOW_CODES = frozenset(
    {"STATE_END_MISSING", "CHOICE_RULE_NEXT", "CHOICES_EMPTY", "FIELD_MISSING", "FIELD_TYPE"}
    | {"STATE_TYPE_INVALID"}
)
_NESTED = re.compile(r"/(?:Branches/\d+|ItemProcessor|Iterator)/")


def _in_scope(pointer: str, states_at: str) -> bool:
    """Is `pointer` about a state of this scope (not of a branch nested in one)?"""
    return pointer.startswith(states_at + "/") and not _NESTED.search(pointer[len(states_at) :])


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _passes_token(template: Any) -> bool:
    """Whether a template reads the task token: itself, `$$.Task` or the whole context `$$`
    (the engine's rule: tooling.engine.parser.TOKEN_READ)."""
    from tooling.engine.parser import TOKEN_READ

    if isinstance(template, dict):
        return any(_passes_token(v) for v in template.values())
    if isinstance(template, list):
        return any(_passes_token(v) for v in template)
    return isinstance(template, str) and TOKEN_READ.search(template) is not None
