"""The compiled form of a state machine definition: what the interpreter runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tooling.engine.choice import Condition
from tooling.engine.jsonpath import JsonPath

ROOT = JsonPath("$")

# A payload template: a constant, or a tooling.engine.payload.Dynamic built at parse time.
Template = Any


@dataclass(frozen=True)
class Retrier:
    errors: tuple[str, ...]
    interval_seconds: float = 1
    max_attempts: int = 3
    backoff_rate: float = 2.0
    max_delay_seconds: float | None = None
    jitter: str = "NONE"


@dataclass(frozen=True)
class Catcher:
    errors: tuple[str, ...]
    next: str
    result_path: JsonPath | None  # None: ResultPath null, the error output is dropped
    assign: Template = None  # compiled Assign (JSONPath payload template or JSONata template)
    has_assign: bool = False
    output: Template = None  # JSONata Output
    has_output: bool = False


@dataclass(frozen=True)
class State:
    name: str
    next: str | None = None  # None with end=True for terminal states
    end: bool = False
    input_path: JsonPath | None = ROOT  # None: InputPath null (the input becomes {})
    output_path: JsonPath | None = ROOT  # None: OutputPath null (the output becomes {})
    jsonata: bool = False  # QueryLanguage JSONata (else JSONPath)
    assign: Template = None  # compiled Assign
    has_assign: bool = False
    output: Template = None  # JSONata Output
    has_output: bool = False
    arguments: Template = None  # JSONata Arguments
    has_arguments: bool = False

    event_prefix = ""  # "Pass", "Task", ... : history event types are <prefix>StateEntered


@dataclass(frozen=True)
class PassState(State):
    parameters: Template = None
    has_parameters: bool = False
    result: Any = None
    has_result: bool = False
    result_path: JsonPath | None = ROOT  # None: ResultPath null (keep the input)
    event_prefix = "Pass"


@dataclass(frozen=True)
class TaskState(State):
    resource: str = ""
    optimized: bool = False  # arn:aws:states:::lambda:invoke rather than a function ARN
    wait_for_token: bool = False  # <integration>.waitForTaskToken: the callback pattern
    # Another service's integration, as (resourceType, action), e.g. ("dynamodb", "getItem"),
    # ("aws-sdk:s3", "listBuckets") or ("sqs", "sendMessage") (with wait_for_token for
    # sqs:sendMessage.waitForTaskToken); answered by mocks or the runtime's ServiceIntegrations.
    integration: tuple[str, str] | None = None
    sync: str = ""  # ".sync" or ".sync:2" after the integration's action: Run a Job
    parameters: Template = None
    has_parameters: bool = False
    result_selector: Template = None
    has_result_selector: bool = False
    result_path: JsonPath | None = ROOT  # None: ResultPath null (keep the input)
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    timeout_seconds: Any = None  # an int, or a JSONata template
    timeout_seconds_path: JsonPath | None = None
    heartbeat_seconds: Any = None  # an int, or a JSONata template
    heartbeat_seconds_path: JsonPath | None = None
    event_prefix = "Task"


@dataclass(frozen=True)
class ChoiceRule:
    condition: Condition  # or a jsonata_eval.Expression in JSONata mode
    next: str
    assign: Template = None
    has_assign: bool = False
    output: Template = None
    has_output: bool = False


@dataclass(frozen=True)
class ChoiceState(State):
    choices: tuple[ChoiceRule, ...] = ()
    default: str | None = None
    event_prefix = "Choice"


@dataclass(frozen=True)
class WaitState(State):
    seconds: Any = None  # an int, or a JSONata template
    seconds_path: JsonPath | None = None
    timestamp: Any = None  # (seconds, nanos), or a JSONata template
    timestamp_path: JsonPath | None = None
    event_prefix = "Wait"


@dataclass(frozen=True)
class SucceedState(State):
    end: bool = True
    event_prefix = "Succeed"


@dataclass(frozen=True)
class FailState(State):
    end: bool = True
    error: Any = None  # a string, or a JSONata template
    cause: Any = None
    error_path: Any = None  # payload.Dynamic: a path or an intrinsic call
    cause_path: Any = None
    event_prefix = "Fail"


@dataclass(frozen=True)
class Processor:
    """A Parallel branch or a Map's ItemProcessor: states run in their own scope."""

    start_at: str
    states: dict[str, State]


@dataclass(frozen=True)
class ParallelState(State):
    branches: tuple[Processor, ...] = ()
    parameters: Template = None
    has_parameters: bool = False
    result_selector: Template = None
    has_result_selector: bool = False
    result_path: JsonPath | None = ROOT
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    event_prefix = "Parallel"


@dataclass(frozen=True)
class ItemBatcher:
    """A Distributed Map's ItemBatcher: each child execution gets a batch of items."""

    max_items_per_batch: Any = None  # an int, or a JSONata template
    max_items_per_batch_path: JsonPath | None = None
    max_input_bytes_per_batch: Any = None  # an int, or a JSONata template
    max_input_bytes_per_batch_path: JsonPath | None = None
    batch_input: Template = None  # JSONPath payload template or JSONata template
    has_batch_input: bool = False


@dataclass(frozen=True)
class MapState(State):
    processor: Processor = field(default_factory=lambda: Processor("", {}))
    distributed: bool = False
    items_path: JsonPath | None = ROOT  # JSONPath ItemsPath
    items: Template = None  # JSONata Items
    has_items: bool = False
    item_selector: Template = None  # ItemSelector, or the legacy Parameters
    has_item_selector: bool = False
    max_concurrency: Any = 0  # an int, or a JSONata template
    max_concurrency_path: JsonPath | None = None
    tolerated_failure_count: Any = None
    tolerated_failure_count_path: JsonPath | None = None
    tolerated_failure_percentage: Any = None
    tolerated_failure_percentage_path: JsonPath | None = None
    label: str | None = None
    item_batcher: ItemBatcher | None = None
    result_selector: Template = None
    has_result_selector: bool = False
    result_path: JsonPath | None = ROOT
    retry: tuple[Retrier, ...] = ()
    catch: tuple[Catcher, ...] = ()
    event_prefix = "Map"


@dataclass(frozen=True)
class StateMachine:
    start_at: str
    states: dict[str, State]
    definition: Any = field(repr=False, compare=False, default=None)
    comment: str | None = None
    timeout_seconds: int | None = None  # the execution fails with States.Timeout after this
