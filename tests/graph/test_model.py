import json
from pathlib import Path

import pytest

from tooling.errors import DefinitionError
from tooling.graph.model import END, JOIN, START, Graph, build_graph
from tooling.sourcemap import load_json

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).parent / "data"


def seed_definition() -> dict:
    return json.loads((ROOT / "statemachine.asl.json").read_text())


def edge_summary(graph: Graph) -> list[tuple[str, str, str, str]]:
    return [
        (graph.node(e.source).name, graph.node(e.target).name, e.kind, e.label) for e in graph.edges
    ]


def test_the_seed_has_start_end_and_its_four_states() -> None:
    graph = build_graph(seed_definition())
    assert [(n.name, n.kind) for n in graph.nodes] == [
        ("Start", START),
        ("LambdaFunction", "Task"),
        ("ChoiceState", "Choice"),
        ("SuccessState", "Succeed"),
        ("FailState", "Fail"),
        ("End", END),
    ]
    assert edge_summary(graph) == [
        ("Start", "LambdaFunction", "start", ""),
        ("LambdaFunction", "ChoiceState", "next", ""),
        ("ChoiceState", "SuccessState", "choice", '$.taskresult.value1 == "value1"'),
        ("ChoiceState", "LambdaFunction", "choice", "$.taskresult.count < 5"),
        ("ChoiceState", "FailState", "default", "Default"),
        ("SuccessState", "End", "end", ""),
        ("FailState", "End", "end", ""),
    ]


def test_retry_rules_are_noted_on_the_state() -> None:
    graph = build_graph(seed_definition())
    (task,) = graph.states_named("LambdaFunction")
    assert task.notes == ("Retry: CustomError; States.TaskFailed; States.ALL",)


def test_catch_edges_carry_their_error_names() -> None:
    graph = build_graph(json.loads((DATA / "every_type.asl.json").read_text()))
    catches = [(s, t, label) for s, t, kind, label in edge_summary(graph) if kind == "catch"]
    assert catches == [
        ("Fetch", "Recover", "CustomError, States.Timeout"),
        ("Fetch", "Broken", "States.ALL"),
        ("EachItem", "Broken", "States.ALL"),  # from the Map's join: the state as a whole
    ]


def test_parallel_branches_and_map_processors_are_nested_clusters() -> None:
    graph = build_graph(json.loads((DATA / "every_type.asl.json").read_text()))
    clusters = {c.id: c for c in graph.clusters}
    assert [(c.label, c.kind) for c in graph.clusters] == [
        ("Both (Parallel)", "Parallel"),
        ("Branch 1", "Branch"),
        ("Branch 2", "Branch"),
        ("EachItem (Map)", "Map"),
    ]
    parallel, branch1, branch2, map_ = graph.clusters
    assert branch1.parent == branch2.parent == parallel.id
    in_cluster = {n.name: clusters[n.cluster].label for n in graph.nodes if n.cluster}
    assert in_cluster["Left"] == "Branch 1"
    assert in_cluster["RightCheck"] == in_cluster["RightDone"] == "Branch 2"
    assert in_cluster["Double"] == "EachItem (Map)"
    summary = edge_summary(graph)
    # The container forks into each branch; a branch's terminal states meet at its join.
    assert ("Both", "Left", "branch", "") in summary
    assert ("Both", "RightCheck", "branch", "") in summary
    joins = {n.id: n.name for n in graph.nodes if n.kind == JOIN}
    into_joins = sorted(
        (graph.node(e.source).name, joins[e.target]) for e in graph.edges if e.target in joins
    )
    assert into_joins == [("Double", "EachItem"), ("Left", "Both"), ("RightDone", "Both")]
    assert ("Both", "EachItem", "next", "") in summary  # from Both's join
    assert ("EachItem", "Done", "next", "") in summary


def test_distributed_maps_say_so() -> None:
    definition = {
        "StartAt": "M",
        "States": {
            "M": {
                "Type": "Map",
                "ItemProcessor": {
                    "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
                    "StartAt": "P",
                    "States": {"P": {"Type": "Pass", "End": True}},
                },
                "End": True,
            }
        },
    }
    assert build_graph(definition).clusters[0].label == "M (Distributed Map)"


def test_an_unknown_next_is_reported_where_it_is_written() -> None:
    text = (
        '{\n  "StartAt": "A",\n  "States": {\n    "A": {"Type": "Pass", "Next": "Nowhere"}\n  }\n}'
    )
    definition, source = load_json(text, "machine.json")
    with pytest.raises(DefinitionError) as caught:
        build_graph(definition, source)
    assert caught.value.file == "machine.json"
    line = text.splitlines()[3]
    assert (caught.value.line, caught.value.column) == (4, line.index('"Nowhere"') + 1)
    assert "'Nowhere'" in caught.value.message


@pytest.mark.parametrize(
    "definition",
    [[], {"StartAt": "A"}, {"StartAt": "B", "States": {"A": {"Type": "Pass", "End": True}}}],
)
def test_definitions_without_a_way_in_are_refused(definition: object) -> None:
    with pytest.raises(DefinitionError):
        build_graph(definition)
