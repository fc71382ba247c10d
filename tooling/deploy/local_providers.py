"""The local target's providers: the runtime's SQLite file (`.tool/local.db`) for functions,
state machines and queues, `.tool/local-resources.json` for roles and log groups (nothing
enforces them locally; they are kept so a plan reads the same on both targets), and
`.tool/code/<hash>/` for unpacked code.

Ownership is kept in the same SQLite file, one row per resource with the service and stage
that deployed it. A resource without such a row was made before the toolkit kept them; the
state folder belongs to this service, so it is this service's. One with another stage's row
is that stage's (two stages may name a function alike with `functions.<key>.name`).
"""

from __future__ import annotations

import hashlib
import json
import os
import uuid
from datetime import UTC, datetime
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tooling.asl import parse
from tooling.backends.local import describe_state_machine, function_configuration, state_dir
from tooling.config.service import ServiceConfig
from tooling.deploy.bucket_providers import bucket_providers
from tooling.deploy.differences import (
    function_diff,
    log_group_diff,
    queue_attributes,
    queue_diff,
    role_diff,
    state_machine_diff,
)
from tooling.deploy.function_alias_providers import LocalFunctionAliases
from tooling.deploy.layer_versions import layer_owner
from tooling.deploy.local_api_key_providers import local_api_key_providers
from tooling.deploy.local_event_providers import local_event_providers
from tooling.deploy.local_http_api_providers import (
    LocalFunctionUrls,
    LocalHttpApis,
    LocalWebsocketApis,
)
from tooling.deploy.local_layer_providers import LocalLayers, layer_directories, local_layer_arns
from tooling.deploy.local_sns_providers import local_sns_providers
from tooling.deploy.local_stack import local_template
from tooling.deploy.models import Address, Function, LogGroup, Queue, Role, StateMachine
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
from tooling.engine import compile_definition
from tooling.localaws.manager import LocalAwsServices
from tooling.localrt.code import install_code
from tooling.localrt.eventbridge import LOCALLY_DELIVERED
from tooling.localrt.queue import LocalQueues
from tooling.localrt.runtimes import why_not_here
from tooling.localrt.services import LOCAL_INTEGRATIONS
from tooling.localrt.sqlite import Database
from tooling.localrt.store import FunctionRecord, StateMachineRecord, Store
from tooling.names import LOCAL_ACCOUNT_ID, function_arn
from tooling.statedir import state_path

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient

DATABASE = "local.db"
RECORDS = "local-resources.json"
# Queue attributes the local runtime keeps (it keeps messages until they are deleted).
LOCAL_QUEUE_ATTRIBUTES = ("VisibilityTimeout", "RedrivePolicy")

_OWNERS_SCHEMA = """
CREATE TABLE IF NOT EXISTS deployed_resources (
    resource TEXT PRIMARY KEY,     -- "<kind> <ARN, or a role's name>"
    service TEXT NOT NULL,
    stage TEXT NOT NULL
)"""


def _now() -> datetime:
    return datetime.now(UTC)


class LocalState:
    """The local target's files for one service folder and region. Nothing is created until
    something is deployed: looking (plan, info) on a fresh folder leaves it as it was."""

    def __init__(self, service: ServiceConfig) -> None:
        self.root = state_dir(service.directory)
        self.directory = service.directory
        self.region = service.region
        self.account_id = LOCAL_ACCOUNT_ID
        self.owner = (service.service, service.stage)

    @property
    def database(self) -> Path:
        return state_path(self.directory, DATABASE)

    def exists(self) -> bool:
        return self.database.is_file()

    @cached_property
    def store(self) -> Store:
        return Store(self.database)

    @cached_property
    def queues(self) -> LocalQueues:
        return LocalQueues(self.database)

    @cached_property
    def _owners(self) -> Database:
        return Database(self.database, _OWNERS_SCHEMA)

    # -- ownership ------------------------------------------------------------------------------

    def claim(self, resource: str) -> None:
        """Mark `resource` as this service's and stage's; before it is made, so that a crash
        leaves at worst a claim on nothing."""
        with self._owners.transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO deployed_resources VALUES (?, ?, ?)",
                (resource, *self.owner),
            )

    def release(self, resource: str) -> None:
        with self._owners.transaction() as db:
            db.execute("DELETE FROM deployed_resources WHERE resource = ?", (resource,))

    def owns(self, resource: str) -> bool:
        if not self.exists():
            return True
        row = (
            self._owners.connection()
            .execute(
                "SELECT service, stage FROM deployed_resources WHERE resource = ?", (resource,)
            )
            .fetchone()
        )
        return row is None or (row["service"], row["stage"]) == self.owner

    # -- roles and log groups: records only ----------------------------------------------------

    @property
    def records_path(self) -> Path:
        return state_path(self.directory, RECORDS)

    def records(self) -> dict[str, dict[str, Any]]:
        path = self.records_path
        data = json.loads(path.read_text()) if path.exists() else {}
        return {
            "roles": data.get("roles", {}),
            "logGroups": data.get("logGroups", {}),
            "layers": data.get("layers", {}),  # tooling.deploy.local_layer_providers
        }

    def save_records(self, records: dict[str, dict[str, Any]]) -> None:
        path = state_path(self.directory, RECORDS, create=True)
        tmp = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
        tmp.write_text(json.dumps(records, indent=2, sort_keys=True))
        os.replace(tmp, path)

    def in_region(self, arn: str) -> bool:
        return arn.split(":")[3:4] == [self.region]


