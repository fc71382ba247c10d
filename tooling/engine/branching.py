"""Parallel branches and Map iterations: how the interpreter runs states in inner scopes.

Branches and iterations run one after the other (AWS runs them at once and interleaves their
events; the events themselves are the same). Mixed into the interpreter's run, whose
`run_block`, `history`, `clock` and `rng` it uses.
"""

from __future__ import annotations

import random
import uuid
from typing import TYPE_CHECKING, Any

from tooling.engine import jsontext
from tooling.engine.dataflow import bindings, integer_value, read_path, select, shown
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
from tooling.engine.model import MapState, ParallelState, Processor, State
from tooling.engine.payload import evaluate

if TYPE_CHECKING:
    from tooling.engine.interpreter import ExecutionInfo
    from tooling.engine.ports import Clock


class _DiscardedHistory:
    """Where a distributed Map's child executions write (their events are not the parent's)."""

    def append(self, event: dict[str, Any]) -> None:
        pass


class BranchingMixin:
    history: HistoryRecorder
    clock: Clock
    info: ExecutionInfo
    region: str
    account: str
    rng: random.Random

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
        self.history.add("ParallelStateStarted")
        outputs = []
        for branch in state.branches:
            try:
                outputs.append(self.run_processor(branch, branch_input, dict(env.variables)))
            except BlockFailed as failed:
                raise StatesError(failed.error, failed.cause) from None
        # AWS records ParallelStateSucceeded before ParallelStateExited. (The conformance
        # corpus lacks it only because LocalStack's snapshot normaliser drops it; see
        # tests/engine/conformance.py.)
        self.history.add("ParallelStateSucceeded")
        return outputs

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
        del max_concurrency  # iterations run one after the other whatever the limit
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
        results: list[Any] = []
        failures = 0
        for index, item in enumerate(items):
            item_input = self.map_item_input(state, data, env, scope, index, item)
            try:
                results.append(self.map_iteration(state, index, item_input, env.variables))
            except BlockFailed as failed:
                failures += 1
                tolerated = _within_tolerance(
                    failures, len(items), tolerated_count, tolerated_percentage
                )
                if state.distributed:
                    if tolerated:
                        results.append(_error_output(failed))
                        continue
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
                # Inline Maps have no failure tolerance (AWS guide: Distributed mode only).
                raise StatesError(failed.error, failed.cause) from None
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
            parent = self.history
            self.history = HistoryRecorder(_DiscardedHistory(), self.clock)
            try:
                return self.run_processor(state.processor, item_input, {})
            finally:
                self.history = parent
        self.history.add("MapIterationStarted", "mapIterationStartedEventDetails", details)
        try:
            output = self.run_processor(state.processor, item_input, dict(variables))
        except BlockFailed:
            self.history.add("MapIterationFailed", "mapIterationFailedEventDetails", details)
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

    def map_number(
        self, state: MapState, field: str, data: Any, env: Env, scope: dict[str, Any] | None
    ) -> float | None:
        """MaxConcurrency / ToleratedFailureCount / ToleratedFailurePercentage (or ...Path)."""
        attribute = {
            "MaxConcurrency": "max_concurrency",
            "ToleratedFailureCount": "tolerated_failure_count",
            "ToleratedFailurePercentage": "tolerated_failure_percentage",
        }[field]
        value = getattr(state, attribute)
        path: JsonPath | None = getattr(state, f"{attribute}_path")
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
