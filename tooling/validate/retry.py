"""Retry and Catch: error names, States.ALL placement, retrier numbers, catcher fields."""

from __future__ import annotations

from typing import Any

from tooling.asl import StateNode
from tooling.asl.fields import (
    JSONATA,
    JSONPATH,
    MAX_DELAY_SECONDS,
    MAX_SECONDS,
    STATES_ERRORS,
    object_fields,
)
from tooling.sourcemap import pointer_join
from tooling.validate.diagnostics import Collector, did_you_mean
from tooling.validate.payload import check_assign, check_jsonata_template, check_reference_path
from tooling.validate.rules import Rule

RETRIER = object_fields("Retrier")
CATCHER = {language: object_fields("Catcher", language) for language in (JSONPATH, JSONATA)}


class RetryAndCatch(Rule):
    """Retry and Catch of the states that take them (Task, Parallel, Map)."""

    def state(self, state: StateNode) -> None:
        if state.type not in ("Task", "Parallel", "Map"):
            return
        if state.has("Retry"):
            check_retry(self.out, state.fields, state.pointer, state.type, state.fields)
        if state.has("Catch"):
            check_catch(self.out, state.fields, state.pointer, state.language)


def check_retry(
    out: Collector, state: dict[str, Any], pointer: str, state_type: str, task: dict[str, Any]
) -> None:
    retry = state["Retry"]
    at = pointer_join(pointer, "Retry")
    if not isinstance(retry, list):
        out.error(at, "FIELD_TYPE", "Retry must be a list of retriers")
        return
    for index, retrier in enumerate(retry):
        r_at = pointer_join(at, index)
        if not isinstance(retrier, dict):
            out.error(r_at, "FIELD_TYPE", "a retrier must be an object with ErrorEquals")
            continue
        for key in retrier:
            if key not in RETRIER:
                out.error(
                    pointer_join(r_at, key),
                    "FIELD_UNKNOWN",
                    f'"{key}" is not a retrier field{did_you_mean(key, RETRIER)}',
                )
        _error_equals(out, retrier, r_at, last=index == len(retry) - 1, what="retrier")
        _integer(out, retrier, r_at, "MaxAttempts", 0, MAX_SECONDS)
        _integer(out, retrier, r_at, "IntervalSeconds", 1, MAX_SECONDS)
        _integer(out, retrier, r_at, "MaxDelaySeconds", 1, MAX_DELAY_SECONDS)
        if "BackoffRate" in retrier:
            rate = retrier["BackoffRate"]
            if not _is_number(rate) or rate < 1.0:
                out.error(
                    pointer_join(r_at, "BackoffRate"),
                    "RETRY_VALUE",
                    f"BackoffRate must be a number >= 1.0, not {rate!r}",
                )
        if "JitterStrategy" in retrier and retrier["JitterStrategy"] not in ("FULL", "NONE"):
            out.error(
                pointer_join(r_at, "JitterStrategy"),
                "RETRY_VALUE",
                f'JitterStrategy must be "FULL" or "NONE", not {retrier["JitterStrategy"]!r}',
            )
        _warn_unraisable(out, retrier, r_at, state_type, task)


def check_catch(out: Collector, state: dict[str, Any], pointer: str, language: str) -> None:
    catch = state["Catch"]
    at = pointer_join(pointer, "Catch")
    if not isinstance(catch, list):
        out.error(at, "FIELD_TYPE", "Catch must be a list of catchers")
        return
    allowed = CATCHER[language]
    other = CATCHER[JSONATA if language == JSONPATH else JSONPATH]
    for index, catcher in enumerate(catch):
        c_at = pointer_join(at, index)
        if not isinstance(catcher, dict):
            out.error(c_at, "FIELD_TYPE", "a catcher must be an object with ErrorEquals and Next")
            continue
        for key in catcher:
            if key in allowed:
                continue
            if key in other:
                out.error(
                    pointer_join(c_at, key),
                    "FIELD_QUERY_LANGUAGE",
                    f'"{key}" is not allowed in a {language} catcher',
                )
            else:
                out.error(
                    pointer_join(c_at, key),
                    "FIELD_UNKNOWN",
                    f'"{key}" is not a catcher field{did_you_mean(key, allowed)}',
                )
        _error_equals(out, catcher, c_at, last=index == len(catch) - 1, what="catcher")
        if "Next" not in catcher:
            out.error(c_at, "FIELD_MISSING", 'a catcher needs "Next" (the state to go to)')
        elif not isinstance(catcher["Next"], str):
            out.error(pointer_join(c_at, "Next"), "FIELD_TYPE", "Next must be a state name")
        if "ResultPath" in catcher and language == JSONPATH:
            check_reference_path(
                out,
                catcher["ResultPath"],
                pointer_join(c_at, "ResultPath"),
                "ResultPath",
                nullable=True,
                writes=True,
            )
        if "Output" in catcher and language == JSONATA:
            check_jsonata_template(out, catcher["Output"], pointer_join(c_at, "Output"))
        if "Assign" in catcher:
            check_assign(
                out, catcher["Assign"], pointer_join(c_at, "Assign"), jsonata=language == JSONATA
            )


