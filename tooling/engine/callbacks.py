"""Task tokens of the callback pattern kept in memory (for `tool run` and tests), and the rules
every token store shares: the token format and the errors of SendTaskSuccess/Failure/Heartbeat.

Answers arrive through `send_success`, `send_failure` and `send_heartbeat` (AWS's three
actions), at once or scheduled some seconds after the token was issued, on the injected clock:
a test can say "heartbeat at 4 s, success at 9 s" and run it on a VirtualClock in no real time.
"""

from __future__ import annotations

import json
import re
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from tooling.engine.ports import CallbackOutcome, CallbackStatus, Clock

# SendTaskSuccess: output is at most 262,144 characters; taskToken 1 to 2,048 (API reference).
MAX_OUTPUT_CHARS = 262_144
MAX_TOKEN_CHARS = 2048
_TOKEN = re.compile(r"L[A-Za-z0-9_-]{63}")
# The message AWS returns for a token whose task already ended (seen in SDK error dumps of
# SendTaskSuccess); the messages of the other errors are not confirmed.
TASK_GONE = "Task Timed Out: 'Provided task does not exist anymore'"


class TaskTokenError(Exception):
    """A SendTask* call refused, named as AWS names the error (the exception's code)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code  # TaskDoesNotExist | TaskTimedOut | InvalidOutput | InvalidToken
        self.message = message

    @property
    def bad_input(self) -> bool:
        """The caller sent something malformed (rather than a token that is gone)."""
        return self.code in ("InvalidOutput", "InvalidToken")


# Real time to pause at each look at a pending token. Under a virtual clock the engine's own
# waits between looks cost nothing, so without it a callback wait would spin a core while
# simulated time races ahead of any answer from another thread or process.
REAL_PAUSE_SECONDS = 0.02


def new_token() -> str:
    """A fresh task token: 64 URL-safe characters (AWS tokens are longer opaque strings). The
    leading letter keeps it from looking like an option on a command line ("-x...")."""
    return "L" + secrets.token_urlsafe(47)


def check_token(token: str) -> None:
    """InvalidToken unless `token` has the shape this toolkit's local tokens have."""
    if not _TOKEN.fullmatch(token):
        shown = token if len(token) <= 80 else token[:77] + "..."
        raise TaskTokenError("InvalidToken", f"Invalid Token: '{shown}' is not a task token")


def check_output(output: str) -> None:
    """InvalidOutput unless `output` is JSON text within SendTaskSuccess's size limit."""
    if len(output) > MAX_OUTPUT_CHARS:
        raise TaskTokenError(
            "InvalidOutput",
            f"Invalid Output: the output is longer than {MAX_OUTPUT_CHARS} characters",
        )
    try:
        json.loads(output)
    except ValueError as exc:
        raise TaskTokenError("InvalidOutput", f"Invalid Output: not JSON ({exc})") from None


def gone() -> TaskTokenError:
    return TaskTokenError("TaskTimedOut", TASK_GONE)


def unknown(token: str) -> TaskTokenError:
    return TaskTokenError("TaskDoesNotExist", f"Task Does Not Exist: no task has the token {token}")


@dataclass(frozen=True)
class Heartbeat:
    """A scheduled SendTaskHeartbeat."""


@dataclass(frozen=True)
class Taken:
    """A scheduled GetActivityTask by `worker` that takes an activity Task's attempt."""

    worker: str = ""


_Action = CallbackOutcome | Heartbeat | Taken


@dataclass
class _Token:
    execution_arn: str
    state_name: str
    issued_at: datetime
    pending: bool = True
    outcome: CallbackOutcome | None = None
    heartbeats: int = 0
    scheduled: list[tuple[datetime, int, _Action]] = field(default_factory=list)
    activity_arn: str | None = None  # an activity Task's attempt, offered to its workers
    activity_input: str = ""
    worker: str | None = None  # the workerName of the GetActivityTask that took it


class InMemoryTaskCallbacks:
    """A TaskCallbacks port whose tokens live in this process."""

    def __init__(self, clock: Clock, poll_seconds: float = 1.0, pause_seconds: float = 0.0) -> None:
        self.clock = clock
        self.poll_seconds = poll_seconds
        self.pause_seconds = pause_seconds  # see REAL_PAUSE_SECONDS
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.Lock()
        self.issued: list[str] = []  # every token, in the order issued

    # ---- the engine's side ----------------------------------------------------------------------

    def issue(self, execution_arn: str, state_name: str) -> str:
        token = new_token()
        with self._lock:
            self._tokens[token] = _Token(execution_arn, state_name, self.clock.now())
            self.issued.append(token)
        return token

    def status(self, token: str) -> CallbackStatus:
        with self._lock:
            record = self._tokens[token]
            self._apply_due(record)
            status = CallbackStatus(record.outcome, record.heartbeats)
        if status.outcome is None and self.pause_seconds:
            time.sleep(self.pause_seconds)
        return status

    def close(self, token: str) -> None:
        with self._lock:
            record = self._tokens.get(token)
            if record is not None:
                record.pending = False
                record.scheduled.clear()

    def schedule_activity(self, token: str, activity_arn: str, input_text: str) -> None:
        with self._lock:
            record = self._tokens[token]
            if record.activity_arn is None:
                record.activity_arn, record.activity_input = activity_arn, input_text

    def activity_worker(self, token: str) -> str | None:
        with self._lock:
            record = self._tokens[token]
            self._apply_due(record)
            return record.worker

    # ---- GetActivityTask, SendTaskSuccess / SendTaskFailure / SendTaskHeartbeat ----------------

    def get_activity_task(self, activity_arn: str, worker: str) -> tuple[str, str] | None:
        """The oldest attempt of the activity no worker has taken: its token and input."""
        with self._lock:
            for token, record in self._tokens.items():
                if record.activity_arn == activity_arn and record.pending and record.worker is None:
                    record.worker = worker
                    return token, record.activity_input
        return None

    def send_success(self, token: str, output: str) -> None:
        check_output(output)
        self._answer(token, CallbackOutcome(output=output))

    def send_failure(self, token: str, error: str | None = None, cause: str | None = None) -> None:
        self._answer(token, CallbackOutcome(failed=True, error=error, cause=cause))

    def send_heartbeat(self, token: str) -> None:
        with self._lock:
            self._pending(token).heartbeats += 1

    def schedule(self, token: str, after_seconds: float, action: _Action) -> None:
        """Deliver `action` (an outcome, a Heartbeat, or Taken by an activity worker)
        `after_seconds` after the token was issued, as seen on the clock."""
        if isinstance(action, CallbackOutcome) and action.output is not None:
            check_output(action.output)
        with self._lock:
            record = self._pending(token)
            due = record.issued_at + timedelta(seconds=after_seconds)
            record.scheduled.append((due, len(record.scheduled), action))
            record.scheduled.sort(key=lambda entry: (entry[0], entry[1]))

    def _answer(self, token: str, outcome: CallbackOutcome) -> None:
        with self._lock:
            self._pending(token).outcome = outcome

    def _pending(self, token: str) -> _Token:
        check_token(token)
        record = self._tokens.get(token)
        if record is None:
            raise unknown(token)
        if not record.pending or record.outcome is not None:
            raise gone()
        return record

    def _apply_due(self, record: _Token) -> None:
        now = self.clock.now()
        while record.scheduled and record.scheduled[0][0] <= now and record.outcome is None:
            _, _, action = record.scheduled.pop(0)
            if isinstance(action, Heartbeat):
                record.heartbeats += 1
            elif isinstance(action, Taken):
                record.worker = action.worker
            else:
                record.outcome = action
