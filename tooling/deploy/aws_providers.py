"""The AWS target's providers: IAM, CloudWatch Logs, Lambda, Step Functions, SQS and (for
`resources:`) CloudFormation (tooling.deploy.stacks), each call through
`tooling.aws.client.AwsClient` (retries, waiters, error translation).

Ownership is the same rule for every kind: the resource carries the toolkit's tags
`tool:service` and `tool:stage` with this service's and stage's values. Every kind deployed here
takes tags when it is created (IAM CreateRole Tags, CreateLogGroup tags, CreateFunction Tags,
CreateStateMachine tags, CreateQueue tags, CreateEventSourceMapping Tags, CreateChangeSet
Tags). An event source mapping made by an older version of the toolkit carries no tags at all;
such a mapping is the toolkit's when the function it feeds is (a mapping with anyone's tags is
judged by them).
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import replace
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from tooling import iam
from tooling.aws.errors import AwsRejected
from tooling.config.resources import pending_in
from tooling.config.service import ServiceConfig
from tooling.deploy.aws_event_providers import aws_event_providers
from tooling.deploy.aws_layer_providers import AwsLayers
from tooling.deploy.aws_sns_providers import aws_sns_providers
from tooling.deploy.bucket_providers import bucket_providers
from tooling.deploy.differences import (
    AWS_OWNED_ENCRYPTION,
    STARTING_SETTINGS,
    function_diff,
    log_group_diff,
    mapping_diff,
    mapping_settings,
    mapping_update,
    queue_attributes,
    queue_diff,
    role_diff,
    state_machine_diff,
)
from tooling.deploy.function_alias_providers import (
    AwsFunctionAliases,
    AwsFunctionVersions,
    with_exact_versions,
)
from tooling.deploy.function_url_providers import AwsFunctionUrls
from tooling.deploy.layer_versions import layer_owner
from tooling.deploy.models import (
    SNAP_START_OFF,
    Address,
    EventSourceMapping,
    Function,
    LogGroup,
    Queue,
    Role,
    StateMachine,
    mapping_function,
)
from tooling.deploy.providers import (
    TAG_SERVICE,
    TAG_STAGE,
    DeployTarget,
    Description,
    Diff,
    Found,
    Platform,
    Reporter,
)
from tooling.deploy.stacks import CloudFormationStacks
from tooling.errors import AlreadyExists, NotFound, ToolError
from tooling.names import partition_for
from tooling.package import Package

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient

# Lambda's limit for a zip sent in the request (CreateFunction/UpdateFunctionCode ZipFile);
# larger packages go through S3, which this toolkit does not do yet.
MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024
LOOKUP_THREADS = 8  # the look-ups are independent round trips; boto3 clients are thread-safe


class AwsContext:
    """What every AWS provider shares: the client, where, and the toolkit's tags."""

    def __init__(self, service: ServiceConfig, aws: AwsClient) -> None:
        self.aws = aws
        self.region = aws.settings.region
        self.account_id = aws.account_id()
        self.partition = partition_for(self.region)
        self.tags = {TAG_SERVICE: service.service, TAG_STAGE: service.stage}
        self.description = f"{service.service} {service.stage}, made by tool"

    def ours(self, tags: dict[str, str]) -> bool:
        return all(tags.get(key) == value for key, value in self.tags.items())


