"""Reading Graphviz SVG in tests: nodes and edges by what they show, with their colours."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

_NS = "{http://www.w3.org/2000/svg}"
_SHAPES = (f"{_NS}polygon", f"{_NS}path", f"{_NS}ellipse")


@dataclass(frozen=True)
class Drawn:
    title: str  # DOT id of the node ("n3"), or "n3->n2" for an edge
    classes: tuple[str, ...]
    texts: tuple[str, ...]
    fill: str | None
    stroke: str | None


def parse(svg: bytes | str) -> tuple[dict[str, Drawn], dict[str, Drawn]]:
    """(nodes by title, edges by title) of a Graphviz SVG document."""
    root = ET.fromstring(svg)
    nodes: dict[str, Drawn] = {}
    edges: dict[str, Drawn] = {}
    for group in root.iter(f"{_NS}g"):
        classes = tuple(group.get("class", "").split())
        if "node" not in classes and "edge" not in classes:
            continue
        title = (group.findtext(f"{_NS}title") or "").strip()
        shape = next((e for e in group.iter() if e.tag in _SHAPES), None)
        drawn = Drawn(
            title=title,
            classes=classes,
            texts=tuple((t.text or "") for t in group.iter(f"{_NS}text")),
            fill=shape.get("fill") if shape is not None else None,
            stroke=shape.get("stroke") if shape is not None else None,
        )
        (nodes if "node" in classes else edges)[title] = drawn
    return nodes, edges


def all_text(svg: bytes | str) -> list[str]:
    return [(t.text or "") for t in ET.fromstring(svg).iter(f"{_NS}text")]
