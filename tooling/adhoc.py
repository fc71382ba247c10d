"""`tool run`: one execution of a definition file, in this process, without deploying anything.

Lambda tasks reach the functions of the serverless.yml in the current folder (packaged the same
way `tool deploy` packages them), when there is one.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tooling.asl import parse
from tooling.config.service import config_file_name
from tooling.engine import ExecutionInfo, MockError, TaskMocks, compile_definition
from tooling.engine.callbacks import REAL_PAUSE_SECONDS, InMemoryTaskCallbacks
from tooling.engine.clock import make_clock
from tooling.engine.ports import Clock, WaitNotice
from tooling.errors import DefinitionError, InputError
from tooling.localrt.code import install_code
from tooling.localrt.execute import run_local_execution, waits_for_tokens
from tooling.localrt.lambda_runner import FunctionSpec, Invocation
from tooling.localrt.services import LOCAL_INTEGRATIONS
from tooling.localrt.waits import notice_dict
from tooling.names import LOCAL_ACCOUNT_ID, execution_arn, function_arn, state_machine_arn
from tooling.session import Options, load
from tooling.sourcemap import SourceMap, load_json, read_text
from tooling.statedir import STATE_DIR, state_path
from tooling.validate import check_or_raise, validate_tree


class MemoryHistory:
    def __init__(self, on_event: Callable[[dict[str, Any]], None] | None) -> None:
        self.events: list[dict[str, Any]] = []
        self.on_event = on_event

    def append(self, event: dict[str, Any]) -> None:
        self.events.append(event)
        if self.on_event is not None:
            self.on_event(event)


def _clearing_wait(
    on_event: Callable[[dict[str, Any]], None] | None,
    on_wait: Callable[[dict[str, Any] | None], None] | None,
) -> Callable[[dict[str, Any]], None] | None:
    """Each event ends whatever wait was being shown, then goes to `on_event`."""
    if on_wait is None:
        return on_event

    def event(item: dict[str, Any]) -> None:
        on_wait(None)
        if on_event is not None:
            on_event(item)

    return event


def _wait_notices(
    on_wait: Callable[[dict[str, Any] | None], None],
) -> Callable[[WaitNotice], None]:
    def tell(notice: WaitNotice) -> None:
        on_wait(notice_dict(notice))

    return tell


def _handler_output(
    on_log: Callable[[dict[str, Any]], None], history: MemoryHistory
) -> Callable[[FunctionSpec, Invocation], None]:
    """What a handler printed, line by line, as `tool invoke` shows it."""

    def tell(spec: FunctionSpec, invocation: Invocation) -> None:
        now = datetime.now(UTC)
        last = history.events[-1]["id"] if history.events else 0
        for line in invocation.log.splitlines():
            on_log(
                {
                    "timestamp": now,
                    "message": line,
                    "functionName": spec.name,
                    "afterEventId": last,
                }
            )

    return tell


def _refuse_intrinsics(definition: Any, source: SourceMap) -> None:
    """Outside a service folder nothing can resolve `{"Fn::GetAtt": ...}`: say so, not that the
    Resource is not a string."""
    from tooling.validate.definition import iter_states

    for name, state, pointer in iter_states(definition):
        resource = state.get("Resource")
        if isinstance(resource, dict):
            raise DefinitionError(
                f"state {name!r}: Resource {json.dumps(resource)} needs serverless.yml to resolve",
                **source.error_kwargs(f"{pointer}/Resource"),
                hint="run `tool run` in the service folder, or write the function's ARN",
            )


def _service_functions(options: Options) -> tuple[dict[str, FunctionSpec], Any, str]:
    """Specs of the current folder's functions, their service (or None) and the region."""
    if not (options.directory / config_file_name(options.directory, options.config)).is_file():
        return {}, None, options.region or "us-east-1"
    from dataclasses import replace

    from tooling.config.layers import own_layer_id
    from tooling.config.runtimes import LOCAL_FAMILIES
    from tooling.package import build_layer_package, build_packages, check_handlers

    service = load(options)
    # The local runtime runs Python and Node.js handlers; a Task calling another function is
    # refused by the invoker (not found locally), so only those are packaged here.
    local = {k: f for k, f in service.functions.items() if f.runtime_family in LOCAL_FAMILIES}
    runnable = replace(service, functions=local)
    check_handlers(runnable)
    packages = build_packages(runnable, state_path(service.directory, "build", create=True))
    code_root = state_path(service.directory, "code", create=True)
    build = state_path(service.directory, "build", create=True)
    named = {own_layer_id(e) for fn in local.values() for e in fn.settings.layers}
    layer_dirs = {  # the service's own layers its functions name, unpacked (/opt on Lambda)
        layer.logical_id: install_code(code_root, package.path, package.sha256)
        for layer in service.layers.values()
        if layer.logical_id in named
        for package in [build_layer_package(service, layer, build)]
    }
    # Keyed as the invoker looks functions up: by ARN in the local target's account.
    specs = {
        function_arn(service.region, LOCAL_ACCOUNT_ID, fn.name): FunctionSpec(
            name=fn.name,
            arn=fn.arn,
            handler=fn.handler,
            runtime=fn.runtime,
            memory_size=fn.memory_size,
            timeout=fn.timeout,
            environment=dict(fn.environment),
            code_dir=install_code(
                code_root, packages.functions[key].path, packages.functions[key].sha256
            ),
            region=service.region,
            layer_dirs=tuple(
                layer_dirs[i] for e in fn.settings.layers if (i := own_layer_id(e)) in layer_dirs
            ),
        )
        for key, fn in local.items()
    }
    return specs, service, service.region


