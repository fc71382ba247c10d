"""What one execution runs with: its identity and the ports the outside world hands in, fixed
for the whole run and shared by every branch and iteration."""

from __future__ import annotations

import random as random_module
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from tooling.engine.ports import (
    Clock,
    HistorySink,
    LambdaInvoker,
    ServiceIntegrations,
    TaskCallbacks,
    WaitNotice,
)

if TYPE_CHECKING:
    from tooling.engine.mocks import TaskMocks


@dataclass(frozen=True)
class ExecutionInfo:
    execution_arn: str
    name: str
    state_machine_arn: str
    state_machine_name: str
    role_arn: str
    start_time: datetime | None = None  # None: clock.now() when the run starts
    state_machine_type: str = "STANDARD"  # or "EXPRESS" (whose $$.Execution has no RedriveCount)


@dataclass(frozen=True)
class ExecutionContext:
    """The ports of one execution (clock, history sink, Lambda functions, service integrations,
    task tokens, mocks), its identity, and what the run fixes when it starts: the context
    object's Execution and StateMachine parts and the deadline of the machine's TimeoutSeconds.
    Every frame of the run shares it."""

    info: ExecutionInfo
    clock: Clock
    history: HistorySink
    lambdas: LambdaInvoker
    services: ServiceIntegrations
    callbacks: TaskCallbacks
    mocks: TaskMocks | None
    rng: random_module.Random
    on_wait: Callable[[WaitNotice], None] | None
    execution: dict[str, Any] = field(default_factory=dict)  # $$.Execution
    state_machine: dict[str, Any] = field(default_factory=dict)  # $$.StateMachine
    deadline: datetime | None = None

    @cached_property
    def region(self) -> str:
        parts = self.info.state_machine_arn.split(":")
        return parts[3] if len(parts) > 3 else ""

    @cached_property
    def account(self) -> str:
        parts = self.info.state_machine_arn.split(":")
        return parts[4] if len(parts) > 4 else ""
