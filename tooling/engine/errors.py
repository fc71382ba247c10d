"""Errors raised while a state machine runs: a Step Functions error name and its cause."""

from __future__ import annotations

# Error names the engine itself raises (Amazon States Language, appendix A).
ALL = "States.ALL"
TASK_FAILED = "States.TaskFailed"
TIMEOUT = "States.Timeout"
RUNTIME = "States.Runtime"
DATA_LIMIT_EXCEEDED = "States.DataLimitExceeded"
NO_CHOICE_MATCHED = "States.NoChoiceMatched"
RESULT_PATH_MATCH_FAILURE = "States.ResultPathMatchFailure"
INTRINSIC_FAILURE = "States.IntrinsicFailure"


class StatesError(Exception):
    """A failure inside an execution, named as Step Functions names it (e.g. States.Timeout)."""

    def __init__(self, error: str, cause: str | None = None) -> None:
        super().__init__(f"{error}: {cause}" if cause else error)
        self.error = error
        self.cause = cause


class StateRuntimeError(StatesError):
    """A States.Runtime-style failure whose cause AWS prefixes with the state and its entered event.

    `detail` is the text after "An error occurred while executing the state 'X' (entered at the
    event id #N). "; the interpreter adds that prefix because only it knows the state and event.
    """

    def __init__(self, detail: str, error: str = RUNTIME) -> None:
        super().__init__(error, detail)
        self.detail = detail