def _refuse_other_runtimes(definition: Any, service: Any) -> None:
    """A Task calling a function the local runtime cannot run (Go, Java, ..., or Node.js
    without `node`): one line now, rather than a failure in the middle of the run."""
    from tooling.config.runtimes import LOCAL_FAMILIES
    from tooling.localrt.runtimes import check_runs_here

    text = json.dumps(definition)
    for function in service.functions.values():
        called = f'"{function.name}"' in text or function.arn in text
        if function.runtime_family in LOCAL_FAMILIES:
            if called:
                check_runs_here(function.runtime, function=function.key)
            continue
        if called:
            raise InputError(
                f"the definition calls function '{function.key}' ({function.runtime}), which "
                "the local runtime cannot run yet (it runs Python and Node.js handlers)",
                hint="answer that Task with --mock FILE, or run it on AWS "
                "(`tool deploy --target aws`)",
            )


def _store_path(directory: Path) -> Path:
    """The deployed local state `sqs:sendMessage` and `states:startExecution` reach (used only if
    it exists; checked like every state path)."""
    if (directory / STATE_DIR).is_dir():
        return state_path(directory, "local.db")
    return directory / STATE_DIR / "local.db"


def read_mock_file(path: Path) -> tuple[Any, SourceMap]:
    """A mock file's JSON and positions (see tooling.engine.mocks), with file:line errors."""
    if not path.is_file():
        raise MockError(f"{path}: no such file", hint="pass the path of a JSON mock file")
    return load_json(
        read_text(path, str(path), MockError), str(path), error=MockError, what="mock file"
    )


def load_mocks(
    path: Path,
    definition: Any,
    machine_names: list[str],
    test_case: str | None = None,
) -> TaskMocks:
    """Task answers from a mock file, for a run of `definition`: a Step Functions Local file's
    entry is the first of `machine_names` it has (or its only one); every state it names must
    be a Task state of the definition."""
    config, source = read_mock_file(path)
    mocks = TaskMocks.from_config(config, source, machine_names=machine_names, test_case=test_case)
    mocks.check_states(definition)
    return mocks


def _machine_names(path: Path, service: Any) -> list[str]:
    """The names a mock file may know this definition by: the deployed name and key of the
    service's state machine defined in this file, then the file's stem."""
    names: list[str] = []
    if service is not None:
        for machine in service.state_machines.values():
            source = machine.source.file if machine.source is not None else ""
            if source and (service.directory / source).resolve() == path.resolve():
                names += [machine.name, machine.key]
    return [*names, path.stem]


