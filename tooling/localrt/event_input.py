"""What an EventBridge target receives, locally: the event itself, a constant `Input`, the part
`InputPath` selects, or `InputTransformer`'s template filled from the event (EventBridge user
guide, "Transforming target input").

The events themselves: a schedule's "Scheduled Event" and Step Functions' "Step Functions
Execution Status Change", with deterministic ids (so the same tick or status change always makes
the same event, and the executions named after it start once).
"""

from __future__ import annotations

import json
import re
import uuid
from datetime import UTC, datetime
from typing import Any

_NAMESPACE = uuid.UUID("6f1b9f0e-3c1a-4f5e-9b7d-2a4c8e0d1f23")  # the toolkit's event ids
_STEP = re.compile(r"\.([A-Za-z0-9_@$-]+)|\[(\d+)\]|\['([^']*)'\]")
_PLACEHOLDER = re.compile(r"<([A-Za-z0-9_.-]+)>")
_MISSING = object()


def event_id(*parts: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, "/".join(parts)))


def _iso_seconds(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_event(rule_arn: str, tick: datetime, *, account: str, region: str) -> dict[str, Any]:
    """What EventBridge sends when a schedule fires (its `time` is the tick, whole seconds)."""
    return {
        "version": "0",
        "id": event_id(rule_arn, tick.astimezone(UTC).isoformat()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": _iso_seconds(tick),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


def _millis(moment: datetime | None) -> int | None:
    return int(moment.timestamp() * 1000) if moment is not None else None


def status_change_event(
    *,
    execution_arn: str,
    state_machine_arn: str,
    name: str,
    status: str,
    start_date: datetime,
    stop_date: datetime | None,
    input: str,
    output: str | None,
    error: str | None,
    cause: str | None,
    account: str,
    region: str,
) -> dict[str, Any]:
    """Step Functions' "Step Functions Execution Status Change" event for one status."""
    running = status == "RUNNING"
    when = start_date if running or stop_date is None else stop_date
    return {
        "version": "0",
        "id": event_id(execution_arn, status),
        "detail-type": "Step Functions Execution Status Change",
        "source": "aws.states",
        "account": account,
        "time": _iso_seconds(when),
        "region": region,
        "resources": [execution_arn],
        "detail": {
            "executionArn": execution_arn,
            "stateMachineArn": state_machine_arn,
            "name": name,
            "status": status,
            "startDate": _millis(start_date),
            "stopDate": None if running else _millis(stop_date),
            "input": input,
            "output": None if running else output,
            "inputDetails": {"included": True},
            "outputDetails": None if running or output is None else {"included": True},
            "error": None if running else error,
            "cause": None if running else cause,
        },
    }


def select(document: Any, path: str) -> Any:
    """`path` ($, $.a.b, $.a[0], $['a b']) in `document`; _MISSING when it is not there."""
    if not path.startswith("$"):
        raise ValueError(f"{path!r} is not a JSON path")
    value, rest = document, path[1:]
    while rest:
        step = _STEP.match(rest)
        if step is None:
            raise ValueError(f"{path!r} is not a JSON path EventBridge takes")
        key, index, quoted = step.groups()
        if index is not None:
            if not isinstance(value, list) or int(index) >= len(value):
                return _MISSING
            value = value[int(index)]
        else:
            name = key if key is not None else quoted
            if not isinstance(value, dict) or name not in value:
                return _MISSING
            value = value[name]
        rest = rest[step.end() :]
    return value


def target_input(target: dict[str, Any], event: dict[str, Any], *, rule_name: str = "",
                 rule_arn: str = "") -> str:  # fmt: skip
    """The text a target receives for `event`, as PutTargets' Input, InputPath or
    InputTransformer (none: the event itself) say."""
    if target.get("Input") is not None:
        return str(target["Input"])
    if target.get("InputPath"):
        found = select(event, target["InputPath"])
        return json.dumps(None if found is _MISSING else found)
    transformer = target.get("InputTransformer")
    if transformer:
        values: dict[str, Any] = {
            "aws.events.rule-arn": rule_arn,
            "aws.events.rule-name": rule_name,
            "aws.events.event.ingestion-time": event.get("time"),
            "aws.events.event": event,
            "aws.events.event.json": event,
        }
        for name, path in (transformer.get("InputPathsMap") or {}).items():
            found = select(event, path)
            values[name] = None if found is _MISSING else found
        return fill_template(str(transformer.get("InputTemplate", "")), values)
    return json.dumps(event)


def fill_template(template: str, values: dict[str, Any]) -> str:
    """Put each <name> in: inside a JSON string, a string value as its text (escaped for the
    string) and other values as JSON; outside one, the value as JSON."""
    out: list[str] = []
    in_string = False
    index = 0
    while index < len(template):
        char = template[index]
        if char == "\\" and in_string:
            out.append(template[index : index + 2])
            index += 2
            continue
        if char == '"':
            in_string = not in_string
        elif char == "<":
            match = _PLACEHOLDER.match(template, index)
            if match and match.group(1) in values:
                value = values[match.group(1)]
                if in_string:
                    text = value if isinstance(value, str) else json.dumps(value)
                    out.append(json.dumps(text)[1:-1])
                else:
                    out.append(json.dumps(value))
                index = match.end()
                continue
        out.append(char)
        index += 1
    return "".join(out)
