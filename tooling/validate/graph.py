"""Transitions inside one scope (the machine, a Parallel branch, a Map processor): targets that
exist, states reachable from StartAt, loops with no way out and loops with no bound."""

from __future__ import annotations

import re
from typing import Any

from tooling.asl import Scope, StateNode
from tooling.sourcemap import pointer_join
from tooling.validate.diagnostics import Collector, did_you_mean
from tooling.validate.rules import Rule

# Errors that leave a scope's transitions unknown: reachability and loop checks would only
# repeat them, so they are skipped for that scope.
_FLOW_CODES = frozenset(
    {"STATE_END_MISSING", "CHOICE_RULE_NEXT", "CHOICES_EMPTY", "FIELD_MISSING", "FIELD_TYPE"}
    | {"STATE_TYPE_INVALID"}
)
_NESTED = re.compile(r"/(?:Branches/\d+|ItemProcessor|Iterator)/")


class ScopeGraph(Rule):
    """Each scope's transitions, once every state of it has been checked."""

    def __init__(self, out: Collector, tree: Any) -> None:
        super().__init__(out, tree)
        self.marks: dict[int, int] = {}

    def scope(self, scope: Scope) -> None:
        self.marks[id(scope)] = len(self.out.items)

    def scope_done(self, scope: Scope) -> None:
        states_at = scope.states_pointer
        flow_broken = any(
            d.code in _FLOW_CODES and _in_scope(d.pointer, states_at)
            for d in self.out.items[self.marks.pop(id(scope)) :]
        )
        check_scope_graph(self.out, scope, flow_broken)


def _in_scope(pointer: str, states_at: str) -> bool:
    """Is `pointer` about a state of this scope (not of a branch nested in one)?"""
    return pointer.startswith(states_at + "/") and not _NESTED.search(pointer[len(states_at) :])


def check_scope_graph(out: Collector, scope: Scope, flow_broken: bool = False) -> None:
    """With `flow_broken` (some state's transitions are already reported as wrong) only the
    targets are checked."""
    start = scope.start_at
    pointer, label = scope.pointer, scope.label
    nodes = {node.name: node for node in scope.states}
    names = set(nodes)
    states_at = scope.states_pointer
    edges: dict[str, list[str]] = {name: [] for name in nodes}
    declared = 0
    for name, node in nodes.items():
        for transition in node.transitions():
            declared += 1
            target = transition.target
            if target in names:
                edges[name].append(target)
                continue
            kind = transition.via
            code = {"Next": "STATE_NEXT_MISSING", "Default": "CHOICE_DEFAULT_MISSING"}.get(
                kind, "CATCH_NEXT_MISSING"
            )
            field = "Next" if kind != "Default" else "Default"
            out.error(
                transition.pointer,
                code,
                f'"{field}" names "{target}", which is not a state{_of(label)}'
                f"{did_you_mean(target, names)}",
            )
    if (
        not pointer
        and not label
        and not flow_broken
        and not any(n.is_object and (n.is_terminal or n.has("End")) for n in nodes.values())
    ):
        # What ValidateStateMachineDefinition answers for the top level only (nested loops are
        # accepted); it replaces the reachability diagnostics, not the dangling targets'.
        out.error(
            states_at,
            "MISSING_END_STATE",
            'Workflow has no terminal state: end a state with "End": true, or add a Succeed '
            "or Fail state",
        )
        return
    missing_targets = sum(len(edges[n]) for n in edges) != declared
    if flow_broken or missing_targets or not isinstance(start, str) or start not in names:
        return  # already reported: reachability would only repeat it
    reachable = _reach(start, edges)
    for name in nodes:
        if name not in reachable:
            out.error(
                pointer_join(states_at, name),
                "STATE_UNREACHABLE",
                f'state "{name}" is not reachable from StartAt "{start}"{_of(label)}; '
                "link it with Next/Default/Catch or remove it",
            )
    _check_loops(out, nodes, edges, reachable, states_at)


def _of(scope: str) -> str:
    return f" of {scope}" if scope else ""


