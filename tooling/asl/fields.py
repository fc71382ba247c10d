"""The one table of the States Language's fields: which state types take each field, in which
query language, what its value is, and whether the local engine runs it.

Every reader of a definition works from this table: `tool validate` checks each field's value by
its kind and reports a field of the wrong state type or query language; the engine refuses what
it does not run yet (`runs=False`) and compiles the rest; the graph draws the transitions. Adding
a field is adding a row here (see docs/engine.md, "Adding a field").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

JSONPATH = "JSONPath"
JSONATA = "JSONata"
QUERY_LANGUAGES = (JSONPATH, JSONATA)
BOTH = frozenset(QUERY_LANGUAGES)
ONLY_JSONPATH = frozenset({JSONPATH})
ONLY_JSONATA = frozenset({JSONATA})

STATE_TYPES = ("Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map")

MAX_STATE_NAME = 80  # Step Functions quotas: state name length
MAX_SECONDS = 99_999_999  # largest TimeoutSeconds/HeartbeatSeconds/IntervalSeconds/Seconds
MAX_DELAY_SECONDS = 31_622_400  # Retry MaxDelaySeconds upper bound (one year + a day)
MAX_VARIABLE_NAME = 80
MAX_BATCH_BYTES = 262_144  # ItemBatcher MaxInputBytesPerBatch: a child execution's input limit


class Kind(Enum):
    """What a field's value is. The validator checks simple kinds the same way wherever they
    appear; STRUCTURE fields (Choices, Branches, Retry, ...) have rules of their own."""

    STRING = "string"  # e.g. Comment
    STATE_NAME = "state name"  # Next, Default: a transition
    END = "end"  # End: true
    PATH = "path"  # InputPath, OutputPath: any JSONPath, or null
    RESULT_PATH = "result path"  # ResultPath: a reference path into the data, or null
    REFERENCE_PATH = "reference path"  # SecondsPath, ItemsPath, ...: one node
    PATH_OR_INTRINSIC = "reference path or intrinsic"  # ErrorPath, CausePath
    TEMPLATE = "template"  # JSONPath payload template (any JSON) / JSONata template
    OBJECT_TEMPLATE = "object template"  # the same, an object in JSONPath states
    ARGUMENTS = "arguments"  # JSONata Arguments: an object or an expression
    ASSIGN = "assign"  # variable names to values
    RESULT = "result"  # Pass Result: taken as is
    NUMBER = "number"  # a number in a range, or a JSONata expression in JSONata states
    TIMESTAMP = "timestamp"  # Wait Timestamp, or a JSONata expression
    STRING_OR_EXPRESSION = "string or expression"  # Fail Error/Cause
    ITEMS = "items"  # Map Items: an array or an expression
    LABEL = "label"  # Map Label: 1 to 40 characters
    RESOURCE = "resource"  # Task Resource: an ARN
    OBJECT = "object"  # an object whose own fields have a table (ItemReader, ResultWriter)
    STRUCTURE = "structure"  # Type, QueryLanguage, Choices, Branches, Retry, Catch, ...


@dataclass(frozen=True)
class Number:
    """The range of a NUMBER field: whole numbers (or any number) from `low` (to `high`)."""

    low: int
    high: int | None = None
    whole: bool = True

    def describe(self) -> str:
        bounds = f"from {self.low} to {self.high}" if self.high is not None else f">= {self.low}"
        return f"a {'whole ' if self.whole else ''}number {bounds}"

    def accepts(self, value: object) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return False
        if self.whole and not (isinstance(value, int) or value.is_integer()):
            return False
        return value >= self.low and (self.high is None or value <= self.high)


@dataclass(frozen=True)
class Field:
    """One row: `name` in the state types `states`, in the query languages `languages`."""

    name: str
    states: frozenset[str]
    languages: frozenset[str]
    kind: Kind
    runs: bool = True  # False: valid ASL that the local engine refuses ("not supported yet")
    number: Number | None = None  # the range of a NUMBER field
    jsonata_instead: str | None = None  # a JSONPath-only field: what JSONata states use
    table: str | None = None  # an OBJECT field: the name of its own table in OBJECT_FIELDS


def _states(*names: str) -> frozenset[str]:
    return frozenset(names)


ALL = _states(*STATE_TYPES)
FLOWING = ALL - {"Choice", "Succeed", "Fail"}  # states that take Next/End
NOT_FAIL = ALL - {"Fail"}
RETRYING = _states("Task", "Parallel", "Map")
SECONDS = Number(1, MAX_SECONDS)

# fmt: off
STATE_FIELDS: tuple[Field, ...] = (
    # name                          states            languages      kind
    Field("Type",                   ALL,              BOTH,          Kind.STRUCTURE),
    Field("Comment",                ALL,              BOTH,          Kind.STRING),
    Field("QueryLanguage",          ALL,              BOTH,          Kind.STRUCTURE),
    Field("Next",                   FLOWING,          BOTH,          Kind.STATE_NAME),
    Field("End",                    FLOWING,          BOTH,          Kind.END),
    Field("InputPath",              NOT_FAIL,         ONLY_JSONPATH, Kind.PATH,
          jsonata_instead="Arguments"),
    Field("OutputPath",             NOT_FAIL,         ONLY_JSONPATH, Kind.PATH),
    Field("Parameters",             _states("Pass"),  ONLY_JSONPATH, Kind.TEMPLATE,
          jsonata_instead="Arguments"),
    Field("Parameters",             RETRYING,         ONLY_JSONPATH, Kind.OBJECT_TEMPLATE,
          jsonata_instead="Arguments"),
    Field("Result",                 _states("Pass"),  ONLY_JSONPATH, Kind.RESULT,
          jsonata_instead="Output"),
    Field("ResultSelector",         RETRYING,         ONLY_JSONPATH, Kind.OBJECT_TEMPLATE),
    Field("ResultPath",             _states("Pass") | RETRYING, ONLY_JSONPATH, Kind.RESULT_PATH),
    Field("Arguments",              _states("Task", "Parallel"), ONLY_JSONATA, Kind.ARGUMENTS),
    Field("Output",                 NOT_FAIL,         ONLY_JSONATA,  Kind.TEMPLATE),
    Field("Assign",                 NOT_FAIL - {"Succeed"}, BOTH,    Kind.ASSIGN),
    Field("Retry",                  RETRYING,         BOTH,          Kind.STRUCTURE),
    Field("Catch",                  RETRYING,         BOTH,          Kind.STRUCTURE),
    # Task
    Field("Resource",               _states("Task"),  BOTH,          Kind.RESOURCE),
    Field("TimeoutSeconds",         _states("Task"),  BOTH,          Kind.NUMBER, number=SECONDS),
    Field("TimeoutSecondsPath",     _states("Task"),  ONLY_JSONPATH, Kind.REFERENCE_PATH,
          jsonata_instead="TimeoutSeconds"),
    Field("HeartbeatSeconds",       _states("Task"),  BOTH,          Kind.NUMBER, number=SECONDS),
    Field("HeartbeatSecondsPath",   _states("Task"),  ONLY_JSONPATH, Kind.REFERENCE_PATH,
          jsonata_instead="HeartbeatSeconds"),
    Field("Credentials",            _states("Task"),  BOTH,          Kind.OBJECT_TEMPLATE,
          runs=False),
    # Choice
    Field("Choices",                _states("Choice"), BOTH,         Kind.STRUCTURE),
    Field("Default",                _states("Choice"), BOTH,         Kind.STATE_NAME),
    # Wait
    Field("Seconds",                _states("Wait"),  BOTH,          Kind.NUMBER,
          number=Number(0, MAX_SECONDS)),
    Field("SecondsPath",            _states("Wait"),  ONLY_JSONPATH, Kind.REFERENCE_PATH,
          jsonata_instead="Seconds"),
    Field("Timestamp",              _states("Wait"),  BOTH,          Kind.TIMESTAMP),
    Field("TimestampPath",          _states("Wait"),  ONLY_JSONPATH, Kind.REFERENCE_PATH,
          jsonata_instead="Timestamp"),
    # Fail
    Field("Error",                  _states("Fail"),  BOTH,          Kind.STRING_OR_EXPRESSION),
    Field("Cause",                  _states("Fail"),  BOTH,          Kind.STRING_OR_EXPRESSION),
    Field("ErrorPath",              _states("Fail"),  ONLY_JSONPATH, Kind.PATH_OR_INTRINSIC,
          jsonata_instead="Error"),
    Field("CausePath",              _states("Fail"),  ONLY_JSONPATH, Kind.PATH_OR_INTRINSIC,
          jsonata_instead="Cause"),
    # Parallel
    Field("Branches",               _states("Parallel"), BOTH,       Kind.STRUCTURE),
    # Map
    Field("ItemProcessor",          _states("Map"),   BOTH,          Kind.STRUCTURE),
    Field("Iterator",               _states("Map"),   ONLY_JSONPATH, Kind.STRUCTURE),
    Field("ItemsPath",              _states("Map"),   ONLY_JSONPATH, Kind.REFERENCE_PATH,
          jsonata_instead="Items"),
    Field("Items",                  _states("Map"),   ONLY_JSONATA,  Kind.ITEMS),
    Field("ItemSelector",           _states("Map"),   BOTH,          Kind.OBJECT_TEMPLATE),
    Field("ItemReader",             _states("Map"),   BOTH,          Kind.OBJECT, runs=False,
          table="ItemReader"),
    Field("ItemBatcher",            _states("Map"),   BOTH,          Kind.STRUCTURE),
    Field("ResultWriter",           _states("Map"),   BOTH,          Kind.OBJECT, runs=False,
          table="ResultWriter"),
    Field("MaxConcurrency",         _states("Map"),   BOTH,          Kind.NUMBER,
          number=Number(0)),
    Field("MaxConcurrencyPath",     _states("Map"),   ONLY_JSONPATH, Kind.REFERENCE_PATH,
          jsonata_instead="MaxConcurrency"),
    Field("ToleratedFailureCount",  _states("Map"),   BOTH,          Kind.NUMBER,
          number=Number(0)),
    Field("ToleratedFailureCountPath", _states("Map"), ONLY_JSONPATH, Kind.REFERENCE_PATH,
          jsonata_instead="ToleratedFailureCount"),
    Field("ToleratedFailurePercentage", _states("Map"), BOTH,        Kind.NUMBER,
          number=Number(0, 100, whole=False)),
    Field("ToleratedFailurePercentagePath", _states("Map"), ONLY_JSONPATH, Kind.REFERENCE_PATH,
          jsonata_instead="ToleratedFailurePercentage"),
    Field("Label",                  _states("Map"),   BOTH,          Kind.LABEL),
)
# fmt: on


@dataclass(frozen=True)
class ObjectField:
    """A field of an object inside a state or definition (a retrier, an ItemBatcher, ...)."""

    name: str
    languages: frozenset[str] = BOTH
    runs: bool = True


def _fields(*names: str, languages: frozenset[str] = BOTH) -> tuple[ObjectField, ...]:
    return tuple(ObjectField(name, languages) for name in names)


# The fields of the objects the States Language nests, by object (AWS "Amazon States Language"
# and the Map state's guide pages).
OBJECT_FIELDS: dict[str, tuple[ObjectField, ...]] = {
    "Definition": _fields(
        "Comment", "StartAt", "States", "TimeoutSeconds", "Version", "QueryLanguage"
    ),
    "Branch": _fields("Comment", "StartAt", "States"),
    "ItemProcessor": _fields("Comment", "StartAt", "States", "ProcessorConfig"),
    "ProcessorConfig": _fields("Mode", "ExecutionType"),
    "ItemReader": _fields("Resource", "ReaderConfig", "Parameters", "Arguments"),
    "ResultWriter": _fields("Resource", "Parameters", "Arguments", "WriterConfig"),
    "ItemBatcher": (
        *_fields("MaxItemsPerBatch", "MaxInputBytesPerBatch", "BatchInput"),
        *_fields("MaxItemsPerBatchPath", "MaxInputBytesPerBatchPath", languages=ONLY_JSONPATH),
    ),
    "Retrier": _fields(
        "ErrorEquals",
        "IntervalSeconds",
        "MaxAttempts",
        "BackoffRate",
        "MaxDelaySeconds",
        "JitterStrategy",
        "Comment",
    ),
    "Catcher": (
        *_fields("ErrorEquals", "Next", "Assign", "Comment"),
        ObjectField("ResultPath", ONLY_JSONPATH),
        ObjectField("Output", ONLY_JSONATA),
    ),
    "JSONataRule": _fields("Condition", "Next", "Comment", "Assign", "Output"),
}

# ---- derived views ------------------------------------------------------------------------------


def _allowed() -> dict[str, dict[str, frozenset[str]]]:
    table: dict[str, dict[str, set[str]]] = {
        language: {kind: set() for kind in STATE_TYPES} for language in QUERY_LANGUAGES
    }
    for row in STATE_FIELDS:
        for language in row.languages:
            for kind in row.states:
                table[language][kind].add(row.name)
    return {
        language: {kind: frozenset(names) for kind, names in kinds.items()}
        for language, kinds in table.items()
    }


# language -> state type -> the field names it allows
ALLOWED: dict[str, dict[str, frozenset[str]]] = _allowed()
# (state type, language, field name) -> its row
_ROWS: dict[tuple[str, str, str], Field] = {
    (kind, language, row.name): row
    for row in STATE_FIELDS
    for kind in row.states
    for language in row.languages
}
# Fields the engine does not run yet, in any state: refused wherever they appear.
NOT_RUN: frozenset[str] = frozenset(row.name for row in STATE_FIELDS if not row.runs)
# Where a JSONPath-only field's job is done in a JSONata state.
JSONATA_INSTEAD: dict[str, str] = {
    row.name: row.jsonata_instead for row in STATE_FIELDS if row.jsonata_instead
}


def field(state_type: str, language: str, name: str) -> Field | None:
    """The row of `name` in a `state_type` state of `language`, or None when it has none."""
    return _ROWS.get((state_type, language, name))


def other_language(language: str) -> str:
    return JSONATA if language == JSONPATH else JSONPATH


def object_fields(name: str, language: str | None = None) -> frozenset[str]:
    """The fields of the object `name` (OBJECT_FIELDS), those of `language` when given."""
    return frozenset(
        item.name for item in OBJECT_FIELDS[name] if language is None or language in item.languages
    )


def names(rows: Iterable[Field]) -> frozenset[str]:
    return frozenset(row.name for row in rows)


# ---- Choice rules and error names --------------------------------------------------------------

STRING_OPS: tuple[str, ...] = ("StringEquals", "StringLessThan", "StringGreaterThan")
STRING_OPS += ("StringLessThanEquals", "StringGreaterThanEquals")
NUMERIC_OPS: tuple[str, ...] = ("NumericEquals", "NumericLessThan", "NumericGreaterThan")
NUMERIC_OPS += ("NumericLessThanEquals", "NumericGreaterThanEquals")
TIMESTAMP_OPS: tuple[str, ...] = ("TimestampEquals", "TimestampLessThan", "TimestampGreaterThan")
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
JSONATA_RULE = object_fields("JSONataRule")

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

# How a callback Task's Parameters (JSONPath) or Arguments (JSONata) hand the task token on: the
# token itself, or the Task object or the whole context holding it (AWS's human-approval sample
# passes "ExecutionContext.$": "$$"). The engine refuses a callback Task that does not; `tool
# validate` warns.
TOKEN_READ = re.compile(r"(?:\$\$|\$states\.context)(?:\.Task(?:\.Token)?)?(?![\w.\[])")