class LocalRoles:
    def __init__(self, state: LocalState) -> None:
        self.state = state

    def check(self, resource: Role) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        return self.state.records()["roles"].get(address.name)

    def owns(self, address: Address, found: Found) -> bool:
        return self.state.owns(f"role {address.name}")

    def diff(self, resource: Role, found: Found) -> Diff:
        return role_diff(resource, found)

    def create(self, resource: Role) -> None:
        spec = resource.spec
        self.state.claim(f"role {spec.name}")
        records = self.state.records()
        records["roles"][spec.name] = {
            "RoleName": spec.name,
            "Arn": f"arn:aws:iam::{self.state.account_id}:role/{spec.name}",
            "AssumeRolePolicyDocument": spec.trust_policy,
            "InlinePolicies": spec.inline_policies,
            "ManagedPolicies": list(spec.managed_policies),
        }
        self.state.save_records(records)

    def update(self, resource: Role, found: Found, diff: Diff) -> None:
        self.create(resource)

    def delete(self, address: Address) -> None:
        records = self.state.records()
        if records["roles"].pop(address.name, None) is not None:
            self.state.save_records(records)
        if self.state.exists():
            self.state.release(f"role {address.name}")

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("Arn", "")))


class LocalLogGroups:
    """Log groups are regional: kept under their ARN, found by name and region."""

    def __init__(self, state: LocalState) -> None:
        self.state = state

    def _key(self, groups: dict[str, Any], name: str) -> str | None:
        # Older state files keyed them by name alone: match the stored name and ARN instead.
        for key, group in groups.items():
            if group.get("logGroupName") == name and self.state.in_region(group.get("arn", "")):
                return key
        return None

    def _arn(self, name: str) -> str:
        return f"arn:aws:logs:{self.state.region}:{self.state.account_id}:log-group:{name}:*"

    def check(self, resource: LogGroup) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        groups = self.state.records()["logGroups"]
        key = self._key(groups, address.name)
        return groups[key] if key is not None else None

    def owns(self, address: Address, found: Found) -> bool:
        return self.state.owns(f"log group {self._arn(address.name)}")

    def diff(self, resource: LogGroup, found: Found) -> Diff:
        return log_group_diff(resource, found)

    def create(self, resource: LogGroup) -> None:
        arn = self._arn(resource.name)
        self.state.claim(f"log group {arn}")
        records = self.state.records()
        group: dict[str, Any] = {"logGroupName": resource.name, "arn": arn}
        if resource.retention_days is not None:
            group["retentionInDays"] = resource.retention_days
        key = self._key(records["logGroups"], resource.name)
        if key is not None:
            del records["logGroups"][key]
        records["logGroups"][arn] = group
        self.state.save_records(records)

    def update(self, resource: LogGroup, found: Found, diff: Diff) -> None:
        self.create(resource)

    def delete(self, address: Address) -> None:
        records = self.state.records()
        key = self._key(records["logGroups"], address.name)
        if key is not None:
            del records["logGroups"][key]
            self.state.save_records(records)
        if self.state.exists():
            self.state.release(f"log group {self._arn(address.name)}")

    def describe(self, address: Address, found: Found) -> Description:
        days = found.get("retentionInDays")
        return Description(str(found.get("arn", "")), f"retention {days or '∞'}")


