"""JSONata mode: `{% expression %}` strings, compiled once, evaluated with jsonata-python.

Expressions see `$states` ({input, context, result?, errorOutput?}) and every variable as
`$name`, plus AWS's extra functions ($partition, $range, $hash, $random, $uuid, $parse).
Failures are States.QueryEvaluationError with AWS's wording where it is known.
"""

from __future__ import annotations

import hashlib
import json
import random
import threading
import uuid
from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import QUERY_EVALUATION_ERROR, StateRuntimeError


def jsonata_null() -> Any:
    """jsonata-python's JSON null. The library loads on first use (definitions without JSONata
    never pay for it: a worker starts faster)."""
    from jsonata.utils import Utils

    return Utils.NULL_VALUE


_UNDEFINED = object()
_HASH_ALGORITHMS = {
    "MD5": "md5",
    "SHA-1": "sha1",
    "SHA-256": "sha256",
    "SHA-384": "sha384",
    "SHA-512": "sha512",
}


class JsonataSyntaxError(ValueError):
    pass


def is_expression(value: Any) -> bool:
    return (
        isinstance(value, str)
        and len(value) >= 4
        and value.startswith("{%")
        and value.endswith("%}")
    )


def json_type(value: Any) -> str:
    """A value's JSON type name as AWS writes it in messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def query_error(detail: str) -> StateRuntimeError:
    return StateRuntimeError(detail, error=QUERY_EVALUATION_ERROR)


# jsonata-python keeps per-evaluation state on the compiled expression: Parallel branches and
# Map iterations running in threads must not evaluate the same one at once.
_EVALUATING = threading.RLock()


class Expression:
    """One `{% ... %}` string; `field` names it in messages (e.g. 'Output/result')."""

    __slots__ = ("text", "field", "_compiled")

    def __init__(self, source: str, field: str) -> None:
        self.text = source[2:-2].strip()
        self.field = field
        try:
            from jsonata import Jsonata

            self._compiled = Jsonata(self.text)
        except Exception as exc:  # jsonata-python raises several types for bad syntax
            raise JsonataSyntaxError(
                f"'{self.text}' is not a valid JSONata expression: {exc}"
            ) from None
        self._compiled.set_output_convert_nulls(False)
        for name, function in _FUNCTIONS.items():
            self._compiled.register_lambda(name, function)

    def evaluate_raw(self, bindings: dict[str, Any]) -> Any:
        """The result, or _UNDEFINED when the expression returned nothing."""
        try:
            with _EVALUATING:
                result = self._compiled.evaluate(None, bindings)
        except StateRuntimeError:
            raise
        except Exception as exc:  # noqa: BLE001 - any evaluation failure is the user's query
            raise query_error(
                f"The JSONata expression '{self.text}' specified for the field '{self.field}' "
                f"threw an error during evaluation: {_message(exc)}"
            ) from None
        if result is None:
            return _UNDEFINED
        if result is jsonata_null():
            return None
        return _plain(result, self)

    def evaluate(self, bindings: dict[str, Any]) -> Any:
        result = self.evaluate_raw(bindings)
        if result is _UNDEFINED:
            raise query_error(
                f"The JSONata expression '{self.text}' specified for the field '{self.field}' "
                "returned nothing (undefined)."
            )
        return result

    def unexpected_type(self, expected: str, value: Any) -> StateRuntimeError:
        return query_error(
            f"The JSONata expression '{self.text}' specified for the field '{self.field}' "
            f"returned an unexpected result type. Expected '{expected}', but was "
            f"'{json_type(value)}' for value: {jsontext.dumps(value)}"
        )


def _message(exc: Exception) -> str:
    return str(getattr(exc, "message", None) or exc) or type(exc).__name__


def _plain(value: Any, expression: Expression) -> Any:
    """jsonata-python's result as plain JSON values (lists, dicts, None for null). Inside a
    result, None is a null that came from the input (JSONata itself drops undefined members)."""
    if value is None or value is jsonata_null():
        return None
    if isinstance(value, bool | str | int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 2**53 else value
    if isinstance(value, list):
        return [_plain(v, expression) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, expression) for k, v in value.items()}
    raise query_error(
        f"The JSONata expression '{expression.text}' specified for the field "
        f"'{expression.field}' returned an unsupported result type."
    )


class Template:
    """A JSONata-mode field value: expressions anywhere inside objects and arrays."""

    def evaluate(self, bindings: dict[str, Any]) -> Any:
        raise NotImplementedError


class _ExpressionValue(Template):
    __slots__ = ("expression",)

    def __init__(self, expression: Expression) -> None:
        self.expression = expression

    def evaluate(self, bindings: dict[str, Any]) -> Any:
        return self.expression.evaluate(bindings)


class _ObjectValue(Template):
    __slots__ = ("fields",)

    def __init__(self, fields: list[tuple[str, Any]]) -> None:
        self.fields = fields

    def evaluate(self, bindings: dict[str, Any]) -> Any:
        return {k: v.evaluate(bindings) if isinstance(v, Template) else v for k, v in self.fields}


class _ArrayValue(Template):
    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def evaluate(self, bindings: dict[str, Any]) -> Any:
        return [v.evaluate(bindings) if isinstance(v, Template) else v for v in self.items]


def compile_value(value: Any, field: str) -> Any:
    """A Template when `value` holds expressions, else `value` itself."""
    if is_expression(value):
        return _ExpressionValue(Expression(value, field))
    if isinstance(value, dict):
        fields = [(k, compile_value(v, f"{field}/{k}")) for k, v in value.items()]
        if any(isinstance(v, Template) for _, v in fields):
            return _ObjectValue(fields)
        return value
    if isinstance(value, list):
        items = [compile_value(v, f"{field}/{i}") for i, v in enumerate(value)]
        if any(isinstance(v, Template) for v in items):
            return _ArrayValue(items)
        return value
    return value


def evaluate(template: Any, bindings: dict[str, Any]) -> Any:
    return template.evaluate(bindings) if isinstance(template, Template) else template


def expression_of(template: Any) -> Expression | None:
    """The expression a value is made of when it is one `{% %}` string, else None."""
    return template.expression if isinstance(template, _ExpressionValue) else None


# ---- AWS's functions ---------------------------------------------------------------------------
# Argument checks follow the matching intrinsic functions; AWS's exact messages for these are
# not confirmed (the corpus only records successful calls).


def _function_error(message: str) -> StateRuntimeError:
    return query_error(message)


def _integer(value: Any, name: str, function: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _function_error(f"The {name} argument of {function} must be an integer.")
    return value


def _partition(array: Any, size: Any) -> list[Any]:
    if not isinstance(array, list):
        raise _function_error("The array argument of $partition must be an array.")
    chunk = _integer(size, "size", "$partition")
    if chunk <= 0:
        raise _function_error("The size argument of $partition must be greater than 0.")
    items = list(array)
    return [items[i : i + chunk] for i in range(0, len(items), chunk)]


def _range(start: Any, end: Any, step: Any) -> Any:
    first = _integer(start, "start", "$range")
    last = _integer(end, "end", "$range")
    increment = _integer(step, "step", "$range")
    if increment == 0:
        raise _function_error("The step argument of $range cannot be 0.")
    out = list(range(first, last + (1 if increment > 0 else -1), increment))
    if len(out) > 1000:
        raise _function_error("The result of $range cannot contain more than 1000 items.")
    # A JSONata sequence: one item comes out as that item (recorded on AWS).
    return out[0] if len(out) == 1 else out


def _hash(value: Any, algorithm: Any) -> str:
    if not isinstance(value, str):
        raise _function_error("The data argument of $hash must be a string.")
    name = _HASH_ALGORITHMS.get(algorithm) if isinstance(algorithm, str) else None
    if name is None:
        raise _function_error(
            f"The hash algorithm of $hash must be one of {', '.join(_HASH_ALGORITHMS)}."
        )
    return hashlib.new(name, value.encode()).hexdigest()


def _random(seed: Any = None) -> float:
    return random.Random(seed).random() if seed is not None else random.random()


def _uuid() -> str:
    return str(uuid.uuid4())


def _parse(text: Any) -> Any:
    if not isinstance(text, str):
        raise _function_error("The argument of $parse must be a string.")
    try:
        return json.loads(text)
    except ValueError:
        raise _function_error(f"The argument of $parse is not valid JSON: {text}") from None


_FUNCTIONS = {
    "partition": _partition,
    "range": _range,
    "hash": _hash,
    "random": _random,
    "uuid": _uuid,
    "parse": _parse,
}
