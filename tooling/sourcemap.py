"""JSON with source positions: every value's line and column, keyed by JSON pointer (RFC 6901).

Errors in definitions and inputs name the file, line and column; this keeps those positions.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from json.decoder import scanstring  # type: ignore[attr-defined]  # typeshed omits it; CPython has it
from pathlib import Path
from typing import Any

from tooling.errors import BadInput, Where

_WS = re.compile(r"[ \t\n\r]*")
_NUMBER_OR_WORD = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][-+]?\d+)?|true|false|null")


@dataclass(frozen=True)
class Position:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class SourceMap:
    """Where each value of a document stands in its file."""

    file: str
    positions: dict[str, Position] = field(default_factory=dict)

    def locate(self, pointer: str) -> Position | None:
        """The position of the value at `pointer`, or of its nearest ancestor that has one."""
        while True:
            found = self.positions.get(pointer)
            if found is not None or not pointer:
                return found
            pointer = pointer.rsplit("/", 1)[0]

    def error_kwargs(self, pointer: str) -> Where:
        """file/line/column keyword arguments for a ToolError about the value at `pointer`."""
        pos = self.locate(pointer)
        return {
            "file": self.file,
            "line": pos.line if pos else None,
            "column": pos.column if pos else None,
        }


def read_text(path: Path, label: str, error: type[BadInput]) -> str:
    """A source file's text; `error` naming the file when it is not UTF-8 (JSON and YAML are)."""
    return decode_text(path.read_bytes(), label, error)


def decode_text(data: bytes, label: str, error: type[BadInput]) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(
            f"not UTF-8 text (byte {exc.start}: {exc.reason})",
            file=label,
            hint="save it as UTF-8",
        ) from None


def pointer_join(pointer: str, key: str | int) -> str:
    text = str(key).replace("~", "~0").replace("/", "~1")
    return f"{pointer}/{text}"


def load_json(
    text: str, file: str, error: type[BadInput] = BadInput, what: str = "JSON"
) -> tuple[Any, SourceMap]:
    """Parse JSON text, raising `error` with the file, line and column when it is not valid."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(
            f"invalid {what}: {exc.msg}",
            file=file,
            line=exc.lineno,
            column=exc.colno,
            hint="fix the syntax and try again",
        ) from None
    smap = SourceMap(file)
    _Walker(text, smap.positions).value(0, "")
    return value, smap


class _Walker:
    """Walks text already known to be valid JSON and records where each value starts."""

    def __init__(self, text: str, out: dict[str, Position]) -> None:
        self.text = text
        self.out = out
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def _pos(self, offset: int) -> Position:
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return Position(lo + 1, offset - self.line_starts[lo] + 1)

    def _skip(self, i: int) -> int:
        m = _WS.match(self.text, i)
        assert m is not None
        return m.end()

    def value(self, i: int, pointer: str) -> int:
        i = self._skip(i)
        self.out[pointer] = self._pos(i)
        ch = self.text[i]
        if ch == "{":
            i = self._skip(i + 1)
            if self.text[i] == "}":
                return i + 1
            while True:
                key, i = scanstring(self.text, i + 1)
                i = self._skip(i)  # at ':'
                i = self.value(i + 1, pointer_join(pointer, key))
                i = self._skip(i)
                if self.text[i] == "}":
                    return i + 1
                i = self._skip(i + 1)  # past ',' to the next key's quote
        if ch == "[":
            i = self._skip(i + 1)
            if self.text[i] == "]":
                return i + 1
            index = 0
            while True:
                i = self.value(i, pointer_join(pointer, index))
                i = self._skip(i)
                if self.text[i] == "]":
                    return i + 1
                i += 1
                index += 1
        if ch == '"':
            end: int
            _, end = scanstring(self.text, i + 1)
            return end
        m = _NUMBER_OR_WORD.match(self.text, i)
        assert m is not None
        return m.end()