def _error_equals(
    out: Collector, item: dict[str, Any], pointer: str, *, last: bool, what: str
) -> None:
    if "ErrorEquals" not in item:
        out.error(pointer, "FIELD_MISSING", f'a {what} needs "ErrorEquals" (a list of error names)')
        return
    errors = item["ErrorEquals"]
    at = pointer_join(pointer, "ErrorEquals")
    if not isinstance(errors, list) or not errors:
        out.error(at, "ERROR_EQUALS_EMPTY", "ErrorEquals must be a non-empty list of error names")
        return
    for index, name in enumerate(errors):
        e_at = pointer_join(at, index)
        if not isinstance(name, str) or not name:
            out.error(e_at, "FIELD_TYPE", "an error name must be a non-empty string")
        elif name.startswith("States.") and name not in STATES_ERRORS:
            out.warning(
                e_at,
                "ERROR_NAME_UNKNOWN",
                f'"{name}" is not an error Step Functions raises (States.* names are reserved)'
                f"{did_you_mean(name, STATES_ERRORS)}",
            )
    if "States.ALL" in errors:
        at_all = pointer_join(at, errors.index("States.ALL"))
        if len(errors) > 1:
            out.error(
                at_all,
                "STATES_ALL_NOT_ALONE",
                "States.ALL must be alone in its ErrorEquals: it already matches every error",
            )
        elif not last:
            out.error(
                at_all,
                "STATES_ALL_NOT_LAST",
                f"the {what} with States.ALL must be the last one: those after it never run",
            )


def _integer(
    out: Collector, item: dict[str, Any], pointer: str, key: str, low: int, high: int
) -> None:
    if key not in item:
        return
    value = item[key]
    if not _is_int(value) or not low <= value <= high:
        out.error(
            pointer_join(pointer, key),
            "RETRY_VALUE",
            f"{key} must be a whole number from {low} to {high}, not {value!r}",
        )


def _is_int(value: Any) -> bool:
    return (isinstance(value, int) and not isinstance(value, bool)) or (
        isinstance(value, float) and value.is_integer()
    )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _warn_unraisable(
    out: Collector, retrier: dict[str, Any], pointer: str, state_type: str, state: dict[str, Any]
) -> None:
    errors = retrier.get("ErrorEquals")
    if not isinstance(errors, list):
        return
    written = state.get("Resource")
    resource = written if isinstance(written, str) else ""
    for index, name in enumerate(errors):
        reason = None
        if name == "States.HeartbeatTimeout" and not (
            "HeartbeatSeconds" in state or "HeartbeatSecondsPath" in state
        ):
            reason = "the state sets no HeartbeatSeconds"
        elif name == "States.NoChoiceMatched":
            reason = "only Choice states raise it, and they cannot retry"
        elif name == "States.BranchFailed" and state_type == "Task":
            reason = "only Parallel and Map states raise it"
        elif name in ("States.ItemReaderFailed", "States.ResultWriterFailed") and (
            state_type != "Map"
        ):
            reason = "only Map states with an ItemReader/ResultWriter raise it"
        elif isinstance(name, str) and name.startswith("Lambda.") and ":lambda:" not in resource:
            reason = "the state does not invoke a Lambda function"
        elif name == "States.Runtime":
            reason = "runtime errors are not retried by Step Functions"
        if reason:
            out.warning(
                pointer_join(pointer_join(pointer, "ErrorEquals"), index),
                "RETRY_UNRAISABLE",
                f'retrying on "{name}" has no effect: {reason}',
            )
