"""`tool logs`: what deployed functions printed, read through the Backend's function_logs and
execution_logs, filtered by time and text, one function or all, once or followed (`--tail`).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from tooling.errors import InputError, NotFound

if TYPE_CHECKING:
    from tooling.backends.base import Backend
    from tooling.config.service import ServiceConfig

_AGO = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|hr|d|w)\s*(?:ago)?\s*$", re.IGNORECASE)
_UNIT_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hr": 3600, "d": 86400}
TAIL_INTERVAL_SECONDS = 1.0  # as `sls logs --tail` polls (its --interval defaults to 1 s)


def parse_since(text: str, now: datetime | None = None) -> datetime:
    """`30s`, `10m`, `2h`, `1d`, `1w` (ago), or an ISO 8601 date or time (local time when it
    has no offset)."""
    match = _AGO.match(text)
    if match:
        unit = match.group(2).lower()
        seconds = float(match.group(1)) * (_UNIT_SECONDS.get(unit) or 7 * 86400)
        return (now or datetime.now(UTC)) - timedelta(seconds=seconds)
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            f"--since {text!r} is neither a duration nor an ISO 8601 time",
            hint="e.g. --since 10m, --since 2h, --since 2024-05-01T09:30",
        ) from None
    return moment if moment.tzinfo else moment.astimezone()


@dataclass(frozen=True)
class LogQuery:
    since: datetime | None = None
    text: str | None = None  # plain substring, case-sensitive

    def matches(self, line: LogLine) -> bool:
        if self.since is not None and line.timestamp < self.since:
            return False
        return self.text is None or self.text in line.message


@dataclass(frozen=True)
class LogLine:
    timestamp: datetime
    function: str  # deployed name
    message: str
    execution_arn: str | None = None
    show_function: bool = False  # several functions are shown together

    def render(self) -> str:
        stamp = self.timestamp.isoformat(timespec="milliseconds")
        if self.show_function:
            return f"{stamp}  {self.function} | {self.message}"
        return f"{stamp}  {self.message}"

    def to_json(self) -> dict[str, Any]:
        item = {
            "timestamp": self.timestamp.isoformat(),
            "functionName": self.function,
            "message": self.message,
        }
        if self.execution_arn is not None:
            item["executionArn"] = self.execution_arn
        return item


@dataclass
class LogSources:
    """Where the lines come from, with a cursor per source so that each read gets new lines."""

    backend: Backend
    functions: list[str]  # deployed names
    execution_arn: str | None = None
    cursors: dict[str, str | None] = field(default_factory=dict)

    def read_new(self) -> list[LogLine]:
        several = len(self.functions) > 1
        lines: list[LogLine] = []
        if self.execution_arn is not None:
            entries, self.cursors["execution"] = self.backend.execution_logs(
                self.execution_arn, self.cursors.get("execution")
            )
            wanted = set(self.functions)
            for entry in entries:
                if entry.get("functionName") in wanted:
                    lines += _split(entry, entry["functionName"], self.execution_arn, several)
            return lines
        for name in self.functions:
            entries, self.cursors[name] = self.backend.function_logs(name, self.cursors.get(name))
            for entry in entries:
                lines += _split(entry, name, entry.get("executionArn"), several)
        lines.sort(key=lambda line: line.timestamp)  # stable: each function's order stays
        return lines

    def nothing_yet(self, query: LogQuery) -> str:
        what = self.functions[0] if len(self.functions) == 1 else "the functions"
        if query.since is not None or query.text is not None:
            return f"no log lines from {what} match"
        return f"no log lines from {what} yet"


def _split(entry: dict[str, Any], function: str, arn: str | None, several: bool) -> list[LogLine]:
    """One line per line of the entry's message (a runtime may store an invocation's output
    as one entry)."""
    stamp = entry["timestamp"]
    if isinstance(stamp, str):
        stamp = datetime.fromisoformat(stamp)
    return [
        LogLine(stamp, function, text, arn, several)
        for text in str(entry["message"]).splitlines() or [""]
    ]


def sources_for(
    service: ServiceConfig,
    backend: Backend,
    function: str | None,
    execution: str | None,
    hint_flag: str = "",
) -> LogSources:
    """The deployed functions to read (one by key or deployed name, or all of the service's),
    and the execution to narrow them to."""
    if function is None:
        names = [fn.name for fn in service.functions.values()]
        if not names:
            raise NotFound(f"{service.config_file.name} declares no function")
    else:
        declared = {fn.name: key for key, fn in service.functions.items()}
        if function not in service.functions and function not in declared:
            raise NotFound(
                f"no function {function!r} in {service.config_file.name}",
                hint="known: " + (", ".join(sorted(service.functions)) or "none"),
            )
        names = [service.functions[function].name if function in service.functions else function]
    deployed = [name for name in names if backend.find_function(name) is not None]
    if not deployed:
        what = f"function {function!r} is" if function else "no function of the service is"
        raise NotFound(
            f"{what} not deployed on the {backend.target} target",
            hint=f"run `tool deploy{hint_flag}` first",
        )
    arn = None
    if execution is not None:
        if backend.target != "local":
            raise InputError(
                "--execution works on the local target only: CloudWatch does not tie a "
                "function's log lines to the execution that invoked it",
                hint=f"`tool history{hint_flag} {execution}` shows each call's input and output",
            )
        arn = backend.resolve_execution(execution)
    return LogSources(backend, deployed, arn)


def read(sources: LogSources, query: LogQuery) -> list[LogLine]:
    return [line for line in sources.read_new() if query.matches(line)]


def follow(
    sources: LogSources,
    query: LogQuery,
    sleep: Callable[[float], None] | None = None,
    interval: float = TAIL_INTERVAL_SECONDS,
) -> Iterator[LogLine]:
    """New matching lines as they come, until the caller stops (Ctrl-C)."""
    while True:
        (sleep or time.sleep)(interval)
        yield from read(sources, query)
