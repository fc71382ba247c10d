"""What a service deploys, as data: one frozen model per kind of resource.

Each model has an `address` (its kind and the name it is known by) and names the resources it
needs (`dependencies`): the planner creates those first and deletes them last. A model says what
the service wants; how a target makes it so is its provider's business (tooling.deploy.providers).
No I/O here.

Adding a kind: a model here, a provider per target, and one line in tooling.deploy.desired.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, ClassVar, Literal

from tooling.iam import RoleSpec
from tooling.package import Package

Kind = Literal[
    "role", "log group", "function", "state machine", "queue", "event source mapping", "stack"
]
KINDS: tuple[Kind, ...] = (
    "role",
    "log group",
    "function",
    "state machine",
    "queue",
    "event source mapping",
    "stack",
)


@dataclass(frozen=True, order=True)
class Address:
    """Which resource: its kind and the name it is known by (unique per kind and target).

    `arn` is kept where the name alone does not find the resource: a state machine's or a
    queue's ARN; for an event source mapping, the ARN of its queue (its name is
    "<queue> -> <function>")."""

    kind: Kind
    name: str
    arn: str | None = field(default=None, compare=False)

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "name": self.name}


def mapping_name(queue_name: str, function_name: str) -> str:
    return f"{queue_name} -> {function_name}"


def mapping_function(address: Address) -> str:
    """The function an event source mapping's address names (after " -> ")."""
    return address.name.rsplit(" -> ", 1)[1]


@dataclass(frozen=True)
class Role:
    """An IAM role with its trust policy, inline and managed policies (local: a record)."""

    KIND: ClassVar[Kind] = "role"
    spec: RoleSpec

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.spec.name)

    def dependencies(self) -> tuple[Address, ...]:
        return ()


@dataclass(frozen=True)
class LogGroup:
    """A CloudWatch Logs group (local: a record)."""

    KIND: ClassVar[Kind] = "log group"
    name: str
    retention_days: int | None

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return ()


@dataclass(frozen=True)
class Function:
    """A Lambda function: its settings, and its code once packaged (None when only its
    identity is needed, as for `tool remove`)."""

    KIND: ClassVar[Kind] = "function"
    name: str
    handler: str
    runtime: str
    memory_size: int
    timeout: int
    environment: dict[str, str]
    role_arn: str
    code: Package | None
    needs: tuple[Address, ...] = ()  # its generated role and its log group
    key: str | None = field(default=None, compare=False)  # functions.<key>; None: the toolkit's
    declared_in: str = field(default="serverless.yml", compare=False)  # for messages
    # (file, line, column) of its runtime, where a message about the runtime points
    runtime_location: tuple[str | None, int | None, int | None] = field(
        default=(None, None, None), compare=False
    )

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    def configuration(self) -> dict[str, Any]:
        """Lambda's CreateFunction/UpdateFunctionConfiguration settings."""
        return {
            "Handler": self.handler,
            "Runtime": self.runtime,
            "MemorySize": self.memory_size,
            "Timeout": self.timeout,
            "Environment": {"Variables": dict(self.environment)},
            "Role": self.role_arn,
        }


@dataclass(frozen=True)
class StateMachine:
    """A Step Functions state machine. `definition` is the parsed definition, intrinsics
    resolved; `source` maps its values to serverless.yml/definition lines for messages."""

    KIND: ClassVar[Kind] = "state machine"
    name: str
    arn: str
    type: str  # STANDARD | EXPRESS
    definition: Any
    role_arn: str
    logging: dict[str, Any] | None  # Step Functions' loggingConfiguration; None: no logging
    source: Any = field(default=None, compare=False, repr=False)  # SourceMap | None
    declared_in: str = field(default="serverless.yml", compare=False)  # for messages
    needs: tuple[Address, ...] = ()  # its role, its log group, the functions it calls

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name, self.arn)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs

    @property
    def definition_text(self) -> str:
        return json.dumps(self.definition, indent=2)


@dataclass(frozen=True)
class Queue:
    """An SQS standard queue; with `dead_letter`, a redrive policy to that queue after
    `max_receive_count` receives. `retention_seconds` None keeps the target's default."""

    KIND: ClassVar[Kind] = "queue"
    name: str
    arn: str
    visibility_timeout: int
    retention_seconds: int | None = None
    dead_letter: Address | None = None
    max_receive_count: int | None = None

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name, self.arn)

    def dependencies(self) -> tuple[Address, ...]:
        return (self.dead_letter,) if self.dead_letter is not None else ()


@dataclass(frozen=True)
class EventSourceMapping:
    """Lambda polling a queue for a function, with ReportBatchItemFailures."""

    KIND: ClassVar[Kind] = "event source mapping"
    queue_name: str
    queue_arn: str
    function_name: str
    batch_size: int
    maximum_batching_window: int
    needs: tuple[Address, ...] = ()  # the queue (when the service makes it) and the function

    @property
    def address(self) -> Address:
        return Address(self.KIND, mapping_name(self.queue_name, self.function_name), self.queue_arn)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


@dataclass(frozen=True)
class Stack:
    """The CloudFormation stack of the service's `resources:` (one per service and stage).

    `template` is what is sent: the service's own logical ids replaced by their values, plus an
    Output per value the service reads (tooling.config.resources.stack_template). `origins`
    maps "Resources/<id>" to where it is written, for messages."""

    KIND: ClassVar[Kind] = "stack"
    name: str
    template: dict[str, Any] = field(hash=False)
    tags: dict[str, str] = field(default_factory=dict, hash=False)  # provider.stackTags
    parameters: dict[str, str] = field(default_factory=dict, hash=False)
    role_arn: str | None = None  # provider.cfnRole
    notification_arns: tuple[str, ...] = ()
    needs: tuple[Address, ...] = ()  # what the template names of the service, when it goes last
    declared_in: str = field(default="serverless.yml", compare=False)
    origins: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def address(self) -> Address:
        return Address(self.KIND, self.name)

    def dependencies(self) -> tuple[Address, ...]:
        return self.needs


Resource = Role | LogGroup | Function | StateMachine | Queue | EventSourceMapping | Stack