CODE_MISSING = "code missing from .tool/code"


class LocalFunctions:
    """Functions in the store, their code unpacked under `.tool/code/`. A function whose code
    folder is gone is planned as an update that unpacks it again."""

    def __init__(self, state: LocalState) -> None:
        self.state = state

    def _arn(self, name: str) -> str:
        return function_arn(self.state.region, self.state.account_id, name)

    def check(self, resource: Function) -> list[str]:
        """A function this machine cannot run is still deployed, so the rest of the service
        works; invoking it fails with Lambda.InvalidRuntimeException (tooling.localrt.invoker)."""
        if resource.key is None:  # the toolkit's own functions: Python, no settings
            return []
        notes = _local_setting_notes(resource, local_layer_arns(self.state))
        reason = why_not_here(resource.runtime)
        if reason is not None:
            where = ":".join(str(p) for p in resource.runtime_location if p is not None)
            notes.append(
                f"{where + ': ' if where else ''}function '{resource.key}': {reason[0]}: "
                "deployed, but an invocation of it fails with Lambda.InvalidRuntimeException "
                f"({reason[1]})"
            )
        return notes

    def find(self, address: Address) -> Found | None:
        if not self.state.exists():
            return None
        record = self.state.store.get_function(self._arn(address.name))
        if record is None:
            return None
        return {
            **function_configuration(record),
            "CodeDirectory": record.code_dir,
            "ImageUri": record.config.get("ImageUri"),
            "ReservedConcurrentExecutions": record.config.get("ReservedConcurrentExecutions"),
            "EventInvokeConfig": record.config.get("EventInvokeConfig"),
        }

    def owns(self, address: Address, found: Found) -> bool:
        return self.state.owns(f"function {self._arn(address.name)}")

    def diff(self, resource: Function, found: Found) -> Diff:
        diff = function_diff(resource, found)
        if resource.image is not None or Path(str(found.get("CodeDirectory"))).is_dir():
            return diff
        return Diff((CODE_MISSING, *diff.reasons), ("Code", *diff.attributes))

    def create(self, resource: Function) -> None:
        arn = self._arn(resource.name)
        self.state.claim(f"function {arn}")
        config = {
            **resource.configuration(),
            # Where the own layers it names are unpacked (/opt on Lambda), in order.
            "LayerDirectories": layer_directories(self.state, resource.settings.layers),
            "Architectures": resource.architectures,
            "Tags": resource.settings.tag_map,
            "ReservedConcurrentExecutions": resource.settings.reserved_concurrency,
            "EventInvokeConfig": resource.settings.event_invoke_config(),
        }
        if resource.image is not None:  # recorded, not run (tooling.localrt.runtimes)
            config["ImageUri"] = resource.image.uri
            sha256, size, directory = hashlib.sha256(resource.image.uri.encode()).hexdigest(), 0, ""
        else:
            code = resource.code
            assert code is not None, "a function is deployed with its package"
            sha256, size = code.sha256, code.size
            directory = str(
                install_code(
                    state_path(self.state.directory, "code", create=True), code.path, code.sha256
                )
            )
        self.state.store.put_function(
            FunctionRecord(
                name=resource.name,
                arn=arn,
                config=config,
                code_sha256=sha256,
                code_size=size,
                code_dir=directory,
                last_modified=_now(),
            )
        )

    def update(self, resource: Function, found: Found, diff: Diff) -> None:
        self.create(resource)

    def delete(self, address: Address) -> None:
        if self.state.exists():
            arn = self._arn(address.name)
            self.state.store.delete_function(arn)
            self.state.release(f"function {arn}")

    def describe(self, address: Address, found: Found) -> Description:
        runtime = found.get("Runtime") or "image"  # a container image function has none
        details = f"{runtime} {found.get('MemorySize')} MB {found.get('Timeout')} s"
        return Description(str(found.get("FunctionArn", "")), details)


