"""How a target deploys each kind of resource: one provider per kind and target.

The planner and the executors talk to providers only; they never ask which target they are on.
A provider answers in the shapes the target's own API uses (boto3's on AWS), and keeps whatever
else it needs in what `find` returns (the planner hands it back unread).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

from tooling.deploy.models import Address, Kind, Resource

Found = dict[str, Any]
# The toolkit's mark on what it deploys where the target keeps tags (docs/deploy.md, Ownership).
TAG_SERVICE = "tool:service"
TAG_STAGE = "tool:stage"
R_contra = TypeVar("R_contra", contravariant=True)


@dataclass(frozen=True)
class Diff:
    """How a found resource differs from the model: `reasons` for people ("code changed"),
    `attributes` for programs (the target's attribute names, e.g. "CodeSha256", "Timeout")."""

    reasons: tuple[str, ...] = ()
    attributes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.reasons)

    @staticmethod
    def of(*parts: tuple[str, tuple[str, ...]]) -> Diff:
        """Joined from (reason, attributes) pairs."""
        return Diff(
            tuple(reason for reason, _ in parts),
            tuple(name for _, names in parts for name in names),
        )


@dataclass(frozen=True)
class Member:
    """A resource inside a deployed one (a resource of the `resources:` stack): one more line
    of `tool info`, after its container's."""

    kind: str  # its type, e.g. AWS::DynamoDB::Table
    name: str  # its physical id (a table's name, a topic's ARN, a queue's URL)
    arn: str  # "" when the target does not say and it cannot be built from the name
    details: str = ""


@dataclass(frozen=True)
class Description:
    """One line of `tool info` (and one per member)."""

    arn: str
    details: str = ""
    members: tuple[Member, ...] = ()
    # What `tool info` shows beyond the line: an API key's name, value, description, customerId
    # (its "api keys" section, as `sls info` prints it).
    api_key: dict[str, Any] | None = field(default=None, hash=False)


class Provider(Protocol[R_contra]):
    """Find, diff, create, update, delete and recognise one kind of resource on one target."""

    def check(self, resource: R_contra) -> Sequence[str] | None:
        """Refuse (BadInput) what this target cannot deploy, before anything changes; what it
        deploys differently is said in the warnings returned."""
        ...

    def find(self, address: Address) -> Found | None:
        """The resource as it exists now, or None. Reads only."""
        ...

    def owns(self, address: Address, found: Found) -> bool:
        """Whether the toolkit made it for this service and stage (on AWS: by its tags)."""
        ...

    def diff(self, resource: R_contra, found: Found) -> Diff:
        """What differs; raises BadInput for a difference that cannot be applied in place."""
        ...

    def create(self, resource: R_contra) -> None: ...

    def update(self, resource: R_contra, found: Found, diff: Diff) -> None: ...

    def delete(self, address: Address) -> None:
        """Delete it; nothing happens if it is gone already."""
        ...

    def describe(self, address: Address, found: Found) -> Description: ...


@dataclass(frozen=True)
class Platform:
    """What a target does by itself, so that a service deploys no resource for it.

    The local runtime's `tool worker` starts executions from queue messages (AWS needs a trigger
    function and an event source mapping), and it keeps a local stand-in for a queue given by
    ARN (on AWS that queue exists already). A target that runs CloudFormation deploys
    `resources:` as a stack."""

    polls_queues: bool = False
    stands_in_for_foreign_queues: bool = False
    runs_cloudformation: bool = False  # it has a "stack" provider for `resources:`
    # What it cannot do, said when such resources are deployed to it: evaluate CloudWatch
    # alarms, and deliver status-change notifications to every kind of target (None: all).
    evaluates_alarms: bool = True
    notification_targets: frozenset[str] | None = None
    matches_event_patterns: bool = True  # invokes the targets of rules with an event pattern
    delivers_sns: bool = True  # invokes the functions subscribed to its topics
    invokes_cognito_triggers: bool = True  # its user pools call their LambdaConfig functions
    publishes_versions: bool = True  # functions have published versions (useExactVersion)


class Reporter:
    """Where a provider says how a long operation goes (a stack's events as they come): the CLI
    points it at stderr; nothing is said otherwise."""

    def __init__(self) -> None:
        self.listener: Callable[[str], None] | None = None

    def __call__(self, line: str) -> None:
        if self.listener is not None:
            self.listener(line)


@dataclass
class DeployTarget:
    """One target as the deploy sees it: where, what it does by itself, and its providers."""

    target: str  # "local" | "aws": names the record file and appears in messages
    region: str
    account_id: str
    platform: Platform
    providers: Mapping[Kind, Provider[Any]]
    lookup_threads: int = 1  # independent look-ups run this many at once
    # After `tool remove`: stop what the target runs for the service beyond its resources
    # (locally, the local AWS services); one line per thing stopped.
    release: Callable[[], list[str]] = lambda: []
    # After `tool deploy`: start ahead what the first run would otherwise wait for (locally,
    # the folder's resident runtime); it does not wait for it.
    warm_up: Callable[[], None] = lambda: None
    reporter: Reporter = field(default_factory=Reporter)  # progress of long operations

    def provider(self, kind: Kind) -> Provider[Any]:
        try:
            return self.providers[kind]
        except KeyError:
            raise NotImplementedError(f"the {self.target} target has no {kind} provider") from None

    def provider_of(self, resource: Resource) -> Provider[Any]:
        return self.provider(resource.address.kind)
