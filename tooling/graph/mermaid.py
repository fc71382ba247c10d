"""The graph as a Mermaid flowchart, for pasting into Markdown (GitHub, GitLab, ...)."""

from __future__ import annotations

from tooling.graph.model import END, JOIN, START, Edge, Graph, Node
from tooling.graph.overlay import RunOverlay
from tooling.graph.style import (
    EDGE_COLOURS,
    NOT_TAKEN_COLOUR,
    OUTCOME_PAINT,
    TAKEN_COLOUR,
    TYPE_PAINT,
    Paint,
    edge_count_label,
    outcome_of,
    run_lines,
    wrap,
)

# Node shapes: (opening, closing) around the quoted label.
_SHAPES = {
    "Choice": ("{", "}"),
    "Wait": ("{{", "}}"),
    "Pass": ("[", "]"),
    "Parallel": ("[[", "]]"),
    "Map": ("[[", "]]"),
    START: ("((", "))"),
    END: ("((", "))"),
    JOIN: ("((", "))"),
}
_ROUNDED = ("(", ")")
# Characters Mermaid would read as syntax inside a quoted label, as its entity codes.
_ENTITIES = {'"': "#quot;", "<": "#lt;", ">": "#gt;", "#": "#35;", "&": "#amp;"}


def to_mermaid(graph: Graph, overlay: RunOverlay | None = None, title: str | None = None) -> str:
    lines: list[str] = []
    if title:
        lines += ["---", f"title: {_yaml_text(title)}", "---"]
    lines.append("flowchart TD")
    children: dict[str | None, list[str]] = {}
    for cluster in graph.clusters:
        children.setdefault(cluster.parent, []).append(cluster.id)
    by_cluster: dict[str | None, list[Node]] = {}
    for node in graph.nodes:
        by_cluster.setdefault(node.cluster, []).append(node)
    labels = {c.id: c.label for c in graph.clusters}

    def emit(cluster_id: str | None, indent: str) -> None:
        for node in by_cluster.get(cluster_id, []):
            opening, closing = _SHAPES.get(node.kind, _ROUNDED)
            lines.append(f'{indent}{node.id}{opening}"{_node_label(node, overlay)}"{closing}')
        for child in children.get(cluster_id, []):
            lines.append(f'{indent}subgraph {child}["{_text(labels[child])}"]')
            emit(child, indent + "  ")
            lines.append(f"{indent}end")

    emit(None, "  ")
    counts = [overlay.count(i) for i in range(len(graph.edges))] if overlay else None
    for index, edge in enumerate(graph.edges):
        lines.append(f"  {_edge(edge, counts[index] if counts else None)}")
    lines += _styles(graph, overlay, counts)
    return "\n".join(lines) + "\n"


def _node_label(node: Node, overlay: RunOverlay | None) -> str:
    if node.kind == JOIN:
        return " "
    if node.kind in (START, END):
        return node.name
    parts = [f"<b>{_text(node.name)}</b>", _text(node.kind), *map(_text, node.notes)]
    if overlay is not None:
        parts.extend(_text(line) for line in run_lines(node, overlay))
    return "<br/>".join(parts)


def _edge(edge: Edge, count: int | None) -> str:
    arrow = "-.->" if edge.kind == "catch" else ("==>" if edge.kind == "default" else "-->")
    pieces = wrap(edge.label, 36, 3) if edge.label else []
    if edge.kind == "catch":
        pieces.insert(0, "catch")
    if count:
        pieces.append(edge_count_label(count))
    if not pieces:
        return f"{edge.source} {arrow} {edge.target}"
    label = "<br/>".join(_text(piece) for piece in pieces)
    return f'{edge.source} {arrow}|"{label}"| {edge.target}'


def _styles(graph: Graph, overlay: RunOverlay | None, counts: list[int] | None) -> list[str]:
    lines: list[str] = []
    classes: dict[str, list[str]] = {}
    paints: dict[str, Paint] = {}
    for node in graph.nodes:
        if overlay is None or node.kind == JOIN:
            name, paint = f"type{node.kind}", TYPE_PAINT.get(node.kind)
        else:
            outcome = outcome_of(node, overlay)
            name, paint = outcome.replace(" ", ""), OUTCOME_PAINT[outcome]
        if paint is None:
            continue
        paints[name] = paint
        classes.setdefault(name, []).append(node.id)
    for name, paint in paints.items():
        dash = ",stroke-dasharray:4 3" if paint.dashed else ""
        lines.append(
            f"  classDef {name} fill:{paint.fill},stroke:{paint.stroke},color:{paint.font}{dash}"
        )
        lines.append(f"  class {','.join(classes[name])} {name}")
    for index, edge in enumerate(graph.edges):
        if counts is None:
            colour = EDGE_COLOURS[edge.kind]
            lines.append(f"  linkStyle {index} stroke:{colour},color:{colour}")
        elif counts[index]:
            lines.append(f"  linkStyle {index} stroke:{TAKEN_COLOUR},stroke-width:3px")
        else:
            lines.append(f"  linkStyle {index} stroke:{NOT_TAKEN_COLOUR}")
    return lines


def _text(text: str) -> str:
    return "".join(_ENTITIES.get(c, c) for c in " ".join(text.split()))


def _yaml_text(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