class AwsRoles:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: Role) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        name = address.name
        what = f"look up role {name}"
        aws = self.c.aws
        found = aws.find("iam", "get_role", what=what, RoleName=name)
        if found is None:
            return None
        role: dict[str, Any] = dict(found["Role"])
        inline: dict[str, Any] = {}
        for page in aws.pages("iam", "list_role_policies", what=what, RoleName=name):
            for policy in page["PolicyNames"]:
                answer = aws.call(
                    "iam", "get_role_policy", what=what, RoleName=name, PolicyName=policy
                )
                inline[policy] = _document(answer["PolicyDocument"])
        managed = [
            attached["PolicyArn"]
            for page in aws.pages("iam", "list_attached_role_policies", what=what, RoleName=name)
            for attached in page["AttachedPolicies"]
        ]
        role["AssumeRolePolicyDocument"] = _document(role.get("AssumeRolePolicyDocument"))
        role["InlinePolicies"] = inline
        role["ManagedPolicies"] = managed
        return role

    def owns(self, address: Address, found: Found) -> bool:
        tags = {tag["Key"]: tag["Value"] for tag in found.get("Tags", [])}
        return self.c.ours(tags)

    def diff(self, resource: Role, found: Found) -> Diff:
        return role_diff(resource, found)

    def create(self, resource: Role) -> None:
        spec = resource.spec
        self.c.aws.call(
            "iam",
            "create_role",
            what=f"create role {spec.name}",
            RoleName=spec.name,
            AssumeRolePolicyDocument=json.dumps(spec.trust_policy),
            Description=self.c.description,
            Tags=[{"Key": k, "Value": v} for k, v in self.c.tags.items()],
        )
        for policy, document in spec.inline_policies.items():
            self._put_policy(spec.name, policy, document)
        for arn in spec.managed_policies:
            self.c.aws.call(
                "iam", "attach_role_policy", what=f"attach {arn} to role {spec.name}",
                RoleName=spec.name, PolicyArn=arn,
            )  # fmt: skip

    def update(self, resource: Role, found: Found, diff: Diff) -> None:
        spec, name, aws = resource.spec, resource.spec.name, self.c.aws
        if found.get("AssumeRolePolicyDocument") != spec.trust_policy:
            aws.call(
                "iam", "update_assume_role_policy", what=f"update the trust policy of role {name}",
                RoleName=name, PolicyDocument=json.dumps(spec.trust_policy),
            )  # fmt: skip
        have_inline = iam.toolkit_policies(found.get("InlinePolicies", {}))  # others: not ours
        for policy, document in spec.inline_policies.items():
            if have_inline.get(policy) != document:
                self._put_policy(name, policy, document)
        for policy in have_inline:
            if policy not in spec.inline_policies:
                aws.call(
                    "iam", "delete_role_policy", what=f"delete policy {policy} of role {name}",
                    RoleName=name, PolicyName=policy,
                )  # fmt: skip
        have_managed = set(found.get("ManagedPolicies", []))
        for arn in sorted(set(spec.managed_policies) - have_managed):
            aws.call(
                "iam", "attach_role_policy", what=f"attach {arn} to {name}", RoleName=name,
                PolicyArn=arn,
            )  # fmt: skip
        for arn in sorted(have_managed - set(spec.managed_policies)):
            aws.call(
                "iam", "detach_role_policy", what=f"detach {arn} from {name}", RoleName=name,
                PolicyArn=arn,
            )  # fmt: skip

    def _put_policy(self, role: str, policy: str, document: dict[str, Any]) -> None:
        self.c.aws.call(
            "iam", "put_role_policy", what=f"put policy {policy} on role {role}", RoleName=role,
            PolicyName=policy, PolicyDocument=json.dumps(document),
        )  # fmt: skip

    def delete(self, address: Address) -> None:
        name = address.name
        current = self.find(address)
        if current is None:
            return
        what = f"delete role {name}"
        for policy in current["InlinePolicies"]:
            self.c.aws.call(
                "iam", "delete_role_policy", what=what, RoleName=name, PolicyName=policy
            )
        for arn in current["ManagedPolicies"]:
            self.c.aws.call("iam", "detach_role_policy", what=what, RoleName=name, PolicyArn=arn)
        with contextlib.suppress(NotFound):
            self.c.aws.call("iam", "delete_role", what=what, RoleName=name)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("Arn", "")))


