"""How the interpreter is built (issue 17), checked on the source and the compiled model: no
mixin and no cloned runs, explicit frames, ports declared rather than probed, a sentinel for
absent fields, and the per-state choices made by the compiler."""

from __future__ import annotations

import ast
import dataclasses
import gc
from pathlib import Path

from tooling.engine import model, parse_definition, run_execution
from tooling.engine.clock import VirtualClock
from tooling.engine.dataflow import JsonataFlow, JsonPathFlow
from tooling.engine.ports import Clock
from tooling.engine.tasks import (
    LambdaCallbackTask,
    LambdaFunctionTask,
    LambdaInvokeTask,
    Pattern,
    ServiceCallbackTask,
    ServiceJobTask,
    ServiceTask,
)

from .fakes import INFO, RecordingSink, ScriptedLambdas, ok

ENGINE = Path(__file__).resolve().parents[2] / "tooling" / "engine"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:f"


def sources() -> dict[str, ast.Module]:
    return {p.name: ast.parse(p.read_text(encoding="utf-8")) for p in ENGINE.glob("*.py")}


def test_no_run_is_cloned_and_no_frame_is_reassigned() -> None:
    offending = []
    for name, tree in sources().items():
        for node in ast.walk(tree):
            text = ast.unparse(node) if isinstance(node, ast.Call | ast.Assign) else ""
            if "object.__new__" in text or "__dict__.update" in text:
                offending.append((name, text))
            if isinstance(node, ast.Assign) and any(
                ast.unparse(target) in ("self.history", "self.stop") for target in node.targets
            ):
                offending.append((name, text))
    assert offending == []


def test_no_class_of_the_engine_is_a_mixin() -> None:
    names = [
        node.name
        for tree in sources().values()
        for node in ast.walk(tree)
        if isinstance(node, ast.ClassDef)
    ]
    assert not [name for name in names if "Mixin" in name]


def test_the_clock_port_declares_what_the_engine_uses_and_nothing_probes_it() -> None:
    declared = {name for name in vars(Clock) if not name.startswith("_")}
    assert {"now", "sleep", "sleep_unless", "run_workers"} <= declared
    probes = [
        (name, ast.unparse(node))
        for name, tree in sources().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id in ("getattr", "hasattr")
        and "clock" in ast.unparse(node.args[0])
    ]
    assert probes == []


def test_the_compiled_model_has_a_sentinel_not_has_flags() -> None:
    flags = [
        (cls.__name__, f.name)
        for cls in vars(model).values()
        if isinstance(cls, type) and dataclasses.is_dataclass(cls)
        for f in dataclasses.fields(cls)
        if f.name.startswith("has_")
    ]
    assert flags == []
    machine = parse_definition({"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}})
    state = machine.states["P"]
    assert isinstance(state, model.PassState)
    assert state.result is model.ABSENT
    assert isinstance(state.flow, JsonPathFlow) and state.flow.parameters is model.ABSENT


def test_each_state_s_data_flow_is_chosen_when_it_is_compiled() -> None:
    machine = parse_definition(
        {
            "StartAt": "A",
            "States": {
                "A": {"Type": "Pass", "Next": "B"},
                "B": {"Type": "Pass", "QueryLanguage": "JSONata", "Output": "{% 1 %}", "End": True},
            },
        }
    )
    assert isinstance(machine.states["A"].flow, JsonPathFlow)
    assert isinstance(machine.states["B"].flow, JsonataFlow)


def test_each_task_s_pattern_and_invoker_are_chosen_when_it_is_compiled() -> None:
    class Catalog:
        def supports(self, resource_type: str, action: str) -> bool:
            return True

    def task(resource: str, **fields: object) -> dict[str, object]:
        return {"Type": "Task", "Resource": resource, "End": True, **fields}

    token = {"FunctionName": "f", "Payload": {"t.$": "$$.Task.Token"}}
    states = {
        "Fn": task(FUNCTION),
        "Invoke": task("arn:aws:states:::lambda:invoke", Parameters={"FunctionName": "f"}),
        "Callback": task("arn:aws:states:::lambda:invoke.waitForTaskToken", Parameters=token),
        "Send": task("arn:aws:states:::sqs:sendMessage"),
        "SendWait": task(
            "arn:aws:states:::sqs:sendMessage.waitForTaskToken",
            Parameters={"MessageBody": {"t.$": "$$.Task.Token"}},
        ),
        "Job": task("arn:aws:states:::states:startExecution.sync:2"),
    }
    machine = parse_definition({"StartAt": "Fn", "States": states}, provided=Catalog())
    invokers = {
        name: state.invoker
        for name, state in machine.states.items()
        if isinstance(state, model.TaskState)
    }
    assert invokers["Fn"] == LambdaFunctionTask(FUNCTION)
    assert invokers["Invoke"] == LambdaInvokeTask()
    assert invokers["Callback"] == LambdaCallbackTask()
    assert invokers["Send"] == ServiceTask(("sqs", "sendMessage"))
    assert invokers["SendWait"] == ServiceCallbackTask(("sqs", "sendMessage"))
    assert invokers["Job"] == ServiceJobTask(("states", "startExecution"), ".sync:2")
    patterns = {name: type(invoker).pattern for name, invoker in invokers.items()}
    assert patterns == {
        "Fn": Pattern.REQUEST_RESPONSE,
        "Invoke": Pattern.REQUEST_RESPONSE,
        "Callback": Pattern.CALLBACK,
        "Send": Pattern.REQUEST_RESPONSE,
        "SendWait": Pattern.CALLBACK,
        "Job": Pattern.JOB,
    }


def test_a_finished_run_leaves_nothing_in_reference_cycles() -> None:
    """A run's interpreter, frames and runners are freed as soon as it ends: a cycle among them
    would keep the history sink's events alive until a full collection (the Map benchmark
    lost 8-13% to that)."""
    task = {"Type": "Task", "Resource": FUNCTION, "End": True}
    machine = {
        "StartAt": "Both",
        "States": {
            "Both": {
                "Type": "Parallel",
                "Branches": [
                    {"StartAt": "T", "States": {"T": task}},
                    {
                        "StartAt": "Each",
                        "States": {
                            "Each": {
                                "Type": "Map",
                                "ItemProcessor": {"StartAt": "T", "States": {"T": task}},
                                "End": True,
                            }
                        },
                    },
                ],
                "End": True,
            }
        },
    }
    compiled = parse_definition(machine)  # the tree it is compiled from has parent links

    def run() -> str:
        lambdas = ScriptedLambdas(lambda function, event: ok(event))
        return run_execution(
            compiled, "[1, 2, 3]", info=INFO, clock=VirtualClock(), lambdas=lambdas,
            history=RecordingSink(),
        ).status  # fmt: skip

    assert run() == "SUCCEEDED"  # once first: lazy imports and caches
    gc.collect()
    gc.disable()
    try:
        assert run() == "SUCCEEDED"
        assert gc.collect() == 0
    finally:
        gc.enable()
