"""Values that carry data: paths, payload templates (`.$` fields), intrinsics, JSONata, Assign."""

from __future__ import annotations

import re
from typing import Any

from tooling.asl.fields import MAX_VARIABLE_NAME
from tooling.sourcemap import pointer_join
from tooling.validate.diagnostics import Collector
from tooling.validate.intrinsics import IntrinsicError, check_intrinsic, looks_like_intrinsic
from tooling.validate.jsonata import (
    JsonataError,
    check_expression,
    is_expression,
    looks_like_expression,
)
from tooling.validate.paths import PathError, PathInfo, parse_path

_LOOKS_LIKE_PATH = re.compile(r"^\$\$?(?:\.|\[|$)")


def check_path(out: Collector, value: Any, pointer: str, field: str, *, nullable: bool) -> None:
    """InputPath/OutputPath-like: any JSONPath (context and variables allowed)."""
    if value is None and nullable:
        return
    _parse(out, value, pointer, field)


def check_reference_path(
    out: Collector,
    value: Any,
    pointer: str,
    field: str,
    *,
    nullable: bool = False,
    writes: bool = False,
    intrinsic: bool = False,
) -> None:
    """A Reference Path (one node). `writes`: a destination (ResultPath), so no $$ nor variable."""
    if value is None and nullable:
        return
    if intrinsic and isinstance(value, str) and looks_like_intrinsic(value):
        check_intrinsic_value(out, value, pointer)
        return
    info = _parse(out, value, pointer, field)
    if info is None:
        return
    if not info.reference:
        out.error(
            pointer,
            "REFERENCE_PATH_INVALID",
            f'{field} "{value}" must be a reference path (one node: no wildcards, filters, '
            "slices, unions or '..')",
        )
    elif writes and (info.context or info.variable):
        out.error(
            pointer,
            "REFERENCE_PATH_INVALID",
            f'{field} "{value}" must be a path into the state\'s data starting with "$" '
            "(not the context object or a variable)",
        )


def _parse(out: Collector, value: Any, pointer: str, field: str) -> PathInfo | None:
    if not isinstance(value, str):
        out.error(pointer, "FIELD_TYPE", f'{field} must be a string path such as "$.field"')
        return None
    try:
        return parse_path(value)
    except PathError as exc:
        out.error(pointer, "PATH_INVALID", f'{field} "{value}" is not a valid JSONPath: {exc}')
        return None


def check_intrinsic_value(out: Collector, text: str, pointer: str) -> None:
    try:
        check_intrinsic(text)
    except IntrinsicError as exc:
        out.error(pointer, exc.code, exc.message)


def check_payload_template(out: Collector, value: Any, pointer: str, field: str) -> None:
    """Parameters, ResultSelector, ItemSelector, Credentials (JSONPath): `.$` values are paths
    or intrinsic functions; plain keys whose value looks like a path are probably missing `.$`."""
    if isinstance(value, dict):
        for key, item in value.items():
            at = pointer_join(pointer, key)
            if key.endswith(".$") and key[:-2] in value:
                out.error(
                    at,
                    "PAYLOAD_DUPLICATE_FIELD",
                    f'"{key}" and "{key[:-2]}" both produce the field "{key[:-2]}"; keep one',
                )
            if key.endswith(".$"):
                _check_dollar_value(out, item, at, key)
            else:
                if isinstance(item, str) and (
                    _LOOKS_LIKE_PATH.match(item) or _is_intrinsic_call(item)
                ):
                    out.warning(
                        at,
                        "PAYLOAD_PATH_WITHOUT_DOLLAR",
                        f'"{key}" is set to the text "{item}", which looks like a path or an '
                        f'intrinsic function; name the field "{key}.$" to have it evaluated',
                    )
                check_payload_template(out, item, at, field)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_payload_template(out, item, pointer_join(pointer, index), field)


def _is_intrinsic_call(text: str) -> bool:
    return looks_like_intrinsic(text) and "(" in text and text.rstrip().endswith(")")