class AwsLogGroups:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: LogGroup) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        name = address.name
        for page in self.c.aws.pages(
            "logs", "describe_log_groups", what=f"look up log group {name}", logGroupNamePrefix=name
        ):
            for group in page["logGroups"]:
                if group["logGroupName"] == name:
                    return dict(group)
        return None

    def owns(self, address: Address, found: Found) -> bool:
        c = self.c
        arn = f"arn:{c.partition}:logs:{c.region}:{c.account_id}:log-group:{address.name}"
        answer = c.aws.call(
            "logs", "list_tags_for_resource", what=f"read the tags of log group {address.name}",
            resourceArn=arn,
        )  # fmt: skip
        return c.ours(dict(answer.get("tags") or {}))

    def diff(self, resource: LogGroup, found: Found) -> Diff:
        return log_group_diff(resource, found)

    def create(self, resource: LogGroup) -> None:
        # AlreadyExists: Lambda made it on a first invocation between our look-up and now.
        with contextlib.suppress(AlreadyExists):
            self.c.aws.call(
                "logs", "create_log_group", what=f"create log group {resource.name}",
                logGroupName=resource.name, tags=self.c.tags,
            )  # fmt: skip
        if resource.retention_days is not None:
            self._set_retention(resource)

    def update(self, resource: LogGroup, found: Found, diff: Diff) -> None:
        self._set_retention(resource)

    def _set_retention(self, resource: LogGroup) -> None:
        what = f"set the retention of log group {resource.name}"
        if resource.retention_days is None:
            self.c.aws.call(
                "logs", "delete_retention_policy", what=what, logGroupName=resource.name
            )
        else:
            self.c.aws.call(
                "logs", "put_retention_policy", what=what, logGroupName=resource.name,
                retentionInDays=resource.retention_days,
            )  # fmt: skip

    def delete(self, address: Address) -> None:
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "logs", "delete_log_group", what=f"delete log group {address.name}",
                logGroupName=address.name,
            )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        days = found.get("retentionInDays")
        return Description(str(found.get("arn", "")), f"retention {days or '∞'}")


