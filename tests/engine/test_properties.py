"""Property tests: whatever the definition and input, an execution ends in the history with a
Step Functions outcome; no Python exception escapes run_execution."""

from __future__ import annotations

import json
import os
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tooling.engine import parse_definition, run_execution
from tooling.engine.clock import VirtualClock
from tooling.errors import DefinitionError

from .fakes import INFO, RecordingSink, ScriptedLambdas, ok, raised

NAMES = ["A", "B", "C", "D"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | st.floats(-3, 3) | st.text(max_size=4),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("abxy"), inner, max_size=3)
    ),
    max_leaves=8,
)
paths = st.sampled_from(
    ["$", "$.a", "$.b[0]", "$.x.y", "$[0]", "$$.Execution.Input", "$v", "$.a[*]"]
)
intrinsics = st.sampled_from(
    [
        "States.Format('{} and {}', $.a, $.b)",
        "States.MathAdd($.a, 1)",
        "States.ArrayGetItem($.a, 2)",
        "States.StringToJson($.x)",
        "States.ArrayPartition($.a, $.b)",
        "States.Base64Decode($.a)",
        "States.JsonMerge($.a, $.b, false)",
        "States.Hash($.a, 'SHA-1')",
    ]
)
templates = st.dictionaries(
    st.sampled_from(["p", "q.$", "r.$"]),
    st.one_of(json_values, paths, intrinsics),
    max_size=3,
).map(
    lambda d: {k: (v if not k.endswith(".$") or isinstance(v, str) else "$") for k, v in d.items()}
)
jsonata = st.sampled_from(
    [
        "{% $states.input %}",
        "{% $states.input.a + 1 %}",
        "{% $v %}",
        "{% $partition($states.input, 2) %}",
        "{% [1, 2] %}",
    ]
)


def flow(draw: Any, index: int) -> dict[str, Any]:
    if draw(st.booleans()) or index == len(NAMES) - 1:
        return {"End": True}
    return {"Next": draw(st.sampled_from(NAMES))}


@st.composite
def jsonpath_state(draw: Any, index: int, depth: int) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(
            ["Pass", "Choice", "Wait", "Fail", "Succeed", "Task", "Map", "Parallel"]
            if depth < 2
            else ["Pass", "Fail", "Succeed"]
        )
    )
    state: dict[str, Any] = {"Type": kind}
    if kind in ("Pass", "Wait", "Task", "Map", "Parallel"):
        state.update(flow(draw, index))
    if kind == "Pass":
        if draw(st.booleans()):
            state["Parameters"] = draw(templates)
        if draw(st.booleans()):
            state["Assign"] = draw(templates)
        state["ResultPath"] = draw(st.sampled_from(["$", "$.r", None, "$.a.b"]))
        state["InputPath"] = draw(paths)
    elif kind == "Choice":
        state["Choices"] = [
            {
                "Variable": draw(paths),
                draw(
                    st.sampled_from(["NumericLessThan", "StringEquals", "IsPresent", "IsNull"])
                ): draw(st.sampled_from([1, "x", True])),
                "Next": draw(st.sampled_from(NAMES)),
            }
        ]
        if draw(st.booleans()):
            state["Default"] = draw(st.sampled_from(NAMES))
    elif kind == "Wait":
        state[draw(st.sampled_from(["SecondsPath", "TimestampPath"]))] = draw(paths)
    elif kind == "Fail":
        state["ErrorPath"] = draw(st.one_of(paths, intrinsics))
    elif kind == "Task":
        state["Resource"] = "arn:aws:lambda:us-east-1:123456789012:function:worker"
        state["Retry"] = [{"ErrorEquals": ["States.ALL"], "MaxAttempts": 2}]
        state["Catch"] = [{"ErrorEquals": ["States.ALL"], "Next": draw(st.sampled_from(NAMES))}]
    elif kind in ("Map", "Parallel"):
        inner = draw(machine(depth + 1))
        if kind == "Map":
            state["ItemProcessor"] = inner
            state["ItemsPath"] = draw(paths)
            if draw(st.booleans()):
                state["ItemSelector"] = draw(templates)
            if draw(st.booleans()):
                state["ItemProcessor"]["ProcessorConfig"] = {"Mode": "DISTRIBUTED"}
                state["ToleratedFailureCountPath"] = draw(paths)
                if draw(st.booleans()):
                    batcher: dict[str, Any] = draw(
                        st.one_of(
                            st.builds(lambda p: {"MaxItemsPerBatchPath": p}, paths),
                            st.builds(lambda n: {"MaxItemsPerBatch": n}, st.integers(1, 3)),
                            st.builds(lambda n: {"MaxInputBytesPerBatch": n}, st.integers(1, 64)),
                        )
                    )
                    if draw(st.booleans()):
                        batcher["BatchInput"] = draw(templates)
                    state["ItemBatcher"] = batcher
        else:
            state["Branches"] = [inner]
    for key in ("Parameters", "Assign", "ItemSelector"):
        if key in state and state[key] and draw(st.booleans()):
            state[key] = {
                k: v for k, v in state[key].items() if not (k.endswith(".$") and v is None)
            }
    return state