def _local_setting_notes(resource: Function, local_layers: set[str]) -> list[str]:
    """What of the function's settings the local runtime does not reproduce."""
    settings, who = resource.settings, f"{resource.declared_in}: function '{resource.key}'"
    notes = []
    # A layer other than the service's own (references, or versions of the local target's).
    if any(layer.startswith("arn:") and layer not in local_layers for layer in settings.layers):
        notes.append(
            f"{who}: its layers other than the service's own are not on this machine, and the "
            "local runtime runs it without them (what it imports from such a layer is missing; "
            "put that code in the package, or in a layer of the service's `layers:`, to run it "
            "locally)"
        )
    if settings.vpc is not None:
        notes.append(
            f"{who}: runs on this machine, not in the VPC's subnets (what it reaches only "
            "from the VPC is out of reach locally)"
        )
    if settings.tracing == "Active":
        notes.append(f"{who}: tracing is Active on AWS; the local runtime sends no X-Ray traces")
    if settings.reserved_concurrency:
        notes.append(
            f"{who}: reservedConcurrency {settings.reserved_concurrency} is not enforced by the "
            "local runtime (a reservedConcurrency of 0 is: its invocations are throttled)"
        )
    return notes


class LocalStateMachines:
    """State machines in the store. The local engine must be able to run the definition: what
    it does not run yet is refused with its line before anything is deployed. Logging
    configuration is not kept (the runtime keeps every execution's history itself)."""

    def __init__(self, state: LocalState) -> None:
        self.state = state

    def check(self, resource: StateMachine) -> None:
        tree = resource.tree
        if tree is None:
            tree = parse(resource.definition, resource.source)
        compile_definition(tree, provided=LOCAL_INTEGRATIONS)

    def find(self, address: Address) -> Found | None:
        if not self.state.exists() or address.arn is None:
            return None
        record = self.state.store.get_state_machine(address.arn)
        return describe_state_machine(record) if record else None

    def owns(self, address: Address, found: Found) -> bool:
        return self.state.owns(f"state machine {address.arn}")

    def diff(self, resource: StateMachine, found: Found) -> Diff:
        return state_machine_diff(resource, found, "local", keeps_logging=False)

    def create(self, resource: StateMachine) -> None:
        self.state.claim(f"state machine {resource.arn}")
        existing = self.state.store.get_state_machine(resource.arn)
        self.state.store.put_state_machine(
            StateMachineRecord(
                name=resource.name,
                arn=resource.arn,
                definition=resource.definition_text,
                type=resource.type,
                role_arn=resource.role_arn,
                revision_id=str(uuid.uuid4()),
                creation_date=existing.creation_date if existing else _now(),
                update_date=_now() if existing else None,
            )
        )

    def update(self, resource: StateMachine, found: Found, diff: Diff) -> None:
        self.create(resource)

    def delete(self, address: Address) -> None:
        if self.state.exists() and address.arn is not None:
            self.state.store.delete_state_machine(address.arn)
            self.state.release(f"state machine {address.arn}")

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("stateMachineArn", "")), str(found.get("type", "")))


class LocalQueueProvider:
    """Queues in the runtime's SQLite file, kept under their ARN (queues are regional).
    Files written before that keep them under their bare name: found there, and moved to the
    ARN (messages and dead letters included) when next deployed."""

    def __init__(self, state: LocalState) -> None:
        self.state = state

    def check(self, resource: Queue) -> None:
        pass

    def find(self, address: Address) -> Found | None:
        if not self.state.exists() or address.arn is None:
            return None
        queues = self.state.queues
        info = queues.get_queue(address.arn) or queues.get_queue(address.name)
        if info is None:
            return None
        found: Found = {
            "QueueArn": address.arn,
            "VisibilityTimeout": f"{info.visibility_timeout:g}",
        }
        if info.dead_letter_queue is not None:
            policy = {
                "deadLetterTargetArn": info.dead_letter_queue,
                "maxReceiveCount": info.max_receive_count,
            }
            found["RedrivePolicy"] = json.dumps(policy, separators=(",", ":"))
        return found

    def owns(self, address: Address, found: Found) -> bool:
        return self.state.owns(f"queue {address.arn}")

    def diff(self, resource: Queue, found: Found) -> Diff:
        return queue_diff(resource, found, kept=LOCAL_QUEUE_ATTRIBUTES)

    def create(self, resource: Queue) -> None:
        self.state.claim(f"queue {resource.arn}")
        queues = self.state.queues
        queues.rename_queue(resource.name, resource.arn)
        attributes = queue_attributes(resource)
        dead_letter = resource.dead_letter.arn if resource.dead_letter else None
        queues.create_queue(
            resource.arn,
            visibility_timeout=float(attributes["VisibilityTimeout"]),
            dead_letter_queue=dead_letter,
            max_receive_count=resource.max_receive_count if dead_letter else None,
        )

    def update(self, resource: Queue, found: Found, diff: Diff) -> None:
        self.create(resource)

    def delete(self, address: Address) -> None:
        if self.state.exists() and address.arn is not None:
            self.state.queues.delete_queue(address.arn)
            self.state.queues.delete_queue(address.name)  # as older files kept it
            self.state.release(f"queue {address.arn}")

    def describe(self, address: Address, found: Found) -> Description:
        policy = found.get("RedrivePolicy")
        what = (
            f"dead letters after {json.loads(policy)['maxReceiveCount']} receives"
            if policy
            else "dead-letter queue"
        )
        return Description(str(address.arn), f"visibility {found['VisibilityTimeout']} s, {what}")


