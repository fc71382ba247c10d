"""AWS as a target: the Backend protocol over Lambda, Step Functions, IAM and CloudWatch Logs.

Every call goes through `tooling.aws.client.AwsClient` (retries, waiters, error translation).
Answers keep boto3's shapes, so the follow/render code is the same as for the local target.
"""

from __future__ import annotations

import contextlib
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from tooling.aws.client import AwsClient
from tooling.aws.errors import AwsRejected
from tooling.config.service import ServiceConfig
from tooling.errors import AlreadyExists, NotFound
from tooling.iam import RoleSpec
from tooling.names import (
    check_execution_name,
    check_input_size,
    check_stop_reason,
    execution_arn,
    partition_for,
)
from tooling.package import Package

# Lambda's limit for a zip sent in the request (CreateFunction/UpdateFunctionCode ZipFile);
# larger packages go through S3, which this toolkit does not do yet.
MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024
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
        # These tags mark what the toolkit made for this service and stage: a resource of the
        # same name without them is someone else's, and is neither updated nor removed.
        self.tags = {"tool:service": service.service, "tool:stage": service.stage}
        # EXPRESS executions have no DescribeExecution or history on AWS: they run through
        # StartSyncExecution and their result is kept here for the follow loop.
        self._express_results: dict[str, dict[str, Any]] = {}

    # -- ownership ----------------------------------------------------------------------------

    def owns(self, kind: str, name: str) -> bool:
        tags = self._tags_of(kind, name)
        return all(tags.get(key) == value for key, value in self.tags.items())

    def _tags_of(self, kind: str, name: str) -> dict[str, str]:
        what = f"read the tags of {kind} {name}"
        if kind == "role":
            found = self.aws.find("iam", "get_role", what=what, RoleName=name)
            tags = found["Role"].get("Tags", []) if found else []
            return {tag["Key"]: tag["Value"] for tag in tags}
        if kind == "function":
            found = self.aws.find("lambda", "get_function", what=what, FunctionName=name)
            return dict(found.get("Tags") or {}) if found else {}
        if kind == "state machine":
            answer = self.aws.call(
                "stepfunctions", "list_tags_for_resource", what=what, resourceArn=name
            )
            return {tag["key"]: tag["value"] for tag in answer.get("tags", [])}
        if kind == "log group":
            arn = f"arn:{self.partition}:logs:{self.region}:{self.account_id}:log-group:{name}"
            answer = self.aws.call("logs", "list_tags_for_resource", what=what, resourceArn=arn)
            return dict(answer.get("tags") or {})
        raise ValueError(f"unknown resource kind {kind!r}")

    # -- roles --------------------------------------------------------------------------------

    def find_role(self, name: str) -> dict[str, Any] | None:
        what = f"look up role {name}"
        found = self.aws.find("iam", "get_role", what=what, RoleName=name)
        if found is None:
            return None
        role: dict[str, Any] = dict(found["Role"])
        inline: dict[str, Any] = {}
        for page in self.aws.pages("iam", "list_role_policies", what=what, RoleName=name):
            for policy in page["PolicyNames"]:
                answer = self.aws.call(
                    "iam", "get_role_policy", what=what, RoleName=name, PolicyName=policy
                )
                inline[policy] = _document(answer["PolicyDocument"])
        managed = [
            attached["PolicyArn"]
            for page in self.aws.pages(
                "iam", "list_attached_role_policies", what=what, RoleName=name
            )
            for attached in page["AttachedPolicies"]
        ]
        role["AssumeRolePolicyDocument"] = _document(role.get("AssumeRolePolicyDocument"))
        role["InlinePolicies"] = inline
        role["ManagedPolicies"] = managed
        return role

    def create_role(self, spec: RoleSpec) -> None:
        self.aws.call(
            "iam",
            "create_role",
            what=f"create role {spec.name}",
            RoleName=spec.name,
            AssumeRolePolicyDocument=json.dumps(spec.trust_policy),
            Description=f"{self.service.service} {self.service.stage}, made by tool",
            Tags=[{"Key": k, "Value": v} for k, v in self.tags.items()],
        )
        for policy, document in spec.inline_policies.items():
            self._put_role_policy(spec.name, policy, document)
        for arn in spec.managed_policies:
            self.aws.call(
                "iam",
                "attach_role_policy",
                what=f"attach {arn} to role {spec.name}",
                RoleName=spec.name,
                PolicyArn=arn,
            )

    def update_role(self, spec: RoleSpec, current: dict[str, Any]) -> None:
        name = spec.name
        if current.get("AssumeRolePolicyDocument") != spec.trust_policy:
            self.aws.call(
                "iam",
                "update_assume_role_policy",
                what=f"update the trust policy of role {name}",
                RoleName=name,
                PolicyDocument=json.dumps(spec.trust_policy),
            )
        have_inline: dict[str, Any] = current.get("InlinePolicies", {})
        for policy, document in spec.inline_policies.items():
            if have_inline.get(policy) != document:
                self._put_role_policy(name, policy, document)
        for policy in have_inline:
            if policy not in spec.inline_policies:
                self.aws.call(
                    "iam",
                    "delete_role_policy",
                    what=f"delete policy {policy} of role {name}",
                    RoleName=name,
                    PolicyName=policy,
                )
        have_managed = set(current.get("ManagedPolicies", []))
        for arn in sorted(set(spec.managed_policies) - have_managed):
            self.aws.call(
                "iam", "attach_role_policy", what=f"attach {arn} to {name}", RoleName=name,
                PolicyArn=arn,
            )  # fmt: skip
        for arn in sorted(have_managed - set(spec.managed_policies)):
            self.aws.call(
                "iam", "detach_role_policy", what=f"detach {arn} from {name}", RoleName=name,
                PolicyArn=arn,
            )  # fmt: skip

    def _put_role_policy(self, role: str, policy: str, document: dict[str, Any]) -> None:
        self.aws.call(
            "iam",
            "put_role_policy",
            what=f"put policy {policy} on role {role}",
            RoleName=role,
            PolicyName=policy,
            PolicyDocument=json.dumps(document),
        )

    def delete_role(self, name: str) -> None:
        current = self.find_role(name)
        if current is None:
            return
        what = f"delete role {name}"
        for policy in current["InlinePolicies"]:
            self.aws.call("iam", "delete_role_policy", what=what, RoleName=name, PolicyName=policy)
        for arn in current["ManagedPolicies"]:
            self.aws.call("iam", "detach_role_policy", what=what, RoleName=name, PolicyArn=arn)
        with contextlib.suppress(NotFound):
            self.aws.call("iam", "delete_role", what=what, RoleName=name)

    # -- log groups ---------------------------------------------------------------------------

    def find_log_group(self, name: str) -> dict[str, Any] | None:
        for page in self.aws.pages(
            "logs", "describe_log_groups", what=f"look up log group {name}", logGroupNamePrefix=name
        ):
            for group in page["logGroups"]:
                if group["logGroupName"] == name:
                    return dict(group)
        return None

    def create_log_group(self, name: str, retention_days: int | None) -> None:
        # AlreadyExists: Lambda made it on a first invocation between our look-up and now.
        with contextlib.suppress(AlreadyExists):
            self.aws.call(
                "logs",
                "create_log_group",
                what=f"create log group {name}",
                logGroupName=name,
                tags=self.tags,
            )
        if retention_days is not None:
            self.set_log_retention(name, retention_days)

    def set_log_retention(self, name: str, retention_days: int | None) -> None:
        what = f"set the retention of log group {name}"
        if retention_days is None:
            self.aws.call("logs", "delete_retention_policy", what=what, logGroupName=name)
        else:
            self.aws.call(
                "logs",
                "put_retention_policy",
                what=what,
                logGroupName=name,
                retentionInDays=retention_days,
            )

    def delete_log_group(self, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.aws.call(
                "logs", "delete_log_group", what=f"delete log group {name}", logGroupName=name
            )

    # -- functions ----------------------------------------------------------------------------

    def find_function(self, name: str) -> dict[str, Any] | None:
        found = self.aws.find(
            "lambda", "get_function", what=f"look up function {name}", FunctionName=name
        )
        return dict(found["Configuration"]) if found else None

    def create_function(self, name: str, config: dict[str, Any], package: Package) -> None:
        answer = self.aws.call(
            "lambda",
            "create_function",
            what=f"create function {name}",
            FunctionName=name,
            Code={"ZipFile": _zip_bytes(package, name)},
            PackageType="Zip",
            Tags=self.tags,
            **config,
        )
        if answer.get("State") != "Active":
            self.aws.wait(
                "lambda",
                "function_active_v2",
                what=f"wait for function {name} to become active",
                FunctionName=name,
            )

    def update_function_code(self, name: str, package: Package) -> None:
        answer = self.aws.call(
            "lambda",
            "update_function_code",
            what=f"update the code of function {name}",
            FunctionName=name,
            ZipFile=_zip_bytes(package, name),
        )
        self._settle(name, answer)

    def update_function_configuration(self, name: str, config: dict[str, Any]) -> None:
        answer = self.aws.call(
            "lambda",
            "update_function_configuration",
            what=f"update the configuration of function {name}",
            FunctionName=name,
            **config,
        )
        self._settle(name, answer)

    def _settle(self, name: str, answer: dict[str, Any]) -> None:
        # Wait only when Lambda says the update is still being applied (chalice's approach).
        if answer.get("LastUpdateStatus") not in (None, "Successful"):
            self.aws.wait(
                "lambda",
                "function_updated_v2",
                what=f"wait for the update of function {name}",
                FunctionName=name,
            )

    def delete_function(self, name: str) -> None:
        with contextlib.suppress(NotFound):
            self.aws.call(
                "lambda", "delete_function", what=f"delete function {name}", FunctionName=name
            )

    # -- state machines -----------------------------------------------------------------------

    def find_state_machine(self, arn: str) -> dict[str, Any] | None:
        return self.aws.find(
            "stepfunctions",
            "describe_state_machine",
            what=f"look up state machine {arn}",
            stateMachineArn=arn,
        )

    def create_state_machine(
        self,
        name: str,
        definition: str,
        role_arn: str,
        type: str,
        logging: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        extra = {"loggingConfiguration": logging} if logging else {}
        return self.aws.call(
            "stepfunctions",
            "create_state_machine",
            what=f"create state machine {name}",
            name=name,
            definition=definition,
            roleArn=role_arn,
            type=type,
            tags=[{"key": k, "value": v} for k, v in self.tags.items()],
            **extra,
        )

    def update_state_machine(
        self, arn: str, definition: str, role_arn: str, logging: dict[str, Any] | None = None
    ) -> None:
        extra = {"loggingConfiguration": logging} if logging else {}
        self.aws.call(
            "stepfunctions",
            "update_state_machine",
            what=f"update state machine {arn}",
            stateMachineArn=arn,
            definition=definition,
            roleArn=role_arn,
            **extra,
        )

    def delete_state_machine(self, arn: str) -> None:
        with contextlib.suppress(NotFound):
            self.aws.call(
                "stepfunctions",
                "delete_state_machine",
                what=f"delete state machine {arn}",
                stateMachineArn=arn,
            )

    def list_state_machines(self) -> list[dict[str, Any]]:
        return [
            machine
            for page in self.aws.pages(
                "stepfunctions", "list_state_machines", what="list state machines"
            )
            for machine in page["stateMachines"]
        ]

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

    def execution_logs(
        self, execution_arn: str, after: str | None = None
    ) -> tuple[list[dict[str, Any]], str | None]:
        # CloudWatch does not tie a Lambda's log lines to the execution that invoked it; the
        # history already carries each call's input and output.
        return [], after


def _document(value: Any) -> Any:
    """boto3 decodes IAM policy documents to dicts; some emulators answer with the text."""
    if isinstance(value, str):
        text = value if value.lstrip().startswith("{") else unquote(value)
        return json.loads(text)
    return value


def _zip_bytes(package: Package, function_name: str) -> bytes:
    if package.size > MAX_DIRECT_UPLOAD_BYTES:
        raise AwsRejected(
            f"the package for function {function_name} is {package.size} bytes; Lambda takes "
            f"at most {MAX_DIRECT_UPLOAD_BYTES} bytes uploaded directly",
            hint="leave large files out with package.patterns (e.g. '!data/**')",
        )
    return package.path.read_bytes()
