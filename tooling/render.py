"""Everything the CLI shows. Data goes to stdout; progress, logs and errors go to stderr.

Statuses are coloured on a terminal only, and never when NO_COLOR is set (no-color.org).
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import threading
import time
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, TextIO

if TYPE_CHECKING:
    from tooling.deploy.plan import Change

_ERROR_DETAILS = (
    "executionFailedEventDetails",
    "executionTimedOutEventDetails",
    "executionAbortedEventDetails",
    "lambdaFunctionFailedEventDetails",
    "lambdaFunctionTimedOutEventDetails",
    "lambdaFunctionScheduleFailedEventDetails",
    "lambdaFunctionStartFailedEventDetails",
    "taskFailedEventDetails",
    "taskTimedOutEventDetails",
    "taskStartFailedEventDetails",
    "taskSubmitFailedEventDetails",
)


def is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or odd stream
        return False


def colour_enabled(stream: TextIO) -> bool:
    return (
        is_terminal(stream)
        and not os.environ.get("NO_COLOR")
        and os.environ.get("TERM", "") != "dumb"
    )


_RED, _GREEN, _YELLOW, _DIM = "31", "32", "33", "2"
_STATUS_COLOURS = {
    "SUCCEEDED": _GREEN,
    "FAILED": _RED,
    "TIMED_OUT": _RED,
    "ABORTED": _YELLOW,
    "RUNNING": _YELLOW,
}


def paint(text: str, code: str | None, stream: TextIO) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if code and colour_enabled(stream) else text


def status_colour(status: str) -> str | None:
    return _STATUS_COLOURS.get(status)


def event_colour(event_type: str) -> str | None:
    if event_type.endswith(("Failed", "TimedOut", "StartFailed", "SubmitFailed")):
        return _RED
    if event_type.endswith("Aborted"):
        return _YELLOW
    if event_type == "ExecutionSucceeded":
        return _GREEN
    return None


def data(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def info(text: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
    with PROGRESS.lock:
        PROGRESS.erase(out)
        out.write(text + "\n")
        out.flush()


def json_document(value: Any) -> None:
    data(json.dumps(value, indent=2, default=str))


def _short(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


class EventPrinter:
    """One readable line per history event, with the time since the execution started."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream
        self.started: datetime | None = None
        self.state_by_event: dict[int, str] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        out = self.stream or sys.stderr
        info(self.line(event, colour_for=out), out)

    def line(self, event: dict[str, Any], colour_for: TextIO | None = None) -> str:
        stamp = event["timestamp"]
        if isinstance(stamp, str):
            stamp = datetime.fromisoformat(stamp)
        if self.started is None:
            self.started = stamp
        elapsed = (stamp - self.started).total_seconds()
        state = self._state_name(event)
        kind = f"{event['type']:<28}"
        if colour_for is not None:
            kind = paint(kind, event_colour(event["type"]), colour_for)
        text = f"{event['id']:>4}  {elapsed:>8.3f}s  {kind} {state}".rstrip()
        for key in _ERROR_DETAILS:
            details = event.get(key)
            if details:
                error = details.get("error") or ""
                cause = details.get("cause") or ""
                text += f"  {error}: {_short(readable_cause(cause))}" if cause else f"  {error}"
        return text

    def _state_name(self, event: dict[str, Any]) -> str:
        """The state an event belongs to: named on Entered/Exited, else inherited along
        previousEventId (a task's Scheduled/Started/Succeeded chain back to its Entered)."""
        details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
        if details:
            name = str(details.get("name", ""))
        elif event["type"].startswith("Execution"):
            name = ""
        else:
            name = self.state_by_event.get(event.get("previousEventId", 0), "")
        self.state_by_event[event["id"]] = name
        return name


# Lambda's own framing lines; `tool logs` shows them, a followed run shows only the handler's.
_PLATFORM_LINES = ("START RequestId:", "END RequestId:", "REPORT RequestId:", "INIT_REPORT")


def log_line(entry: dict[str, Any], stream: TextIO | None = None) -> None:
    if entry["message"].startswith(_PLATFORM_LINES):
        return
    info(f"      {entry.get('functionName', '')} | {entry['message']}", stream)


def execution_outcome(description: dict[str, Any], whole_cause: str | None = None) -> None:
    """The human result: the output on stdout if it succeeded, else error and cause on stderr.
    When the cause is shortened, `whole_cause` says how to see all of it (default: `tool
    history NAME --json`, for executions a target keeps)."""
    status = description["status"]
    if status == "SUCCEEDED":
        output = description.get("output")
        data(json.dumps(json.loads(output)) if output is not None else "null")
        return
    shown_status = paint(status, status_colour(status), sys.stderr)
    line = f"execution {description['name']} {shown_status}"
    if description.get("error"):
        line += f": {description['error']}"
    cause = description.get("cause")
    if cause:
        readable = readable_cause(cause)
        line += f": {readable}"
        if readable != cause:
            name = description["name"]
            line += f" (whole cause: {whole_cause or f'`tool history {name} --json`'})"
    info(line)


def clock_time(moment: datetime) -> str:
    """A wall-clock time in the local time zone, to the second."""
    return moment.astimezone().strftime("%H:%M:%S")


