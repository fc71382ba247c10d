"""A state machine definition as a graph: nodes by state type, Start and End, labelled edges,
and nested clusters for Parallel branches and Map processors.

Built from the definition's syntax tree (tooling.asl), not the engine's compiled form, so that
any definition can be drawn, including what the local engine does not run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from tooling.asl import Definition, Scope, StateNode, parse
from tooling.errors import DefinitionError
from tooling.graph.conditions import describe_rule
from tooling.sourcemap import SourceMap, pointer_join

# Node kinds: the ASL state types, plus the picture's own Start, End and join points.
START = "Start"
END = "End"
JOIN = "Join"
CONTAINER_TYPES = ("Parallel", "Map")

EdgeKind = Literal["start", "next", "choice", "default", "catch", "end", "branch"]


@dataclass(frozen=True)
class Node:
    id: str
    name: str  # the state's name; "Start"/"End" for those; the owning state's name for a join
    kind: str  # ASL Type, or START / END / JOIN
    cluster: str | None  # innermost cluster id, None at the top level
    notes: tuple[str, ...] = ()  # e.g. the Retry rules


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str = ""


@dataclass(frozen=True)
class Cluster:
    id: str
    label: str
    kind: str  # "Parallel" | "Branch" | "Map"
    parent: str | None


@dataclass
class Graph:
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    comment: str | None = None
    # where a state's outgoing edges start: its own node, or the join of a Parallel/Map
    exit_of: dict[str, str] = field(default_factory=dict)
    _by_id: dict[str, Node] = field(default_factory=dict, repr=False, compare=False)

    def node(self, node_id: str) -> Node:
        if len(self._by_id) != len(self.nodes):  # nodes are only ever added
            self._by_id = {n.id: n for n in self.nodes}
        return self._by_id[node_id]

    def states_named(self, name: str) -> list[Node]:
        return [n for n in self.nodes if n.name == name and n.kind not in (START, END, JOIN)]

    def edges_between(self, source: str, target: str) -> list[int]:
        """Indexes of the edges from `source` to `target`, in definition order."""
        return [i for i, e in enumerate(self.edges) if e.source == source and e.target == target]

    def edges_into(self, target: str, kinds: tuple[str, ...]) -> list[int]:
        return [i for i, e in enumerate(self.edges) if e.target == target and e.kind in kinds]

    def edges_from(self, source: str, kinds: tuple[str, ...]) -> list[int]:
        return [i for i, e in enumerate(self.edges) if e.source == source and e.kind in kinds]


def build_graph(definition: Any, source: SourceMap | None = None) -> Graph:
    """The graph of a state machine definition (a loaded JSON or YAML object)."""
    return graph_of(parse(definition, source))


def graph_of(tree: Definition) -> Graph:
    """The graph of a definition's syntax tree."""
    return _Builder(tree).build()


