"""A function's `schedule` events, read as Serverless v3 reads them (lib/plugins/aws/package/
compile/events/schedule.js): a rate or cron expression, or a mapping with `rate` (one
expression, or a list of them: a rule each), `enabled`, `input`, `inputPath`,
`inputTransformer`, `name`, `description`, `method` (`eventBus`, the default: an EventBridge
rule; or `scheduler`: an EventBridge Scheduler schedule) and `timezone` (scheduler only).
Schedules are numbered per function across its events, as Serverless numbers their logical ids.
The expression and the keys both syntaxes share are read by tooling.config.events'
EventsReader, as for a state machine's schedules. tooling.config.function_events dispatches to
it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tooling.config.events import EventsReader, ScheduleEvent
from tooling.sourcemap import pointer_join

# Serverless v3's function `schedule` event schema: every key it allows.
FUNCTION_SCHEDULE_KEYS = frozenset(
    {
        "rate", "enabled", "input", "inputPath", "inputTransformer", "name", "description",
        "method", "timezone",
    }
)  # fmt: skip


@dataclass
class ScheduleEventReader(EventsReader):
    """Reads a function's `schedule` events (`machine_key` is the function's key)."""

    count: int = 0  # schedules read so far for this function

    @property
    def subject(self) -> str:
        return f"function '{self.machine_key}'"

    def function_schedules(self, value: Any, at: str) -> list[ScheduleEvent]:
        """The schedules of one `- schedule:` event (`at` points at its value)."""
        event_at = at.rsplit("/", 1)[0]  # _schedule takes the event's pointer
        if not isinstance(value, dict):
            return self._numbered(self._schedule(value, event_at, self.count + 1))
        for key in value:
            if key not in FUNCTION_SCHEDULE_KEYS:
                self.warn(
                    pointer_join(at, key),
                    f"schedule key `{key}` is unknown to Serverless for functions (ignored)",
                )
        known = {key: item for key, item in value.items() if key in FUNCTION_SCHEDULE_KEYS}
        rates = known.get("rate")
        if not isinstance(rates, list):
            return self._numbered(self._schedule(known, event_at, self.count + 1))
        if not rates:
            self.problem(pointer_join(at, "rate"), "`rate` lists no expression")
            return []
        if len(rates) > 1 and known.get("name"):
            self.problem(
                pointer_join(at, "name"),
                "a name cannot be given to more than one rate expression (Serverless refuses "
                "it: SCHEDULE_NAME_NOT_ALLOWED_MULTIPLE_RATES)",
            )
            return []
        found: list[ScheduleEvent] = []
        for rate in rates:
            found.extend(self._numbered(self._schedule({**known, "rate": rate}, event_at,
                                                       self.count + 1)))  # fmt: skip
        return found

    def _numbered(self, event: ScheduleEvent | None) -> list[ScheduleEvent]:
        if event is None:
            return []
        self.count += 1
        return [event]