def wait_text(notice: dict[str, Any], left: float | None = None) -> str:
    """What a run sleeps through, until when, and how to skip it."""
    until = notice["until"]
    if isinstance(until, str):
        until = datetime.fromisoformat(until)
    seconds = float(notice["seconds"])
    if notice["kind"] == "Retry":
        what = f"retrying {notice['state']} after {notice.get('error') or 'an error'}"
        retry, most = notice.get("retry"), notice.get("maxAttempts")
        if retry and most:
            what += f" (retry {retry} of {most})"
    else:
        what = f"Wait state {notice['state']}"
    remaining = f"{math.ceil(left)} s left" if left is not None else f"{_seconds(seconds)}"
    return (
        f"waiting: {what} at {clock_time(until)} ({remaining}; --clock virtual makes waits instant)"
    )


def _seconds(seconds: float) -> str:
    """Whole seconds (a resumed or late sleep is a little short of its interval)."""
    whole = round(seconds)
    return f"{whole} s" if whole >= 1 else f"{seconds:.1f} s"


class Progress:
    """One line on stderr saying what a run waits for.

    On a terminal it is redrawn in place each second with the time left, and erased before
    anything else is printed; in a pipe (or a log file) each wait is printed once, as a line of
    its own."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.lock = threading.RLock()
        self.clock = clock
        self.notice: dict[str, Any] | None = None
        self.stream: TextIO | None = None
        self.drawn = False  # the line is on the terminal now
        self.announced: object = None  # the notice last printed in a pipe
        self.ticker: threading.Thread | None = None

    def show(self, notice: dict[str, Any] | None, stream: TextIO | None = None) -> None:
        """Show `notice` (a WaitNotice as a dict), or clear the line when it is None."""
        out = stream or sys.stderr
        with self.lock:
            if notice is None:
                self.erase(out)
                self.notice = None
                return
            key = (notice["state"], notice["kind"], str(notice["until"]))
            if not is_terminal(out):
                if key != self.announced:
                    self.announced = key
                    out.write(wait_text(notice) + "\n")
                    out.flush()
                return
            self.notice, self.stream = notice, out
            self.draw()
            if self.ticker is None or not self.ticker.is_alive():
                self.ticker = threading.Thread(target=self._tick, daemon=True)
                self.ticker.start()

    def _left(self) -> float | None:
        if self.notice is None:
            return None
        until: datetime | str = self.notice["until"]
        if isinstance(until, str):
            until = datetime.fromisoformat(until)
        return until.timestamp() - self.clock()

    def draw(self) -> None:
        left = self._left()
        if self.notice is None or self.stream is None or left is None:
            return
        if left <= 0:
            self.erase(self.stream)
            self.notice = None
            return
        text = paint(wait_text(self.notice, left), _DIM, self.stream)
        self.stream.write("\r\x1b[2K" + text)
        self.stream.flush()
        self.drawn = True

    def erase(self, stream: TextIO) -> None:
        """Take the line off the terminal (before other output is printed)."""
        if self.drawn and self.stream is stream:
            stream.write("\r\x1b[2K")
            stream.flush()
            self.drawn = False

    def _tick(self) -> None:
        while True:
            time.sleep(1.0)
            with self.lock:
                if self.notice is None:
                    self.ticker = None
                    return
                self.draw()


PROGRESS = Progress()


def show_wait(notice: dict[str, Any] | None) -> None:
    PROGRESS.show(notice)


_FRAME = re.compile(r'File "(?P<path>[^"]+)", line (?P<line>\d+)')
# Where deployed code sits: Lambda's /var/task, the local runtime's .tool/code/<hash>/.
_CODE_ROOT = re.compile(r"^(?:/var/task/|.*/\.tool/code/[0-9a-f]+/)")


def readable_cause(cause: str) -> str:
    """A Lambda error payload (errorMessage, errorType, stackTrace) as its message and the
    file and line that raised it; any other cause as it is."""
    try:
        body = json.loads(cause)
    except ValueError:
        return cause
    if not isinstance(body, dict) or not isinstance(body.get("errorMessage"), str):
        return cause
    message: str = body["errorMessage"]
    frames = body.get("stackTrace")
    last = frames[-1] if isinstance(frames, list) and frames else None
    match = _FRAME.search(last) if isinstance(last, str) else None
    if match is None:
        return message
    return f"{message} ({_CODE_ROOT.sub('', match['path'])}:{match['line']})"


def changes(items: list[Change]) -> None:
    for change in items:
        data(change.describe())
    if not any(change.action != "unchanged" for change in items):
        data("No changes.")


def table(
    rows: list[list[str]],
    headers: list[str],
    colour: tuple[int, Callable[[str], str | None]] | None = None,
) -> None:
    """Aligned columns on stdout; `colour` (column, cell -> colour code) paints one column on a
    terminal, after the padding so escape codes do not upset the widths."""
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for index, row in enumerate([headers, *rows]):
        cells = [str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)]
        if colour is not None and index > 0:
            column, pick = colour
            cells[column] = paint(cells[column], pick(str(row[column])), sys.stdout)
        data("  ".join(cells).rstrip())
