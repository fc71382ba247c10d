"""What a state's expressions can read besides its input: the context object ($$) and variables.

The context object is built only when an expression asks for it (most states never do).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tooling.engine.timestamps import format_context_time


class Env:
    __slots__ = (
        "execution",
        "state_machine",
        "state_name",
        "entered_time",
        "retry_count",
        "map_item",
        "task_token",
        "variables",
        "_context",
    )

    def __init__(
        self,
        execution: dict[str, Any],
        state_machine: dict[str, Any],
        state_name: str,
        entered_time: datetime,
        variables: dict[str, Any],
        retry_count: int | None = None,
        map_item: tuple[int, Any] | None = None,
        task_token: str | None = None,
    ) -> None:
        self.execution = execution
        self.state_machine = state_machine
        self.state_name = state_name
        self.entered_time = entered_time
        self.retry_count = retry_count
        self.map_item = map_item
        self.task_token = task_token
        self.variables = variables
        self._context: dict[str, Any] | None = None

    @property
    def context(self) -> dict[str, Any]:
        """The context object $$ (Execution, StateMachine, State and, in ItemSelector, Map;
        Task.Token in a .waitForTaskToken Task)."""
        if self._context is None:
            state: dict[str, Any] = {
                "EnteredTime": format_context_time(self.entered_time),
                "Name": self.state_name,
            }
            if self.retry_count is not None:
                state["RetryCount"] = self.retry_count
            context: dict[str, Any] = {
                "Execution": self.execution,
                "StateMachine": self.state_machine,
                "State": state,
            }
            if self.map_item is not None:
                context["Map"] = {"Item": {"Index": self.map_item[0], "Value": self.map_item[1]}}
            if self.task_token is not None:
                context["Task"] = {"Token": self.task_token}
            self._context = context
        return self._context

    def for_item(self, index: int, value: Any) -> Env:
        """The same environment with $$.Map.Item set (for ItemSelector / Parameters)."""
        return self._derived((index, value), None)

    def with_task_token(self, token: str) -> Env:
        """The same environment with $$.Task.Token set (one attempt of a callback Task)."""
        return self._derived(self.map_item, token)

    def _derived(self, map_item: tuple[int, Any] | None, task_token: str | None) -> Env:
        return Env(
            self.execution,
            self.state_machine,
            self.state_name,
            self.entered_time,
            self.variables,
            self.retry_count,
            map_item,
            task_token,
        )
