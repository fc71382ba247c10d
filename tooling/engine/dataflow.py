"""Moving data through a state, in its query language.

Each compiled state carries one data flow, chosen when the definition is compiled:
`JsonPathFlow` (InputPath, Parameters, ResultSelector, ResultPath, OutputPath, Assign on the
result) or `JsonataFlow` (Arguments, Output and Assign over `$states` and the variables). The
interpreter asks the flow and never which language a state uses. A `Reading` is what a state's
expressions read at one moment: its input and its environment (the context object, the
variables), plus the `$states` bindings in JSONata.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from tooling.engine import jsontext
from tooling.engine.choice import Condition
from tooling.engine.compiled import ABSENT, Template
from tooling.engine.errors import RESULT_PATH_MATCH_FAILURE, StateRuntimeError
from tooling.engine.jsonpath import JsonPath, PathNotFound, UndefinedVariable, describe
from tooling.engine.payload import evaluate as evaluate_payload

if TYPE_CHECKING:
    from tooling.engine.compiled import Catcher, ChoiceRule
    from tooling.engine.env import Env

# 256 KiB: the most a state's input or output may hold (Step Functions service quotas).
MAX_PAYLOAD_BYTES = 262144
ROOT = JsonPath("$")

# What a state produces: its output and the variables its Assign sets (None: no Assign).
Produced = tuple[Any, dict[str, Any] | None]


def read_path(path: JsonPath, data: Any, env: Any) -> Any:
    try:
        return path.read(data, env)
    except UndefinedVariable:
        # Wording not confirmed against AWS (AWS rejects most such definitions up front).
        raise StateRuntimeError(
            f"Invalid path '{path.text}' : The variable '${path.variable}' is not defined"
        ) from None
    except PathNotFound:
        raise StateRuntimeError(
            f"Invalid path '{path.text}' : No results for path: {path.normalized}"
        ) from None


def select(path: JsonPath | None, data: Any, env: Any) -> Any:
    """InputPath / OutputPath: null gives {}, "$" the value itself."""
    if path is None:
        return {}
    if path.is_root:
        return data
    return read_path(path, data, env)


def place(path: JsonPath | None, data: Any, result: Any) -> Any:
    """ResultPath: null keeps the input, "$" is the result, else the result goes into the input."""
    if path is None:
        return data
    if path.is_root:
        return result
    try:
        return path.set(data, result)
    except PathNotFound:
        raise StateRuntimeError(
            f"Unable to apply ResultPath '{path.text}' to input '{jsontext.dumps(data)}'",
            error=RESULT_PATH_MATCH_FAILURE,
        ) from None


def integer_value(value: Any) -> int | None:
    """An integer as Step Functions reads one from data: 3, 3.0 or "3"; else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            return None
    return None


def shown(value: Any) -> str:
    return describe(value)


def too_large(text: str) -> bool:
    return len(text) > MAX_PAYLOAD_BYTES // 4 and len(text.encode()) > MAX_PAYLOAD_BYTES


def bindings(states: dict[str, Any], variables: dict[str, Any]) -> dict[str, Any]:
    """JSONata bindings: $states plus every variable (a JSON null must be bound as JSONata's
    null, since jsonata-python reads a bound None as "undefined")."""
    from tooling.engine.jsonata_eval import jsonata_null

    null = jsonata_null()
    out = {name: null if value is None else value for name, value in variables.items()}
    out["states"] = {k: null if v is None else v for k, v in states.items()}
    return out


# ---- readings -----------------------------------------------------------------------------------


class Reading:
    """What a state's expressions read: `data` (JSONPath: the input after InputPath; JSONata:
    the state's input) and `env` (the context object and the variables)."""

    __slots__ = ("data", "env")

    def __init__(self, data: Any, env: Env) -> None:
        self.data = data
        self.env = env


class JsonataReading(Reading):
    """A JSONata state's reading: `$states` (input, context, then result or errorOutput)."""

    __slots__ = ("states", "_scope")

    def __init__(self, data: Any, env: Env, states: dict[str, Any]) -> None:
        super().__init__(data, env)
        self.states = states
        self._scope: dict[str, Any] | None = None

    @property
    def scope(self) -> dict[str, Any]:
        """The bindings expressions are evaluated with."""
        if self._scope is None:
            self._scope = bindings(self.states, self.env.variables)
        return self._scope

    def adding(self, key: str, value: Any) -> JsonataReading:
        return JsonataReading(self.data, self.env, {**self.states, key: value})


