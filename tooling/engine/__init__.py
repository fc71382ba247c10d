"""The ASL interpreter: compile a definition once, run executions against injected ports.

The names below load on first use (PEP 562), so a submodule such as `tooling.engine.jsonpath`
(which `tool validate` needs) does not pull in the interpreter with it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tooling.engine.compiler import compile_definition, parse_definition
    from tooling.engine.context import ExecutionInfo
    from tooling.engine.errors import StatesError
    from tooling.engine.interpreter import ExecutionOutcome, run_execution
    from tooling.engine.mocks import MockError, TaskMocks
    from tooling.engine.model import StateMachine

_EXPORTS = {
    "ExecutionInfo": "tooling.engine.context",
    "ExecutionOutcome": "tooling.engine.interpreter",
    "MockError": "tooling.engine.mocks",
    "StateMachine": "tooling.engine.model",
    "StatesError": "tooling.engine.errors",
    "TaskMocks": "tooling.engine.mocks",
    "compile_definition": "tooling.engine.compiler",
    "parse_definition": "tooling.engine.compiler",
    "run_execution": "tooling.engine.interpreter",
}

__all__ = [
    "ExecutionInfo",
    "ExecutionOutcome",
    "MockError",
    "StateMachine",
    "StatesError",
    "TaskMocks",
    "compile_definition",
    "parse_definition",
    "run_execution",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