class AwsFunctions:
    def __init__(self, context: AwsContext) -> None:
        self.c = context
        self._digests: dict[str, str] = {}  # image URI with a tag -> with its digest

    def check(self, resource: Function) -> None:
        if resource.code is not None:
            _check_upload_size(resource.code, resource.name)
        self.pinned(resource)  # an image ECR does not hold: refused before anything changes

    def find(self, address: Address) -> Found | None:
        found = self.c.aws.find(
            "lambda", "get_function", what=f"look up function {address.name}",
            FunctionName=address.name,
        )  # fmt: skip
        if found is None:
            return None
        concurrency = (found.get("Concurrency") or {}).get("ReservedConcurrentExecutions")
        invoke_config = self.c.aws.find(
            "lambda", "get_function_event_invoke_config",
            what=f"look up the asynchronous invocation settings of {address.name}",
            FunctionName=address.name,
        )  # fmt: skip
        return {
            **found["Configuration"],
            "ImageUri": (found.get("Code") or {}).get("ImageUri"),  # a container image's
            "Tags": dict(found.get("Tags") or {}),
            "ReservedConcurrentExecutions": None if concurrency is None else int(concurrency),
            "EventInvokeConfig": invoke_config,
        }

    def owns(self, address: Address, found: Found) -> bool:
        return self.c.ours(found.get("Tags") or {})

    def diff(self, resource: Function, found: Found) -> Diff:
        return function_diff(self.pinned(resource), found)

    def pinned(self, resource: Function) -> Function:
        """A container image given by tag, pinned to the digest the tag names now (ECR
        DescribeImages, as Serverless resolves it), so a new push under the tag is a change."""
        image = resource.image
        if image is None or "@" in image.uri:
            return resource
        if image.uri not in self._digests:
            self._digests[image.uri] = self.c.aws.image_digest(image.uri)
        return replace(resource, image=replace(image, uri=self._digests[image.uri]))

    def _code(self, resource: Function) -> dict[str, Any]:
        """CreateFunction's Code (UpdateFunctionCode takes its keys) and PackageType."""
        image = self.pinned(resource).image
        if image is not None:
            return {"Code": {"ImageUri": image.uri}, "PackageType": "Image"}
        assert resource.code is not None, "a function is deployed with its package"
        return {"Code": {"ZipFile": resource.code.path.read_bytes()}, "PackageType": "Zip"}

    def create(self, resource: Function) -> None:
        name = resource.name
        answer = self.c.aws.call(
            "lambda", "create_function", what=f"create function {name}", FunctionName=name,
            **self._code(resource), Architectures=resource.architectures,
            Tags={**resource.settings.tag_map, **self.c.tags}, **resource.configuration(),
        )  # fmt: skip
        if answer.get("State") != "Active":
            self.c.aws.wait(
                "lambda", "function_active_v2", what=f"wait for function {name} to become active",
                FunctionName=name,
            )  # fmt: skip
        if resource.settings.reserved_concurrency is not None:
            self._concurrency(resource)
        if resource.settings.event_invoke_config() is not None:
            self._invoke_config(resource)

    def _concurrency(self, resource: Function) -> None:
        """reservedConcurrency: PutFunctionConcurrency, or DeleteFunctionConcurrency when the
        function no longer reserves any."""
        wanted = resource.settings.reserved_concurrency
        if wanted is None:
            self.c.aws.call(
                "lambda", "delete_function_concurrency",
                what=f"release the reserved concurrency of {resource.name}",
                FunctionName=resource.name,
            )  # fmt: skip
            return
        self.c.aws.call(
            "lambda", "put_function_concurrency",
            what=f"reserve concurrency for {resource.name}", FunctionName=resource.name,
            ReservedConcurrentExecutions=wanted,
        )  # fmt: skip

    def _invoke_config(self, resource: Function) -> None:
        """maximumRetryAttempts, maximumEventAge, destinations: PutFunctionEventInvokeConfig
        (it replaces what was there), or DeleteFunctionEventInvokeConfig when none is set."""
        wanted = resource.settings.event_invoke_config()
        if wanted is None:
            with contextlib.suppress(NotFound):
                self.c.aws.call(
                    "lambda", "delete_function_event_invoke_config",
                    what=f"remove the asynchronous invocation settings of {resource.name}",
                    FunctionName=resource.name,
                )  # fmt: skip
            return
        self.c.aws.call(
            "lambda", "put_function_event_invoke_config",
            what=f"set the asynchronous invocation settings of {resource.name}",
            FunctionName=resource.name, Qualifier="$LATEST", **wanted,
        )  # fmt: skip

    def update(self, resource: Function, found: Found, diff: Diff) -> None:
        name = resource.name
        if {"CodeSha256", "ImageUri", "Architectures"} & set(diff.attributes):
            answer = self.c.aws.call(
                "lambda", "update_function_code", what=f"update the code of function {name}",
                FunctionName=name, **self._code(resource)["Code"],
                Architectures=resource.architectures,
            )  # fmt: skip
            self._settle(name, answer)
        if "Tags" in diff.attributes:
            self._retag(resource, found)
        configuration = resource.configuration()
        if "SnapStart" in diff.attributes and "SnapStart" not in configuration:
            configuration["SnapStart"] = SNAP_START_OFF  # snapStart taken away
        if set(diff.attributes) & set(configuration):
            answer = self.c.aws.call(
                "lambda", "update_function_configuration",
                what=f"update the configuration of function {name}", FunctionName=name,
                **configuration,
            )  # fmt: skip
            self._settle(name, answer)
        if "ReservedConcurrentExecutions" in diff.attributes:
            self._concurrency(resource)
        if "EventInvokeConfig" in diff.attributes:
            self._invoke_config(resource)

    def _retag(self, resource: Function, found: Found) -> None:
        """The user's tags as serverless.yml has them now; the toolkit's own stay."""
        arn = str(found.get("FunctionArn"))
        wanted = resource.settings.tag_map
        have = {k: v for k, v in (found.get("Tags") or {}).items() if k not in self.c.tags}
        gone = sorted(set(have) - set(wanted))
        if gone:
            self.c.aws.call(
                "lambda", "untag_resource", what=f"untag function {resource.name}",
                Resource=arn, TagKeys=gone,
            )  # fmt: skip
        if wanted and wanted != {k: have.get(k) for k in wanted}:
            self.c.aws.call(
                "lambda", "tag_resource", what=f"tag function {resource.name}",
                Resource=arn, Tags=wanted,
            )  # fmt: skip

    def _settle(self, name: str, answer: dict[str, Any]) -> None:
        # Wait only when Lambda says the update is still being applied (chalice's approach).
        if answer.get("LastUpdateStatus") not in (None, "Successful"):
            self.c.aws.wait(
                "lambda", "function_updated_v2", what=f"wait for the update of function {name}",
                FunctionName=name,
            )  # fmt: skip

    def delete(self, address: Address) -> None:
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "lambda", "delete_function", what=f"delete function {address.name}",
                FunctionName=address.name,
            )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        runtime = found.get("Runtime") or "image"  # a container image function has none
        details = f"{runtime} {found.get('MemorySize')} MB {found.get('Timeout')} s"
        return Description(str(found.get("FunctionArn", "")), details)


