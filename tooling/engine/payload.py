"""Payload templates (Parameters, ResultSelector): fields ending in `.$` take a path or an
intrinsic call, the rest are literal. Compiled once; evaluation builds fresh containers only."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tooling.engine import jsontext
from tooling.engine.errors import StateRuntimeError
from tooling.engine.intrinsics import IntrinsicCall, IntrinsicSyntaxError, parse_intrinsic
from tooling.engine.jsonpath import JsonPath, PathNotFound, PathSyntaxError
from tooling.sourcemap import pointer_join

# (pointer, message) -> the exception to raise for a bad definition
DefinitionFailure = Callable[[str, str], Exception]


class Dynamic:
    """A value computed from the input and the context object."""

    def evaluate(self, data: Any, context: Any) -> Any:
        raise NotImplementedError


class _PathField(Dynamic):
    __slots__ = ("field", "path")

    def __init__(self, field: str, path: JsonPath) -> None:
        self.field = field
        self.path = path

    def evaluate(self, data: Any, context: Any) -> Any:
        try:
            return self.path.read(data, context)
        except PathNotFound:
            raise StateRuntimeError(
                f"The JSONPath '{self.path.text}' specified for the field '{self.field}' "
                f"could not be found in the input '{jsontext.dumps(data)}'"
            ) from None


class _IntrinsicField(Dynamic):
    __slots__ = ("call",)

    def __init__(self, call: IntrinsicCall) -> None:
        self.call = call

    def evaluate(self, data: Any, context: Any) -> Any:
        return self.call.evaluate(data, context)


class _Object(Dynamic):
    __slots__ = ("fields",)

    def __init__(self, fields: list[tuple[str, Any]]) -> None:
        self.fields = fields

    def evaluate(self, data: Any, context: Any) -> Any:
        return {
            key: value.evaluate(data, context) if isinstance(value, Dynamic) else value
            for key, value in self.fields
        }


class _Array(Dynamic):
    __slots__ = ("items",)

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    def evaluate(self, data: Any, context: Any) -> Any:
        return [i.evaluate(data, context) if isinstance(i, Dynamic) else i for i in self.items]


def compile_template(value: Any, pointer: str, fail: DefinitionFailure) -> Any:
    """A Dynamic when `value` has `.$` fields somewhere, else `value` itself (a constant)."""
    if isinstance(value, dict):
        fields: list[tuple[str, Any]] = []
        dynamic = False
        for key, item in value.items():
            item_pointer = pointer_join(pointer, key)
            if key.endswith(".$"):
                fields.append((key[:-2], compile_expression(item, key, item_pointer, fail)))
                dynamic = True
            else:
                compiled = compile_template(item, item_pointer, fail)
                dynamic = dynamic or isinstance(compiled, Dynamic)
                fields.append((key, compiled))
        return _Object(fields) if dynamic else value
    if isinstance(value, list):
        items = [compile_template(v, pointer_join(pointer, i), fail) for i, v in enumerate(value)]
        return _Array(items) if any(isinstance(i, Dynamic) for i in items) else value
    return value


def compile_expression(text: Any, field: str, pointer: str, fail: DefinitionFailure) -> Dynamic:
    """A `.$` field's value, or a path-or-intrinsic field such as ErrorPath."""
    if not isinstance(text, str):
        raise fail(
            pointer, f"the value of '{field}' must be a JSONPath or an intrinsic function call"
        )
    try:
        if text.startswith("States."):
            return _IntrinsicField(parse_intrinsic(text))
        return _PathField(field, JsonPath(text))
    except (PathSyntaxError, IntrinsicSyntaxError) as exc:
        raise fail(pointer, f"'{field}': {exc}") from None


def evaluate(template: Any, data: Any, context: Any) -> Any:
    return template.evaluate(data, context) if isinstance(template, Dynamic) else template
