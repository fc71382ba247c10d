"""The syntax tree of a definition: its scopes (the machine, Parallel branches, Map processors)
and their states, each with its JSON pointer, its type and its query language.

The parse is tolerant: it never fails. Whatever is not shaped as the States Language expects
(a state that is not an object, a `Type` that is no state type, `States` that is a list...)
stays in the tree as written, for the validator to report and the engine to refuse. Values are
the definition's own (not copied); positions come from the definition's SourceMap (JSON or
YAML). `tool validate`, the engine's compiler and `tool graph` all read definitions through it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import Enum
from typing import Any

from tooling.asl.fields import JSONATA, JSONPATH, QUERY_LANGUAGES, STATE_TYPES
from tooling.errors import Where
from tooling.sourcemap import Position, SourceMap, pointer_join


class ScopeKind(Enum):
    MACHINE = "Definition"
    BRANCH = "Branch"
    PROCESSOR = "ItemProcessor"


@dataclass(frozen=True)
class Transition:
    """A state naming another: `target` as written, at `pointer`, through `via` (Next, Default
    or Catch)."""

    target: str
    pointer: str
    via: str


class Scope:
    """A StartAt and its States: the machine, a Parallel branch or a Map's ItemProcessor.

    Tree nodes are plain objects, not dataclasses: the tree is cyclic, and code that opens
    dataclasses field by field must not walk into it."""

    __slots__ = ("value", "pointer", "kind", "label", "owner", "states")

    def __init__(
        self, value: Any, pointer: str, kind: ScopeKind, label: str, owner: StateNode | None
    ) -> None:
        self.value = value  # as written (an object when well formed)
        self.pointer = pointer
        self.kind = kind
        self.label = label  # "" (the machine), "branch 2", "ItemProcessor" or "Iterator"
        self.owner = owner  # the Parallel or Map state it belongs to
        self.states: tuple[StateNode, ...] = ()  # the entries of States, when an object

    def __repr__(self) -> str:
        return f"Scope({self.pointer or '/'!r}, {len(self.states)} states)"

    @property
    def is_object(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def states_value(self) -> Any:
        return self.value.get("States") if isinstance(self.value, dict) else None

    @property
    def start_at(self) -> Any:
        return self.value.get("StartAt") if isinstance(self.value, dict) else None

    @property
    def states_pointer(self) -> str:
        return pointer_join(self.pointer, "States")

    def state(self, name: str) -> StateNode | None:
        return next((s for s in self.states if s.name == name), None)


class StateNode:
    """One entry of a scope's States."""

    __slots__ = ("name", "value", "pointer", "scope", "type", "language", "branches", "processor")

    def __init__(
        self, name: str, value: Any, pointer: str, scope: Scope, type: str | None, language: str
    ) -> None:
        self.name = name
        self.value = value  # as written (an object when well formed)
        self.pointer = pointer
        self.scope = scope
        self.type = type  # one of STATE_TYPES, else None (absent or unknown)
        # JSONPath or JSONata: its own QueryLanguage when valid, else the machine's
        self.language = language
        self.branches: tuple[Scope, ...] = ()  # a Parallel state's, when Branches is a list
        self.processor: Scope | None = None  # a Map's ItemProcessor (or its old name, Iterator)

    def __repr__(self) -> str:
        return f"StateNode({self.name!r}, {self.type})"

    @property
    def is_object(self) -> bool:
        return isinstance(self.value, dict)

    @property
    def jsonata(self) -> bool:
        return self.language == JSONATA

    @property
    def fields(self) -> dict[str, Any]:
        return self.value if isinstance(self.value, dict) else {}

    def has(self, key: str) -> bool:
        return isinstance(self.value, dict) and key in self.value

    def get(self, key: str, default: Any = None) -> Any:
        return self.value.get(key, default) if isinstance(self.value, dict) else default

    def at(self, *keys: str | int) -> str:
        """The pointer of a value inside this state, e.g. at("Retry", 0, "ErrorEquals")."""
        pointer = self.pointer
        for key in keys:
            pointer = pointer_join(pointer, key)
        return pointer

    @property
    def children(self) -> tuple[Scope, ...]:
        return self.branches + ((self.processor,) if self.processor is not None else ())

    def transitions(self) -> Iterator[Transition]:
        """Each state this one names: Next, a Choice's Default and rules' Next, a catcher's
        Next (those written as strings)."""
        value = self.fields
        if isinstance(value.get("Next"), str):
            yield Transition(value["Next"], self.at("Next"), "Next")
        if value.get("Type") == "Choice":
            if isinstance(value.get("Default"), str):
                yield Transition(value["Default"], self.at("Default"), "Default")
            choices = value.get("Choices")
            if isinstance(choices, list):
                for index, rule in enumerate(choices):
                    if isinstance(rule, dict) and isinstance(rule.get("Next"), str):
                        yield Transition(rule["Next"], self.at("Choices", index, "Next"), "Next")
        catch = value.get("Catch")
        if isinstance(catch, list):
            for index, catcher in enumerate(catch):
                if isinstance(catcher, dict) and isinstance(catcher.get("Next"), str):
                    yield Transition(catcher["Next"], self.at("Catch", index, "Next"), "Catch")

    @property
    def is_terminal(self) -> bool:
        """A Succeed or Fail state, or one with End: true."""
        value = self.fields
        return value.get("Type") in ("Succeed", "Fail") or value.get("End") is True