LOCAL_PLATFORM = Platform(
    polls_queues=True,
    stands_in_for_foreign_queues=True,
    runs_cloudformation=True,
    evaluates_alarms=False,
    notification_targets=LOCALLY_DELIVERED,
    matches_event_patterns=False,
    delivers_sns=False,
    invokes_cognito_triggers=False,
    publishes_versions=False,
)


class LocalCloudFormation:
    """A client of the folder's local AWS services, started at the first call that needs them."""

    def __init__(self, services: LocalAwsServices, region: str) -> None:
        self.services = services
        self.region = region
        self._client: AwsClient | None = None

    def __call__(self) -> AwsClient:
        if self._client is None:
            from tooling.aws.client import local_endpoint_client

            url = self.services.endpoint()
            self._client = local_endpoint_client(
                url, self.region, self.services.credentials().environment()
            )
        return self._client


def start_resident_runtime(tool_dir: Path) -> None:
    """The folder's resident runtime, started ahead (README, "The resident runtime"); not when
    workers are started another way (TOOL_RESIDENT=0) or TOOL_RESIDENT_AHEAD=0 says not now."""
    from tooling.localrt import resident

    if not resident.enabled() or os.environ.get("TOOL_RESIDENT_AHEAD", "1") == "0":
        return
    from tooling.backends.local import RESIDENT_ENTRY

    resident.ResidentRuntime(tool_dir, RESIDENT_ENTRY).start_ahead()


def stop_resident_runtime(tool_dir: Path) -> list[str]:
    """`tool remove`'s step: the folder's resident runtime ends with what it served (the
    workers it started go on; the next command that needs one starts it again)."""
    from tooling.backends.local import RESIDENT_ENTRY
    from tooling.localrt import resident

    if not resident.ResidentRuntime(tool_dir, RESIDENT_ENTRY).stop():
        return []
    return ["stopped the folder's resident runtime (the next command starts it again if needed)"]


def local_target(service: ServiceConfig) -> DeployTarget:
    state = LocalState(service)
    services = LocalAwsServices(state.root)
    reporter = Reporter()
    stacks = CloudFormationStacks(
        LocalCloudFormation(services, service.region),
        {TAG_SERVICE: service.service, TAG_STAGE: service.stage},
        reporter,
        target="local",
        template_for=local_template,
        poll_seconds=0.2,
        synchronous=True,
        may_exist=services.has_data,
    )
    return DeployTarget(
        target="local",
        region=service.region,
        account_id=LOCAL_ACCOUNT_ID,
        platform=LOCAL_PLATFORM,
        release=lambda: [*services.release(), *stop_resident_runtime(state.root)],
        warm_up=lambda: start_resident_runtime(state.root),
        providers={
            "role": LocalRoles(state),
            "log group": LocalLogGroups(state),
            "function": LocalFunctions(state),
            "state machine": LocalStateMachines(state),
            "queue": LocalQueueProvider(state),
            "stack": stacks,
            **local_event_providers(state),
            "http api": LocalHttpApis(state),
            "websocket api": LocalWebsocketApis(state),
            "function url": LocalFunctionUrls(state),
            "function alias": LocalFunctionAliases(state),
            "layer": LocalLayers(state, layer_owner(service.service, service.stage)),
            **local_sns_providers(state),
            **local_api_key_providers(state),
            **bucket_providers(
                LocalCloudFormation(services, service.region),
                service.region,
                {TAG_SERVICE: service.service, TAG_STAGE: service.stage},
                services.has_data,
            ),  # fmt: skip
        },
        reporter=reporter,
    )
