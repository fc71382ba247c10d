"""AWS as a target for executions, logs and task tokens: the Backend protocol over Step
Functions, Lambda and CloudWatch Logs (deploying is tooling.deploy.aws_providers).

Every call goes through `tooling.aws.client.AwsClient` (retries, waiters, error translation).
Answers keep boto3's shapes, so the follow/render code is the same as for the local target.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from tooling.aws.client import AwsClient
from tooling.config.service import ServiceConfig
from tooling.errors import AlreadyExists, NotFound
from tooling.names import (
    check_execution_name,
    check_input_size,
    check_stop_reason,
    execution_arn,
    partition_for,
)

HISTORY_PAGE = 1000  # GetExecutionHistory's maximum maxResults
RECENT_HISTORY_PAGE = 100  # a poll usually finds a few new events: read the newest first


class AwsBackend:
    target = "aws"

    def __init__(self, service: ServiceConfig, aws: AwsClient) -> None:
        self.service = service
        self.aws = aws
        self.region = aws.settings.region
        self.account_id = aws.account_id()
        self.partition = partition_for(self.region)
        # EXPRESS executions have no DescribeExecution or history on AWS: they run through
        # StartSyncExecution and their result is kept here for the follow loop.
        self._express_results: dict[str, dict[str, Any]] = {}

    # -- functions ----------------------------------------------------------------------------

    def find_function(self, name: str) -> dict[str, Any] | None:
        found = self.aws.find(
            "lambda", "get_function", what=f"look up function {name}", FunctionName=name
        )
        return dict(found["Configuration"]) if found else None

    # -- state machines -----------------------------------------------------------------------

    def find_state_machine(self, arn: str) -> dict[str, Any] | None:
        return self.aws.find(
            "stepfunctions",
            "describe_state_machine",
            what=f"look up state machine {arn}",
            stateMachineArn=arn,
        )

    # -- executions ---------------------------------------------------------------------------

    def start_execution(self, state_machine_arn: str, name: str, input: str) -> dict[str, Any]:
        check_execution_name(name)
        check_input_size(input, "--input")
        if self._is_express(state_machine_arn):
            return self._start_sync(state_machine_arn, name, input)
        try:
            return self.aws.call(
                "stepfunctions",
                "start_execution",
                what=f"start execution {name}",
                stateMachineArn=state_machine_arn,
                name=name,
                input=input,
            )
        except AlreadyExists:
            raise AlreadyExists(
                f"Execution Already Exists: '{execution_arn(state_machine_arn, name)}'",
                hint="names are unique per state machine; omit --execution-name to get a UUID",
            ) from None
        except NotFound:
            raise NotFound(
                f"state machine {state_machine_arn} does not exist on the aws target",
                hint="run `tool deploy --target aws` first",
            ) from None

    def _is_express(self, state_machine_arn: str) -> bool:
        return any(
            m.arn == state_machine_arn and m.type == "EXPRESS"
            for m in self.service.state_machines.values()
        )

    def _start_sync(self, state_machine_arn: str, name: str, input: str) -> dict[str, Any]:
        """Run an EXPRESS execution to its end (at most 5 minutes, AWS's limit)."""
        result = self.aws.call(
            "stepfunctions",
            "start_sync_execution",
            what=f"run express execution {name}",
            stateMachineArn=state_machine_arn,
            name=name,
            input=input,
        )
        self._express_results[result["executionArn"]] = result
        return {"executionArn": result["executionArn"], "startDate": result["startDate"]}

    def stop_execution(
        self, execution_arn: str, error: str | None = None, cause: str | None = None
    ) -> dict[str, Any]:
        check_stop_reason(error, cause)
        params: dict[str, Any] = {"executionArn": execution_arn}
        if error is not None:
            params["error"] = error
        if cause is not None:
            params["cause"] = cause
        return self.aws.call(
            "stepfunctions", "stop_execution", what=f"stop execution {execution_arn}", **params
        )

    def describe_execution(self, execution_arn: str) -> dict[str, Any]:
        if execution_arn in self._express_results:
            return self._express_results[execution_arn]
        return self.aws.call(
            "stepfunctions",
            "describe_execution",
            what=f"describe execution {execution_arn}",
            executionArn=execution_arn,
        )

    def get_execution_history(
        self, execution_arn: str, next_token: str | None = None, max_results: int = 1000
    ) -> dict[str, Any]:
        params: dict[str, Any] = {"executionArn": execution_arn, "maxResults": max_results}
        if next_token:
            params["nextToken"] = next_token
        return self.aws.call(
            "stepfunctions",
            "get_execution_history",
            what=f"read the history of {execution_arn}",
            **params,
        )

    def history_since(self, execution_arn: str, after_id: int) -> list[dict[str, Any]]:
        """The events after `after_id`, read newest first (reverseOrder) and only back to the
        last one seen: a poll costs one small call, whatever the history's length."""
        if execution_arn in self._express_results:
            return []  # AWS keeps no history of EXPRESS executions
        newer: dict[int, dict[str, Any]] = {}
        params: dict[str, Any] = {
            "executionArn": execution_arn,
            "reverseOrder": True,
            "maxResults": RECENT_HISTORY_PAGE if after_id else HISTORY_PAGE,
        }
        while True:
            page = self.aws.call(
                "stepfunctions",
                "get_execution_history",
                what=f"read the history of {execution_arn}",
                **params,
            )
            events = page.get("events", [])
            for event in events:
                if event["id"] > after_id:
                    newer[event["id"]] = event
            reached_seen = any(event["id"] <= after_id for event in events)
            if reached_seen or not events or not page.get("nextToken"):
                return [newer[key] for key in sorted(newer)]
            params["nextToken"] = page["nextToken"]
            params["maxResults"] = HISTORY_PAGE

    def resume_stalled(self) -> int:
        return 0  # Step Functions carries executions on across host failures itself

    def list_executions(self, state_machine_arn: str | None = None) -> list[dict[str, Any]]:
        machines = (
            [state_machine_arn]
            if state_machine_arn
            else [m.arn for m in self.service.state_machines.values()]
        )
        found: list[dict[str, Any]] = []
        for arn in machines:
            if self.find_state_machine(arn) is None:
                continue
            for page in self.aws.pages(
                "stepfunctions",
                "list_executions",
                what=f"list executions of {arn}",
                stateMachineArn=arn,
            ):
                found.extend(page["executions"])
        return sorted(found, key=lambda item: item["startDate"], reverse=True)

    def resolve_execution(self, name_or_arn: str) -> str:
        if name_or_arn.startswith("arn:"):
            return str(self.describe_execution(name_or_arn)["executionArn"])
        for machine in self.service.state_machines.values():
            arn = execution_arn(machine.arn, name_or_arn)
            found = self.aws.find(
                "stepfunctions",
                "describe_execution",
                what=f"look up execution {name_or_arn}",
                executionArn=arn,
            )
            if found is not None:
                return arn
        raise NotFound(
            f"no execution named {name_or_arn!r} of this service's state machines on the aws "
            "target",
            hint="`tool executions --target aws` lists them",
        )

    # -- logs ---------------------------------------------------------------------------------

    # the callback pattern

    def send_task_success(self, task_token: str, output: str) -> None:
        self.aws.call(
            "stepfunctions",
            "send_task_success",
            what="send task success",
            taskToken=task_token,
            output=output,
        )

    def get_activity_task(self, activity_arn: str, worker_name: str) -> dict[str, Any]:
        answer = self.aws.call(
            "stepfunctions",
            "get_activity_task",
            what="get activity task",
            activityArn=activity_arn,
            workerName=worker_name,
        )
        return {key: answer[key] for key in ("taskToken", "input") if key in answer}

    def send_task_failure(self, task_token: str, error: str | None, cause: str | None) -> None:
        params: dict[str, Any] = {"taskToken": task_token}
        if error is not None:
            params["error"] = error
        if cause is not None:
            params["cause"] = cause
        self.aws.call("stepfunctions", "send_task_failure", what="send task failure", **params)

    def send_task_heartbeat(self, task_token: str) -> None:
        self.aws.call(
            "stepfunctions",
            "send_task_heartbeat",
            what="send task heartbeat",
            taskToken=task_token,
        )

    def function_logs(
        self, function_name: str, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        """Events of /aws/lambda/<function>; the cursor is "<last timestamp>:<ids seen at it>"
        so a later call neither repeats nor skips events of the same millisecond."""
        start, _, seen_text = (after or "0:").partition(":")
        seen = set(filter(None, seen_text.split(",")))
        params: dict[str, Any] = {"logGroupName": f"/aws/lambda/{function_name}"}
        if int(start):
            params["startTime"] = int(start)
        entries: list[dict[str, Any]] = []
        last, ids_at_last = int(start), set(seen)
        try:
            for page in self.aws.pages(
                "logs", "filter_log_events", what=f"read the logs of {function_name}", **params
            ):
                for event in page.get("events", []):
                    if event.get("eventId") in seen:
                        continue
                    stamp = int(event["timestamp"])
                    entries.append(
                        {
                            "timestamp": datetime.fromtimestamp(stamp / 1000, UTC),
                            "message": str(event.get("message", "")).rstrip("\n"),
                        }
                    )
                    if stamp > last:
                        last, ids_at_last = stamp, set()
                    ids_at_last.add(str(event.get("eventId")))
        except NotFound:  # no log group yet: the function never ran
            return [], after
        return entries, f"{last}:{','.join(sorted(ids_at_last))}"

    def current_wait(self, execution_arn: str) -> dict[str, Any] | None:
        return None  # neither DescribeExecution nor the history says what a run sleeps through

    def wait_for_change(self, execution_arn: str, seconds: float) -> None:
        time.sleep(seconds)  # AWS tells nothing: the follower polls

    def execution_logs(
        self, execution_arn: str, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        # CloudWatch does not tie a Lambda's log lines to the execution that invoked it; the
        # history already carries each call's input and output.
        return [], after
