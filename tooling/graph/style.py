"""Colours and shapes shared by the DOT and Mermaid writers: one look for both pictures."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass

from tooling.graph.model import END, JOIN, START, Node
from tooling.graph.overlay import RunOverlay


@dataclass(frozen=True)
class Paint:
    fill: str
    stroke: str
    font: str = "#111827"
    dashed: bool = False


# By state type, when no run is laid over the graph.
TYPE_PAINT: dict[str, Paint] = {
    "Task": Paint("#dbeafe", "#1d4ed8"),
    "Choice": Paint("#fef3c7", "#b45309"),
    "Pass": Paint("#f3f4f6", "#4b5563"),
    "Wait": Paint("#ede9fe", "#6d28d9"),
    "Succeed": Paint("#dcfce7", "#15803d"),
    "Fail": Paint("#fee2e2", "#b91c1c"),
    "Parallel": Paint("#e0f2fe", "#0369a1"),
    "Map": Paint("#e0f2fe", "#0369a1"),
    START: Paint("#374151", "#374151", "#ffffff"),
    END: Paint("#374151", "#374151", "#ffffff"),
    JOIN: Paint("#0369a1", "#0369a1"),
}
UNKNOWN_TYPE = Paint("#ffffff", "#6b7280")

# By outcome, when a run is laid over the graph.
OUTCOME_PAINT: dict[str, Paint] = {
    "succeeded": Paint("#bbf7d0", "#15803d"),
    "failed": Paint("#fecaca", "#b91c1c"),
    "caught": Paint("#fed7aa", "#c2410c"),
    "retried": Paint("#fef08a", "#a16207"),
    "running": Paint("#bfdbfe", "#1d4ed8"),
    "never entered": Paint("#f9fafb", "#9ca3af", "#9ca3af", dashed=True),
}
OUTCOME_ORDER = ("succeeded", "retried", "caught", "failed", "running", "never entered")

EDGE_COLOURS = {
    "start": "#374151",
    "next": "#374151",
    "branch": "#0369a1",
    "end": "#374151",
    "choice": "#92400e",
    "default": "#b45309",
    "catch": "#b91c1c",
}
TAKEN_COLOUR = "#166534"
NOT_TAKEN_COLOUR = "#d1d5db"
NOT_TAKEN_FONT = "#9ca3af"


def outcome_of(node: Node, overlay: RunOverlay) -> str:
    run = overlay.states.get(node.id)
    return run.outcome if run is not None else "never entered"


def paint_for(node: Node, overlay: RunOverlay | None) -> Paint:
    if overlay is None or node.kind == JOIN:
        return TYPE_PAINT.get(node.kind, UNKNOWN_TYPE)
    return OUTCOME_PAINT[outcome_of(node, overlay)]


def run_lines(node: Node, overlay: RunOverlay) -> list[str]:
    """What the run did in this state, under its name: visits, retries, error and cause."""
    run = overlay.states.get(node.id)
    if run is None or node.kind in (START, END):
        return []
    lines = [f"{run.outcome} · {run.entered} visit{'s' if run.entered != 1 else ''}"]
    if run.retries:
        lines.append(f"{run.retries} retr{'ies' if run.retries != 1 else 'y'}")
    if run.error is not None:
        lines.extend(wrap(f"Error: {run.error}", 48, 2))
    if run.cause is not None:
        lines.extend(wrap(f"Cause: {run.cause}", 48, 4))
    return lines


def edge_count_label(count: int) -> str:
    return f"×{count}"


def wrap(text: str, width: int, max_lines: int) -> list[str]:
    lines = textwrap.wrap(" ".join(text.split()), width, break_on_hyphens=False) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: width - 1] + "…"
    return lines
