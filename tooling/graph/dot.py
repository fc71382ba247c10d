"""The graph as Graphviz DOT text. Writing DOT needs no Graphviz; rendering it does."""

from __future__ import annotations

from html import escape

from tooling.graph.model import END, JOIN, START, Edge, Graph, Node
from tooling.graph.overlay import RunOverlay
from tooling.graph.style import (
    EDGE_COLOURS,
    NOT_TAKEN_COLOUR,
    NOT_TAKEN_FONT,
    OUTCOME_ORDER,
    OUTCOME_PAINT,
    TAKEN_COLOUR,
    edge_count_label,
    outcome_of,
    paint_for,
    run_lines,
    wrap,
)

FONT = "Helvetica"
_SHAPES = {
    "Choice": "diamond",
    "Wait": "hexagon",
    "Pass": "box",
    START: "circle",
    END: "circle",
    JOIN: "point",
}
_CLUSTER_STYLES = {
    "Parallel": "rounded,dashed",
    "Map": "rounded,dashed",
    "Branch": "rounded,dotted",
}


def to_dot(graph: Graph, overlay: RunOverlay | None = None, title: str | None = None) -> str:
    lines = [
        "digraph state_machine {",
        f'  graph [fontname="{FONT}", fontsize=12, rankdir=TB, nodesep=0.5, ranksep=0.5, '
        f"labelloc=t, label={_graph_label(title, overlay)}];",
        f'  node [fontname="{FONT}", fontsize=11, style="filled", margin="0.15,0.06"];',
        f'  edge [fontname="{FONT}", fontsize=10, arrowsize=0.7];',
    ]
    children: dict[str | None, list[str]] = {}
    for cluster in graph.clusters:
        children.setdefault(cluster.parent, []).append(cluster.id)
    by_cluster: dict[str | None, list[Node]] = {}
    for node in graph.nodes:
        by_cluster.setdefault(node.cluster, []).append(node)
    clusters = {c.id: c for c in graph.clusters}

    def emit(cluster_id: str | None, indent: str) -> None:
        for node in by_cluster.get(cluster_id, []):
            lines.append(f"{indent}{_node(node, overlay)}")
        for child in children.get(cluster_id, []):
            cluster = clusters[child]
            lines.append(f'{indent}subgraph "cluster_{child}" {{')
            lines.append(
                f'{indent}  graph [label="{_quote(cluster.label)}", '
                f'style="{_CLUSTER_STYLES.get(cluster.kind, "rounded")}", color="#0369a1", '
                f'fontcolor="#0369a1", fontsize=11];'
            )
            emit(child, indent + "  ")
            lines.append(f"{indent}}}")

    emit(None, "  ")
    for index, edge in enumerate(graph.edges):
        lines.append(f"  {_edge(edge, overlay.count(index) if overlay else None)}")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(node: Node, overlay: RunOverlay | None) -> str:
    paint = paint_for(node, overlay)
    style = ["filled"]
    if node.kind not in _SHAPES or node.kind in ("Wait",):
        style.append("rounded")
    if paint.dashed:
        style.append("dashed")
    attributes = {
        "shape": _SHAPES.get(node.kind, "box"),
        "style": ",".join(style),
        "fillcolor": paint.fill,
        "color": paint.stroke,
        "fontcolor": paint.font,
        "tooltip": node.name,
        "class": _node_class(node, overlay),
    }
    if node.kind == JOIN:
        attributes["width"] = "0.12"
        return f'"{node.id}" [{_attributes(attributes)}];'
    if node.kind in (START, END):
        attributes.update(width="0.6", fixedsize="true", fontsize="10")
        return f'"{node.id}" [label="{node.name}", {_attributes(attributes)}];'
    return f'"{node.id}" [label=<{_html_label(node, overlay)}>, {_attributes(attributes)}];'


def _node_class(node: Node, overlay: RunOverlay | None) -> str:
    kind = node.kind.lower()
    if overlay is None:
        return f"state type-{kind}"
    return f"state type-{kind} outcome-{outcome_of(node, overlay).replace(' ', '-')}"


def _html_label(node: Node, overlay: RunOverlay | None) -> str:
    parts = [f"<B>{escape(node.name, quote=False)}</B>"]
    small = [node.kind, *node.notes]
    if overlay is not None:
        small.extend(run_lines(node, overlay))
    for line in small:
        for piece in wrap(line, 48, 4):
            parts.append(f'<FONT POINT-SIZE="9">{escape(piece, quote=False)}</FONT>')
    return "<BR/>".join(parts)


def _edge(edge: Edge, count: int | None) -> str:
    colour = EDGE_COLOURS[edge.kind]
    label_lines = wrap(edge.label, 36, 3) if edge.label else []
    if edge.kind == "catch":
        label_lines = ["catch"] + wrap(edge.label, 36, 3)
    attributes = {"color": colour, "fontcolor": colour, "class": f"transition kind-{edge.kind}"}
    if edge.kind == "catch":
        attributes["style"] = "dashed"
    if edge.kind == "default":
        attributes["style"] = "bold"
    if count is not None:
        if count:
            label_lines.append(edge_count_label(count))
            attributes.update(color=TAKEN_COLOUR, penwidth="2.2")
            attributes["class"] += " taken"
        else:
            attributes.update(color=NOT_TAKEN_COLOUR, fontcolor=NOT_TAKEN_FONT)
            attributes["class"] += " not-taken"
    if label_lines:
        attributes["label"] = "\n".join(label_lines)
    return f'"{edge.source}" -> "{edge.target}" [{_attributes(attributes)}];'


def _graph_label(title: str | None, overlay: RunOverlay | None) -> str:
    rows = []
    if title:
        rows.append(
            f'<TR><TD COLSPAN="{len(OUTCOME_ORDER)}"><B>{escape(title, quote=False)}</B></TD></TR>'
        )
    if overlay is not None:
        cells = "".join(
            f'<TD BGCOLOR="{OUTCOME_PAINT[o].fill}" COLOR="{OUTCOME_PAINT[o].stroke}" BORDER="1">'
            f'<FONT POINT-SIZE="9">{o}</FONT></TD>'
            for o in OUTCOME_ORDER
        )
        rows.append(f"<TR>{cells}</TR>")
        if overlay.error is not None or overlay.cause is not None:
            text = " — ".join(x for x in (overlay.error, overlay.cause) if x is not None)
            text = f"{overlay.status}: {text}"
            for line in wrap(text, 90, 3):
                rows.append(
                    f'<TR><TD COLSPAN="{len(OUTCOME_ORDER)}"><FONT COLOR="#b91c1c">'
                    f"{escape(line, quote=False)}</FONT></TD></TR>"
                )
    if not rows:
        return '""'
    return f'<<TABLE BORDER="0" CELLSPACING="4">{"".join(rows)}</TABLE>>'


def _attributes(values: dict[str, str]) -> str:
    return ", ".join(f'{key}="{_quote(value)}"' for key, value in values.items())


def _quote(text: str) -> str:
    """A DOT double-quoted string's content: backslashes and quotes escaped, newlines as \\n."""
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
