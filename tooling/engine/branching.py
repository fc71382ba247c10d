"""Parallel branches and Map iterations: how the interpreter runs states in inner scopes.

Branches and iterations run concurrently, as on AWS: each on its own copy of the run (its own
history chain and stop signal), through `concurrency.run_jobs` (bounded by MaxConcurrency;
simulated, deterministic concurrency under the virtual clock). A processor that cannot block
(no Task, Wait or Retry anywhere inside) runs its branches one after another in the calling
thread, which gives the same history at a fraction of the cost. Mixed into the interpreter's
run, whose `run_block`, `history`, `clock` and `rng` it uses.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from tooling.engine import jsontext
from tooling.engine.batching import form_batches
from tooling.engine.concurrency import BranchStopped, StopSignal, run_jobs
from tooling.engine.dataflow import (
    MAX_PAYLOAD_BYTES,
    bindings,
    integer_value,
    read_path,
    select,
    shown,
)
from tooling.engine.env import Env
from tooling.engine.errors import (
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    BlockFailed,
    StateRuntimeError,
    StatesError,
)
from tooling.engine.history import HistoryRecorder
from tooling.engine.jsonata_eval import evaluate as jsonata_evaluate
from tooling.engine.jsonpath import JsonPath
from tooling.engine.model import MapState, ParallelState, Processor, State, TaskState, WaitState
from tooling.engine.payload import evaluate

if TYPE_CHECKING:
    from tooling.engine.ports import Clock


class _RunInfo(Protocol):
    """What branches read of the interpreter's ExecutionInfo (the interpreter imports this
    module, so it is not imported back)."""

    @property
    def state_machine_name(self) -> str: ...


class _DiscardedHistory:
    """Where a distributed Map's child executions write (their events are not the parent's)."""

    def append(self, event: dict[str, Any]) -> None:
        pass


class BranchingMixin:
    history: HistoryRecorder
    clock: Clock
    info: _RunInfo
    region: str
    account: str
    rng: random.Random
    stop: StopSignal | None
    blocking: dict[int, bool]

    def run_block(
        self,
        start_at: str,
        states: dict[str, State],
        data: Any,
        variables: dict[str, Any],
        first: bool = False,
    ) -> Any:
        raise NotImplementedError

    # ---- Parallel -----------------------------------------------------------------------------

    def parallel_run(self, state: ParallelState, branch_input: Any, env: Env) -> list[Any]:
        started = self.history.add("ParallelStateStarted")
        variables = env.variables
        branches = state.branches

        def branch(index: int, stop: StopSignal) -> Any:
            run = self.branch_copy(self.history.branch(index, started), stop)
            return run.run_processor(branches[index], branch_input, dict(variables))

        try:
            outputs = self.run_group(
                len(branches), branch, 0, any(self.can_block(b) for b in branches)
            )
        except BlockFailed as failed:
            raise StatesError(failed.error, failed.cause) from None
        # AWS records ParallelStateSucceeded before ParallelStateExited.
        self.history.add("ParallelStateSucceeded")
        return outputs

    def branch_copy(self, history: HistoryRecorder, stop: StopSignal) -> BranchingMixin:
        """This run as seen from one branch or iteration (shares everything but these two)."""
        run = object.__new__(type(self))
        run.__dict__.update(self.__dict__)
        run.history = history
        run.stop = stop
        return run

    def run_group(
        self,
        count: int,
        job: Callable[[int, StopSignal], Any],
        limit: int,
        concurrent: bool,
        on_failure: Callable[[int, BaseException], bool] | None = None,
    ) -> list[Any]:
        """Run the jobs of one Parallel or Map state; a failure stops the others (re-raised)."""
        stop = self.stop.child() if self.stop is not None else StopSignal()
        try:
            results = run_jobs(
                count,
                job,
                limit=limit,
                stop=stop,
                clock=self.clock,
                concurrent=concurrent,
                on_failure=on_failure or _not_tolerated,
            )
        finally:
            self.history.catch_up()
        if stop.is_set():  # no failure here: an enclosing branch's sibling failed
            raise BranchStopped()
        return results

    def can_block(self, processor: Processor) -> bool:
        """Whether running the processor may wait on something (a Task, a Wait, a Retry
        interval): only then does running its branches at once change anything."""
        known = self.blocking.get(id(processor))
        if known is None:
            known = any(_state_can_block(s) for s in processor.states.values())
            self.blocking[id(processor)] = known
        return known

    def run_processor(self, processor: Processor, data: Any, variables: dict[str, Any]) -> Any:
        return self.run_block(processor.start_at, processor.states, data, variables)

    # ---- Map ----------------------------------------------------------------------------------

    def map_run(self, state: MapState, data: Any, env: Env, scope: dict[str, Any] | None) -> Any:
        """Every iteration's output, in item order (`data` is the input after InputPath)."""
        items = self.map_items(state, data, env, scope)
        max_concurrency = self.map_number(state, "MaxConcurrency", data, env, scope)
        # Recorded on AWS: items and MaxConcurrency are read before MapStateStarted, the
        # tolerated failure numbers after it.
        self.history.add("MapStateStarted", "mapStateStartedEventDetails", {"length": len(items)})
        tolerated_count = self.map_number(state, "ToleratedFailureCount", data, env, scope)
        tolerated_percentage = self.map_number(
            state, "ToleratedFailurePercentage", data, env, scope
        )
        # With an ItemBatcher each child execution runs one batch: tolerated failures, the
        # result array and MaxConcurrency all count batches.
        batches = self.map_batches(state, items, data, env, scope) if state.item_batcher else None
        children = len(items) if batches is None else len(batches)
        map_run_arn = None
        if state.distributed:
            label = state.label or state.name
            map_run_arn = (
                f"arn:aws:states:{self.region}:{self.account}:mapRun:"
                f"{self.info.state_machine_name}/{label}:{uuid.UUID(int=self.rng.getrandbits(128))}"
            )
            self.history.add(
                "MapRunStarted", "mapRunStartedEventDetails", {"mapRunArn": map_run_arn}
            )
        variables = env.variables
        failures = 0
        exceeded = False

        limit = int(max_concurrency or 0)
        concurrent = limit != 1 and self.can_block(state.processor)
        separate = concurrent or state.distributed

        def iteration(index: int, stop: StopSignal) -> Any:
            if batches is not None:
                item_input: Any = batches[index]
            else:
                item_input = self.map_item_input(state, data, env, scope, index, items[index])
            if separate:
                run = self.branch_copy(self.history.branch(index), stop)
                return run.map_iteration(state, index, item_input, variables)
            # One at a time, nothing else to keep apart: the cheap path (same events).
            parent = self.history
            if not parent.framed:  # no positions kept: this recorder serves every iteration
                parent.catch_up()
                return self.map_iteration(state, index, item_input, variables)
            self.history = parent.branch(index)
            try:
                return self.map_iteration(state, index, item_input, variables)
            finally:
                self.history = parent

        def on_failure(index: int, exc: BaseException) -> bool:
            nonlocal failures, exceeded
            if not state.distributed or not isinstance(exc, BlockFailed):
                # Inline Maps have no failure tolerance (AWS guide: Distributed mode only).
                return False
            failures += 1
            if _within_tolerance(failures, children, tolerated_count, tolerated_percentage):
                results_by_failure[index] = _error_output(exc)
                return True
            exceeded = True
            return False

        results_by_failure: dict[int, Any] = {}
        try:
            results = self.run_group(children, iteration, limit, concurrent, on_failure)
        except BlockFailed as failed:
            if not exceeded:
                raise StatesError(failed.error, failed.cause) from None
            # Cause wording not confirmed against a recorded AWS execution.
            failure = StatesError(
                EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            )
            self.history.add(
                "MapRunFailed",
                "mapRunFailedEventDetails",
                {"error": failure.error, "cause": failure.cause},
            )
            raise failure from None
        for index, output in results_by_failure.items():
            results[index] = output
        if state.distributed:
            self.history.add("MapRunSucceeded")
        self.history.add("MapStateSucceeded")
        return results

    def map_iteration(
        self, state: MapState, index: int, item_input: Any, variables: dict[str, Any]
    ) -> Any:
        details = {"name": state.name, "index": index}
        if state.distributed:
            # A child execution: its own history and no access to the parent's variables.
            self.history = HistoryRecorder(_DiscardedHistory(), self.clock)
            return self.run_processor(state.processor, item_input, {})
        self.history.add("MapIterationStarted", "mapIterationStartedEventDetails", details)
        try:
            output = self.run_processor(state.processor, item_input, dict(variables))
        except BlockFailed:
            self.history.add("MapIterationFailed", "mapIterationFailedEventDetails", details)
            raise
        except BranchStopped:
            # A sibling failed. Event and details as botocore's HistoryEvent model lists them
            # (mapIterationAbortedEventDetails: name, index); no AWS recording of it was found.
            self.history.add("MapIterationAborted", "mapIterationAbortedEventDetails", details)
            raise
        self.history.add("MapIterationSucceeded", "mapIterationSucceededEventDetails", details)
        return output

    def map_items(
        self, state: MapState, data: Any, env: Env, scope: dict[str, Any] | None
    ) -> list[Any]:
        if scope is not None:
            if state.has_items:
                items = jsonata_evaluate(state.items, scope)
                if not isinstance(items, list):
                    template = state.items
                    expression = getattr(template, "expression", None)
                    if expression is not None:
                        raise expression.unexpected_type("array", items)
                    raise _not_array(items, QUERY_EVALUATION_ERROR)
                return items
            if not isinstance(data, list):
                raise _not_array(data, QUERY_EVALUATION_ERROR)
            return data
        items = select(state.items_path, data, env)
        if not isinstance(items, list):
            # Wording for JSONPath not confirmed (the JSONata one is recorded in the corpus).
            raise _not_array(items, RUNTIME)
        return items

    def map_item_input(
        self,
        state: MapState,
        data: Any,
        env: Env,
        scope: dict[str, Any] | None,
        index: int,
        item: Any,
    ) -> Any:
        if not state.has_item_selector:
            return item
        item_env = env.for_item(index, item)
        if scope is not None:
            item_scope = bindings({"input": data, "context": item_env.context}, env.variables)
            return jsonata_evaluate(state.item_selector, item_scope)
        return evaluate(state.item_selector, data, item_env)

    def map_batches(
        self, state: MapState, items: list[Any], data: Any, env: Env, scope: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        """The child executions' inputs when the Map has an ItemBatcher."""
        batcher = state.item_batcher
        assert batcher is not None
        max_items = self.map_number(state, "MaxItemsPerBatch", data, env, scope)
        max_bytes = self.map_number(state, "MaxInputBytesPerBatch", data, env, scope)
        batch_input = None
        if batcher.has_batch_input:
            # Evaluated once, against the state's input (after InputPath) and the context
            # object, like ItemSelector without $$.Map.
            if scope is not None:
                batch_input = jsonata_evaluate(batcher.batch_input, scope)
            else:
                batch_input = evaluate(batcher.batch_input, data, env)
        # ItemSelector shapes each item first; the batches hold the selected items.
        selected = [
            self.map_item_input(state, data, env, scope, index, item)
            for index, item in enumerate(items)
        ]
        return form_batches(
            selected,
            None if max_items is None else int(max_items),
            None if max_bytes is None else int(max_bytes),
            batch_input,
            batcher.has_batch_input,
        )

    def map_number(
        self, state: MapState, field: str, data: Any, env: Env, scope: dict[str, Any] | None
    ) -> float | None:
        """MaxConcurrency / ToleratedFailureCount / ToleratedFailurePercentage and the
        ItemBatcher's MaxItemsPerBatch / MaxInputBytesPerBatch (or their ...Path)."""
        attribute = _NUMBER_FIELDS[field]
        owner: Any = state.item_batcher if field in _BATCHER_FIELDS else state
        value = getattr(owner, attribute)
        path: JsonPath | None = getattr(owner, f"{attribute}_path")
        if path is not None:
            raw = read_path(path, data, env)
            number: float | None = integer_value(raw)
            if number is None and field == "ToleratedFailurePercentage":
                number = _number(raw)
            if number is None:
                raise StateRuntimeError(
                    f'The {field}Path field refers to value "{shown(raw)}" which is not a valid '
                    f"integer: {path.text}"
                )
        elif value is not None and not isinstance(value, int | float):
            raw = jsonata_evaluate(value, scope or {})
            number = integer_value(raw) if not isinstance(raw, str) else None
            if number is None and field == "ToleratedFailurePercentage":
                number = _number(raw)
            if number is None:
                expression = getattr(value, "expression", None)
                if expression is not None:
                    raise expression.unexpected_type("number", raw)
                raise StateRuntimeError(f"{field} must be a number", error=QUERY_EVALUATION_ERROR)
        else:
            number = value
        if field in _BATCHER_FIELDS:
            # AWS: "must be a positive integer"; MaxInputBytesPerBatch at most 256 KiB. The
            # causes' wording is not confirmed against a recorded AWS execution.
            if number is not None and number < 1:
                raise StateRuntimeError(f"{field} must be a positive integer.")
            if (
                field == "MaxInputBytesPerBatch"
                and number is not None
                and number > MAX_PAYLOAD_BYTES
            ):
                raise StateRuntimeError(f"{field} cannot be greater than {MAX_PAYLOAD_BYTES}.")
        if number is not None and number < 0:
            raise StateRuntimeError(f"{field} cannot be negative.")
        if field == "ToleratedFailurePercentage" and number is not None and number > 100:
            # Wording not confirmed against a recorded AWS execution.
            raise StateRuntimeError(f"{field} cannot be greater than 100.")
        return number


_NUMBER_FIELDS = {
    "MaxConcurrency": "max_concurrency",
    "ToleratedFailureCount": "tolerated_failure_count",
    "ToleratedFailurePercentage": "tolerated_failure_percentage",
    "MaxItemsPerBatch": "max_items_per_batch",
    "MaxInputBytesPerBatch": "max_input_bytes_per_batch",
}
_BATCHER_FIELDS = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")


def _not_tolerated(index: int, failure: BaseException) -> bool:
    return False


def _state_can_block(state: State) -> bool:
    if isinstance(state, TaskState | WaitState) or getattr(state, "retry", ()):
        return True
    if isinstance(state, ParallelState):
        return any(_state_can_block(s) for b in state.branches for s in b.states.values())
    if isinstance(state, MapState):
        return any(_state_can_block(s) for s in state.processor.states.values())
    return False


def _not_array(value: Any, error: str) -> StateRuntimeError:
    return StateRuntimeError(
        f"Map state input must be an array but was: {jsontext.dumps(value)}", error=error
    )


def _error_output(failed: BlockFailed) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if failed.error is not None:
        out["Error"] = failed.error
    if failed.cause is not None:
        out["Cause"] = failed.cause
    return out


def _within_tolerance(
    failures: int, total: int, count: float | None, percentage: float | None
) -> bool:
    """Whether this many failed items still let a Distributed Map succeed: it fails when
    either threshold that is set is exceeded (both unset: no failure is tolerated)."""
    if count is not None and failures > count:
        return False
    if percentage is not None and failures * 100 > percentage * total:
        return False
    return count is not None or percentage is not None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None