@st.composite
def jsonata_state(draw: Any, index: int, depth: int) -> dict[str, Any]:
    kind = draw(
        st.sampled_from(["Pass", "Choice", "Fail", "Map"] if depth < 2 else ["Pass", "Fail"])
    )
    state: dict[str, Any] = {"Type": kind}
    if kind in ("Pass", "Map"):
        state.update(flow(draw, index))
    if kind == "Pass":
        state["Output"] = draw(jsonata)
        if draw(st.booleans()):
            state["Assign"] = {"v": draw(jsonata)}
    elif kind == "Choice":
        state["Choices"] = [{"Condition": draw(jsonata), "Next": draw(st.sampled_from(NAMES))}]
        state["Default"] = draw(st.sampled_from(NAMES))
    elif kind == "Fail":
        state["Error"] = draw(jsonata)
    else:
        state["Items"] = draw(jsonata)
        state["ItemProcessor"] = draw(machine(depth + 1, jsonata_mode=True))
    return state


@st.composite
def machine(draw: Any, depth: int = 0, jsonata_mode: bool = False) -> dict[str, Any]:
    make = jsonata_state if jsonata_mode else jsonpath_state
    states = {name: draw(make(i, depth)) for i, name in enumerate(NAMES)}
    return {"StartAt": "A", "States": states}


def lambdas() -> ScriptedLambdas:
    calls = {"n": 0}

    def handler(function: str, event: Any) -> Any:
        calls["n"] += 1
        return raised("Boom", "odd call") if calls["n"] % 2 else ok(event)

    return ScriptedLambdas(handler)


def run_to_the_end(definition: dict[str, Any], data: Any) -> None:
    try:
        compiled = parse_definition(definition)
    except DefinitionError:
        return  # rejected up front, with a located message: also a clean outcome
    sink = RecordingSink()
    outcome = run_execution(
        compiled, json.dumps(data), info=INFO, clock=VirtualClock(), lambdas=lambdas(), history=sink
    )
    assert outcome.status in ("SUCCEEDED", "FAILED", "TIMED_OUT")
    assert (
        sink.types[-1]
        == {
            "SUCCEEDED": "ExecutionSucceeded",
            "FAILED": "ExecutionFailed",
            "TIMED_OUT": "ExecutionTimedOut",
        }[outcome.status]
    )
    assert [e["id"] for e in sink.events] == list(range(1, len(sink.events) + 1))
    if outcome.status == "SUCCEEDED":
        json.loads(outcome.output or "")


SETTINGS = settings(
    max_examples=int(os.environ.get("ENGINE_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@SETTINGS
@given(machine(), json_values)
def test_jsonpath_executions_always_end_cleanly(definition: dict[str, Any], data: Any) -> None:
    run_to_the_end(definition, data)


@SETTINGS
@given(machine(jsonata_mode=True), json_values)
def test_jsonata_executions_always_end_cleanly(definition: dict[str, Any], data: Any) -> None:
    run_to_the_end({"QueryLanguage": "JSONata", **definition}, data)