class Definition:
    """A definition read: its top-level scope (the machine) and every state in it."""

    __slots__ = ("value", "source", "language", "machine", "file", "_all")

    def __init__(
        self,
        value: Any,
        source: SourceMap | None,
        language: str,
        machine: Scope | None,
        file: str | None,
        states: tuple[StateNode, ...],
    ) -> None:
        self.value = value  # the definition as given
        self.source = source
        self.language = language  # the top-level QueryLanguage when valid, else the default
        self.machine = machine  # None when the definition is not an object
        self.file = file  # where it comes from, when there is no source map
        self._all = states

    def __repr__(self) -> str:
        return f"Definition({len(self._all)} states, {self.language})"

    @property
    def jsonata(self) -> bool:
        return self.language == JSONATA

    def states(self) -> tuple[StateNode, ...]:
        """Every state, nested ones included, in document order."""
        return self._all

    def locate(self, pointer: str) -> Position | None:
        return self.source.locate(pointer) if self.source is not None else None

    def error_kwargs(self, pointer: str) -> Where:
        """file/line/column keyword arguments for a ToolError about the value at `pointer`."""
        if self.source is not None:
            return self.source.error_kwargs(pointer)
        return {"file": self.file} if self.file is not None else {}


def parse(
    value: Any,
    source: SourceMap | None = None,
    *,
    query_language: str = JSONPATH,
    file: str | None = None,
) -> Definition:
    """The tree of `value`, a loaded definition (JSON or YAML) whose positions are in `source`.

    `query_language` is the default when the definition sets no (valid) top-level QueryLanguage.
    """
    language = query_language
    if isinstance(value, dict) and value.get("QueryLanguage") in QUERY_LANGUAGES:
        language = value["QueryLanguage"]
    everything: list[StateNode] = []
    machine = None
    if isinstance(value, dict):
        machine = _scope(value, "", ScopeKind.MACHINE, "", None, language, everything)
    return Definition(value, source, language, machine, file, tuple(everything))


def _scope(
    value: Any,
    pointer: str,
    kind: ScopeKind,
    label: str,
    owner: StateNode | None,
    language: str,
    everything: list[StateNode],
) -> Scope:
    scope = Scope(value, pointer, kind, label, owner)
    states = value.get("States") if isinstance(value, dict) else None
    if not isinstance(states, dict):
        return scope
    nodes = []
    states_at = pointer_join(pointer, "States")
    for name, raw in states.items():
        node = _state(str(name), raw, pointer_join(states_at, name), scope, language)
        everything.append(node)
        nodes.append(node)
        node.branches, node.processor = _children(node, language, everything)
    scope.states = tuple(nodes)
    return scope


def _state(name: str, raw: Any, pointer: str, scope: Scope, machine_language: str) -> StateNode:
    kind = raw.get("Type") if isinstance(raw, dict) else None
    own = raw.get("QueryLanguage") if isinstance(raw, dict) else None
    # AWS: a state without QueryLanguage uses the top-level one ("set explicitly; could be set
    # and inherited from top-level"), also inside Parallel branches and Map processors.
    language = own if own in QUERY_LANGUAGES else machine_language
    return StateNode(
        name,
        raw,
        pointer,
        scope,
        kind if kind in STATE_TYPES else None,
        language,
    )


def _children(
    node: StateNode, language: str, everything: list[StateNode]
) -> tuple[tuple[Scope, ...], Scope | None]:
    value = node.fields
    branches: list[Scope] = []
    processor = None
    if node.type == "Parallel" and isinstance(value.get("Branches"), list):
        for index, branch in enumerate(value["Branches"]):
            branches.append(
                _scope(
                    branch,
                    node.at("Branches", index),
                    ScopeKind.BRANCH,
                    f"branch {index + 1}",
                    node,
                    language,
                    everything,
                )
            )
    if node.type == "Map":
        key = "ItemProcessor" if "ItemProcessor" in value else "Iterator"
        if key in value:
            processor = _scope(
                value[key], node.at(key), ScopeKind.PROCESSOR, key, node, language, everything
            )
    return tuple(branches), processor
