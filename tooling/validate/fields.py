"""Which fields each state type allows, per query language (States Language + AWS docs).

JSONPath states transform data with *Path/Parameters/ResultSelector; JSONata states with
Arguments/Output. A field of the other query language is reported as such, not as unknown.
"""

from __future__ import annotations

JSONPATH = "JSONPath"
JSONATA = "JSONata"
QUERY_LANGUAGES = (JSONPATH, JSONATA)

STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")

TOP_LEVEL = frozenset(
    {"Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"}
)
BRANCH = frozenset({"Comment", "StartAt", "States"})
ITEM_PROCESSOR = frozenset({"Comment", "StartAt", "States", "ProcessorConfig"})

_COMMON = {"Type", "Comment", "QueryLanguage"}
_FLOW = {"Next", "End"}
_JSONPATH_IO = {"InputPath", "OutputPath"}

_JSONPATH: dict[str, set[str]] = {
    "Pass": _COMMON | _FLOW | _JSONPATH_IO | {"Result", "ResultPath", "Parameters", "Assign"},
    "Task": _COMMON
    | _FLOW
    | _JSONPATH_IO
    | {"Resource", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch"}
    | {"TimeoutSeconds", "TimeoutSecondsPath", "HeartbeatSeconds", "HeartbeatSecondsPath"}
    | {"Credentials", "Assign"},
    "Choice": _COMMON | _JSONPATH_IO | {"Choices", "Default", "Assign"},
    "Wait": _COMMON
    | _FLOW
    | _JSONPATH_IO
    | {"Seconds", "SecondsPath", "Timestamp", "TimestampPath", "Assign"},
    "Succeed": _COMMON | _JSONPATH_IO,
    "Fail": _COMMON | {"Error", "ErrorPath", "Cause", "CausePath"},
    "Parallel": _COMMON
    | _FLOW
    | _JSONPATH_IO
    | {"Branches", "Parameters", "ResultSelector", "ResultPath", "Retry", "Catch", "Assign"},
    "Map": _COMMON
    | _FLOW
    | _JSONPATH_IO
    | {"ItemProcessor", "Iterator", "ItemsPath", "ItemSelector", "Parameters", "ItemReader"}
    | {"ItemBatcher", "ResultWriter", "MaxConcurrency", "MaxConcurrencyPath", "Label"}
    | {"ToleratedFailurePercentage", "ToleratedFailurePercentagePath"}
    | {"ToleratedFailureCount", "ToleratedFailureCountPath"}
    | {"ResultSelector", "ResultPath", "Retry", "Catch", "Assign"},
}
_JSONATA: dict[str, set[str]] = {
    "Pass": _COMMON | _FLOW | {"Output", "Assign"},
    "Task": _COMMON
    | _FLOW
    | {"Resource", "Arguments", "Output", "Retry", "Catch", "TimeoutSeconds"}
    | {"HeartbeatSeconds", "Credentials", "Assign"},
    "Choice": _COMMON | {"Choices", "Default", "Output", "Assign"},
    "Wait": _COMMON | _FLOW | {"Seconds", "Timestamp", "Output", "Assign"},
    "Succeed": _COMMON | {"Output"},
    "Fail": _COMMON | {"Error", "Cause"},
    "Parallel": _COMMON | _FLOW | {"Branches", "Arguments", "Output", "Retry", "Catch", "Assign"},
    "Map": _COMMON
    | _FLOW
    | {"ItemProcessor", "Items", "ItemSelector", "ItemReader", "ItemBatcher", "ResultWriter"}
    | {"MaxConcurrency", "ToleratedFailurePercentage", "ToleratedFailureCount", "Label"}
    | {"Output", "Retry", "Catch", "Assign"},
}
ALLOWED: dict[str, dict[str, frozenset[str]]] = {
    JSONPATH: {k: frozenset(v) for k, v in _JSONPATH.items()},
    JSONATA: {k: frozenset(v) for k, v in _JSONATA.items()},
}

PROCESSOR_CONFIG = frozenset({"Mode", "ExecutionType"})
# Distributed Map parts (AWS "Map state" docs); both query languages' payload fields are listed.
ITEM_READER = frozenset({"Resource", "ReaderConfig", "Parameters", "Arguments"})
RESULT_WRITER = frozenset({"Resource", "Parameters", "Arguments", "WriterConfig"})
ITEM_BATCHER = frozenset(
    {"MaxItemsPerBatch", "MaxItemsPerBatchPath", "MaxInputBytesPerBatch"}
    | {"MaxInputBytesPerBatchPath", "BatchInput"}
)

RETRIER = frozenset(
    {"ErrorEquals", "IntervalSeconds", "MaxAttempts", "BackoffRate", "MaxDelaySeconds"}
    | {"JitterStrategy", "Comment"}
)
CATCHER = {
    JSONPATH: frozenset({"ErrorEquals", "Next", "ResultPath", "Assign", "Comment"}),
    JSONATA: frozenset({"ErrorEquals", "Next", "Output", "Assign", "Comment"}),
}

STRING_OPS = ("StringEquals", "StringLessThan", "StringGreaterThan")
STRING_OPS += ("StringLessThanEquals", "StringGreaterThanEquals")
NUMERIC_OPS = ("NumericEquals", "NumericLessThan", "NumericGreaterThan")
NUMERIC_OPS += ("NumericLessThanEquals", "NumericGreaterThanEquals")
TIMESTAMP_OPS = ("TimestampEquals", "TimestampLessThan", "TimestampGreaterThan")
TIMESTAMP_OPS += ("TimestampLessThanEquals", "TimestampGreaterThanEquals")
TYPE_OPS = ("IsNull", "IsPresent", "IsNumeric", "IsString", "IsBoolean", "IsTimestamp")

# comparison operator -> the literal type its operand must have ("path" for *Path operators)
COMPARISONS: dict[str, str] = {}
for _op in STRING_OPS:
    COMPARISONS[_op] = "string"
    COMPARISONS[_op + "Path"] = "path"
for _op in NUMERIC_OPS:
    COMPARISONS[_op] = "number"
    COMPARISONS[_op + "Path"] = "path"
for _op in TIMESTAMP_OPS:
    COMPARISONS[_op] = "timestamp"
    COMPARISONS[_op + "Path"] = "path"
for _op in TYPE_OPS:
    COMPARISONS[_op] = "boolean"
COMPARISONS["BooleanEquals"] = "boolean"
COMPARISONS["BooleanEqualsPath"] = "path"
COMPARISONS["StringMatches"] = "string"
COMPOUND = ("And", "Or", "Not")
JSONPATH_RULE = frozenset({"Variable", "Next", "Comment", "Assign", *COMPARISONS, *COMPOUND})
JSONATA_RULE = frozenset({"Condition", "Next", "Comment", "Assign", "Output"})

# Error names Step Functions itself raises (AWS "Error handling" page); other States.* names
# are reserved.
STATES_ERRORS = frozenset(
    {
        "States.ALL", "States.DataLimitExceeded", "States.ExceedToleratedFailureThreshold",
        "States.HeartbeatTimeout", "States.Http.Socket", "States.IntrinsicFailure",
        "States.ItemReaderFailed", "States.NoChoiceMatched", "States.ParameterPathFailure",
        "States.Permissions", "States.ResultPathMatchFailure", "States.ResultWriterFailed",
        "States.Runtime", "States.TaskFailed", "States.Timeout", "States.BranchFailed",
        "States.QueryEvaluationError",
    }
)  # fmt: skip

MAX_STATE_NAME = 80  # Step Functions quotas: state name length
MAX_SECONDS = 99_999_999  # largest TimeoutSeconds/HeartbeatSeconds/IntervalSeconds/Seconds
MAX_DELAY_SECONDS = 31_622_400  # Retry MaxDelaySeconds upper bound (one year + a day)
MAX_VARIABLE_NAME = 80
