"""The stack of `resources:`, through CloudFormation: AWS's on the AWS target, the local AWS
services' (moto) on the local target. One provider, given the client of its target.

- created and updated with change sets, so that CloudFormation checks the template before any
  change; the planner calls `update` only when the template, parameters, tags, role or
  notification topics differ from what the stack has (DescribeStacks, GetTemplate), so a deploy
  with nothing to do creates no change set;
- waited on, each new stack event a progress line;
- a failure ends with the stack rolled back (a stack whose creation failed is deleted, so the
  next deploy starts clean) and one line naming the resource and CloudFormation's reason;
- owned through the stack's tags `tool:service` and `tool:stage`, like every other kind.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from tooling.aws.errors import AwsOperationFailed, AwsRejected
from tooling.deploy.differences import stack_diff
from tooling.deploy.models import Address, Stack
from tooling.deploy.providers import Description, Diff, Found, Member, Reporter
from tooling.errors import BadInput, NotFound

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient

# CloudFormation takes a template of at most 51,200 bytes in the request (TemplateBody); larger
# ones must be uploaded to S3 first (TemplateURL), which the toolkit does not do.
MAX_TEMPLATE_BODY_BYTES = 51_200
# What Serverless asks for (lib/plugins/aws/lib/update-stack.js): IAM resources, named ones, and
# macros/transforms such as AWS::Serverless-2016-10-31.
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"]
POLL_SECONDS = 5.0
MAX_POLLS = 720  # an hour, CloudFormation's own default timeout for a stack operation
NO_CHANGES = ("didn't contain changes", "No updates are to be performed")
DONE = ("CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE")
# A creation that did not finish: the stack holds nothing usable and is made again.
NEVER_CREATED = ("REVIEW_IN_PROGRESS", "ROLLBACK_COMPLETE", "ROLLBACK_FAILED", "CREATE_FAILED")
CANCELLED = ("Resource creation cancelled", "Resource update cancelled")

TemplateFilter = Callable[[Stack], tuple[dict[str, Any], list[str]]]


# How the ARN of a stack's resource is made from its physical id, for the common types whose
# physical id is not an ARN already (CloudFormation's "Ref" return values; ARN formats from the
# Service Authorization Reference). Other types show the physical id alone.
_ARN_FORMATS = {
    "AWS::DynamoDB::Table": "arn:{p}:dynamodb:{r}:{a}:table/{id}",
    "AWS::S3::Bucket": "arn:{p}:s3:::{id}",
    "AWS::IAM::Role": "arn:{p}:iam::{a}:role/{id}",
    "AWS::Logs::LogGroup": "arn:{p}:logs:{r}:{a}:log-group:{id}:*",
    "AWS::SSM::Parameter": "arn:{p}:ssm:{r}:{a}:parameter/{bare}",
    "AWS::Kinesis::Stream": "arn:{p}:kinesis:{r}:{a}:stream/{id}",
    "AWS::KMS::Key": "arn:{p}:kms:{r}:{a}:key/{id}",
    "AWS::Lambda::Function": "arn:{p}:lambda:{r}:{a}:function:{id}",
    "AWS::Events::EventBus": "arn:{p}:events:{r}:{a}:event-bus/{id}",
}


def member_arn(resource_type: str, physical_id: str, stack_id: str) -> str:
    """The ARN of a stack's resource, when its physical id is one or makes one."""
    if not physical_id or physical_id.startswith("arn:"):
        return physical_id
    parts = stack_id.split(":")
    if len(parts) < 6:
        return ""
    partition, region, account = parts[1], parts[3], parts[4]
    if resource_type == "AWS::SQS::Queue":  # the physical id is the queue's URL
        name = physical_id.rstrip("/").rsplit("/", 1)[-1]
        return f"arn:{partition}:sqs:{region}:{account}:{name}"
    form = _ARN_FORMATS.get(resource_type)
    if form is None:
        return ""
    return form.format(
        p=partition, r=region, a=account, id=physical_id, bare=physical_id.lstrip("/")
    )


def settled(status: str) -> bool:
    """Whether no operation is running on a stack in this state (REVIEW_IN_PROGRESS: a change
    set waits to be executed, nothing runs)."""
    return status == "REVIEW_IN_PROGRESS" or not status.endswith("_IN_PROGRESS")


def sent_as_is(stack: Stack) -> tuple[dict[str, Any], list[str]]:
    return stack.template, []


