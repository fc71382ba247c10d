"""The ASL interpreter: parse a definition once, run executions against injected ports."""

from tooling.engine.errors import StatesError
from tooling.engine.interpreter import ExecutionInfo, ExecutionOutcome, run_execution
from tooling.engine.mocks import MockError, TaskMocks
from tooling.engine.model import StateMachine
from tooling.engine.parser import parse_definition

__all__ = [
    "ExecutionInfo",
    "ExecutionOutcome",
    "MockError",
    "StateMachine",
    "StatesError",
    "TaskMocks",
    "parse_definition",
    "run_execution",
]
