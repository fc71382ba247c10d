"""A Map state's iterations: its items (ItemsPath or Items), each item shaped by ItemSelector,
grouped by an ItemBatcher when it has one, each iteration in a frame of its own.

Iterations run side by side (bounded by MaxConcurrency) when the processor can wait on
something, else one after another in the calling thread. A Distributed Map's iterations are
child executions: their events stay out of the parent's history, they start with no variables,
and ToleratedFailureCount/Percentage apply (MapRun* events).
"""

from __future__ import annotations

import uuid
from typing import Any

from tooling.engine import jsontext
from tooling.engine.batching import form_batches
from tooling.engine.concurrency import BranchStopped, StopSignal
from tooling.engine.dataflow import (
    MAX_PAYLOAD_BYTES,
    Reading,
    integer_value,
    read_path,
    select,
    shown,
)
from tooling.engine.errors import (
    EXCEED_TOLERATED_FAILURE_THRESHOLD,
    QUERY_EVALUATION_ERROR,
    RUNTIME,
    BlockFailed,
    StateRuntimeError,
    StatesError,
)
from tooling.engine.frames import Blocks, Frame, run_group
from tooling.engine.history import HistoryRecorder
from tooling.engine.jsonata_eval import expression_of
from tooling.engine.model import ABSENT, AtPath, Dynamic, Evaluated, Fixed, MapState

_BATCHER_FIELDS = ("MaxItemsPerBatch", "MaxInputBytesPerBatch")


class _DiscardedHistory:
    """Where a distributed Map's child executions write (their events are not the parent's)."""

    def append(self, event: dict[str, Any]) -> None:
        pass


