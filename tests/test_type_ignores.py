"""Every `# type: ignore` names its error code and says why (pyproject.toml, [tool.mypy]).

mypy itself refuses an ignore without a code (`ignore-without-code`) and one that silences
nothing (`warn_unused_ignores`); the reason is checked here: a comment after the ignore on its
line, or a comment line just above it.
"""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHECKED = ("tooling", "tests", "bench")

IGNORE = re.compile(r"#\s*type:\s*ignore(?P<codes>\[[^\]]*\])?(?P<rest>.*)$")
REASON = re.compile(r"^\s*#\s*\S")


def unexplained(relative: str, text: str) -> list[str]:
    """The ignores of one file that lack a code or a reason, as `file:line: text`."""
    found = []
    lines = text.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        match = IGNORE.search(token.string) if token.type == tokenize.COMMENT else None
        if match is None:
            continue
        number = token.start[0]
        above = lines[number - 2] if number > 1 else ""
        explained = REASON.match(match["rest"]) or above.lstrip().startswith("#")
        if match["codes"] is None or not explained:
            found.append(f"{relative}:{number}: {lines[number - 1].strip()}")
    return found


def test_every_type_ignore_has_a_code_and_a_reason() -> None:
    found = []
    for folder in CHECKED:
        for path in sorted((ROOT / folder).rglob("*.py")):
            relative = path.relative_to(ROOT).as_posix()
            found += unexplained(relative, path.read_text(encoding="utf-8"))
    assert found == []


def test_an_ignore_without_a_code_or_a_reason_is_found() -> None:
    text = "\n".join(
        [
            "a = f()  # type: ignore[misc]",
            "b = f()  # type: ignore",
            "c = f()  # type: ignore[misc]  # f is untyped",
            "# f is untyped",
            "d = f()  # type: ignore[misc]",
        ]
    )
    assert unexplained("x.py", text) == [
        "x.py:1: a = f()  # type: ignore[misc]",
        "x.py:2: b = f()  # type: ignore",
    ]
