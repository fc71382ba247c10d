"""What every target (local runtime, AWS) offers. Answers use boto3's response shapes, so one
follow/render path serves both targets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tooling.package import Package


class Backend(Protocol):
    target: str  # "local" | "aws"
    region: str
    account_id: str

    # deploy

    def find_function(self, name: str) -> dict[str, Any] | None:
        """lambda.get_function(...)["Configuration"], or None when it does not exist."""
        ...

    def create_function(self, name: str, config: dict[str, Any], package: Package) -> None: ...

    def update_function_code(self, name: str, package: Package) -> None: ...

    def update_function_configuration(self, name: str, config: dict[str, Any]) -> None: ...

    def delete_function(self, name: str) -> None: ...

    def find_state_machine(self, arn: str) -> dict[str, Any] | None:
        """stepfunctions.describe_state_machine(...), or None when it does not exist."""
        ...

    def create_state_machine(
        self, name: str, definition: str, role_arn: str, type: str
    ) -> dict[str, Any]: ...

    def update_state_machine(self, arn: str, definition: str, role_arn: str) -> None: ...

    def delete_state_machine(self, arn: str) -> None: ...

    def list_state_machines(self) -> list[dict[str, Any]]: ...

    # executions

    def start_execution(self, state_machine_arn: str, name: str, input: str) -> dict[str, Any]:
        """stepfunctions.start_execution(...): {"executionArn", "startDate"}."""
        ...

    def describe_execution(self, execution_arn: str) -> dict[str, Any]: ...

    def get_execution_history(
        self, execution_arn: str, next_token: str | None = None, max_results: int = 1000
    ) -> dict[str, Any]:
        """stepfunctions.get_execution_history(...): {"events": [...], "nextToken"?}."""
        ...

    def history_since(self, execution_arn: str, after_id: int) -> list[dict[str, Any]]:
        """Every history event with an id above `after_id`, oldest first."""
        ...

    def list_executions(self, state_machine_arn: str | None = None) -> list[dict[str, Any]]: ...

    def resolve_execution(self, name_or_arn: str) -> str:
        """The ARN of the execution named (or ARN'd) by the user; NotFound otherwise."""
        ...

    # logs

    def function_logs(
        self, function_name: str, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Log events {"timestamp", "message"} of a function after a cursor, and the next cursor."""
        ...

    def execution_logs(
        self, execution_arn: str, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Handler output during one execution.

        Each entry: {"timestamp", "message", "functionName", "afterEventId"}."""
        ...