class AwsStateMachines:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: StateMachine) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        if address.arn is None:
            return None
        found = self.c.aws.find(
            "stepfunctions", "describe_state_machine",
            what=f"look up state machine {address.arn}", stateMachineArn=address.arn,
        )  # fmt: skip
        if found is None:
            return None
        answer = self.c.aws.call(
            "stepfunctions", "list_tags_for_resource",
            what=f"read the tags of state machine {address.name}", resourceArn=address.arn,
        )  # fmt: skip
        return {**found, "tags": {tag["key"]: tag["value"] for tag in answer.get("tags", [])}}

    def owns(self, address: Address, found: Found) -> bool:
        return self.c.ours(found.get("tags") or {})

    def diff(self, resource: StateMachine, found: Found) -> Diff:
        # a version still to be published leaves its placeholder: "definition changed"
        return state_machine_diff(with_exact_versions(self.c.aws, resource)[0], found, "aws")

    def _exact(self, resource: StateMachine) -> StateMachine:
        """With the versions its definition names (useExactVersion), published by now."""
        resolved, pending = with_exact_versions(self.c.aws, resource)
        if pending:
            raise ToolError(
                f"state machine {resource.name} names the published version of "
                + ", ".join(pending)
                + ", and the last version published does not hold the "
                "function as deployed",
                hint="run `tool deploy` again",
            )
        return resolved

    def create(self, resource: StateMachine) -> None:
        resource = self._exact(resource)
        extra: dict[str, Any] = (
            {"loggingConfiguration": resource.logging} if resource.logging else {}
        )
        if resource.encryption:
            extra["encryptionConfiguration"] = resource.encryption
        tags = {**dict(resource.tags), **self.c.tags}
        self.c.aws.call(
            "stepfunctions", "create_state_machine", what=f"create state machine {resource.name}",
            name=resource.name, definition=resource.definition_text, roleArn=resource.role_arn,
            type=resource.type, tracingConfiguration={"enabled": resource.tracing},
            tags=[{"key": k, "value": v} for k, v in tags.items()],
            **extra,
        )  # fmt: skip

    def update(self, resource: StateMachine, found: Found, diff: Diff) -> None:
        resource = self._exact(resource)
        extra: dict[str, Any] = {}
        if "loggingConfiguration" in diff.attributes:
            extra["loggingConfiguration"] = resource.logging or {"level": "OFF"}
        if "tracingConfiguration" in diff.attributes:
            extra["tracingConfiguration"] = {"enabled": resource.tracing}
        if "encryptionConfiguration" in diff.attributes:
            extra["encryptionConfiguration"] = resource.encryption or AWS_OWNED_ENCRYPTION
        if set(diff.attributes) - {"tags"}:
            self.c.aws.call(
                "stepfunctions", "update_state_machine",
                what=f"update state machine {resource.arn}", stateMachineArn=resource.arn,
                definition=resource.definition_text, roleArn=resource.role_arn, **extra,
            )  # fmt: skip
        if "tags" in diff.attributes:
            self._retag(resource, found)

    def _retag(self, resource: StateMachine, found: Found) -> None:
        """The user's tags as serverless.yml has them now; the toolkit's own stay."""
        wanted = dict(resource.tags)
        have = {k: v for k, v in (found.get("tags") or {}).items() if k not in self.c.tags}
        gone = sorted(set(have) - set(wanted))
        if gone:
            self.c.aws.call(
                "stepfunctions", "untag_resource", what=f"untag state machine {resource.name}",
                resourceArn=resource.arn, tagKeys=gone,
            )  # fmt: skip
        if wanted and wanted != {k: have.get(k) for k in wanted}:
            self.c.aws.call(
                "stepfunctions", "tag_resource", what=f"tag state machine {resource.name}",
                resourceArn=resource.arn, tags=[{"key": k, "value": v} for k, v in wanted.items()],
            )  # fmt: skip

    def delete(self, address: Address) -> None:
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "stepfunctions", "delete_state_machine",
                what=f"delete state machine {address.arn}", stateMachineArn=address.arn,
            )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(address.arn), str(found.get("type", "")))


