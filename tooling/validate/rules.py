"""How `tool validate`'s rules see a definition: visitors over its syntax tree (tooling.asl).

`walk` takes the tree in document order: the definition, then each scope (the machine, a
Parallel branch, a Map processor) and its states, each state before the scopes nested in it,
and a scope again once all its states (nested ones included) are done. Each rule implements the
hooks it needs and reports what it finds to the Collector.
"""

from __future__ import annotations

from collections.abc import Sequence

from tooling.asl import Definition, Scope, StateNode
from tooling.validate.diagnostics import Collector


class Rule:
    """A check of the States Language; every hook does nothing unless overridden."""

    def __init__(self, out: Collector, tree: Definition) -> None:
        self.out = out
        self.tree = tree

    def definition(self, tree: Definition) -> None:
        """The definition as a whole (called first)."""

    def scope(self, scope: Scope) -> None:
        """A scope, before its states."""

    def any_state(self, state: StateNode) -> None:
        """Every entry of a scope's States, whatever it holds."""

    def state(self, state: StateNode) -> None:
        """A state that is an object with a known Type (the others are reported once, as such,
        by the structure rule)."""

    def scope_done(self, scope: Scope) -> None:
        """A scope, once its states and the scopes nested in them are done."""


def walk(tree: Definition, rules: Sequence[Rule]) -> None:
    for rule in rules:
        rule.definition(tree)
    if tree.machine is not None:
        _scope(tree.machine, rules)


def _scope(scope: Scope, rules: Sequence[Rule]) -> None:
    for rule in rules:
        rule.scope(scope)
    if not _has_states(scope):
        return
    for node in scope.states:
        for rule in rules:
            rule.any_state(node)
        if node.type is None:
            continue
        for rule in rules:
            rule.state(node)
        for child in node.children:
            _scope(child, rules)
    for rule in rules:
        rule.scope_done(scope)


def _has_states(scope: Scope) -> bool:
    """Whether the scope has states to check: an object whose States is a non-empty object."""
    states = scope.states_value
    return scope.is_object and isinstance(states, dict) and bool(states)