class CloudFormationStacks:
    """Find, diff, create, update and delete the stack of `resources:` through `aws()`."""

    def __init__(
        self,
        aws: Callable[[], AwsClient],
        tags: dict[str, str],
        reporter: Reporter,
        *,
        target: str,
        template_for: TemplateFilter = sent_as_is,
        poll_seconds: float = POLL_SECONDS,
        synchronous: bool = False,
        may_exist: Callable[[], bool] = lambda: True,
    ) -> None:
        self._aws = aws
        self.tags = tags
        self.report = reporter
        self.target = target
        self.template_for = template_for
        self.poll_seconds = poll_seconds
        # moto's CloudFormation works within the request: a stack still "in progress" after
        # it is one whose operation failed half-way, not one to wait for.
        self.synchronous = synchronous
        self.may_exist = may_exist  # False: the stack cannot exist (nothing to look up)

    def aws(self) -> AwsClient:
        return self._aws()

    # -- the provider -------------------------------------------------------------------------

    def check(self, resource: Stack) -> list[str]:
        template, warnings = self.template_for(resource)
        size = len(_body(template).encode())
        if size > MAX_TEMPLATE_BODY_BYTES:
            raise AwsRejected(
                f"the template of stack {resource.name} (resources: in {resource.declared_in}) "
                f"is {size} bytes; CloudFormation takes at most {MAX_TEMPLATE_BODY_BYTES} bytes "
                "in a request, and the toolkit does not upload templates to S3",
                hint="move some resources to a stack of their own, and read their values with "
                "${cf:stack.output}",
            )
        return warnings

    def find(self, address: Address) -> Found | None:
        name = address.name
        if not self.may_exist():
            return None
        stack = self._describe(name)
        if stack is None:
            return None
        if not settled(stack["StackStatus"]) and not self.synchronous:
            self.report(f"stack {name} is {stack['StackStatus']}: waiting for it to settle")
            stack = self._settle(name, None)
        if stack["StackStatus"] == "DELETE_COMPLETE":
            return None
        template: Any = None
        if stack["StackStatus"] != "REVIEW_IN_PROGRESS":
            answer = self.aws().call(
                "cloudformation", "get_template", what=f"read the template of stack {name}",
                StackName=name, TemplateStage="Original",
            )  # fmt: skip
            template = _parsed(answer.get("TemplateBody"))
        return {**stack, "TemplateBody": template}

    def owns(self, address: Address, found: Found) -> bool:
        tags = {tag["Key"]: tag["Value"] for tag in found.get("Tags") or []}
        return all(tags.get(key) == value for key, value in self.tags.items())

    def diff(self, resource: Stack, found: Found) -> Diff:
        status = str(found.get("StackStatus", ""))
        if status in ("UPDATE_ROLLBACK_FAILED", "DELETE_FAILED"):
            raise BadInput(
                f"stack {resource.name} is {status} on the {self.target} target: CloudFormation "
                "takes no change until that is resolved; nothing was changed",
                hint=(
                    f"aws cloudformation continue-update-rollback --stack-name {resource.name}"
                    if status == "UPDATE_ROLLBACK_FAILED"
                    else "see its events in the CloudFormation console, then `tool remove`"
                ),
            )
        if self._unfinished(status):
            return Diff.of(
                (f"its creation did not finish ({status}): made again", ("StackStatus",))
            )
        template, _ = self.template_for(resource)
        return stack_diff(resource, template, found, self.tags)

    def create(self, resource: Stack) -> None:
        self._deploy(resource, "CREATE")

    def update(self, resource: Stack, found: Found, diff: Diff) -> None:
        if self._unfinished(str(found.get("StackStatus", ""))):
            self._delete(resource.name)
            self._deploy(resource, "CREATE")
            return
        self._deploy(resource, "UPDATE")

    def delete(self, address: Address) -> None:
        if not self.may_exist():
            return
        stack = self._describe(address.name)
        if stack is None or stack["StackStatus"] == "DELETE_COMPLETE":
            return
        if not settled(stack["StackStatus"]) and not self.synchronous:
            stack = self._settle(address.name, None)
        if stack["StackStatus"] != "DELETE_COMPLETE":
            self._delete(address.name)

    def describe(self, address: Address, found: Found) -> Description:
        template = found.get("TemplateBody") or {}
        count = len(template.get("Resources") or {}) if isinstance(template, dict) else 0
        stack_id = str(found.get("StackId", ""))
        members: list[Member] = []
        if found.get("StackStatus") != "REVIEW_IN_PROGRESS":
            for page in self.aws().pages(
                "cloudformation", "list_stack_resources",
                what=f"list the resources of stack {address.name}", StackName=address.name,
            ):  # fmt: skip
                for item in page.get("StackResourceSummaries") or []:
                    physical = str(item.get("PhysicalResourceId") or "")
                    members.append(
                        Member(
                            kind=str(item.get("ResourceType", "")),
                            name=physical or str(item.get("LogicalResourceId", "")),
                            arn=member_arn(str(item.get("ResourceType", "")), physical, stack_id),
                            details=f"{item.get('LogicalResourceId')} in stack {address.name}, "
                            f"{item.get('ResourceStatus')}",
                        )
                    )
        return Description(
            stack_id,
            f"{found.get('StackStatus')}, {count} resources",
            tuple(sorted(members, key=lambda m: (m.details, m.name))),
        )

    def _unfinished(self, status: str) -> bool:
        return status in NEVER_CREATED or (self.synchronous and not settled(status))

    # -- change sets --------------------------------------------------------------------------

    def _deploy(self, resource: Stack, kind: str) -> None:
        name, aws = resource.name, self.aws()
        template, _ = self.template_for(resource)
        extra: dict[str, Any] = {}
        if resource.role_arn:
            extra["RoleARN"] = resource.role_arn
        if resource.notification_arns:
            extra["NotificationARNs"] = list(resource.notification_arns)
        # Addressed by name, not by the ids CloudFormation answers: the local AWS services replay
        # their journal after a restart, and moto makes new ids then.
        change_set = f"tool-{secrets.token_hex(8)}"
        aws.call(
            "cloudformation", "create_change_set", what=f"create a change set for stack {name}",
            StackName=name, ChangeSetName=change_set, ChangeSetType=kind,
            TemplateBody=_body(template), Capabilities=CAPABILITIES,
            Parameters=[
                {"ParameterKey": key, "ParameterValue": value}
                for key, value in sorted(resource.parameters.items())
            ],
            Tags=[{"Key": k, "Value": v} for k, v in {**resource.tags, **self.tags}.items()],
            Description="made by tool", **extra,
        )  # fmt: skip
        answer = aws.wait_until(
            "cloudformation", "describe_change_set", what=f"prepare the change set of stack {name}",
            until=lambda a: a.get("Status") in ("CREATE_COMPLETE", "FAILED"),
            delay=self.poll_seconds, max_attempts=MAX_POLLS, ChangeSetName=change_set,
            StackName=name,
        )  # fmt: skip
        if answer.get("Status") == "FAILED":
            reason = str(answer.get("StatusReason") or "no reason given")
            if any(text in reason for text in NO_CHANGES):
                aws.call(
                    "cloudformation", "delete_change_set", what=f"drop a change set of {name}",
                    ChangeSetName=change_set, StackName=name,
                )  # fmt: skip
                return
            if kind == "CREATE":  # the stack waits in REVIEW_IN_PROGRESS, holding nothing
                self._delete(name, quiet=True)
            raise AwsRejected(
                f"CloudFormation refused the template of stack {name} (resources: in "
                f"{resource.declared_in}): {reason}; nothing was changed",
                hint="fix resources: and deploy again",
            )
        for line in _change_lines(answer.get("Changes") or []):
            self.report(f"stack {name}: {line}")
        since = self._newest_event(name)
        try:
            aws.call(
                "cloudformation", "execute_change_set",
                what=f"execute the change set of stack {name}", ChangeSetName=change_set,
                StackName=name,
            )  # fmt: skip
            final = self._settle(name, since)
        except (AwsOperationFailed, AwsRejected) as exc:  # the call itself failed
            final = {"StackStatus": "FAILED", "StackStatusReason": exc.message}
            if kind == "CREATE":
                self._delete(name, quiet=True)
        status = str(final["StackStatus"])
        if status in DONE:
            return
        reason = self._failure_reason(name, since, final)
        if kind == "CREATE":
            if status != "FAILED":
                self._delete(name, quiet=True)
            raise AwsOperationFailed(
                f"stack {name} could not be created: {reason}; it was rolled back and deleted, "
                "nothing of resources: was kept",
                hint="fix resources: in " + resource.declared_in + " and deploy again",
            )
        raise AwsOperationFailed(
            f"stack {name} could not be updated: {reason}; it was rolled back to what it was "
            f"({status})",
            hint="fix resources: in " + resource.declared_in + " and deploy again",
        )

    def _delete(self, name: str, *, quiet: bool = False) -> None:
        aws = self.aws()
        since = self._newest_event(name)
        aws.call("cloudformation", "delete_stack", what=f"delete stack {name}", StackName=name)
        final = self._settle(name, None if quiet else since)
        if final["StackStatus"] != "DELETE_COMPLETE":
            reason = self._failure_reason(name, since, final)
            raise AwsOperationFailed(
                f"stack {name} could not be deleted: {reason}",
                hint="empty what CloudFormation cannot delete (e.g. a bucket's objects), or "
                "delete it yourself, then run the command again",
            )

    # -- watching -----------------------------------------------------------------------------

    def _describe(self, name: str) -> dict[str, Any] | None:
        answer = self.aws().find(
            "cloudformation", "describe_stacks", what=f"look up stack {name}", StackName=name
        )
        if not answer or not answer.get("Stacks"):
            return None
        return dict(answer["Stacks"][0])

    def _settle(self, name: str, since: str | None) -> dict[str, Any]:
        """Poll until no operation runs on the stack; each new event (after `since`, the newest
        event before the operation) a progress line (None: no progress lines). A stack that
        no longer exists is DELETE_COMPLETE."""
        printed: set[str] = set()

        def progress(_: dict[str, Any]) -> None:
            if since is None:
                return
            for event in self._events_after(name, since):
                if event["EventId"] in printed:
                    continue
                printed.add(event["EventId"])
                self.report(_event_line(event))

        try:
            answer = self.aws().wait_until(
                "cloudformation", "describe_stacks", what=f"wait for stack {name}",
                until=lambda a: settled(str(a["Stacks"][0]["StackStatus"])),
                delay=self.poll_seconds, max_attempts=MAX_POLLS, on_poll=progress,
                StackName=name,
            )  # fmt: skip
        except NotFound:
            return {"StackName": name, "StackStatus": "DELETE_COMPLETE"}
        return dict(answer["Stacks"][0])

    def _events(self, name: str) -> list[dict[str, Any]]:
        """The stack's events, newest first (the first page is enough to find what is new)."""
        try:
            answer = self.aws().call(
                "cloudformation", "describe_stack_events", what=f"read the events of {name}",
                StackName=name,
            )  # fmt: skip
        except NotFound:
            return []
        return list(answer.get("StackEvents") or [])

    def _newest_event(self, name: str) -> str:
        events = self._events(name)
        return str(events[0]["EventId"]) if events else ""

    def _events_after(self, name: str, since: str) -> list[dict[str, Any]]:
        """Events newer than `since`, oldest first."""
        newer: list[dict[str, Any]] = []
        for event in self._events(name):
            if event["EventId"] == since:
                break
            newer.append(event)
        return list(reversed(newer))

    def _failure_reason(self, name: str, since: str, stack: dict[str, Any]) -> str:
        """The first failed resource of this operation and CloudFormation's reason for it."""
        for event in self._events_after(name, since):
            status = str(event.get("ResourceStatus", ""))
            reason = str(event.get("ResourceStatusReason") or "")
            if status.endswith("_FAILED") and reason and not reason.startswith(CANCELLED):
                kind = event.get("ResourceType", "")
                return f"{event.get('LogicalResourceId')} ({kind}) {status}: {reason}"
        why = stack.get("StackStatusReason")
        return f"{stack['StackStatus']}: {why}" if why else str(stack["StackStatus"])