class _Builder:
    def __init__(self, tree: Definition) -> None:
        self.tree = tree
        self.graph = Graph()
        self.counter = 0

    def build(self) -> Graph:
        machine = self.tree.machine
        if machine is None:
            raise self.error("", "a state machine definition must be a JSON object")
        comment = machine.value.get("Comment")
        self.graph.comment = comment if isinstance(comment, str) else None
        start = self.add_node(START, START, None)
        end = self.add_node(END, END, None)
        self.scope(machine, None, start, end, "start")
        # Start first and End last reads best in both DOT and Mermaid.
        self.graph.nodes.append(self.graph.nodes.pop(1))
        return self.graph

    def error(self, pointer: str, message: str) -> DefinitionError:
        return DefinitionError(
            message, hint="fix the definition and try again", **self.tree.error_kwargs(pointer)
        )

    def add_node(
        self, name: str, kind: str, cluster: str | None, notes: tuple[str, ...] = ()
    ) -> str:
        node_id = f"n{self.counter}"
        self.counter += 1
        self.graph.nodes.append(Node(node_id, name, kind, cluster, notes))
        return node_id

    def add_cluster(self, label: str, kind: str, parent: str | None) -> str:
        cluster_id = f"c{len(self.graph.clusters)}"
        self.graph.clusters.append(Cluster(cluster_id, label, kind, parent))
        return cluster_id

    def add_edge(self, source: str, target: str, kind: EdgeKind, label: str = "") -> None:
        self.graph.edges.append(Edge(source, target, kind, label))

    def scope(
        self,
        scope: Scope,
        cluster: str | None,
        entry: str,
        exit_: str,
        entry_kind: EdgeKind,
    ) -> None:
        """One States object (the machine, a branch or a Map processor) between entry and exit."""
        states = scope.states_value
        if not isinstance(states, dict) or not states:
            raise self.error(scope.states_pointer, "States must be a non-empty object")
        start_at = scope.start_at
        if not isinstance(start_at, str) or start_at not in states:
            raise self.error(
                pointer_join(scope.pointer, "StartAt"),
                f"StartAt names no state of this States object: {start_at!r}",
            )
        ids: dict[str, str] = {}
        for node in scope.states:
            if not node.is_object:
                raise self.error(node.pointer, "a state must be an object")
            ids[node.name] = self.state_node(node, cluster)
        self.add_edge(entry, ids[start_at], entry_kind)
        for node in scope.states:
            self.transitions(node, ids, exit_)

    def state_node(self, node: StateNode, cluster: str | None) -> str:
        state = node.fields
        kind = str(state.get("Type", "?"))
        notes = _retry_notes(state.get("Retry"))
        if kind not in CONTAINER_TYPES:
            node_id = self.add_node(node.name, kind, cluster, notes)
            self.graph.exit_of[node_id] = node_id
            return node_id
        inner = self.add_cluster(f"{node.name} ({_container_label(state)})", kind, cluster)
        fork = self.add_node(node.name, kind, inner, notes)
        join = self.add_node(node.name, JOIN, inner)
        self.graph.exit_of[fork] = join
        if kind == "Parallel":
            branches = state.get("Branches")
            if not isinstance(branches, list) or not branches:
                raise self.error(node.at("Branches"), "Branches must be a non-empty array")
            for index, branch in enumerate(node.branches):
                if not branch.is_object:
                    raise self.error(branch.pointer, "a branch must be an object")
                branch_cluster = self.add_cluster(f"Branch {index + 1}", "Branch", inner)
                self.scope(branch, branch_cluster, fork, join, "branch")
        else:
            processor = node.processor
            if processor is None or not processor.is_object:
                key = "ItemProcessor" if node.has("ItemProcessor") else "Iterator"
                raise self.error(node.at(key), "a Map state needs an ItemProcessor object")
            self.scope(processor, inner, fork, join, "branch")
        return fork

    def transitions(self, node: StateNode, ids: dict[str, str], exit_: str) -> None:
        name, state = node.name, node.fields
        source = self.graph.exit_of[ids[name]]

        def target(value: Any, at: str) -> str:
            if not isinstance(value, str) or value not in ids:
                raise self.error(at, f"state {name!r} goes to an unknown state {value!r}")
            return ids[value]

        kind = state.get("Type")
        if kind == "Choice":
            rules = state.get("Choices")
            for index, rule in enumerate(rules if isinstance(rules, list) else []):
                at = node.at("Choices", index, "Next")
                next_ = rule.get("Next") if isinstance(rule, dict) else None
                self.add_edge(source, target(next_, at), "choice", describe_rule(rule))
            if "Default" in state:
                default = target(state["Default"], node.at("Default"))
                self.add_edge(source, default, "default", "Default")
        elif kind in ("Succeed", "Fail") or state.get("End") is True:
            self.add_edge(source, exit_, "end")
        elif "Next" in state:
            self.add_edge(source, target(state["Next"], node.at("Next")), "next")
        catchers = state.get("Catch")
        for index, catcher in enumerate(catchers if isinstance(catchers, list) else []):
            if not isinstance(catcher, dict):
                continue
            errors = catcher.get("ErrorEquals")
            label = ", ".join(str(e) for e in errors) if isinstance(errors, list) else "?"
            self.add_edge(
                source, target(catcher.get("Next"), node.at("Catch", index, "Next")), "catch", label
            )


def _retry_notes(retry: Any) -> tuple[str, ...]:
    if not isinstance(retry, list) or not retry:
        return ()
    errors = [
        ", ".join(str(e) for e in _listed(rule.get("ErrorEquals", [])))
        for rule in retry
        if isinstance(rule, dict)
    ]
    return ("Retry: " + "; ".join(errors),)


def _listed(value: Any) -> Any:
    """ErrorEquals as written, something iterable even when it is a number or null."""
    return value if isinstance(value, list | str | dict) else [value]


def _container_label(state: dict[str, Any]) -> str:
    if state.get("Type") == "Map":
        processor = state.get("ItemProcessor")
        config = processor.get("ProcessorConfig") if isinstance(processor, dict) else None
        if isinstance(config, dict) and config.get("Mode") == "DISTRIBUTED":
            return "Distributed Map"
        return "Map"
    return "Parallel"
