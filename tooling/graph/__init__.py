"""Pictures of state machines and of what their runs did: `tool graph` and `tool invoke --graph`."""

from tooling.graph.model import Cluster, Edge, Graph, Node, build_graph, graph_of
from tooling.graph.output import (
    FORMATS,
    check_output,
    pick_format,
    render,
    render_execution_graph,
    write,
)
from tooling.graph.overlay import RunOverlay, StateRun, overlay_execution

__all__ = [
    "FORMATS",
    "Cluster",
    "Edge",
    "Graph",
    "Node",
    "RunOverlay",
    "StateRun",
    "build_graph",
    "check_output",
    "graph_of",
    "overlay_execution",
    "pick_format",
    "render",
    "render_execution_graph",
    "write",
]
