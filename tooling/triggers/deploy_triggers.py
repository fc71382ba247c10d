"""Deploying and removing the SQS triggers, as steps of the deploy plan (`tooling.deploy`).

Local target: the queue and its dead-letter queue in the local runtime's SQLite file (the local
`tool worker` is the trigger).
AWS: per trigger, the dead-letter queue and the queue (for `queue:`; an `arn:` queue is used as
it is); per triggered state machine, a small trigger function shipped inside `tooling` with its
own least-privilege role and log group; per trigger, an event source mapping with
ReportBatchItemFailures. Everything is recorded under its own keys, so the service's own
functions, roles and log groups are planned exactly as before.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from tooling import iam
from tooling.backends.base import Backend
from tooling.config.service import ServiceConfig, StateMachineConfig
from tooling.config.triggers import TRIGGER_FUNCTION_TIMEOUT, SqsTrigger
from tooling.deploy import Change, Deployed, DeployPlan, Recorder
from tooling.localrt.queue import LocalQueues
from tooling.names import execution_arn, partition_for
from tooling.package import Package
from tooling.statedir import state_path
from tooling.triggers.lambda_handler import STATE_MACHINE_ARN_VARIABLE
from tooling.triggers.queues import adopt_unkeyed_queues, local_queue_specs
from tooling.triggers.trigger_package import HANDLER, MODULES, build_trigger_zip

TRIGGER_RUNTIME = "python3.12"
TRIGGER_MEMORY_MB = 128
TRIGGER_POLICY_NAME = "tool-sqs-trigger"
DEAD_LETTER_RETENTION_SECONDS = 1_209_600  # 14 days, SQS's maximum: time to look and redrive
MAX_FUNCTION_NAME = 64  # Lambda CreateFunction FunctionName
REPORT_BATCH_ITEM_FAILURES = ["ReportBatchItemFailures"]

# Record keys of what this module deploys.
QUEUES = "queues"
TRIGGER_ROLES = "triggerRoles"
TRIGGER_LOG_GROUPS = "triggerLogGroups"
TRIGGER_FUNCTIONS = "triggerFunctions"
EVENT_SOURCE_MAPPINGS = "eventSourceMappings"  # "<queue ARN> <function name>"


def trigger_function_name(service: ServiceConfig, machine: StateMachineConfig) -> str:
    name = f"{service.service}-{service.stage}-{machine.key}-sqs-trigger"
    if len(name) <= MAX_FUNCTION_NAME:
        return name
    digest = hashlib.sha256(name.encode()).hexdigest()[:8]
    return f"{name[: MAX_FUNCTION_NAME - 9]}-{digest}"


def trigger_role_name(service: ServiceConfig, machine: StateMachineConfig) -> str:
    return iam.role_name(service.service, service.stage, service.region, machine.key, "sqsRole")


def trigger_role(service: ServiceConfig, machine: StateMachineConfig) -> iam.RoleSpec:
    """Receive/delete on this machine's queues, StartExecution on this machine, DescribeExecution
    on its executions (to recognise a redelivered message's run), and its own log group."""
    function = trigger_function_name(service, machine)
    log_group = iam.log_group_arn(service, iam.function_log_group(function))
    statements = [
        {
            "Sid": "ReadTheTriggerQueues",
            "Effect": "Allow",
            # What an SQS event source mapping needs (Lambda developer guide, SQS permissions).
            "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
            "Resource": sorted(t.queue_arn for t in machine.sqs_triggers),
        },
        {
            "Sid": "StartRuns",
            "Effect": "Allow",
            "Action": "states:StartExecution",
            "Resource": machine.arn,
        },
        {
            "Sid": "LookUpRunsOfRedeliveredMessages",
            "Effect": "Allow",
            "Action": "states:DescribeExecution",
            "Resource": execution_arn(machine.arn, "*"),
        },
        {
            "Sid": "WriteItsLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": f"{log_group}:*",
        },
    ]
    return iam.RoleSpec(
        name=trigger_role_name(service, machine),
        trust_policy=iam.lambda_trust_policy(),
        inline_policies={
            TRIGGER_POLICY_NAME: {"Version": iam.POLICY_VERSION, "Statement": statements}
        },
    )


def trigger_package(build_dir: Path) -> Package:
    path = build_trigger_zip(build_dir / "sqs-trigger.zip")
    data = path.read_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    return Package(
        path=path, sha256=digest, files=tuple(f"tooling/{m}" for m in MODULES), size=len(data)
    )


def trigger_function_config(service: ServiceConfig, machine: StateMachineConfig) -> dict[str, Any]:
    role = trigger_role(service, machine).arn(partition_for(service.region), service.account_id)
    return {
        "Handler": HANDLER,
        "Runtime": TRIGGER_RUNTIME,
        "MemorySize": TRIGGER_MEMORY_MB,
        "Timeout": TRIGGER_FUNCTION_TIMEOUT,
        "Environment": {"Variables": {STATE_MACHINE_ARN_VARIABLE: machine.arn}},
        "Role": role,
    }


def _triggered(service: ServiceConfig) -> list[StateMachineConfig]:
    return [m for m in service.state_machines.values() if m.sqs_triggers]


@dataclass(frozen=True)
class QueueWanted:
    name: str
    arn: str
    attributes: dict[str, str]


def wanted_queues(trigger: SqsTrigger) -> list[QueueWanted]:
    """The dead-letter queue first (the queue's redrive policy names it); none for `arn:`."""
    if not trigger.managed or trigger.dead_letter_queue_arn is None:
        return []
    assert trigger.dead_letter_queue_name is not None
    redrive = {
        "deadLetterTargetArn": trigger.dead_letter_queue_arn,
        "maxReceiveCount": trigger.max_receive_count,
    }
    return [
        QueueWanted(
            trigger.dead_letter_queue_name,
            trigger.dead_letter_queue_arn,
            {"MessageRetentionPeriod": str(DEAD_LETTER_RETENTION_SECONDS)},
        ),
        QueueWanted(
            trigger.queue_name,
            trigger.queue_arn,
            {
                "VisibilityTimeout": str(trigger.visibility_timeout),
                "RedrivePolicy": json.dumps(redrive, separators=(",", ":")),
            },
        ),
    ]


# -- planning -------------------------------------------------------------------------------------


def plan_triggers(
    plan: DeployPlan,
    service: ServiceConfig,
    backend: Backend,
    recorder: Recorder,
    build_dir: Path,
) -> None:
    """Add the trigger steps to a deploy plan (after the state machines), and the deletion of
    triggers no longer declared."""
    if backend.target == "local":
        _plan_local(plan, service, backend, recorder)
        return
    if not _triggered(service) and not _recorded_any(recorder):
        return
    if getattr(backend, "aws", None) is None:  # a target without SQS (test doubles)
        plan.warnings.append(f"the {backend.target} target has no SQS: triggers not deployed")
        return
    sqs = _AwsTriggerApi(backend)
    for machine in _triggered(service):
        for trigger in machine.sqs_triggers:
            for queue in wanted_queues(trigger):
                _plan_aws_queue(plan, sqs, recorder, queue)
        _plan_trigger_function(plan, service, backend, recorder, machine, build_dir)
        for trigger in machine.sqs_triggers:
            _plan_mapping(plan, sqs, recorder, trigger, trigger_function_name(service, machine))
    _plan_trigger_deletions(plan, service, backend, recorder, keep=True)


def plan_trigger_removal(
    plan: DeployPlan, service: ServiceConfig, backend: Backend, recorder: Recorder
) -> None:
    """Add the deletion of every trigger resource (recorded, or found under the service's
    names) to a removal plan; call it before the state machines' deletions."""
    _plan_trigger_deletions(plan, service, backend, recorder, keep=False)


def _plan_local(
    plan: DeployPlan, service: ServiceConfig, backend: Backend, recorder: Recorder
) -> None:
    queues = LocalQueues(state_path(service.directory, "local.db"))
    wanted: set[str] = set()
    for machine in _triggered(service):
        for trigger in machine.sqs_triggers:
            specs = local_queue_specs(trigger)
            adopt_unkeyed_queues(queues, specs)
            for spec in specs:
                wanted.add(spec.name)
                current = queues.get_queue(spec.key)
                create = partial(queues.create_queue, spec.key, **spec.attributes)
                step = _then_record(create, recorder, QUEUES, spec.name)
                if current is None:
                    plan.add(Change("create", "queue", spec.name), step)  # type: ignore[arg-type]
                    continue
                have = {
                    "visibility_timeout": current.visibility_timeout,
                    "dead_letter_queue": current.dead_letter_queue,
                    "max_receive_count": current.max_receive_count,
                }
                changed = [k for k, v in spec.attributes.items() if have[k] != v]
                action = "update" if changed else "unchanged"
                reasons = tuple(f"{k.replace('_', ' ')} changed" for k in changed)
                plan.add(Change(action, "queue", spec.name, reasons), step)  # type: ignore[arg-type]
    for name in recorder.names(QUEUES):
        if name not in wanted:
            key = _local_queue_key(service, name)
            step = _then_discard(partial(queues.delete_queue, key), recorder, QUEUES, name)
            plan.add(Change("delete", "queue", name, _GONE), step)  # type: ignore[arg-type]


def _local_queue_key(service: ServiceConfig, name: str) -> str:
    """The key of a recorded queue that the service no longer declares (records are per region)."""
    partition = partition_for(service.region)
    return f"arn:{partition}:sqs:{service.region}:{service.account_id}:{name}"


_GONE = ("no longer in serverless.yml",)


def _recorded_any(recorder: Recorder) -> bool:
    keys = (QUEUES, TRIGGER_ROLES, TRIGGER_LOG_GROUPS, TRIGGER_FUNCTIONS, EVENT_SOURCE_MAPPINGS)
    return any(recorder.names(key) for key in keys)


def _then_record(
    action: Callable[[], Any], recorder: Recorder, key: str, name: str
) -> Callable[[], None]:
    def step() -> None:
        action()
        recorder.add(key, name)

    return step


def _then_discard(
    action: Callable[[], Any], recorder: Recorder, key: str, name: str
) -> Callable[[], None]:
    def step() -> None:
        action()
        recorder.discard(key, name)

    return step


class _AwsTriggerApi:
    """The SQS and event source mapping calls, through the AWS backend's `AwsClient`."""

    def __init__(self, backend: Backend) -> None:
        aws = getattr(backend, "aws", None)
        if aws is None:
            raise TypeError(f"the {backend.target} target has no AWS client")
        self.aws = aws
        self.tags: dict[str, str] = dict(getattr(backend, "tags", {}))

    def queue_url(self, name: str) -> str | None:
        answer = self.aws.call(
            "sqs", "list_queues", what=f"look up queue {name}", QueueNamePrefix=name
        )
        for url in answer.get("QueueUrls") or []:
            if str(url).rsplit("/", 1)[-1] == name:
                return str(url)
        return None

    def queue_attributes(self, url: str) -> dict[str, str]:
        answer = self.aws.call(
            "sqs", "get_queue_attributes", what=f"read queue {url}", QueueUrl=url,
            AttributeNames=["All"],
        )  # fmt: skip
        return dict(answer.get("Attributes") or {})

    def create_queue(self, queue: QueueWanted) -> None:
        self.aws.call(
            "sqs", "create_queue", what=f"create queue {queue.name}", QueueName=queue.name,
            Attributes=queue.attributes, tags=self.tags,
        )  # fmt: skip

    def update_queue(self, url: str, queue: QueueWanted) -> None:
        self.aws.call(
            "sqs", "set_queue_attributes", what=f"update queue {queue.name}", QueueUrl=url,
            Attributes=queue.attributes,
        )  # fmt: skip

    def delete_queue(self, name: str) -> None:
        url = self.queue_url(name)
        if url is not None:
            self.aws.call("sqs", "delete_queue", what=f"delete queue {name}", QueueUrl=url)

    def find_mapping(self, queue_arn: str, function: str) -> dict[str, Any] | None:
        for page in self.aws.pages(
            "lambda", "list_event_source_mappings", what=f"look up the mapping of {queue_arn}",
            EventSourceArn=queue_arn, FunctionName=function,
        ):  # fmt: skip
            for mapping in page.get("EventSourceMappings", []):
                return dict(mapping)
        return None

    def create_mapping(self, trigger: SqsTrigger, function: str) -> None:
        self.aws.call(
            "lambda",
            "create_event_source_mapping",
            what=f"connect queue {trigger.queue_name} to {function}",
            EventSourceArn=trigger.queue_arn,
            FunctionName=function,
            Enabled=True,
            **_mapping_settings(trigger),
        )

    def update_mapping(self, uuid: str, trigger: SqsTrigger) -> None:
        self.aws.call(
            "lambda", "update_event_source_mapping", what=f"update the mapping of "
            f"{trigger.queue_name}", UUID=uuid, **_mapping_settings(trigger),
        )  # fmt: skip

    def delete_mapping(self, queue_arn: str, function: str) -> None:
        mapping = self.find_mapping(queue_arn, function)
        if mapping is not None:
            self.aws.call(
                "lambda", "delete_event_source_mapping", what=f"disconnect {queue_arn}",
                UUID=mapping["UUID"],
            )  # fmt: skip


def _mapping_settings(trigger: SqsTrigger) -> dict[str, Any]:
    return {
        "BatchSize": trigger.batch_size,
        "MaximumBatchingWindowInSeconds": trigger.maximum_batching_window,
        "FunctionResponseTypes": REPORT_BATCH_ITEM_FAILURES,
    }


def _plan_aws_queue(
    plan: DeployPlan, sqs: _AwsTriggerApi, recorder: Recorder, queue: QueueWanted
) -> None:
    url = sqs.queue_url(queue.name)
    record = partial(recorder.add, QUEUES, queue.name)
    if url is None:
        step = _then_record(partial(sqs.create_queue, queue), recorder, QUEUES, queue.name)
        plan.add(Change("create", "queue", queue.name), step)  # type: ignore[arg-type]
        return
    have = sqs.queue_attributes(url)
    changed = [
        k for k, v in queue.attributes.items() if _normalized(k, have.get(k)) != _normalized(k, v)
    ]
    if not changed:
        plan.add(Change("unchanged", "queue", queue.name), record)  # type: ignore[arg-type]
        return
    step = _then_record(partial(sqs.update_queue, url, queue), recorder, QUEUES, queue.name)
    reasons = tuple(f"{k} changed" for k in changed)
    plan.add(Change("update", "queue", queue.name, reasons), step)  # type: ignore[arg-type]


def _normalized(key: str, value: str | None) -> Any:
    if value is None:
        return None
    if key == "RedrivePolicy":  # AWS may answer maxReceiveCount as a number or a string
        policy = json.loads(value)
        return {**policy, "maxReceiveCount": int(policy.get("maxReceiveCount", 0))}
    return str(value)


def _plan_trigger_function(
    plan: DeployPlan,
    service: ServiceConfig,
    backend: Backend,
    recorder: Recorder,
    machine: StateMachineConfig,
    build_dir: Path,
) -> None:
    spec = trigger_role(service, machine)
    current_role = backend.find_role(spec.name)
    if current_role is None:
        step = _then_record(partial(backend.create_role, spec), recorder, TRIGGER_ROLES, spec.name)
        plan.add(Change("create", "role", spec.name), step)
    elif _role_differs(current_role, spec):
        update = partial(backend.update_role, spec, current_role)
        step = _then_record(update, recorder, TRIGGER_ROLES, spec.name)
        plan.add(Change("update", "role", spec.name, ("policy changed",)), step)
    else:
        plan.add(
            Change("unchanged", "role", spec.name),
            partial(recorder.add, TRIGGER_ROLES, spec.name),
        )

    name = trigger_function_name(service, machine)
    log_group = iam.function_log_group(name)
    if backend.find_log_group(log_group) is None:
        create_group = partial(backend.create_log_group, log_group, None)
        step = _then_record(create_group, recorder, TRIGGER_LOG_GROUPS, log_group)
        plan.add(Change("create", "log group", log_group), step)
    else:
        plan.add(
            Change("unchanged", "log group", log_group),
            partial(recorder.add, TRIGGER_LOG_GROUPS, log_group),
        )

    package = trigger_package(build_dir)
    desired = trigger_function_config(service, machine)
    current = backend.find_function(name)
    if current is None:
        create = partial(backend.create_function, name, desired, package)
        step = _then_record(create, recorder, TRIGGER_FUNCTIONS, name)
        plan.add(Change("create", "function", name), step)
        return
    code_changed = current.get("CodeSha256") != package.sha256
    config_changed = [k for k, v in desired.items() if _function_value(current, k) != v]
    if not code_changed and not config_changed:
        plan.add(
            Change("unchanged", "function", name), partial(recorder.add, TRIGGER_FUNCTIONS, name)
        )
        return

    def update() -> None:
        if code_changed:
            backend.update_function_code(name, package)
        if config_changed:
            backend.update_function_configuration(name, desired)
        recorder.add(TRIGGER_FUNCTIONS, name)

    reasons = (["code changed"] if code_changed else []) + (
        ["configuration changed: " + ", ".join(config_changed)] if config_changed else []
    )
    plan.add(Change("update", "function", name, tuple(reasons)), update)


def _function_value(current: dict[str, Any], key: str) -> Any:
    if key == "Environment":
        return {"Variables": dict((current.get(key) or {}).get("Variables", {}))}
    return current.get(key)


def _role_differs(current: dict[str, Any], spec: iam.RoleSpec) -> bool:
    return bool(
        current.get("AssumeRolePolicyDocument") != spec.trust_policy
        or current.get("InlinePolicies", {}) != spec.inline_policies
        or sorted(current.get("ManagedPolicies", [])) != sorted(spec.managed_policies)
    )


def _plan_mapping(
    plan: DeployPlan, sqs: _AwsTriggerApi, recorder: Recorder, trigger: SqsTrigger, function: str
) -> None:
    key = f"{trigger.queue_arn} {function}"
    label = f"{trigger.queue_name} -> {function}"
    current = sqs.find_mapping(trigger.queue_arn, function)
    if current is None:
        create = partial(sqs.create_mapping, trigger, function)
        step = _then_record(create, recorder, EVENT_SOURCE_MAPPINGS, key)
        plan.add(Change("create", "event source mapping", label), step)  # type: ignore[arg-type]
        return
    settings = _mapping_settings(trigger)
    changed = [k for k, v in settings.items() if current.get(k) != v]
    if not changed:
        keep = partial(recorder.add, EVENT_SOURCE_MAPPINGS, key)
        plan.add(Change("unchanged", "event source mapping", label), keep)  # type: ignore[arg-type]
        return
    update = partial(sqs.update_mapping, str(current["UUID"]), trigger)
    step = _then_record(update, recorder, EVENT_SOURCE_MAPPINGS, key)
    reasons = tuple(f"{k} changed" for k in changed)
    plan.add(Change("update", "event source mapping", label, reasons), step)  # type: ignore[arg-type]


def _plan_trigger_deletions(
    plan: DeployPlan, service: ServiceConfig, backend: Backend, recorder: Recorder, *, keep: bool
) -> None:
    """Delete, mappings first, what the record holds that the service no longer wants (or, for
    `tool remove` with keep=False, everything, including what exists under the service's
    names without being recorded)."""
    if backend.target == "local":
        if not keep:
            queues = LocalQueues(state_path(service.directory, "local.db"))
            keys = {name: _local_queue_key(service, name) for name in recorder.names(QUEUES)}
            for machine in _triggered(service):
                for trigger in machine.sqs_triggers:
                    specs = local_queue_specs(trigger)
                    adopt_unkeyed_queues(queues, specs)
                    keys.update((spec.name, spec.key) for spec in specs)
            for name, key in sorted(keys.items()):
                if queues.get_queue(key) is not None or name in recorder.names(QUEUES):
                    step = _then_discard(partial(queues.delete_queue, key), recorder, QUEUES, name)
                    plan.add(Change("delete", "queue", name, ("tool remove",)), step)  # type: ignore[arg-type]
        return
    if getattr(backend, "aws", None) is None or (
        not _triggered(service) and not _recorded_any(recorder)
    ):
        return
    sqs = _AwsTriggerApi(backend)
    wanted_mappings, wanted_functions, wanted_roles, wanted_groups, wanted_queues_ = (
        set(), set(), set(), set(), set()
    )  # fmt: skip
    machines = _triggered(service)
    for machine in machines:
        function = trigger_function_name(service, machine)
        wanted_functions.add(function)
        wanted_roles.add(trigger_role_name(service, machine))
        wanted_groups.add(iam.function_log_group(function))
        for trigger in machine.sqs_triggers:
            wanted_mappings.add(f"{trigger.queue_arn} {function}")
            wanted_queues_.update(q.name for q in wanted_queues(trigger))
    reason = _GONE if keep else ("tool remove",)

    def mapping_exists(key: str) -> object | None:
        queue_arn, _, function = key.partition(" ")
        return sqs.find_mapping(queue_arn, function)

    def delete_mapping(key: str) -> None:
        queue_arn, _, function = key.partition(" ")
        sqs.delete_mapping(queue_arn, function)

    def mapping_label(key: str) -> str:
        queue_arn, _, function = key.partition(" ")
        return f"{queue_arn.rsplit(':', 1)[1]} -> {function}"

    # Dependents first: mappings, functions, roles, log groups, then the queues (each queue
    # before its dead-letter queue, so that messages stop arriving first).
    kinds: list[tuple[str, set[str], str, Callable[[str], object], Callable[[str], None]]] = [
        (EVENT_SOURCE_MAPPINGS, wanted_mappings, "event source mapping", mapping_exists,
         delete_mapping),
        (TRIGGER_FUNCTIONS, wanted_functions, "function", backend.find_function,
         backend.delete_function),
        (TRIGGER_ROLES, wanted_roles, "role", backend.find_role, backend.delete_role),
        (TRIGGER_LOG_GROUPS, wanted_groups, "log group", backend.find_log_group,
         backend.delete_log_group),
        (QUEUES, wanted_queues_, "queue", sqs.queue_url, sqs.delete_queue),
    ]  # fmt: skip
    for key, wanted, kind, exists, delete in kinds:
        recorded = recorder.names(key)
        if keep:
            names = [n for n in recorded if n not in wanted]
        else:  # a lost record still removes what exists under the service's names
            names = recorded + [n for n in sorted(wanted) if n not in recorded]
        names.sort(key=lambda n: n.endswith("-dlq"))
        for name in names:
            if name not in recorded and exists(name) is None:
                continue
            label = mapping_label(name) if key == EVENT_SOURCE_MAPPINGS else name
            step = _then_discard(partial(delete, name), recorder, key, name)
            plan.add(Change("delete", kind, label, reason), step)  # type: ignore[arg-type]


# -- describing (`tool info`) ---------------------------------------------------------------------


def describe_triggers(service: ServiceConfig, backend: Backend) -> list[Deployed]:
    """The trigger resources of the service that exist on the target now, in deploy order."""
    if backend.target == "local":
        return _describe_local(service)
    if getattr(backend, "aws", None) is None or not _triggered(service):
        return []
    sqs = _AwsTriggerApi(backend)
    found: list[Deployed] = []
    for machine in _triggered(service):
        for trigger in machine.sqs_triggers:
            for queue in wanted_queues(trigger):
                url = sqs.queue_url(queue.name)
                if url is not None:
                    attributes = sqs.queue_attributes(url)
                    details = _queue_details(
                        attributes.get("VisibilityTimeout"), attributes.get("RedrivePolicy")
                    )
                    arn = attributes.get("QueueArn", queue.arn)
                    found.append(Deployed("queue", queue.name, arn, details))
        role = backend.find_role(trigger_role_name(service, machine))
        if role is not None:
            found.append(
                Deployed("role", trigger_role_name(service, machine), str(role.get("Arn", "")), "")
            )
        function = trigger_function_name(service, machine)
        log_group = backend.find_log_group(iam.function_log_group(function))
        if log_group is not None:
            days = log_group.get("retentionInDays")
            found.append(
                Deployed(
                    "log group",
                    iam.function_log_group(function),
                    str(log_group.get("arn", "")),
                    f"retention {days or '∞'}",
                )
            )
        current = backend.find_function(function)
        if current is not None:
            details = f"sqs trigger of {machine.name}"
            found.append(
                Deployed("function", function, str(current.get("FunctionArn", "")), details)
            )
        for trigger in machine.sqs_triggers:
            mapping = sqs.find_mapping(trigger.queue_arn, function)
            if mapping is not None:
                found.append(
                    Deployed(
                        "event source mapping",
                        f"{trigger.queue_name} -> {function}",
                        str(mapping.get("EventSourceMappingArn") or mapping.get("UUID", "")),
                        f"batch {mapping.get('BatchSize')} {mapping.get('State', '')}".strip(),
                    )
                )
    return found


def _describe_local(service: ServiceConfig) -> list[Deployed]:
    database = state_path(service.directory, "local.db")
    if not database.exists():  # nothing deployed: do not create the state file just to look
        return []
    queues = LocalQueues(database)
    found: list[Deployed] = []
    for machine in _triggered(service):
        for trigger in machine.sqs_triggers:
            specs = local_queue_specs(trigger)
            adopt_unkeyed_queues(queues, specs)
            for spec in specs:
                info = queues.get_queue(spec.key)
                if info is None:
                    continue
                details = (
                    f"dead letters after {info.max_receive_count} receives"
                    if info.dead_letter_queue is not None
                    else "dead-letter queue"
                )
                details = f"visibility {info.visibility_timeout:g} s, {details}"
                found.append(Deployed("queue", spec.name, spec.key, details))
    return found


def _queue_details(visibility: str | None, redrive_policy: str | None) -> str:
    if redrive_policy:
        receives = json.loads(redrive_policy).get("maxReceiveCount")
        what = f"dead letters after {receives} receives"
    else:
        what = "dead-letter queue"
    return f"visibility {visibility} s, {what}" if visibility is not None else what
