"""`tool worker`'s EventBridge on the local target: the schedules and status-change
notifications the service deploys, fired and delivered by tooling.localrt.eventbridge through
the local backend."""

from __future__ import annotations

import threading
from collections.abc import Callable

from tooling.config.service import ServiceConfig
from tooling.localrt.event_store import EventStore
from tooling.localrt.eventbridge import (
    Delivery,
    EventLoopStats,
    FiredTick,
    NotificationDeliverer,
    Say,
    ScheduleFirer,
    function_runner,
    local_aws_client,
    run_local_events,
)
from tooling.localrt.queue import LocalQueues


def local_event_loop(
    service: ServiceConfig, say: Say
) -> Callable[[threading.Event, bool], EventLoopStats] | None:
    """What `tool worker` runs on the local target besides the SQS triggers: the schedules and
    notifications the service deploys (on AWS, EventBridge does it). None when there are
    none."""
    machines = service.state_machines.values()
    schedules = any(m.events.schedules for m in machines) or any(
        f.events.schedules for f in service.functions.values()
    )
    notifications = any(m.events.notifications for m in machines)
    if not (schedules or notifications):
        return None
    from tooling.backends.local import LocalBackend
    from tooling.names import LOCAL_ACCOUNT_ID
    from tooling.triggers.starters import BackendStarter

    backend = LocalBackend(service.directory, service.region)
    events = EventStore(backend.store.path)
    local_aws = local_aws_client(backend.store.path.parent, service.region)
    starter = BackendStarter(backend)
    run_function = function_runner(backend.store, service.region, say, local_aws)
    firer = ScheduleFirer(
        events, starter, region=service.region, account=LOCAL_ACCOUNT_ID, say=say,
        run_function=run_function,
    )  # fmt: skip
    deliverer = NotificationDeliverer(
        events,
        backend.store,
        starter,
        LocalQueues(backend.store.path),
        service.region,
        LOCAL_ACCOUNT_ID,
        say=say,
        run_function=run_function,
        local_aws=local_aws,
    )

    def on_tick(tick: FiredTick) -> None:
        if ":function:" in tick.execution_arn:  # a function target: invoked, not started
            say(f"schedule {tick.schedule}: {tick.tick:%Y-%m-%d %H:%M:%S}Z invoked "
                f"{tick.execution_arn.rsplit(':', 1)[-1]}")  # fmt: skip
            return
        how = "started" if tick.started else "had started already"
        say(f"schedule {tick.schedule}: {tick.tick:%Y-%m-%d %H:%M:%S}Z {how} "
            f"{tick.execution_arn.rsplit(':', 1)[-1]}")  # fmt: skip

    def on_delivery(delivery: Delivery) -> None:
        say(f"notified {delivery.target} of {delivery.execution_arn.rsplit(':', 1)[-1]} "
            f"{delivery.status}: {delivery.outcome}")  # fmt: skip

    def run(stop: threading.Event, once: bool) -> EventLoopStats:
        return run_local_events(
            firer if schedules else None,
            deliverer if notifications else None,
            stop=stop,
            once=once,
            on_tick=on_tick,
            on_delivery=on_delivery,
        )

    return run
