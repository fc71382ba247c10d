"""What every target (local runtime, AWS) offers. Answers use boto3's response shapes, so one
follow/render path serves both targets."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from tooling.iam import RoleSpec
    from tooling.package import Package


class Backend(Protocol):
    target: str  # "local" | "aws"
    region: str
    account_id: str

    # deploy: roles and log groups (the local target keeps them as records only)

    def find_role(self, name: str) -> dict[str, Any] | None:
        """iam.get_role(...)["Role"] ("RoleName", "Arn", "AssumeRolePolicyDocument" as a dict)
        plus "InlinePolicies" {name: document} and "ManagedPolicies" [ARN], or None."""
        ...

    def create_role(self, spec: RoleSpec) -> None: ...

    def update_role(self, spec: RoleSpec, current: dict[str, Any]) -> None:
        """Make the role match `spec`, changing only what differs from `current`."""
        ...

    def delete_role(self, name: str) -> None:
        """Delete the role and its policies; nothing happens if it does not exist."""
        ...

    def find_log_group(self, name: str) -> dict[str, Any] | None:
        """logs.describe_log_groups(...) entry ("logGroupName", "arn", "retentionInDays"?)."""
        ...

    def create_log_group(self, name: str, retention_days: int | None) -> None: ...

    def set_log_retention(self, name: str, retention_days: int | None) -> None: ...

    def delete_log_group(self, name: str) -> None: ...

    def owns(self, kind: str, name: str) -> bool:
        """Whether an existing role, log group, function (by name) or state machine (by ARN)
        was deployed by the toolkit for this service and stage (on AWS: by its tags)."""
        ...

    # deploy: functions and state machines

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
        self,
        name: str,
        definition: str,
        role_arn: str,
        type: str,
        logging: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """`logging` is Step Functions' loggingConfiguration (the local target ignores it)."""
        ...

    def update_state_machine(
        self, arn: str, definition: str, role_arn: str, logging: dict[str, Any] | None = None
    ) -> None:
        """`logging` None leaves logging as it is; {"level": "OFF"} turns it off."""
        ...

    def delete_state_machine(self, arn: str) -> None: ...

    def list_state_machines(self) -> list[dict[str, Any]]: ...

    # executions

    def start_execution(self, state_machine_arn: str, name: str, input: str) -> dict[str, Any]:
        """stepfunctions.start_execution(...): {"executionArn", "startDate"}."""
        ...

    def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        """stepfunctions.stop_execution: {"stopDate"}. A RUNNING execution ends ABORTED with an
        ExecutionAborted event; one that has ended already stays as it is. Error and cause
        beyond StopExecution's limits are bad input (exit 2)."""
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

    def current_wait(self, execution_arn: str) -> dict[str, Any] | None:
        """What the running execution sleeps through now (a Wait state or a Retry interval):
        {"state", "kind", "seconds", "until", "error", "retry", "maxAttempts"}; None when
        nothing is known (always on AWS, whose API does not say)."""
        ...

    def resolve_execution(self, name_or_arn: str) -> str:
        """The ARN of the execution named (or ARN'd) by the user; NotFound otherwise."""
        ...

    # the callback pattern (.waitForTaskToken): answer a task token

    def send_task_success(self, task_token: str, output: str) -> None:
        """stepfunctions.send_task_success. InvalidOutput/InvalidToken are bad input (exit 2);
        TaskDoesNotExist/TaskTimedOut (the task is gone) fail the operation (exit 1)."""
        ...

    def send_task_failure(self, task_token: str, error: str | None, cause: str | None) -> None:
        """stepfunctions.send_task_failure, with the errors of send_task_success."""
        ...

    def send_task_heartbeat(self, task_token: str) -> None:
        """stepfunctions.send_task_heartbeat, with the errors of send_task_success."""
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
