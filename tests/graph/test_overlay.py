import json
from pathlib import Path
from typing import Any

from tooling.graph.model import Graph, build_graph
from tooling.graph.overlay import RunOverlay, overlay_execution

from .histories import FUNCTION, HandMade, answers, engine_history, ok, raised

DATA = Path(__file__).parent / "data"


def counts_by_name(graph: Graph, overlay: RunOverlay) -> dict[tuple[str, str, str], int]:
    """{(source name, target name, kind): times taken} for the edges the run took."""
    found: dict[tuple[str, str, str], int] = {}
    for index, edge in enumerate(graph.edges):
        if overlay.count(index):
            key = (graph.node(edge.source).name, graph.node(edge.target).name, edge.kind)
            found[key] = overlay.count(index)
    return found


def outcomes(graph: Graph, overlay: RunOverlay) -> dict[str, str]:
    return {
        n.name: overlay.states[n.id].outcome if n.id in overlay.states else "never entered"
        for n in graph.nodes
        if n.kind != "Join"
    }


def task(**fields: Any) -> dict[str, Any]:
    return {"Type": "Task", "Resource": FUNCTION, **fields}


LOOP = {
    "StartAt": "Work",
    "States": {
        "Work": task(ResultPath="$.r", Next="Check"),
        "Check": {
            "Type": "Choice",
            "Choices": [{"Variable": "$.r.count", "NumericLessThan": 3, "Next": "Work"}],
            "Default": "Done",
        },
        "Done": {"Type": "Succeed"},
        "Stop": {"Type": "Fail", "Error": "Never"},
    },
}


def test_a_loop_counts_each_edge_as_often_as_the_run_took_it() -> None:
    # The function answers 1, 2, 3: Work runs 3 times, the loop goes back twice.
    events = engine_history(LOOP, answers(ok({"count": 1}), ok({"count": 2}), ok({"count": 3})))
    graph = build_graph(LOOP)
    overlay = overlay_execution(graph, events)
    assert overlay.status == "SUCCEEDED"
    assert counts_by_name(graph, overlay) == {
        ("Start", "Work", "start"): 1,
        ("Work", "Check", "next"): 3,
        ("Check", "Work", "choice"): 2,
        ("Check", "Done", "default"): 1,
        ("Done", "End", "end"): 1,
    }
    assert outcomes(graph, overlay) == {
        "Start": "succeeded",
        "Work": "succeeded",
        "Check": "succeeded",
        "Done": "succeeded",
        "Stop": "never entered",
        "End": "succeeded",
    }
    (work,) = graph.states_named("Work")
    assert overlay.states[work.id].entered == 3


RETRY_CATCH = {
    "StartAt": "Work",
    "States": {
        "Work": task(
            Retry=[{"ErrorEquals": ["Flaky"], "IntervalSeconds": 1, "MaxAttempts": 3}],
            Catch=[{"ErrorEquals": ["Broken"], "Next": "Recover"}],
            Next="Done",
        ),
        "Recover": {"Type": "Pass", "Next": "Done"},
        "Done": {"Type": "Succeed"},
    },
}


def test_a_state_that_failed_then_succeeded_on_retry_reads_retried() -> None:
    events = engine_history(RETRY_CATCH, answers(raised("Flaky"), raised("Flaky"), ok({})))
    graph = build_graph(RETRY_CATCH)
    overlay = overlay_execution(graph, events)
    (work,) = graph.states_named("Work")
    assert overlay.states[work.id].outcome == "retried"
    assert overlay.states[work.id].retries == 2
    assert overlay.states[work.id].entered == 1
    assert overlay.states[work.id].error is None
    assert counts_by_name(graph, overlay)[("Work", "Done", "next")] == 1