# ---- the two flows -------------------------------------------------------------------------------


class DataFlow:
    """How data moves through one state (see the module's docstring)."""

    __slots__ = ("assign",)
    jsonata: ClassVar[bool] = False

    def __init__(self, assign: Template = ABSENT) -> None:
        self.assign = assign

    def read(self, data: Any, env: Env) -> Reading:
        """The state's reading of its input `data`."""
        raise NotImplementedError

    def evaluate(self, template: Template, reading: Reading) -> Any:
        """A template of this state's query language, evaluated against `reading`."""
        raise NotImplementedError

    def work_input(self, reading: Reading) -> Any:
        """What the state's work (a Task's call, a Parallel's branches) receives."""
        raise NotImplementedError

    def finish(self, data: Any, reading: Reading, result: Any) -> Produced:
        """The output and assigned variables of a state whose work gave `result`."""
        raise NotImplementedError

    def through(self, data: Any, reading: Reading) -> Produced:
        """The output and assigned variables of a state with no result (Wait, Succeed)."""
        raise NotImplementedError

    def pass_state(self, data: Any, env: Env, fixed_result: Any) -> Produced:
        """A Pass state's output and assigned variables (`fixed_result`: its Result, or
        ABSENT)."""
        raise NotImplementedError

    def matches(self, rule: ChoiceRule, reading: Reading) -> bool:
        raise NotImplementedError

    def choice_exit(self, data: Any, reading: Reading, rule: ChoiceRule | None) -> Produced:
        """A Choice state's output and assigned variables, `rule` having matched (None: its
        Default)."""
        raise NotImplementedError

    def caught(self, catcher: Catcher, data: Any, error_output: Any, env: Env) -> Produced:
        """The output and assigned variables when `catcher` takes a failure."""
        raise NotImplementedError

    def item_reading(self, reading: Reading, index: int, item: Any) -> Reading:
        """A Map's reading for one item's ItemSelector ($$.Map.Item set)."""
        raise NotImplementedError

    def choice_assign(
        self, rule: ChoiceRule | None, evaluate: Callable[[Template], Any]
    ) -> dict[str, Any] | None:
        """A Choice state's Assign applies whichever way it goes; the matching rule's Assign is
        applied too (AWS guide, "Choice workflow state"). That the rule's values win over the
        state's for the same name is not confirmed."""
        if self.assign is ABSENT and (rule is None or rule.assign is ABSENT):
            return None
        assigned: dict[str, Any] = {}
        if self.assign is not ABSENT:
            assigned.update(evaluate(self.assign))
        if rule is not None and rule.assign is not ABSENT:
            assigned.update(evaluate(rule.assign))
        return assigned


class JsonPathFlow(DataFlow):
    __slots__ = ("input_path", "parameters", "result_selector", "result_path", "output_path")

    def __init__(
        self,
        *,
        input_path: JsonPath | None = ROOT,  # None: InputPath null (the input becomes {})
        parameters: Template = ABSENT,
        result_selector: Template = ABSENT,
        result_path: JsonPath | None = ROOT,  # None: ResultPath null (keep the input)
        output_path: JsonPath | None = ROOT,  # None: OutputPath null (the output becomes {})
        assign: Template = ABSENT,
    ) -> None:
        super().__init__(assign)
        self.input_path = input_path
        self.parameters = parameters
        self.result_selector = result_selector
        self.result_path = result_path
        self.output_path = output_path

    def read(self, data: Any, env: Env) -> Reading:
        return Reading(select(self.input_path, data, env), env)

    def evaluate(self, template: Template, reading: Reading) -> Any:
        return evaluate_payload(template, reading.data, reading.env)

    def work_input(self, reading: Reading) -> Any:
        if self.parameters is ABSENT:
            return reading.data
        return evaluate_payload(self.parameters, reading.data, reading.env)

    def finish(self, data: Any, reading: Reading, result: Any) -> Produced:
        env = reading.env
        if self.result_selector is not ABSENT:
            result = evaluate_payload(self.result_selector, result, env)
        assigned = None if self.assign is ABSENT else evaluate_payload(self.assign, result, env)
        output = place(self.result_path, data, result)
        return select(self.output_path, output, env), assigned

    def through(self, data: Any, reading: Reading) -> Produced:
        return self.finish(data, reading, reading.data)

    def pass_state(self, data: Any, env: Env, fixed_result: Any) -> Produced:
        # The hot path of a loop of Pass states: no Reading is made.
        effective = select(self.input_path, data, env)
        if self.parameters is not ABSENT:
            result = evaluate_payload(self.parameters, effective, env)
        elif fixed_result is not ABSENT:
            result = fixed_result
        else:
            result = effective
        assigned = None if self.assign is ABSENT else evaluate_payload(self.assign, result, env)
        output = place(self.result_path, data, result)
        return select(self.output_path, output, env), assigned

    def matches(self, rule: ChoiceRule, reading: Reading) -> bool:
        condition = rule.condition
        assert isinstance(condition, Condition)  # JSONPath rules compile to Conditions
        return condition.matches(reading.data, reading.env)

    def choice_exit(self, data: Any, reading: Reading, rule: ChoiceRule | None) -> Produced:
        effective, env = reading.data, reading.env
        assigned = self.choice_assign(
            rule, lambda template: evaluate_payload(template, effective, env)
        )
        return select(self.output_path, effective, env), assigned

    def caught(self, catcher: Catcher, data: Any, error_output: Any, env: Env) -> Produced:
        assigned = (
            None
            if catcher.assign is ABSENT
            else evaluate_payload(catcher.assign, error_output, env)
        )
        return place(catcher.result_path, data, error_output), assigned

    def item_reading(self, reading: Reading, index: int, item: Any) -> Reading:
        return Reading(reading.data, reading.env.for_item(index, item))