class AwsQueues:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: Queue) -> None:
        pass

    def _url(self, name: str) -> str | None:
        answer = self.c.aws.call(
            "sqs", "list_queues", what=f"look up queue {name}", QueueNamePrefix=name
        )
        for url in answer.get("QueueUrls") or []:
            if str(url).rsplit("/", 1)[-1] == name:
                return str(url)
        return None

    def find(self, address: Address) -> Found | None:
        url = self._url(address.name)
        if url is None:
            return None
        answer = self.c.aws.call(
            "sqs", "get_queue_attributes", what=f"read queue {address.name}", QueueUrl=url,
            AttributeNames=["All"],
        )  # fmt: skip
        return {**(answer.get("Attributes") or {}), "QueueUrl": url}

    def owns(self, address: Address, found: Found) -> bool:
        answer = self.c.aws.call(
            "sqs", "list_queue_tags", what=f"read the tags of queue {address.name}",
            QueueUrl=found["QueueUrl"],
        )  # fmt: skip
        return self.c.ours(dict(answer.get("Tags") or {}))

    def diff(self, resource: Queue, found: Found) -> Diff:
        return queue_diff(resource, found)

    def create(self, resource: Queue) -> None:
        self.c.aws.call(
            "sqs", "create_queue", what=f"create queue {resource.name}", QueueName=resource.name,
            Attributes=queue_attributes(resource), tags=self.c.tags,
        )  # fmt: skip

    def update(self, resource: Queue, found: Found, diff: Diff) -> None:
        attributes = {k: v for k, v in queue_attributes(resource).items() if k in diff.attributes}
        if "RedrivePolicy" in diff.attributes and resource.dead_letter is None:
            attributes["RedrivePolicy"] = ""  # SQS removes the policy
        self.c.aws.call(
            "sqs", "set_queue_attributes", what=f"update queue {resource.name}",
            QueueUrl=found["QueueUrl"], Attributes=attributes,
        )  # fmt: skip

    def delete(self, address: Address) -> None:
        url = self._url(address.name)
        if url is not None:
            with contextlib.suppress(NotFound):
                self.c.aws.call(
                    "sqs", "delete_queue", what=f"delete queue {address.name}", QueueUrl=url
                )

    def describe(self, address: Address, found: Found) -> Description:
        policy = found.get("RedrivePolicy")
        what = (
            f"dead letters after {json.loads(policy).get('maxReceiveCount')} receives"
            if policy
            else "dead-letter queue"
        )
        visibility = found.get("VisibilityTimeout")
        details = f"visibility {visibility} s, {what}" if visibility is not None else what
        return Description(str(found.get("QueueArn", address.arn)), details)