def test_a_caught_error_counts_the_catch_edge_and_keeps_the_error() -> None:
    events = engine_history(RETRY_CATCH, answers(raised("Broken", "disk full")))
    graph = build_graph(RETRY_CATCH)
    overlay = overlay_execution(graph, events)
    assert outcomes(graph, overlay)["Work"] == "caught"
    (work,) = graph.states_named("Work")
    assert overlay.states[work.id].error == "Broken"
    assert json.loads(overlay.states[work.id].cause or "")["errorMessage"] == "disk full"
    taken = counts_by_name(graph, overlay)
    assert taken[("Work", "Recover", "catch")] == 1
    assert ("Work", "Done", "next") not in taken
    assert overlay.status == "SUCCEEDED"


def test_an_uncaught_error_marks_the_state_failed_with_its_error_and_cause() -> None:
    events = engine_history(RETRY_CATCH, answers(raised("Unexpected", "no such key")))
    graph = build_graph(RETRY_CATCH)
    overlay = overlay_execution(graph, events)
    assert overlay.status == "FAILED"
    assert outcomes(graph, overlay) == {
        "Start": "succeeded",
        "Work": "failed",
        "Recover": "never entered",
        "Done": "never entered",
        "End": "failed",
    }
    (work,) = graph.states_named("Work")
    assert overlay.states[work.id].error == overlay.error == "Unexpected"
    assert "no such key" in (overlay.states[work.id].cause or "")


def test_a_fail_state_is_the_failing_state_and_leads_to_end() -> None:
    definition = {
        "StartAt": "Check",
        "States": {
            "Check": {
                "Type": "Choice",
                "Choices": [{"Variable": "$.ok", "BooleanEquals": True, "Next": "Fine"}],
                "Default": "Stop",
            },
            "Fine": {"Type": "Succeed"},
            "Stop": {"Type": "Fail", "Error": "ErrorA", "Cause": "Invalid response."},
        },
    }
    events = engine_history(definition, answers(), data={"ok": False})
    graph = build_graph(definition)
    overlay = overlay_execution(graph, events)
    (stop,) = graph.states_named("Stop")
    assert overlay.states[stop.id].outcome == "failed"
    assert (overlay.states[stop.id].error, overlay.states[stop.id].cause) == (
        "ErrorA",
        "Invalid response.",
    )
    assert counts_by_name(graph, overlay) == {
        ("Start", "Check", "start"): 1,
        ("Check", "Stop", "default"): 1,
        ("Stop", "End", "end"): 1,
    }


def test_a_run_still_going_shows_its_current_state_as_running() -> None:
    events = engine_history(LOOP, answers(ok({"count": 1}), ok({"count": 5})))
    cut = next(i for i, e in enumerate(events) if e["type"] == "LambdaFunctionStarted")
    graph = build_graph(LOOP)
    overlay = overlay_execution(graph, events[: cut + 1])
    assert overlay.status == "RUNNING"
    assert outcomes(graph, overlay)["Work"] == "running"
    assert outcomes(graph, overlay)["End"] == "never entered"


def test_map_iterations_each_take_the_processor_entry() -> None:
    # Shaped like AWS's inline Map history (LocalStack snapshot test_map_state_break_condition):
    # each MapIterationStarted points at the previous iteration's last event.
    definition = json.loads((DATA / "every_type.asl.json").read_text())
    graph = build_graph(definition)
    h = HandMade()
    last = h.passes("Prepare")
    h.entered("Task", "Fetch", last)
    h.add("LambdaFunctionScheduled")
    h.add("LambdaFunctionStarted")
    h.add("LambdaFunctionSucceeded")
    h.exited("Task", "Fetch")
    h.entered("Choice", "Route")
    h.exited("Choice", "Route")
    h.entered("Map", "EachItem")
    h.add("MapStateStarted", mapStateStartedEventDetails={"length": 3})
    for index in range(3):
        h.add("MapIterationStarted", mapIterationStartedEventDetails={"index": index})
        h.passes("Double")
        h.add("MapIterationSucceeded", mapIterationSucceededEventDetails={"index": index})
    h.add("MapStateSucceeded")
    h.exited("Map", "EachItem")
    h.entered("Succeed", "Done")
    h.exited("Succeed", "Done")
    h.add("ExecutionSucceeded", executionSucceededEventDetails={"output": "{}"})
    overlay = overlay_execution(graph, h.events)
    taken = counts_by_name(graph, overlay)
    assert taken[("EachItem", "Double", "branch")] == 3
    assert taken[("Double", "EachItem", "end")] == 3  # into the Map's join
    assert taken[("Route", "EachItem", "choice")] == 1
    assert taken[("EachItem", "Done", "next")] == 1
    assert outcomes(graph, overlay)["Double"] == "succeeded"
    assert outcomes(graph, overlay)["Both"] == "never entered"


