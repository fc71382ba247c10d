"""The toolkit's error types.

The CLI's single error boundary turns them into one line and an exit code.

Exit codes: 0 ok, 1 a failed execution or operation, 2 bad input.
"""

from __future__ import annotations

from typing import TypedDict


class Where(TypedDict, total=False):
    """Where a ToolError points: its `file`, `line` and `column` keyword arguments."""

    file: str | None
    line: int | None
    column: int | None


class ToolError(Exception):
    """An error meant for the user: what is wrong, where, and what to do."""

    exit_code = 1

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        column: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.column = column
        self.hint = hint

    def location(self) -> str:
        """`file:line:col` as far as it is known, or an empty string."""
        if not self.file:
            return ""
        parts = [self.file]
        if self.line is not None:
            parts.append(str(self.line))
            if self.column is not None:
                parts.append(str(self.column))
        return ":".join(parts)

    def render(self) -> str:
        where = self.location()
        text = f"{where}: {self.message}" if where else self.message
        if self.hint:
            text = f"{text} ({self.hint})"
        return text

    def __str__(self) -> str:
        return self.render()


class BadInput(ToolError):
    """The user's files, options or input are wrong. Nothing was changed."""

    exit_code = 2


class ConfigError(BadInput):
    """serverless.yml (or a file it loads) is invalid."""


class DefinitionError(BadInput):
    """A state machine definition is invalid."""


class HandlerError(BadInput):
    """A function's handler cannot be loaded (syntax error, missing module or function)."""


class InputError(BadInput):
    """An execution input or option is invalid."""


class NotFound(BadInput):
    """A named function, state machine or execution does not exist."""


class AlreadyExists(BadInput):
    """A resource with this name already exists (e.g. an execution name)."""


class OperationFailed(ToolError):
    """An operation (deploy, invoke, ...) failed for a reason that is not the user's input."""
