"""Execution inputs and message bodies from the command line, bounded before they are trusted.

`--input FILE|-` and `--path FILE` (JSON, or YAML for .yml/.yaml), `--data TEXT` (JSON inline);
none of them means `{}`, as `sls invoke stepf` and `sam local invoke` do. A file larger than
Step Functions' input limit (256 KiB) is refused before it is read whole, and a document nested
deeper than MAX_DEPTH levels is refused before it is parsed: both are bad input (exit 2).
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from tooling.errors import InputError
from tooling.names import MAX_INPUT_BYTES
from tooling.sourcemap import decode_text, load_json

# Deeper documents are refused. AWS documents no nesting limit for execution input; this bound
# keeps every recursive step of the local runtime (JSON parser, paths, the handler's own
# json.loads) well inside Python's recursion limit.
MAX_DEPTH = 500
_YAML_SUFFIXES = (".yml", ".yaml")
_SPECIAL = re.compile(r'["\[\]{}]')
_STRING_REST = re.compile(r'(?:[^"\\]|\\.)*"', re.DOTALL)  # after the opening quote


@dataclass(frozen=True)
class InputText:
    text: str  # JSON text, verbatim when it was given as JSON
    source: str  # where it came from, for messages: a file name, <stdin> or --data


def _too_large(source: str) -> InputError:
    return InputError(
        f"{source}: the input is larger than {MAX_INPUT_BYTES} bytes, "
        "Step Functions' limit for an execution input",
        hint="pass a smaller document, e.g. a reference to data stored elsewhere",
    )


def _read_bounded(stream: BinaryIO, source: str) -> bytes:
    data = stream.read(MAX_INPUT_BYTES + 1)
    if len(data) > MAX_INPUT_BYTES:
        raise _too_large(source)
    return data


def read_bounded_text(path: str, option: str) -> InputText:
    """A file's text (or stdin's for `-`), refused unread beyond the input limit."""
    if path == "-":
        data = _read_bounded(sys.stdin.buffer, "<stdin>")
        return InputText(decode_text(data, "<stdin>", InputError), "<stdin>")
    file = Path(path)
    if not file.is_file():
        raise InputError(
            f"{path}: no such file",
            hint=f"pass a file with {option}, or - for stdin"
            if option != "--path"
            else "pass a JSON or YAML file with --path",
        )
    if file.stat().st_size > MAX_INPUT_BYTES:
        raise _too_large(path)
    with file.open("rb") as stream:
        data = _read_bounded(stream, path)
    return InputText(decode_text(data, path, InputError), path)


def check_depth(text: str, source: str) -> None:
    """Refuse JSON nested deeper than MAX_DEPTH, without parsing it (strings do not count).
    One pass: each string is skipped with an anchored match, so the time stays linear."""
    if text.count("[") + text.count("{") <= MAX_DEPTH:
        return
    depth, i = 0, 0
    while True:
        found = _SPECIAL.search(text, i)
        if found is None:
            return
        char, i = found.group(), found.end()
        if char == '"':
            end = _STRING_REST.match(text, i)
            if end is None:
                return  # an unterminated string: the parser says where
            i = end.end()
        elif char in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_deep(source)
        else:
            depth -= 1


def _too_deep(source: str) -> InputError:
    return InputError(
        f"{source}: the document is nested more than {MAX_DEPTH} levels deep",
        hint="flatten it; the local runtime accepts at most this depth",
    )


def parse_json(text: str, source: str, what: str = "JSON input") -> Any:
    """The parsed document, or one line naming the file, line and column of the mistake."""
    if not text.strip():
        noun = what.split()[-1]
        raise InputError(f"{source}: the {noun} is empty", hint="give a JSON document, e.g. {}")
    check_depth(text, source)
    value, _ = load_json(text, source, error=InputError, what=what)
    return value


def _from_yaml(text: str, source: str) -> str:
    from tooling.config.yaml_loader import load_yaml

    try:
        value, _ = load_yaml(text, source, InputError)
    except RecursionError:
        raise _too_deep(source) from None
    if value is None:
        raise InputError(f"{source}: the input is empty", hint="give a document, e.g. {}")
    _check_value_depth(value, source)
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError) as exc:  # e.g. a YAML date or set: not JSON
        raise InputError(
            f"{source}: the YAML input holds a value JSON cannot carry ({exc})",
            hint="quote dates and timestamps, so they stay strings",
        ) from None


def _check_value_depth(value: Any, source: str) -> None:
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict | list):
            if depth > MAX_DEPTH:
                raise _too_deep(source)
            children = item.values() if isinstance(item, dict) else item
            stack.extend((child, depth + 1) for child in children)


def read_execution_input(
    input: str | None = None,
    *,
    data: str | None = None,
    path: str | None = None,
) -> str:
    """The execution input from --input, --data or --path (at most one of them), as JSON text:
    verbatim when given as JSON (AWS keeps StartExecution's input as sent), converted from YAML.
    None of them: `{}`."""
    given = [
        (flag, value)
        for flag, value in (("--input", input), ("--data", data), ("--path", path))
        if value is not None
    ]
    if len(given) > 1:
        raise InputError(
            " and ".join(flag for flag, _ in given) + " both give the input",
            hint="use one of --input FILE, --path FILE or --data JSON",
        )
    if not given:
        return "{}"
    flag, value = given[0]
    if flag == "--data":
        if len(value.encode("utf-8")) > MAX_INPUT_BYTES:
            raise _too_large("--data")
        parse_json(value, "--data")
        return value
    read = read_bounded_text(value, flag)
    if value != "-" and Path(value).suffix.lower() in _YAML_SUFFIXES:
        text = _from_yaml(read.text, read.source)
        if len(text.encode("utf-8")) > MAX_INPUT_BYTES:
            raise _too_large(read.source)
        return text
    parse_json(read.text, read.source)
    return read.text
