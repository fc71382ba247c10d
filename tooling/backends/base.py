"""What every target (local runtime, AWS) offers for executions, logs and task tokens. Answers
use boto3's response shapes, so one follow/render path serves both targets."""

from __future__ import annotations

from typing import Any, Protocol


class Backend(Protocol):
    target: str  # "local" | "aws"
    region: str
    account_id: str

    # read-only look-ups that commands other than deploy need (`tool logs`, `tool graph`);
    # deploying is tooling.deploy's, through its providers

    def find_function(self, name: str) -> dict[str, Any] | None:
        """lambda.get_function(...)["Configuration"], or None when it does not exist."""
        ...

    def find_state_machine(self, arn: str) -> dict[str, Any] | None:
        """stepfunctions.describe_state_machine(...), or None when it does not exist."""
        ...

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

    def wait_for_change(self, execution_arn: str, seconds: float) -> None:
        """Sleep `seconds` between two polls of a follower, or less when the target can tell
        that the execution changed (the local target, for a worker this process started)."""
        ...

    def resolve_execution(self, name_or_arn: str) -> str:
        """The ARN of the execution named (or ARN'd) by the user; NotFound otherwise."""
        ...

    def resume_stalled(self) -> int:
        """Carry on every running execution whose runner died; how many. (AWS does that
        itself; the local target resumes them from their stored history.)"""
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

    def get_activity_task(self, activity_arn: str, worker_name: str) -> dict[str, Any]:
        """stepfunctions.get_activity_task: `{"taskToken", "input"}` of the oldest attempt
        waiting for a worker of the activity, or `{}` when none came within the long poll."""
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