class JsonataFlow(DataFlow):
    __slots__ = ("arguments", "output")
    jsonata: ClassVar[bool] = True

    def __init__(
        self,
        *,
        arguments: Template = ABSENT,
        output: Template = ABSENT,
        assign: Template = ABSENT,
    ) -> None:
        super().__init__(assign)
        self.arguments = arguments
        self.output = output

    def read(self, data: Any, env: Env) -> JsonataReading:
        return JsonataReading(data, env, {"input": data, "context": env.context})

    def evaluate(self, template: Template, reading: Reading) -> Any:
        from tooling.engine.jsonata_eval import evaluate

        assert isinstance(reading, JsonataReading)
        return evaluate(template, reading.scope)

    def work_input(self, reading: Reading) -> Any:
        if self.arguments is ABSENT:
            return reading.data
        return self.evaluate(self.arguments, reading)

    def finish(self, data: Any, reading: Reading, result: Any) -> Produced:
        assert isinstance(reading, JsonataReading)
        return self._produce(reading.adding("result", result), result, self.output)

    def through(self, data: Any, reading: Reading) -> Produced:
        return self._produce(reading, data, self.output)

    def pass_state(self, data: Any, env: Env, fixed_result: Any) -> Produced:
        return self.through(data, self.read(data, env))

    def _produce(self, reading: Reading, default: Any, output: Template) -> Produced:
        value = default if output is ABSENT else self.evaluate(output, reading)
        assigned = None if self.assign is ABSENT else self.evaluate(self.assign, reading)
        return value, assigned

    def matches(self, rule: ChoiceRule, reading: Reading) -> bool:
        from tooling.engine.jsonata_eval import Expression

        condition = rule.condition
        if not isinstance(condition, Expression):
            return bool(condition)
        assert isinstance(reading, JsonataReading)
        value = condition.evaluate(reading.scope)
        if not isinstance(value, bool):
            raise condition.unexpected_type("boolean", value)
        return value

    def choice_exit(self, data: Any, reading: Reading, rule: ChoiceRule | None) -> Produced:
        output = self.output
        if rule is not None and rule.output is not ABSENT:
            output = rule.output
        assigned = self.choice_assign(rule, lambda template: self.evaluate(template, reading))
        return data if output is ABSENT else self.evaluate(output, reading), assigned

    def caught(self, catcher: Catcher, data: Any, error_output: Any, env: Env) -> Produced:
        reading = JsonataReading(
            data, env, {"input": data, "context": env.context, "errorOutput": error_output}
        )
        value = error_output if catcher.output is ABSENT else self.evaluate(catcher.output, reading)
        assigned = None if catcher.assign is ABSENT else self.evaluate(catcher.assign, reading)
        return value, assigned

    def item_reading(self, reading: Reading, index: int, item: Any) -> Reading:
        env = reading.env.for_item(index, item)
        return JsonataReading(reading.data, env, {"input": reading.data, "context": env.context})
