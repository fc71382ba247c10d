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
QUERY_EVALUATION_ERROR = "States.QueryEvaluationError"
BRANCH_FAILED = "States.BranchFailed"
EXCEED_TOLERATED_FAILURE_THRESHOLD = "States.ExceedToleratedFailureThreshold"
PARAMETER_PATH_FAILURE = "States.ParameterPathFailure"
HEARTBEAT_TIMEOUT = "States.HeartbeatTimeout"


class StatesError(Exception):
    """A failure inside an execution, named as Step Functions names it (e.g. States.Timeout)."""

    def __init__(self, error: str | None, cause: str | None = None) -> None:
        # error is None only for a Fail state with no Error, seen through a Map or Parallel.
        super().__init__(f"{error}: {cause}" if cause else str(error))
        self.error = error
        self.cause = cause


class HeartbeatTimedOut(StatesError):
    """A Task whose HeartbeatSeconds passed without a heartbeat. AWS records it as States.Timeout
    (TaskTimedOut and ExecutionFailed in LocalStack's recordings of AWS, test_heartbeats), and
    Retry/Catch can tell it apart with ErrorEquals States.HeartbeatTimeout."""

    def __init__(self) -> None:
        super().__init__(TIMEOUT)


class StateRuntimeError(StatesError):
    """A States.Runtime-style failure whose cause AWS prefixes with the state and its entered event.

    `detail` is the text after "An error occurred while executing the state 'X' (entered at the
    event id #N). "; the interpreter adds that prefix because only it knows the state and event.
    """

    def __init__(self, detail: str, error: str = RUNTIME) -> None:
        super().__init__(error, detail)
        self.detail = detail


class BlockFailed(Exception):
    """Ends a block of states (the execution, a Parallel branch or a Map iteration) as FAILED.
    Error and cause may both be absent, as for a Fail state with neither."""

    def __init__(self, error: str | None, cause: str | None) -> None:
        super().__init__(error)
        self.error = error
        self.cause = cause
