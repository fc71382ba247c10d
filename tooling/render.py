"""Everything the CLI shows. Data goes to stdout; progress, logs and errors go to stderr."""

from __future__ import annotations

import json
import re
import sys
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


def data(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def info(text: str, stream: TextIO | None = None) -> None:
    out = stream or sys.stderr
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
        info(self.line(event), self.stream)

    def line(self, event: dict[str, Any]) -> str:
        stamp = event["timestamp"]
        if isinstance(stamp, str):
            stamp = datetime.fromisoformat(stamp)
        if self.started is None:
            self.started = stamp
        elapsed = (stamp - self.started).total_seconds()
        state = self._state_name(event)
        text = f"{event['id']:>4}  {elapsed:>8.3f}s  {event['type']:<28} {state}".rstrip()
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


def execution_outcome(description: dict[str, Any]) -> None:
    """The human result: the output on stdout if it succeeded, else error and cause on stderr."""
    status = description["status"]
    if status == "SUCCEEDED":
        output = description.get("output")
        data(json.dumps(json.loads(output)) if output is not None else "null")
        return
    line = f"execution {description['name']} {status}"
    if description.get("error"):
        line += f": {description['error']}"
    cause = description.get("cause")
    if cause:
        readable = readable_cause(cause)
        line += f": {readable}"
        if readable != cause:
            line += f" (whole cause: `tool history {description['name']} --json`)"
    info(line)


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
    message = body["errorMessage"]
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


def table(rows: list[list[str]], headers: list[str]) -> None:
    widths = [
        max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)
    ]
    for row in [headers, *rows]:
        data(
            "  ".join(
                str(cell).ljust(width) for cell, width in zip(row, widths, strict=False)
            ).rstrip()
        )
