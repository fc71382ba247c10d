"""JSONata `{% ... %}` expressions: recognised and their syntax checked (never evaluated).

The syntax check uses the jsonata-python parser when it is installed; without it only the
delimiters and the balance of brackets and quotes are checked.
"""

from __future__ import annotations

from typing import Any


def _parser() -> Any:
    """jsonata-python's parser (slow to import: loaded on the first expression), or None."""
    try:  # optional: the engine's JSONata support brings it in
        from jsonata import Jsonata
    except ImportError:  # pragma: no cover - depends on the environment
        return None
    return Jsonata


class JsonataError(ValueError):
    pass


def is_expression(value: Any) -> bool:
    """A string written as a JSONata expression: `{% ... %}`."""
    return isinstance(value, str) and value.startswith("{%") and value.endswith("%}")


def looks_like_expression(value: Any) -> bool:
    """Starts or ends like an expression: a broken one when is_expression is False."""
    return isinstance(value, str) and (value.startswith("{%") or value.rstrip().endswith("%}"))


def check_expression(text: str) -> None:
    """Raise JsonataError when `text` is not a well-formed `{% expression %}`."""
    if not is_expression(text):
        raise JsonataError("a JSONata expression must be written '{% expression %}'")
    body = text[2:-2]
    if not body.strip():
        raise JsonataError("the JSONata expression is empty")
    parser = _parser()
    if parser is None:
        _check_balance(body)
        return
    try:
        parser(body)
    except Exception as exc:  # the parser raises its own JException with a message
        raise JsonataError(f"invalid JSONata: {_message(exc)}") from None


def _message(exc: Exception) -> str:
    text = str(exc).strip() or type(exc).__name__
    position = getattr(exc, "location", None)
    return f"{text} (at character {position})" if isinstance(position, int) else text


def _check_balance(body: str) -> None:
    pairs = {")": "(", "]": "[", "}": "{"}
    stack: list[str] = []
    quote = ""
    for c in body:
        if quote:
            if c == quote:
                quote = ""
        elif c in "'\"`":
            quote = c
        elif c in "([{":
            stack.append(c)
        elif c in pairs and (not stack or stack.pop() != pairs[c]):
            raise JsonataError(f"invalid JSONata: unbalanced '{c}'")
    if stack or quote:
        raise JsonataError("invalid JSONata: unclosed bracket or quote")