def _reach(start: str, edges: dict[str, list[str]]) -> set[str]:
    seen = {start}
    stack = [start]
    while stack:
        for target in edges[stack.pop()]:
            if target not in seen:
                seen.add(target)
                stack.append(target)
    return seen


def _check_loops(
    out: Collector,
    states: dict[str, StateNode],
    edges: dict[str, list[str]],
    reachable: set[str],
    states_at: str,
) -> None:
    reverse: dict[str, list[str]] = {name: [] for name in states}
    for name, targets in edges.items():
        for target in targets:
            reverse[target].append(name)
    exits = [n for n, s in states.items() if s.is_object and s.is_terminal]
    can_finish: set[str] = set(exits)
    stack = list(exits)
    while stack:
        for source in reverse[stack.pop()]:
            if source not in can_finish:
                can_finish.add(source)
                stack.append(source)
    stuck = [n for n in states if n in reachable and n not in can_finish]
    if stuck:
        shown = ", ".join(f'"{n}"' for n in stuck[:5]) + (" ..." if len(stuck) > 5 else "")
        out.warning(
            pointer_join(states_at, stuck[0]),
            "LOOP_NO_EXIT",
            f"no End, Succeed or Fail can be reached from {shown}: the execution loops until "
            "it times out or hits the 25,000-event history limit; add a Choice that leaves it",
        )
    for component in _cycles(states, edges):
        if not set(component) <= reachable:
            continue
        _check_growth(out, states, component, states_at)
        if not set(component) <= can_finish:
            continue
        kinds = {states[n].get("Type") for n in component if states[n].is_object}
        if "Choice" in kinds or not kinds & {"Task", "Map", "Parallel"}:
            continue
        first = min(component, key=list(states).index)
        out.warning(
            pointer_join(states_at, first),
            "LOOP_UNBOUNDED",
            f'the loop through "{first}" has no Choice: only an error ends it, and each turn '
            "adds events toward the 25,000-event history limit",
        )


def _check_growth(
    out: Collector, states: dict[str, StateNode], component: list[str], states_at: str
) -> None:
    """States in a loop whose result holds their whole input and is kept in it: the payload
    grows every turn until it passes the 256 KiB limit (States.DataLimitExceeded)."""
    for name in sorted(component, key=list(states).index):
        state = states[name]
        # The state's own QueryLanguage only (a JSONata machine's states are checked as written).
        if not state.is_object or state.get("QueryLanguage") == "JSONata":
            continue
        result_path = state.get("ResultPath", "$")
        if result_path is None:
            continue
        if state.get("Type") == "Parallel" and not state.has("ResultSelector"):
            why = "a Parallel state's result holds each branch's output, by default its input"
        elif (
            state.get("Type") == "Pass"
            and result_path != "$"
            and _copies_whole_input(state.get("Parameters"))
        ):
            why = "its Parameters copy the whole input ($) into the result"
        else:
            continue
        out.warning(
            pointer_join(states_at, name),
            "PAYLOAD_GROWTH",
            f'"{name}" is in a loop and {why}: the data grows every turn until it passes the '
            "256 KiB limit; keep only what is needed (ResultSelector, OutputPath) or use "
            "ResultPath: null",
        )


def _copies_whole_input(template: Any) -> bool:
    if isinstance(template, dict):
        return any(
            (k.endswith(".$") and v == "$") or _copies_whole_input(v) for k, v in template.items()
        )
    if isinstance(template, list):
        return any(_copies_whole_input(v) for v in template)
    return False


def _cycles(states: dict[str, StateNode], edges: dict[str, list[str]]) -> list[list[str]]:
    """Strongly connected components that contain a cycle (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    result: list[list[str]] = []
    counter = 0
    for root in states:
        if root in index:
            continue
        work = [(root, 0)]
        while work:
            node, i = work.pop()
            if i == 0:
                index[node] = low[node] = counter
                counter += 1
                stack.append(node)
                on_stack.add(node)
            targets = edges[node]
            if i < len(targets):
                work.append((node, i + 1))
                target = targets[i]
                if target not in index:
                    work.append((target, 0))
                elif target in on_stack:
                    low[node] = min(low[node], index[target])
                continue
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in edges[node]:
                    result.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return result
