"""Task tokens of the local runtime, kept in its SQLite store so that another process can answer
them (`tool task success|failure|heartbeat`) while the execution's worker polls."""

from __future__ import annotations

import time
from collections.abc import Callable

from tooling.engine.callbacks import REAL_PAUSE_SECONDS, new_token
from tooling.engine.ports import CallbackOutcome, CallbackStatus, Clock
from tooling.localrt.store import Store

# How often the waiting execution looks at its token, measured on the execution's clock.
POLL_SECONDS = 0.2
# GetActivityTask holds the request up to 60 s on AWS; a little less here, so that an SDK with
# its default 60 s read timeout gets the empty answer rather than a timeout.
ACTIVITY_POLL_SECONDS = 55.0
ACTIVITY_POLL_STEP = 0.2


def long_poll_activity(
    take: Callable[[], tuple[str, str] | None], seconds: float = ACTIVITY_POLL_SECONDS
) -> dict[str, str]:
    """GetActivityTask's answer: `{"taskToken", "input"}` of the attempt `take` claims within
    `seconds`, or `{}` (no task) once they passed, as AWS's long polling answers."""
    until = time.monotonic() + seconds
    while True:
        taken = take()
        if taken is not None:
            return {"taskToken": taken[0], "input": taken[1]}
        if time.monotonic() >= until:
            return {}
        time.sleep(ACTIVITY_POLL_STEP)


class StoreTaskCallbacks:
    """The engine's TaskCallbacks port on the local store."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        poll_seconds: float = POLL_SECONDS,
        pause_seconds: float = REAL_PAUSE_SECONDS,
    ) -> None:
        self.store = store
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.pause_seconds = pause_seconds

    def issue(self, execution_arn: str, state_name: str) -> str:
        token = new_token()
        self.store.add_task_token(token, execution_arn, state_name, self.clock.now())
        return token

    def status(self, token: str) -> CallbackStatus:
        status = self.store.task_token_status(token)
        if status.outcome is None and self.pause_seconds:
            time.sleep(self.pause_seconds)  # let another process answer (see REAL_PAUSE_SECONDS)
        return status

    def close(self, token: str) -> None:
        self.store.close_task_token(token)

    def schedule_activity(self, token: str, activity_arn: str, input_text: str) -> None:
        self.store.schedule_activity(token, activity_arn, input_text)

    def activity_worker(self, token: str) -> str | None:
        return self.store.activity_worker(token)

    # GetActivityTask, SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat (TaskTokenError as
    # AWS answers)

    def get_activity_task(self, activity_arn: str, worker: str) -> tuple[str, str] | None:
        return self.store.claim_activity_task(activity_arn, worker, self.clock.now())

    def send_success(self, token: str, output: str) -> None:
        self.store.answer_task_token(token, CallbackOutcome(output=output))

    def send_failure(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        self.store.answer_task_token(token, CallbackOutcome(failed=True, error=error, cause=cause))

    def send_heartbeat(self, token: str) -> None:
        self.store.heartbeat_task_token(token)