def test_parallel_branches_interleaved_are_told_apart_by_previous_event_ids() -> None:
    definition = json.loads((DATA / "every_type.asl.json").read_text())
    graph = build_graph(definition)
    h = HandMade()
    h.passes("Prepare")
    h.entered("Task", "Fetch")
    h.add("LambdaFunctionScheduled")
    h.add("LambdaFunctionStarted")
    h.add("LambdaFunctionSucceeded")
    h.exited("Task", "Fetch")
    h.entered("Choice", "Route")
    h.exited("Choice", "Route")
    h.entered("Parallel", "Both")
    started = h.add("ParallelStateStarted")
    left = h.entered("Pass", "Left", started)
    right = h.entered("Pass", "RightCheck", started)
    right_done = h.exited("Pass", "RightCheck", right)
    left_done = h.exited("Pass", "Left", left)
    # Listed right after Left's exit, but it follows RightCheck.
    h.entered("Succeed", "RightDone", right_done)
    h.exited("Succeed", "RightDone")
    h.add("ParallelStateSucceeded", previous=left_done)
    h.exited("Parallel", "Both")
    h.entered("Map", "EachItem")
    overlay = overlay_execution(graph, h.events)
    taken = counts_by_name(graph, overlay)
    assert taken[("Both", "Left", "branch")] == 1
    assert taken[("Both", "RightCheck", "branch")] == 1
    assert taken[("RightCheck", "RightDone", "next")] == 1
    assert taken[("Both", "EachItem", "next")] == 1
    assert ("Left", "RightDone", "next") not in taken
    assert outcomes(graph, overlay)["EachItem"] == "running"


def test_histories_without_previous_event_ids_follow_the_listed_order() -> None:
    events = engine_history(LOOP, answers(ok({"count": 1}), ok({"count": 3})))
    for event in events:
        event.pop("previousEventId")
    graph = build_graph(LOOP)
    taken = counts_by_name(graph, overlay_execution(graph, events))
    assert taken[("Work", "Check", "next")] == 2
    assert taken[("Check", "Work", "choice")] == 1


def test_states_missing_from_the_definition_are_listed_not_drawn() -> None:
    h = HandMade()
    h.passes("Renamed")
    graph = build_graph(LOOP)
    overlay = overlay_execution(graph, h.events)
    assert overlay.unknown_states == ["Renamed"]
    assert overlay.edge_counts == {}


def test_a_catch_to_the_next_state_is_told_apart_from_the_normal_transition() -> None:
    definition = {
        "StartAt": "Work",
        "States": {
            "Work": task(Catch=[{"ErrorEquals": ["States.ALL"], "Next": "Done"}], Next="Done"),
            "Done": {"Type": "Succeed"},
        },
    }
    graph = build_graph(definition)
    caught = overlay_execution(graph, engine_history(definition, answers(raised("Oops"))))
    assert counts_by_name(graph, caught)[("Work", "Done", "catch")] == 1
    assert ("Work", "Done", "next") not in counts_by_name(graph, caught)
    fine = overlay_execution(graph, engine_history(definition, answers(ok({}))))
    assert counts_by_name(graph, fine)[("Work", "Done", "next")] == 1
    assert ("Work", "Done", "catch") not in counts_by_name(graph, fine)
