"""Handler checks and the deterministic deployment zip of a service.

What goes into the zip:

The files of the service folder that `package.patterns` select (service level, then each
function's, in serverless.yml order; the legacy `exclude` / `include` lists count as `!pattern`
/ `pattern`), as tooling.package_files decides: patterns in order, the last matching one wins;
tool folders and caches never; secrets (`.env*`, private keys, `.aws/`, ...) only when a pattern
names them; links only to files inside the service folder. Serverless' default excludes
(`serverless.yml/.yaml/.json/.js` and the service's own config file, `.gitignore`, `.DS_Store`,
`npm-debug.log`), then the state machine definition files loaded with `${file(...)}`, come first
in the pattern list, so a pattern can bring them back.

The zip is byte-for-byte reproducible: sorted entries, timestamps 1980-01-01 00:00:00, modes
0o644 (0o755 when the file is executable), Unix as creator system, deflate level 6.
"""

from __future__ import annotations

import ast
import base64
import difflib
import hashlib
import io
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tooling.config.service import ServiceConfig
from tooling.errors import HandlerError
from tooling.package_files import FileWarning, select_package_files
from tooling.package_files import glob_match as glob_match  # re-exported: file selection
from tooling.package_files import never_packed as never_packed
from tooling.package_files import select_files as select_files
from tooling.statedir import inside

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
# Serverless' own default excludes (packageService.js `defaultExcludes`); patterns may undo them.
DEFAULT_EXCLUDES = (
    "!.gitignore",
    "!.DS_Store",
    "!npm-debug.log",
    "!serverless.yml",
    "!serverless.yaml",
    "!serverless.json",
    "!serverless.js",
)


@dataclass(frozen=True)
class Package:
    path: Path
    sha256: str  # base64 of the SHA-256 digest, like Lambda's CodeSha256
    files: tuple[str, ...]
    size: int
    warnings: tuple[FileWarning, ...] = ()  # secrets packed on request, links left out, ...


# ---------------------------------------------------------------------------------------------
# Handler checks


def check_handlers(service: ServiceConfig) -> None:
    """Each function's handler file compiles and defines its handler (checked without importing)."""
    for function in service.functions.values():
        path = service.directory / function.handler_file
        if not path.is_file():
            raise HandlerError(
                f"handler file {function.handler_file} not found "
                f"(function '{function.key}', handler {function.handler})",
                file=function.handler_file,
                hint=f"create it or fix functions.{function.key}.handler in serverless.yml",
            )
        try:
            source = path.read_bytes()
            tree = compile(source, function.handler_file, "exec", ast.PyCF_ONLY_AST)
            compile(tree, function.handler_file, "exec")  # compiler-stage errors too
        except SyntaxError as exc:
            raise HandlerError(
                exc.msg,
                file=function.handler_file,
                line=exc.lineno,
                column=exc.offset,
                hint="fix the Python syntax; the function cannot be loaded as it is",
            ) from None
        except ValueError as exc:  # e.g. null bytes in the source
            raise HandlerError(f"cannot compile: {exc}", file=function.handler_file) from None
        names = _top_level_names(tree)
        if function.handler_function not in names:
            close = difflib.get_close_matches(function.handler_function, sorted(names), n=1)
            raise HandlerError(
                f"{function.handler_file} has no top-level '{function.handler_function}' "
                f"(handler {function.handler} of function '{function.key}')",
                file=function.handler_file,
                hint=f"did you mean '{close[0]}'?"
                if close
                else f"define `def {function.handler_function}(event, context):`",
            )


def _top_level_names(tree: ast.AST) -> set[str]:
    """Names bound at module level: defs, classes, assignments, imports (also inside if/try)."""
    names: set[str] = set()
    body = list(getattr(tree, "body", []))
    while body:
        node = body.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            names.add(node.name)
        elif isinstance(node, ast.Assign):
            for target in node.targets:
                names.update(_target_names(target))
        elif isinstance(node, ast.AnnAssign | ast.AugAssign):
            names.update(_target_names(node.target))
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names.update((a.asname or a.name).split(".")[0] for a in node.names)
        elif isinstance(node, ast.If | ast.Try | ast.With):
            body.extend(node.body)
            body.extend(getattr(node, "orelse", []))
            body.extend(getattr(node, "finalbody", []))
            for handler in getattr(node, "handlers", []):
                body.extend(handler.body)
    return names


def _target_names(target: ast.AST) -> Iterable[str]:
    if isinstance(target, ast.Name):
        yield target.id
    elif isinstance(target, ast.Tuple | ast.List):
        for element in target.elts:
            yield from _target_names(element)


# ---------------------------------------------------------------------------------------------
# File selection


def package_patterns(service: ServiceConfig) -> tuple[str, ...]:
    """Default excludes, service-level patterns, then each function's, in serverless.yml order.

    Real Serverless uses function-level patterns only with `package.individually`; one zip per
    service here, so they are appended to the service's list."""
    patterns = [*DEFAULT_EXCLUDES, "!" + service.config_file.name]
    # Definition files are deployed as state machines, not as code: leaving them out keeps a
    # definition change from redeploying every function. A pattern can still bring them back.
    for machine in service.state_machines.values():
        if machine.source is not None and machine.source.file != service.config_file.name:
            patterns.append("!" + machine.source.file)
    patterns.extend(service.package_patterns)
    for function in service.functions.values():
        patterns.extend(function.package_patterns)
    return tuple(patterns)


# ---------------------------------------------------------------------------------------------
# Zip


def build_package(service: ServiceConfig, out_dir: Path) -> Package:
    """Write `<out_dir>/<service>.zip` and return its description (see the module docstring)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    target = inside(out_dir, f"{service.service}.zip")
    selection = select_package_files(service.directory, package_patterns(service), skip=[out_dir])
    files = selection.files
    for function in service.functions.values():
        if function.handler_file not in files:
            raise HandlerError(
                f"{function.handler_file} (handler of function '{function.key}') "
                "would not be in the package",
                file=str(service.config_file.name),
                hint="check package.patterns: the handler file must not be excluded",
            )
    if not files:
        raise HandlerError(
            "no file matches the package patterns",
            file=service.config_file.name,
            hint="check package.patterns in serverless.yml",
        )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for rel in files:
            full = service.directory / rel
            info = zipfile.ZipInfo(rel, date_time=_ZIP_EPOCH)
            info.create_system = 3  # Unix, so external_attr carries the mode
            mode = 0o755 if full.stat().st_mode & 0o111 else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(
                info, full.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=6
            )
    data = buffer.getvalue()
    # A name of its own: two commands may build the same service at once (parallel `tool run`s).
    temporary = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_bytes(data)
    temporary.replace(target)
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    return Package(
        path=target,
        sha256=digest,
        files=tuple(files),
        size=len(data),
        warnings=tuple(selection.warnings),
    )