def _body(template: dict[str, Any]) -> str:
    return json.dumps(template, separators=(",", ":"), sort_keys=True)


def _parsed(body: Any) -> Any:
    """GetTemplate's TemplateBody: boto3 decodes a JSON body itself; text otherwise."""
    if isinstance(body, dict):
        return json.loads(json.dumps(body))  # OrderedDicts to plain dicts
    if isinstance(body, str):
        try:
            return json.loads(body)
        except ValueError:
            return None  # YAML: not one the toolkit wrote
    return None


def _event_line(event: dict[str, Any]) -> str:
    line = (
        f"stack {event.get('StackName')}: {event.get('LogicalResourceId')} "
        f"({event.get('ResourceType')}) {event.get('ResourceStatus')}"
    )
    reason = event.get("ResourceStatusReason")
    if reason and str(event.get("ResourceStatus", "")).endswith("FAILED"):
        line += f": {reason}"
    return line


def _change_lines(changes: Iterable[dict[str, Any]]) -> list[str]:
    lines = []
    for change in changes:
        detail = change.get("ResourceChange") or {}
        action = str(detail.get("Action", "?")).lower()
        replacement = " (replaced)" if detail.get("Replacement") == "True" else ""
        lines.append(
            f"{action} {detail.get('LogicalResourceId')} ({detail.get('ResourceType')})"
            f"{replacement}"
        )
    return lines
