"""Intrinsic functions (JSONPath states) checked statically: syntax, known names, arity and
literal argument types, on the engine's parse tree and its table of rules
(`tooling.engine.intrinsics`). Paths and nested calls are only typed at run time.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tooling.validate.diagnostics import did_you_mean

if TYPE_CHECKING:  # the engine's parser loads at the first intrinsic (most definitions have none)
    from tooling.engine.intrinsics import IntrinsicCall, Literal


class IntrinsicError(ValueError):
    """`code` is INTRINSIC_SYNTAX, INTRINSIC_UNKNOWN, INTRINSIC_ARITY or INTRINSIC_ARGUMENT."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def looks_like_intrinsic(text: str) -> bool:
    return text.startswith("States.")


def check_intrinsic(text: str) -> None:
    """Raise IntrinsicError when `text` is not a valid intrinsic function call."""
    from tooling.engine.intrinsics import RULES, IntrinsicSyntaxError, parse_intrinsic

    try:
        call = parse_intrinsic(text, compile_paths=False)
    except IntrinsicSyntaxError as exc:
        if exc.unknown_name:
            name = exc.unknown_name
            raise IntrinsicError(
                "INTRINSIC_UNKNOWN",
                f"{name} is not an intrinsic function{did_you_mean(name, RULES)}",
            ) from None
        raise IntrinsicError("INTRINSIC_SYNTAX", str(exc)) from None
    _check_call(call)


def _check_call(call: IntrinsicCall) -> None:
    from tooling.engine.intrinsics import HASH_ALGORITHMS, IntrinsicCall, Literal

    rule = call.rule
    low, high = rule.minimum, rule.maximum
    count = len(call.args)
    if count < low or (high is not None and count > high):
        want = f"{low}" if low == high else f"{low} or more" if high is None else f"{low}-{high}"
        raise IntrinsicError(
            "INTRINSIC_ARITY",
            f"{call.name} takes {want} argument{'s' if want != '1' else ''}, not {count}",
        )
    for index, arg in enumerate(call.args):
        if isinstance(arg, IntrinsicCall):
            _check_call(arg)
            continue
        if not isinstance(arg, Literal):
            continue
        expected = rule.arg_types[index] if index < len(rule.arg_types) else None
        if expected is not None and not _is_type(arg.value, expected):
            raise IntrinsicError(
                "INTRINSIC_ARGUMENT",
                f"argument {index + 1} of {call.name} must be {_article(expected)} {expected},"
                f" not {_type_name(arg)}",
            )
    literals = [a.value if isinstance(a, Literal) else None for a in call.args]
    algorithm = literals[1] if call.name == "States.Hash" else None
    if isinstance(algorithm, str) and _source(call, 1) not in HASH_ALGORITHMS:
        raise IntrinsicError(
            "INTRINSIC_ARGUMENT",
            f"States.Hash algorithm '{_source(call, 1)}' is not one of "
            f"{', '.join(HASH_ALGORITHMS)}",
        )
    if call.name == "States.JsonMerge" and literals[2] is True:
        raise IntrinsicError(
            "INTRINSIC_ARGUMENT",
            "States.JsonMerge supports only a shallow merge: its third argument must be false",
        )
    if call.name == "States.Format" and isinstance(literals[0], str):
        # Counted on the template as written, minus escaped braces.
        # Open question: the engine reads "\\" as an escaped backslash, so "\\{}" is a hole there
        # but not here (tests/validate/test_intrinsics.py pins this reading).
        holes = _source(call, 0).replace("\\{", "").replace("\\}", "").count("{}")
        if holes != count - 1:
            raise IntrinsicError(
                "INTRINSIC_ARITY",
                f"States.Format's template has {holes} '{{}}' but {count - 1} value"
                f"{'s' if count != 2 else ''} follow it",
            )


def _source(call: IntrinsicCall, index: int) -> str:
    from tooling.engine.intrinsics import Literal

    arg = call.args[index]
    assert isinstance(arg, Literal)
    return arg.source


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _is_type(value: Any, expected: str) -> bool:
    # Stricter than the engine's run-time check for literals: 2.0 written in the call is not
    # an integer here (it is at run time, where JSON input may carry integral floats).
    if expected == "string":
        return isinstance(value, str)
    if expected == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if expected == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if expected == "boolean":
        return isinstance(value, bool)
    return False  # arrays and objects are never literals


def _type_name(arg: Literal) -> str:
    value = arg.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    return f"the string '{arg.source}'"
