"""A Parallel state's branches: each runs in a frame of its own, all of them side by side
(through `frames.run_group`, simulated under the virtual clock), or one after another in the
calling thread when no branch can wait on anything (the same history at a fraction of the
cost)."""

from __future__ import annotations

from typing import Any

from tooling.engine.concurrency import StopSignal
from tooling.engine.env import Env
from tooling.engine.errors import BlockFailed, StatesError
from tooling.engine.frames import Blocks, Frame, run_group
from tooling.engine.model import ParallelState


class ParallelRunner:
    def __init__(self, blocks: Blocks) -> None:
        self.blocks = blocks

    def run(self, frame: Frame, state: ParallelState, branch_input: Any, env: Env) -> list[Any]:
        """Every branch's output, in branch order (`branch_input`: after Parameters)."""
        history = frame.history
        started = history.add("ParallelStateStarted")
        variables = env.variables
        branches = state.branches

        def branch(index: int, stop: StopSignal) -> Any:
            # Each branch reads the variables as they were and keeps its own assignments.
            inner = Frame(history.branch(index, started), dict(variables), stop)
            return self.blocks.run_processor(inner, branches[index], branch_input)

        try:
            outputs = run_group(
                frame,
                self.blocks.context.clock,
                len(branches),
                branch,
                0,
                any(b.can_block for b in branches),
            )
        except BlockFailed as failed:
            raise StatesError(failed.error, failed.cause) from None
        # AWS records ParallelStateSucceeded before ParallelStateExited.
        history.add("ParallelStateSucceeded")
        return outputs
