"""`tool validate`: every mistake in a definition or a service, with its file, line and column.

Public API:
- validate_definition(definition, source, *, query_language="JSONPath", file=None), or
  validate_tree(tree) of a definition already read with tooling.asl.parse
- validate_file(path, display=None) / validate_service(service) / validate_directory(options)
- check_or_raise(diagnostics): DefinitionError (exit 2) for the first error
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from tooling.errors import BadInput
from tooling.validate.definition import iter_states, validate_definition, validate_tree
from tooling.validate.diagnostics import (
    Diagnostic,
    Severity,
    check_or_raise,
    has_errors,
    sort_key,
)
from tooling.validate.duplicates import duplicate_keys
from tooling.validate.service import diagnostic_from_error, validate_service

if TYPE_CHECKING:
    from tooling.session import Options

__all__ = [
    "Diagnostic",
    "Severity",
    "check_or_raise",
    "has_errors",
    "iter_states",
    "validate_definition",
    "validate_directory",
    "validate_file",
    "validate_service",
    "validate_tree",
]


def validate_file(path: Path, display: str | None = None) -> list[Diagnostic]:
    """A definition file on its own (JSON, or YAML for .yml/.yaml), no service involved."""
    from tooling.errors import DefinitionError
    from tooling.sourcemap import load_json, read_text

    label = display or str(path)
    try:
        text = read_text(path, label, DefinitionError)
    except BadInput as exc:
        return [diagnostic_from_error(exc, "FILE_UNREADABLE")]
    except OSError as exc:
        return [
            Diagnostic(
                Severity.ERROR, "FILE_UNREADABLE", f"cannot read: {exc.strerror}", label, None,
                None, "",
            )
        ]  # fmt: skip
    try:
        if path.suffix in (".yml", ".yaml"):
            from tooling.config.yaml_loader import load_yaml  # slow to import: only for YAML

            definition, source = load_yaml(text, label, DefinitionError)
            duplicates: list[Diagnostic] = []
        else:
            definition, source = load_json(text, label, DefinitionError, "JSON")
            duplicates = duplicate_keys(text, source)
    except BadInput as exc:
        return [diagnostic_from_error(exc, "JSON_SYNTAX")]
    return sorted(duplicates + validate_definition(definition, source), key=sort_key)


def validate_directory(options: Options) -> list[Diagnostic]:
    """The service in `options.directory`, loading errors (serverless.yml, variables) included."""
    from tooling import session  # the composition root pulls in backends: load it only here

    try:
        service = session.load(options)
    except BadInput as exc:
        return [diagnostic_from_error(exc)]
    return sorted(validate_service(service), key=sort_key)