class AwsEventSourceMappings:
    def __init__(self, context: AwsContext, functions: AwsFunctions) -> None:
        self.c = context
        self.functions = functions

    def check(self, resource: EventSourceMapping) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        if address.arn is None or pending_in(address.arn):
            return None  # its queue is made by the stack, which is not deployed yet
        function = mapping_function(address)
        try:
            for page in self.c.aws.pages(
                "lambda", "list_event_source_mappings",
                what=f"look up the mapping of {address.arn}", EventSourceArn=address.arn,
                FunctionName=function,
            ):  # fmt: skip
                for mapping in page.get("EventSourceMappings", []):
                    # a mapping to the function's alias or version is another mapping (Lambda
                    # may list it for the unqualified name)
                    qualified = str(mapping.get("FunctionArn", "")).count(":") > 6
                    if qualified == (":" in function):
                        return dict(mapping)
        except NotFound:  # no such function: no mapping either
            return None
        return None

    def owns(self, address: Address, found: Found) -> bool:
        arn = found.get("EventSourceMappingArn")
        tags: dict[str, str] = {}
        if arn:
            answer = self.c.aws.call(
                "lambda", "list_tags", what=f"read the tags of mapping {address.name}",
                Resource=arn,
            )  # fmt: skip
            tags = dict(answer.get("Tags") or {})
        if tags:
            return self.c.ours(tags)
        # No tags at all, as the toolkit made mappings before it tagged them: the toolkit's
        # when the function it feeds is.
        function = Address("function", mapping_function(address))
        current = self.functions.find(function)
        return current is not None and self.functions.owns(function, current)

    def diff(self, resource: EventSourceMapping, found: Found) -> Diff:
        return mapping_diff(resource, found)

    def create(self, resource: EventSourceMapping) -> None:
        self.c.aws.call(
            "lambda", "create_event_source_mapping",
            what=f"connect {resource.queue_name} to {resource.function_name}",
            EventSourceArn=resource.queue_arn, FunctionName=resource.function_name,
            Enabled=resource.enabled, Tags=self.c.tags, **mapping_settings(resource),
        )  # fmt: skip

    def update(self, resource: EventSourceMapping, found: Found, diff: Diff) -> None:
        if set(STARTING_SETTINGS) & set(diff.attributes):  # a stream read from elsewhere
            self.c.aws.call(
                "lambda", "delete_event_source_mapping",
                what=f"replace the mapping of {resource.queue_name}", UUID=found["UUID"],
            )  # fmt: skip
            self.create(resource)
            return
        self.c.aws.call(
            "lambda", "update_event_source_mapping",
            what=f"update the mapping of {resource.queue_name}", UUID=found["UUID"],
            **mapping_update(resource, diff),
        )  # fmt: skip

    def delete(self, address: Address) -> None:
        mapping = self.find(address)
        if mapping is not None:
            with contextlib.suppress(NotFound):
                self.c.aws.call(
                    "lambda", "delete_event_source_mapping", what=f"disconnect {address.name}",
                    UUID=mapping["UUID"],
                )  # fmt: skip

    def describe(self, address: Address, found: Found) -> Description:
        arn = str(found.get("EventSourceMappingArn") or found.get("UUID", ""))
        return Description(arn, f"batch {found.get('BatchSize')} {found.get('State', '')}".strip())


AWS_PLATFORM = Platform(
    polls_queues=False, stands_in_for_foreign_queues=False, runs_cloudformation=True
)


def aws_target(service: ServiceConfig, aws: AwsClient) -> DeployTarget:
    context = AwsContext(service, aws)
    functions = AwsFunctions(context)
    reporter = Reporter()
    return DeployTarget(
        target="aws",
        region=context.region,
        account_id=context.account_id,
        platform=AWS_PLATFORM,
        providers={
            "role": AwsRoles(context),
            "log group": AwsLogGroups(context),
            "function": functions,
            "state machine": AwsStateMachines(context),
            "queue": AwsQueues(context),
            "event source mapping": AwsEventSourceMappings(context, functions),
            "stack": CloudFormationStacks(lambda: aws, context.tags, reporter, target="aws"),
            **aws_event_providers(context),
            "function url": AwsFunctionUrls(context),
            "function alias": AwsFunctionAliases(context, functions.pinned),
            "function version": AwsFunctionVersions(context),
            **aws_sns_providers(context),
            **bucket_providers(lambda: aws, context.region, context.tags),
            "layer": AwsLayers(context, layer_owner(service.service, service.stage)),
        },
        lookup_threads=LOOKUP_THREADS,
        reporter=reporter,
    )


def _document(value: Any) -> Any:
    """boto3 decodes IAM policy documents to dicts; some emulators answer with the text."""
    if isinstance(value, str):
        text = value if value.lstrip().startswith("{") else unquote(value)
        return json.loads(text)
    return value


def _check_upload_size(package: Package, function_name: str) -> None:
    if package.size > MAX_DIRECT_UPLOAD_BYTES:
        raise AwsRejected(
            f"the package for function {function_name} is {package.size} bytes; Lambda takes "
            f"at most {MAX_DIRECT_UPLOAD_BYTES} bytes uploaded directly",
            hint="leave large files out with package.patterns (e.g. '!data/**')",
        )
