"""Handler checks and the deterministic deployment zip of a service.

What goes into the zip:

1. Every file under the service folder, walked in sorted order (symlinked folders not followed).
2. `package.patterns` (service level, then each function's, in serverless.yml order; the legacy
   `exclude` / `include` lists count as `!pattern` / `pattern`) are applied in order, Serverless
   style: a pattern adds back the files it matches, `!pattern` removes them; the last matching
   pattern wins. Globs: `*` and `?` stay within one path segment, `**` spans segments, `[ab]` and
   `{a,b}` work; a pattern that matches a folder also matches everything inside it.
3. Whatever the patterns say, these are never packed: `.git/`, `.venv/`, `venv/`, `.tool/`,
   `tests/`, `__pycache__/`, `*.pyc`, `.env`, `.env.*`, `*.pem`, `*.key`, `id_rsa*`, `.aws/`,
   `node_modules/`, `.serverless/`, the caches `.pytest_cache/`, `.hypothesis/`, `.mypy_cache/`,
   `.ruff_cache/` (at any depth), the toolkit's own top-level `tooling/` and `tooling.egg-info/`
   folders, and the output folder itself.
   Serverless' default excludes (`serverless.yml/.yaml/.json/.js` and the service's own config
   file, `.gitignore`, `.DS_Store`, `npm-debug.log`), then the state machine definition files
   loaded with `${file(...)}`, come first in the pattern list, so a pattern can bring them back.

The zip is byte-for-byte reproducible: sorted entries, timestamps 1980-01-01 00:00:00, modes
0o644 (0o755 when the file is executable), Unix as creator system, deflate level 6.
"""

from __future__ import annotations

import ast
import base64
import difflib
import hashlib
import io
import os
import re
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from tooling.config.service import ServiceConfig
from tooling.errors import HandlerError
from tooling.statedir import inside

_ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_NEVER_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        ".tool",
        "tests",
        "__pycache__",
        ".aws",
        "node_modules",
        ".serverless",
        # Caches of tools run in the folder (`make test`): they change on every run and would
        # make the next deploy upload the code again.
        ".pytest_cache",
        ".hypothesis",
        ".mypy_cache",
        ".ruff_cache",
    }
)
_NEVER_FILES = re.compile(r"^(?:\.env|\.env\..*|.*\.pem|.*\.key|id_rsa.*|.*\.pyc)$")
_TOP_LEVEL_NEVER = frozenset({"tooling", "tooling.egg-info"})
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


@lru_cache(maxsize=512)
def _glob_regex(pattern: str) -> re.Pattern[str]:
    """Translate a Serverless/globby-style glob into a regex over POSIX relative paths."""
    pattern = pattern.strip()
    while pattern.startswith("./"):
        pattern = pattern[2:]
    pattern = pattern.lstrip("/").rstrip("/")
    out: list[str] = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            body = pattern[i + 1 : end]
            if body.startswith("!"):
                body = "^" + body[1:]
            out.append("[" + body.replace("\\", "\\\\") + "]")
            i = end + 1
        elif pattern[i] == "{" and "}" in pattern[i:]:
            end = pattern.index("}", i)
            choices = pattern[i + 1 : end].split(",")
            out.append("(?:" + "|".join(_glob_regex(c).pattern[1:-1] for c in choices) + ")")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("^" + "".join(out) + "$")


def glob_match(pattern: str, path: str) -> bool:
    """Does `pattern` match `path` or one of its parent folders (POSIX, relative)?"""
    regex = _glob_regex(pattern)
    parts = path.split("/")
    return any(regex.match("/".join(parts[:n])) for n in range(len(parts), 0, -1))


def never_packed(path: str) -> bool:
    """The hard exclusions that no pattern can undo (see the module docstring)."""
    parts = path.split("/")
    if parts[0] in _TOP_LEVEL_NEVER:
        return True
    if any(part in _NEVER_DIRS for part in parts[:-1]):
        return True
    return bool(_NEVER_FILES.match(parts[-1]))


def select_files(directory: Path, patterns: Iterable[str], skip: Iterable[Path] = ()) -> list[str]:
    """Relative POSIX paths of the files to pack, sorted."""
    skipped = [p.resolve() for p in skip]
    rules = [(p[1:], False) if p.startswith("!") else (p, True) for p in patterns]
    selected: list[str] = []
    for root, dirs, files in os.walk(directory):
        root_path = Path(root)
        rel_root = root_path.relative_to(directory).as_posix()
        prefix = "" if rel_root == "." else rel_root + "/"
        # Hard-excluded folders are pruned early: no point walking .git or .venv.
        dirs[:] = sorted(
            d
            for d in dirs
            if d not in _NEVER_DIRS
            and not (not prefix and d in _TOP_LEVEL_NEVER)
            and not (root_path / d).is_symlink()
            and (root_path / d).resolve() not in skipped
        )
        for name in sorted(files):
            rel = prefix + name
            full = root_path / name
            if never_packed(rel) or not full.is_file() or full.resolve() in skipped:
                continue
            included = True
            for glob, include in rules:
                if glob_match(glob, rel):
                    included = include
            if included:
                selected.append(rel)
    return sorted(selected)


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
    files = select_files(service.directory, package_patterns(service), skip=[out_dir])
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
    return Package(path=target, sha256=digest, files=tuple(files), size=len(data))