def run_definition(
    path: Path,
    input_text: str,
    options: Options,
    *,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    on_log: Callable[[dict[str, Any]], None] | None = None,
    on_wait: Callable[[dict[str, Any] | None], None] | None = None,
    clock: Clock | None = None,
    clock_kind: str = "real",
    mocks: TaskMocks | None = None,
    mock_file: Path | None = None,
    test_case: str | None = None,
    machine_type: str = "STANDARD",
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run the definition to its end; answers (describe_execution shape, history events).

    `on_log` gets each line a handler printed (as Backend.execution_logs entries), `on_wait`
    what the run sleeps through on the real clock, then None when it moves on. `mock_file`
    (with `test_case`) is read once the service is known (see load_mocks)."""
    if machine_type not in ("STANDARD", "EXPRESS"):
        raise InputError(
            f"unknown state machine type {machine_type!r}", hint="use STANDARD or EXPRESS"
        )
    if clock_kind not in ("real", "virtual"):
        raise InputError(
            f"unknown clock {clock_kind!r}", hint="use --clock real or --clock virtual"
        )
    if not path.is_file():
        raise DefinitionError(f"{path}: no such file", hint="pass the path of a JSON definition")
    definition, source = load_json(
        read_text(path, str(path), DefinitionError),
        str(path),
        error=DefinitionError,
        what="definition JSON",
    )
    specs, service, region = _service_functions(options)
    if service is not None:
        from tooling.config.intrinsics import resolve_definition_intrinsics

        definition = resolve_definition_intrinsics(definition, service, source)
    # Read once: validated, then compiled for the engine.
    tree = parse(definition, source)
    if service is None:
        _refuse_intrinsics(tree, source)
    check_or_raise(validate_tree(tree))
    if mock_file is not None:
        mocks = load_mocks(mock_file, tree, _machine_names(path, service), test_case)
    if service is not None and mocks is None:
        _refuse_other_runtimes(definition, service)
    machine = compile_definition(tree, mocks.states if mocks else (), provided=LOCAL_INTEGRATIONS)

    name = str(uuid.uuid4())
    machine_arn = state_machine_arn(region, LOCAL_ACCOUNT_ID, path.stem)
    arn = execution_arn(machine_arn, name)
    history = MemoryHistory(_clearing_wait(on_event, on_wait))
    run_clock = clock or make_clock(clock_kind)
    callbacks = InMemoryTaskCallbacks(run_clock, pause_seconds=REAL_PAUSE_SECONDS)
    info = ExecutionInfo(
        execution_arn=arn,
        name=name,
        state_machine_arn=machine_arn,
        state_machine_name=path.stem,
        role_arn=f"arn:aws:iam::{LOCAL_ACCOUNT_ID}:role/{path.stem}-role",
        start_time=run_clock.now(),
        state_machine_type=machine_type,
    )
    # sqs:sendMessage and states:startExecution reach the queues and state machines
    # `tool deploy` made for this folder.
    outcome = run_local_execution(
        machine,
        input_text,
        info=info,
        clock=run_clock,
        clock_kind=clock_kind,
        history=history,
        callbacks=callbacks,
        functions=specs.get,
        database=_store_path(options.directory),
        waits_for_tokens=waits_for_tokens(json.dumps(definition)),
        mocks=mocks,
        on_invocation=_handler_output(on_log, history) if on_log is not None else None,
        on_wait=_wait_notices(on_wait) if on_wait is not None and clock_kind == "real" else None,
    )
    stop = history.events[-1]["timestamp"] if history.events else datetime.now(UTC)
    description: dict[str, Any] = {
        "executionArn": arn,
        "stateMachineArn": machine_arn,
        "name": name,
        "status": outcome.status,
        "startDate": info.start_time,
        "stopDate": stop,
        "input": input_text,
    }
    if outcome.output is not None:
        description["output"] = outcome.output
    if outcome.error is not None:
        description["error"] = outcome.error
    if outcome.cause is not None:
        description["cause"] = outcome.cause
    return description, history.events