def _check_dollar_value(out: Collector, value: Any, pointer: str, key: str) -> None:
    if isinstance(value, str) and looks_like_intrinsic(value):
        check_intrinsic_value(out, value, pointer)
        return
    if isinstance(value, str) and value.startswith("$"):
        try:
            parse_path(value)
        except PathError as exc:
            out.error(pointer, "PATH_INVALID", f'"{key}": "{value}" is not a valid JSONPath: {exc}')
        return
    shown = f'"{value}"' if isinstance(value, str) else _json_kind(value)
    out.error(
        pointer,
        "PAYLOAD_DOLLAR_VALUE",
        f'"{key}" ends in ".$", so its value must be a path ("$.x") or an intrinsic function '
        f'(States.Format(...)), not {shown}; drop ".$" for a fixed value',
    )


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "an object" if isinstance(value, dict) else "an array"


def warn_result_dollar_keys(out: Collector, value: Any, pointer: str) -> None:
    """Pass `Result` is taken as is: `.$` keys are not evaluated there."""
    if isinstance(value, dict):
        for key, item in value.items():
            at = pointer_join(pointer, key)
            if key.endswith(".$"):
                out.warning(
                    at,
                    "PASS_RESULT_DOLLAR",
                    f'"{key}" in a Pass state\'s Result is not evaluated (Result is used as is); '
                    "use Parameters to build a value from paths",
                )
            warn_result_dollar_keys(out, item, at)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            warn_result_dollar_keys(out, item, pointer_join(pointer, index))


def check_jsonata_template(out: Collector, value: Any, pointer: str) -> None:
    """Arguments, Output, Assign values... (JSONata): every `{% %}` string must parse."""
    if isinstance(value, str):
        check_jsonata_string(out, value, pointer)
    elif isinstance(value, dict):
        for key, item in value.items():
            at = pointer_join(pointer, key)
            if isinstance(key, str) and key.endswith(".$"):
                out.warning(
                    at,
                    "JSONATA_DOLLAR_KEY",
                    f'"{key}": JSONata states do not evaluate ".$" fields; write the value as '
                    '"{% expression %}" under a plain key',
                )
            check_jsonata_template(out, item, at)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            check_jsonata_template(out, item, pointer_join(pointer, index))


def check_jsonata_string(out: Collector, value: str, pointer: str) -> None:
    if is_expression(value) or looks_like_expression(value):
        try:
            check_expression(value)
        except JsonataError as exc:
            out.error(pointer, "JSONATA_SYNTAX", f'"{_short(value)}": {exc}')


def check_jsonata_or(
    out: Collector, value: Any, pointer: str, field: str, kind: str, valid: bool
) -> None:
    """A field that holds either a `kind` literal (`valid` says whether it is one) or an
    expression (JSONata states)."""
    if isinstance(value, str) and (is_expression(value) or looks_like_expression(value)):
        check_jsonata_string(out, value, pointer)
    elif not valid:
        out.error(pointer, "FIELD_TYPE", f"{field} must be {kind} or a JSONata expression")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def check_assign(out: Collector, value: Any, pointer: str, jsonata: bool) -> None:
    """Assign: an object whose keys are variable names (with `.$` in JSONPath states)."""
    if not isinstance(value, dict):
        out.error(pointer, "FIELD_TYPE", "Assign must be an object of variable names and values")
        return
    for key, item in value.items():
        at = pointer_join(pointer, key)
        name = key[:-2] if key.endswith(".$") and not jsonata else key
        problem = variable_name_problem(name)
        if problem:
            out.error(
                at, "ASSIGN_NAME_INVALID", f'"{name}" is not a valid variable name: {problem}'
            )
        if jsonata:
            check_jsonata_template(out, item, at)
        elif key.endswith(".$"):
            _check_dollar_value(out, item, at, key)
        else:
            check_payload_template(out, item, at, "Assign")


def variable_name_problem(name: str) -> str | None:
    """Why `name` cannot be a workflow variable, or None. AWS: Unicode identifier rules
    (ID_Start then ID_Continue), at most 80 characters; `states` is reserved."""
    if not name:
        return "it is empty"
    if len(name) > MAX_VARIABLE_NAME:
        return f"it is longer than {MAX_VARIABLE_NAME} characters"
    if not name.isidentifier():
        return "use a letter or '_' first, then letters, digits or '_'"
    if name == "states":
        return "'states' is reserved ($states holds the state's input, result and context)"
    return None
