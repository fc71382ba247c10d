"""`tool validate` of a definition: its syntax tree (tooling.asl) walked by every rule.

`validate_definition` reads a loaded definition and `validate_tree` an already parsed one;
both return the diagnostics sorted by position. The rules are visitors (rules.py): the
structure of scopes and states and the fields the table allows (here), each allowed field's
value by its kind (values.py), transitions and loops (graph.py), Choice rules (choice.py),
Retry and Catch (retry.py), and each state type's own rules (here).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from tooling.asl import Definition, Scope, StateNode, fields, parse
from tooling.asl.fields import (
    JSONATA,
    JSONATA_INSTEAD,
    JSONPATH,
    MAX_BATCH_BYTES,
    MAX_SECONDS,
    MAX_STATE_NAME,
    QUERY_LANGUAGES,
    STATE_TYPES,
    TOKEN_READ,
    Number,
)
from tooling.sourcemap import SourceMap, pointer_join
from tooling.validate.choice import ChoiceRules
from tooling.validate.diagnostics import Collector, Diagnostic, did_you_mean, sort_key
from tooling.validate.graph import ScopeGraph
from tooling.validate.payload import (
    check_jsonata_template,
    check_payload_template,
    check_reference_path,
)
from tooling.validate.retry import RetryAndCatch
from tooling.validate.rules import Rule, walk
from tooling.validate.values import ValueRule, check_number, known_fields

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
    return validate_tree(parse(definition, source, query_language=query_language, file=file))


def validate_tree(tree: Definition, file: str | None = None) -> list[Diagnostic]:
    """validate_definition of a definition already parsed (parse once, check, then compile);
    `file` names it in diagnostics when it has no source map."""
    out = Collector(tree.source, file or tree.file)
    walk(tree, [rule(out, tree) for rule in RULES])
    return sorted(out.items, key=sort_key)


def iter_states(definition: Any, pointer: str = "") -> Iterator[tuple[str, dict[str, Any], str]]:
    """(name, state, pointer) for every state that is an object, nested ones included, in
    document order."""
    tree = definition if isinstance(definition, Definition) else parse(definition)
    for node in tree.states():
        if isinstance(node.value, dict):
            yield node.name, node.value, pointer + node.pointer


# ---- structure: the definition, its scopes and states, the fields each allows --------------------


class Structure(Rule):
    def __init__(self, out: Collector, tree: Definition) -> None:
        super().__init__(out, tree)
        self.seen_names: dict[str, str] = {}

    def definition(self, tree: Definition) -> None:
        out = self.out
        definition = tree.value
        if not isinstance(definition, dict):
            out.error("", "DEFINITION_NOT_OBJECT", "a definition must be a JSON object")
            return
        if "QueryLanguage" in definition and definition["QueryLanguage"] not in QUERY_LANGUAGES:
            self.bad_language(definition["QueryLanguage"], "/QueryLanguage")
        if "Version" in definition and definition["Version"] != "1.0":
            out.error(
                "/Version",
                "FIELD_VALUE",
                f'Version must be "1.0" (the only States Language version), not '
                f"{definition['Version']!r}",
            )
        if "TimeoutSeconds" in definition and not Number(0, MAX_SECONDS).accepts(
            definition["TimeoutSeconds"]
        ):
            out.error(
                "/TimeoutSeconds",
                "FIELD_VALUE",
                f"TimeoutSeconds must be a whole number from 0 to {MAX_SECONDS}",
            )
        if "Comment" in definition and not isinstance(definition["Comment"], str):
            out.error("/Comment", "FIELD_TYPE", "Comment must be a string")

    def scope(self, scope: Scope) -> None:
        out, pointer = self.out, scope.pointer
        label = scope.label
        where = label or "the definition"
        value = scope.value
        if not isinstance(value, dict):
            out.error(pointer, "FIELD_TYPE", f"{where} must be an object with StartAt/States")
            return
        allowed = fields.object_fields(scope.kind.value)
        for key in value:
            if key not in allowed:
                out.error(
                    pointer_join(pointer, key),
                    "FIELD_UNKNOWN",
                    f'"{key}" is not allowed in {where}{did_you_mean(key, allowed)}',
                )
        start = value.get("StartAt")
        states = value.get("States")
        if "StartAt" not in value:
            out.error(pointer, "FIELD_MISSING", f'{where} needs "StartAt" (the first state)')
        elif not isinstance(start, str):
            out.error(pointer_join(pointer, "StartAt"), "FIELD_TYPE", "StartAt must be a string")
        if "States" not in value:
            out.error(pointer, "FIELD_MISSING", f'{where} needs "States"')
            return
        if not isinstance(states, dict):
            out.error(pointer_join(pointer, "States"), "FIELD_TYPE", "States must be an object")
            return
        if not states:
            out.error(pointer_join(pointer, "States"), "STATES_EMPTY", "States is empty")
            return
        if isinstance(start, str) and start not in states:
            out.error(
                pointer_join(pointer, "StartAt"),
                "START_AT_MISSING",
                f'StartAt names "{start}", which is not a state{" of " + label if label else ""}'
                f"{did_you_mean(start, states)}",
            )

    def any_state(self, state: StateNode) -> None:
        out, name, pointer = self.out, state.name, state.pointer
        self.state_name(name, pointer)
        value = state.value
        if not isinstance(value, dict):
            out.error(pointer, "FIELD_TYPE", f'state "{name}" must be an object')
            return
        if "Type" not in value:
            out.error(pointer, "FIELD_MISSING", f'state "{name}" needs "Type"')
            return
        if state.type is None:
            state_type = value["Type"]
            shown = state_type if isinstance(state_type, str) else repr(state_type)
            out.error(
                pointer_join(pointer, "Type"),
                "STATE_TYPE_INVALID",
                f'"{shown}" is not a state type (Task, Pass, Choice, Wait, Succeed, Fail, '
                f"Parallel, Map){did_you_mean(str(shown), STATE_TYPES)}",
            )

    def state(self, state: StateNode) -> None:
        assert state.type is not None
        out = self.out
        self.state_language(state)
        language, kind = state.language, state.type
        allowed = fields.ALLOWED[language][kind]
        other = fields.ALLOWED[fields.other_language(language)][kind]
        for key in state.fields:
            if key in allowed:
                continue
            at = state.at(key)
            if key in other:
                hint = (
                    f'use "{JSONATA_INSTEAD.get(key, "Output")}" with a {{% %}} expression'
                    if state.jsonata
                    else 'set "QueryLanguage": "JSONata" on the state to use it'
                )
                out.error(
                    at,
                    "FIELD_QUERY_LANGUAGE",
                    f'"{key}" is not allowed in a {language} {kind} state; {hint}',
                )
            else:
                out.error(
                    at,
                    "FIELD_UNKNOWN",
                    f'"{key}" is not allowed in a {kind} state{did_you_mean(key, allowed)}',
                )

    def state_name(self, name: str, pointer: str) -> None:
        out = self.out
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
            out.error(pointer, "STATE_NAME_INVALID", f'state name "{name[:40]}" {why}')
        if name in self.seen_names:
            out.error(
                pointer,
                "STATE_NAME_DUPLICATE",
                f'state name "{name}" is already used at {self.seen_names[name]}; state names '
                "must be unique in the whole state machine, branches included",
            )
        else:
            position = self.tree.locate(pointer)
            self.seen_names[name] = f"line {position.line}" if position else pointer

    def state_language(self, state: StateNode) -> None:
        if not state.has("QueryLanguage"):
            return
        language = state.get("QueryLanguage")
        at = state.at("QueryLanguage")
        if language not in QUERY_LANGUAGES:
            self.bad_language(language, at)
        elif self.tree.language == JSONATA and language == JSONPATH:
            self.out.error(
                at,
                "QUERY_LANGUAGE_MIXED",
                "a state machine whose QueryLanguage is JSONata cannot have JSONPath states; "
                'set the top-level "QueryLanguage" to JSONPath to mix them',
            )

    def bad_language(self, value: Any, pointer: str) -> None:
        self.out.error(
            pointer,
            "QUERY_LANGUAGE_INVALID",
            f'QueryLanguage must be "JSONPath" or "JSONata", not {value!r}'
            f"{did_you_mean(str(value), QUERY_LANGUAGES)}",
        )


class Flow(Rule):
    """A state that flows on needs exactly one of Next and End."""

    def state(self, state: StateNode) -> None:
        if state.type in ("Choice", "Succeed", "Fail"):
            return
        has_next, has_end = state.has("Next"), state.has("End")
        if has_next and has_end:
            self.out.error(
                state.at("End"),
                "STATE_NEXT_AND_END",
                'a state cannot have both "Next" and "End"; keep one',
            )
        elif not has_next and not has_end:
            self.out.error(
                state.pointer,
                "STATE_END_MISSING",
                f'a {state.type} state needs "Next" (the state after it) or "End": true',
            )


# ---- each state type's own rules ----------------------------------------------------------------


class TaskRule(Rule):
    def state(self, state: StateNode) -> None:
        if state.type != "Task":
            return
        out = self.out
        if not state.has("Resource"):
            out.error(state.pointer, "FIELD_MISSING", 'a Task state needs "Resource" (an ARN)')
        for key in ("TimeoutSeconds", "HeartbeatSeconds"):
            exclusive(out, state, key, key + "Path", "; keep one")
        timeout, heartbeat = state.get("TimeoutSeconds"), state.get("HeartbeatSeconds")
        if _is_int(timeout) and _is_int(heartbeat) and heartbeat >= timeout:
            out.error(
                state.at("HeartbeatSeconds"),
                "TIMEOUT_HEARTBEAT",
                f"HeartbeatSeconds ({heartbeat}) must be smaller than TimeoutSeconds ({timeout})",
            )
        resource = state.get("Resource")
        if isinstance(resource, str) and resource.endswith(".waitForTaskToken"):
            template = state.get("Arguments" if state.jsonata else "Parameters")
            if not _passes_token(template):
                # Whether AWS refuses such a definition is not confirmed; the run would wait
                # for a token nobody was given.
                out.warning(
                    state.at("Resource"),
                    "TASK_TOKEN_MISSING",
                    ".waitForTaskToken but the task token is never passed on "
                    '(add e.g. "token.$": "$$.Task.Token" to the Payload)',
                )


class WaitRule(Rule):
    def state(self, state: StateNode) -> None:
        if state.type != "Wait":
            return
        options = (
            ("Seconds", "Timestamp")
            if state.jsonata
            else ("Seconds", "SecondsPath", "Timestamp", "TimestampPath")
        )
        present = [k for k in options if state.has(k)]
        if len(present) != 1:
            what = "none" if not present else ", ".join(present)
            self.out.error(
                state.pointer if not present else state.at(present[1]),
                "WAIT_FIELDS",
                f"a Wait state needs exactly one of {', '.join(options)} (it has {what})",
            )


class FailRule(Rule):
    def state(self, state: StateNode) -> None:
        if state.type != "Fail":
            return
        for key in ("Error", "Cause"):
            exclusive(self.out, state, key, key + "Path", "; keep one")


class ParallelRule(Rule):
    def state(self, state: StateNode) -> None:
        if state.type != "Parallel":
            return
        if not state.has("Branches"):
            self.out.error(state.pointer, "FIELD_MISSING", 'a Parallel state needs "Branches"')
            return
        branches = state.get("Branches")
        if not isinstance(branches, list) or not branches:
            self.out.error(
                state.at("Branches"),
                "FIELD_VALUE",
                "Branches must be a non-empty list of branches",
            )


class MapRule(Rule):
    def state(self, state: StateNode) -> None:
        if state.type != "Map":
            return
        out = self.out
        if state.has("ItemProcessor") and state.has("Iterator"):
            out.error(
                state.at("Iterator"),
                "FIELDS_EXCLUSIVE",
                "ItemProcessor and Iterator (its old name) cannot both be set; keep ItemProcessor",
            )
        processor = state.processor
        if processor is None:
            out.error(state.pointer, "FIELD_MISSING", 'a Map state needs "ItemProcessor"')
        elif isinstance(processor.value, dict) and "ProcessorConfig" in processor.value:
            self.processor_config(processor.value["ProcessorConfig"], processor.pointer)
        for a, b in (("Parameters", "ItemSelector"), ("MaxConcurrency", "MaxConcurrencyPath")):
            exclusive(out, state, a, b, "")
        for key in ("ToleratedFailurePercentage", "ToleratedFailureCount"):
            exclusive(out, state, key, key + "Path", "")
        if state.has("ItemBatcher"):
            self.item_batcher(state)

    def processor_config(self, config: Any, pointer: str) -> None:
        at = pointer_join(pointer, "ProcessorConfig")
        if not known_fields(
            self.out, config, at, "ProcessorConfig", fields.object_fields("ProcessorConfig")
        ):
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

    def item_batcher(self, state: StateNode) -> None:
        """ItemBatcher (AWS "ItemBatcher (Map)" guide): Distributed mode only; at least one
        limit; each limit a positive integer (bytes at most 256 KiB) or, in JSONPath states,
        a ...Path reference path, not both."""
        out = self.out
        at = state.at("ItemBatcher")
        batcher = state.get("ItemBatcher")
        jsonata = state.jsonata
        if not known_fields(out, batcher, at, "ItemBatcher", fields.object_fields("ItemBatcher")):
            return
        processor = state.get("ItemProcessor", state.get("Iterator"))
        config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
        if not isinstance(config, dict) or config.get("Mode", "INLINE") != "DISTRIBUTED":
            out.error(
                at,
                "FIELD_UNKNOWN",
                '"ItemBatcher" is only allowed in a Distributed Map; set "ProcessorConfig": '
                '{"Mode": "DISTRIBUTED"} in the ItemProcessor',
            )
        limits = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")
        if not any(key in batcher or key + "Path" in batcher for key in limits):
            out.error(
                at,
                "FIELD_MISSING",
                "ItemBatcher needs MaxItemsPerBatch or MaxInputBytesPerBatch"
                + ("" if jsonata else " (or their ...Path)"),
            )
        for key, high in (("MaxItemsPerBatch", None), ("MaxInputBytesPerBatch", MAX_BATCH_BYTES)):
            path_key = key + "Path"
            if key in batcher and path_key in batcher:
                out.error(
                    pointer_join(at, path_key),
                    "FIELDS_EXCLUSIVE",
                    f"{key} and {path_key} cannot both be set; keep one",
                )
            if key in batcher:
                check_number(
                    out, batcher[key], pointer_join(at, key), key, Number(1, high), jsonata
                )
            if path_key in batcher and not jsonata:
                check_reference_path(out, batcher[path_key], pointer_join(at, path_key), path_key)
            if path_key in batcher and jsonata:
                out.error(
                    pointer_join(at, path_key),
                    "FIELD_QUERY_LANGUAGE",
                    f'"{path_key}" is not allowed in a JSONata ItemBatcher; use "{key}" '
                    "with a {% %} expression",
                )
        if "BatchInput" in batcher:
            value, value_at = batcher["BatchInput"], pointer_join(at, "BatchInput")
            if jsonata:
                check_jsonata_template(out, value, value_at)
            elif isinstance(value, dict):
                check_payload_template(out, value, value_at, "BatchInput")


def exclusive(out: Collector, state: StateNode, a: str, b: str, advice: str) -> None:
    """Two fields that cannot be set together, reported at the second."""
    if state.has(a) and state.has(b):
        out.error(state.at(b), "FIELDS_EXCLUSIVE", f"{a} and {b} cannot both be set{advice}")


# The rules `tool validate` runs, in the order they see each node.
RULES: tuple[type[Rule], ...] = (
    Structure,
    Flow,
    ValueRule,
    RetryAndCatch,
    TaskRule,
    ChoiceRules,
    WaitRule,
    FailRule,
    ParallelRule,
    MapRule,
    ScopeGraph,
)


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def _passes_token(template: Any) -> bool:
    """Whether a template reads the task token: itself, `$$.Task` or the whole context `$$`
    (the engine refuses to run a callback Task that does not, with the same rule)."""
    if isinstance(template, dict):
        return any(_passes_token(v) for v in template.values())
    if isinstance(template, list):
        return any(_passes_token(v) for v in template)
    return isinstance(template, str) and TOKEN_READ.search(template) is not None


__all__ = ["RULES", "iter_states", "validate_definition", "validate_tree"]