class MapRunner:
    def __init__(self, blocks: Blocks) -> None:
        self.blocks = blocks

    def run(self, frame: Frame, state: MapState, reading: Reading) -> list[Any]:
        """Every iteration's output, in item order."""
        context = self.blocks.context
        history = frame.history
        items = self.items(state, reading)
        max_concurrency = self.number(state, "MaxConcurrency", state.max_concurrency, reading)
        # Recorded on AWS: items and MaxConcurrency are read before MapStateStarted, the
        # tolerated failure numbers after it.
        history.add("MapStateStarted", "mapStateStartedEventDetails", {"length": len(items)})
        tolerated_count = self.number(
            state, "ToleratedFailureCount", state.tolerated_failure_count, reading
        )
        tolerated_percentage = self.number(
            state, "ToleratedFailurePercentage", state.tolerated_failure_percentage, reading
        )
        # With an ItemBatcher each child execution runs one batch: tolerated failures, the
        # result array and MaxConcurrency all count batches.
        batches = self.batches(state, items, reading) if state.item_batcher else None
        children = len(items) if batches is None else len(batches)
        if state.distributed:
            label = state.label or state.name
            map_run_arn = (
                f"arn:aws:states:{context.region}:{context.account}:mapRun:"
                f"{context.info.state_machine_name}/{label}:"
                f"{uuid.UUID(int=context.rng.getrandbits(128))}"
            )
            history.add("MapRunStarted", "mapRunStartedEventDetails", {"mapRunArn": map_run_arn})
        variables = reading.env.variables
        failures = 0
        exceeded = False

        limit = int(max_concurrency or 0)
        concurrent = limit != 1 and state.processor.can_block
        separate = concurrent or state.distributed

        selects = state.item_selector is not ABSENT

        def iteration(index: int, stop: StopSignal) -> Any:
            if batches is not None:
                item_input: Any = batches[index]
            elif selects:
                item_input = self.item_input(state, reading, index, items[index])
            else:
                item_input = items[index]
            if state.distributed:
                # A child execution: its own history and no access to the parent's variables.
                child = Frame(HistoryRecorder(_DiscardedHistory(), context.clock), {}, stop)
                return self.blocks.run_processor(child, state.processor, item_input)
            if separate:
                inner = Frame(history.branch(index), dict(variables), stop)
            elif history.framed:
                # One at a time, nothing else to keep apart: the cheap path (same events).
                inner = Frame(history.branch(index), dict(variables), frame.stop)
            else:  # no positions kept: the parent's recorder serves every iteration
                history.catch_up()
                inner = Frame(history, dict(variables), frame.stop)
            return self.inline_iteration(inner, state, index, item_input)

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
            results = run_group(
                frame, context.clock, children, iteration, limit, concurrent, on_failure
            )
        except BlockFailed as failed:
            if not exceeded:
                raise StatesError(failed.error, failed.cause) from None
            # Cause wording not confirmed against a recorded AWS execution.
            failure = StatesError(
                EXCEED_TOLERATED_FAILURE_THRESHOLD,
                "The specified tolerated failure threshold was exceeded",
            )
            history.add(
                "MapRunFailed",
                "mapRunFailedEventDetails",
                {"error": failure.error, "cause": failure.cause},
            )
            raise failure from None
        for index, output in results_by_failure.items():
            results[index] = output
        if state.distributed:
            history.add("MapRunSucceeded")
        history.add("MapStateSucceeded")
        return results

    def inline_iteration(self, frame: Frame, state: MapState, index: int, item_input: Any) -> Any:
        details = {"name": state.name, "index": index}
        history = frame.history
        history.add("MapIterationStarted", "mapIterationStartedEventDetails", details)
        try:
            output = self.blocks.run_processor(frame, state.processor, item_input)
        except BlockFailed:
            history.add("MapIterationFailed", "mapIterationFailedEventDetails", details)
            raise
        except BranchStopped:
            # A sibling failed. Event and details as botocore's HistoryEvent model lists them
            # (mapIterationAbortedEventDetails: name, index); no AWS recording of it was found.
            history.add("MapIterationAborted", "mapIterationAbortedEventDetails", details)
            raise
        history.add("MapIterationSucceeded", "mapIterationSucceededEventDetails", details)
        return output

    def items(self, state: MapState, reading: Reading) -> list[Any]:
        found = state.items
        if isinstance(found, AtPath):
            items = select(found.path, reading.data, reading.env)
            if not isinstance(items, list):
                # Wording for JSONPath not confirmed (the JSONata one is recorded in the corpus).
                raise _not_array(items, RUNTIME)
            return items
        if isinstance(found, Evaluated):
            items = state.flow.evaluate(found.template, reading)
            if not isinstance(items, list):
                expression = expression_of(found.template)
                if expression is not None:
                    raise expression.unexpected_type("array", items)
                raise _not_array(items, QUERY_EVALUATION_ERROR)
            return items
        if not isinstance(reading.data, list):
            raise _not_array(reading.data, QUERY_EVALUATION_ERROR)
        return reading.data

    def item_input(self, state: MapState, reading: Reading, index: int, item: Any) -> Any:
        if state.item_selector is ABSENT:
            return item
        flow = state.flow
        return flow.evaluate(state.item_selector, flow.item_reading(reading, index, item))

    def batches(self, state: MapState, items: list[Any], reading: Reading) -> list[dict[str, Any]]:
        """The child executions' inputs when the Map has an ItemBatcher."""
        batcher = state.item_batcher
        assert batcher is not None
        max_items = self.number(state, "MaxItemsPerBatch", batcher.max_items_per_batch, reading)
        max_bytes = self.number(
            state, "MaxInputBytesPerBatch", batcher.max_input_bytes_per_batch, reading
        )
        batch_input = None
        if batcher.batch_input is not ABSENT:
            # Evaluated once, against the state's input (after InputPath) and the context
            # object, like ItemSelector without $$.Map.
            batch_input = state.flow.evaluate(batcher.batch_input, reading)
        # ItemSelector shapes each item first; the batches hold the selected items.
        selected = [
            self.item_input(state, reading, index, item) for index, item in enumerate(items)
        ]
        return form_batches(
            selected,
            None if max_items is None else int(max_items),
            None if max_bytes is None else int(max_bytes),
            batch_input,
            batcher.batch_input is not ABSENT,
        )

    def number(
        self, state: MapState, field: str, found: Dynamic | None, reading: Reading
    ) -> float | None:
        """MaxConcurrency / ToleratedFailureCount / ToleratedFailurePercentage and the
        ItemBatcher's MaxItemsPerBatch / MaxInputBytesPerBatch (or their ...Path)."""
        number: float | None
        if found is None:
            number = None
        elif isinstance(found, Fixed):
            number = found.value
        elif isinstance(found, AtPath):
            raw = read_path(found.path, reading.data, reading.env)
            number = integer_value(raw)
            if number is None and field == "ToleratedFailurePercentage":
                number = _number(raw)
            if number is None:
                raise StateRuntimeError(
                    f'The {field}Path field refers to value "{shown(raw)}" which is not a valid '
                    f"integer: {found.path.text}"
                )
        else:
            raw = state.flow.evaluate(found.template, reading)
            number = integer_value(raw) if not isinstance(raw, str) else None
            if number is None and field == "ToleratedFailurePercentage":
                number = _number(raw)
            if number is None:
                expression = expression_of(found.template)
                if expression is not None:
                    raise expression.unexpected_type("number", raw)
                raise StateRuntimeError(f"{field} must be a number", error=QUERY_EVALUATION_ERROR)
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
