"""The Starter port over a toolkit Backend (local runtime or AWS), with AWS error codes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tooling.backends.base import Backend
from tooling.errors import AlreadyExists, InputError, NotFound
from tooling.triggers.start_from_messages import StartError


class BackendStarter:
    """Turns the toolkit's error types back into the codes StartExecution would answer with."""

    def __init__(self, backend: Backend) -> None:
        self.backend = backend

    def start_execution(self, state_machine_arn: str, name: str, input: str) -> Mapping[str, Any]:
        try:
            return self.backend.start_execution(state_machine_arn, name, input)
        except AlreadyExists as exc:
            raise StartError("ExecutionAlreadyExists", exc.message) from exc
        except InputError as exc:
            raise StartError("InvalidExecutionInput", exc.message) from exc
        except NotFound as exc:
            raise StartError("StateMachineDoesNotExist", exc.message) from exc

    def describe_execution(self, execution_arn: str) -> Mapping[str, Any]:
        try:
            return self.backend.describe_execution(execution_arn)
        except NotFound as exc:
            raise StartError("ExecutionDoesNotExist", exc.message) from exc
