"""Handler checks and the deployment packages of a service.

Each function's code comes, as Serverless v3 packages it (lib/plugins/package/lib/
package-service.js): from its own `package.artifact` (a prebuilt zip, e.g. a Go or .NET build);
else, with `package.individually`, from a zip of its own (the service's patterns, then its
own); else from the service's package: the service's `package.artifact`, or the one zip of the
service built below. A service with no function packages nothing.

Handlers are checked as each runtime reads them (tooling.config.runtimes): a Python handler's
file compiles and defines the function; a Node.js or Ruby handler's file is there (Node.js:
`.js`, `.mjs`, `.cjs` or a package); an OS-only runtime has an executable `bootstrap`, a go1.x
function the binary it names; Java and .NET handlers are checked for form only.

What goes into a zip: the files of the service folder that `package.patterns` select (the
legacy `exclude` / `include` lists count as `!pattern` / `pattern`), as tooling.package_files
decides: patterns in order, the last matching one wins; tool folders and caches never; secrets
(`.env*`, private keys, `.aws/`, ...) only when a pattern names them; links only to files inside
the service folder. Serverless' default excludes (`serverless.yml/.yaml/.json/.js` and the
service's own config file, `.gitignore`, `.DS_Store`, `npm-debug.log`), then the state machine
definition files loaded with `${file(...)}`, come first in the pattern list, so a pattern can
bring them back. `node_modules/` is packed like any folder, except the packages that only
`devDependencies` need (tooling.node_dependencies; `package.excludeDevDependencies: false` keeps
them), which no pattern brings back, as in Serverless v3.

The zip is byte-for-byte reproducible: sorted entries, timestamps 1980-01-01 00:00:00, modes
0o644 (0o755 when the file is executable), Unix as creator system, deflate level 6.
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import difflib
import hashlib
import io
import os
import uuid
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from tooling import typescript
from tooling.config import runtimes
from tooling.config.layers import LayerConfig
from tooling.config.service import FunctionConfig, ServiceConfig
from tooling.errors import HandlerError
from tooling.node_dependencies import development_only
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
    # The service's files it was made from, where they are not its files (a TypeScript bundle's
    # sources); `tool invoke` watches them for edits.
    sources: tuple[str, ...] = ()


@dataclass(frozen=True)
class Packages:
    """The code of each function: the service's zip (None when no function uses it) and, for
    every function key, the package it deploys."""

    service: Package | None
    functions: dict[str, Package]


# ---------------------------------------------------------------------------------------------
# Handler checks


def check_handlers(service: ServiceConfig) -> None:
    """Each function's handler, as its runtime reads it (see the module docstring). Python
    files are checked without importing them."""
    for function in service.functions.values():
        if function.image is not None:
            continue  # the image holds its code
        if function.package_artifact is not None:
            _check_artifact_handler(service, function)
        elif function.runtime_family == runtimes.PYTHON:
            _check_python_handler(service, function)
        elif (source := typescript.typescript_source(service, function)) is not None:
            typescript.check_buildable(service, function, source)
        elif function.runtime_family in (runtimes.NODEJS, runtimes.RUBY):
            _require_handler_file(service, function, _candidates_in_folder(service, function))
        elif function.runtime_family in (runtimes.PROVIDED, runtimes.GO):
            _check_executable(service, function, service.directory / function.handler_file)


def _check_python_handler(service: ServiceConfig, function: FunctionConfig) -> None:
    path = service.directory / function.handler_file
    if not path.is_file():
        raise HandlerError(
            f"handler file {function.handler_file} not found "
            f"(function '{function.key}', handler {function.handler})",
            file=function.handler_file,
            hint=f"create it or fix functions.{function.key}.handler in serverless.yml",
        )
    _check_python_source(function, path.read_bytes())


def _check_python_source(function: FunctionConfig, source: bytes) -> None:
    try:
        tree = ast.parse(source, function.handler_file, "exec")
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


def handler_candidates(function: FunctionConfig) -> tuple[str, ...]:
    """The package paths that would hold the handler's code, in the order the runtime tries
    them (Node.js: the file itself, .js, .mjs, .cjs, then a folder's index)."""
    if function.runtime_family == runtimes.NODEJS:
        base = function.handler_file.removesuffix(".js")
        files = [base + ext for ext in runtimes.NODE_EXTENSIONS if base + ext]
        files += [f"{base}/index{ext}" for ext in (".js", ".mjs", ".cjs")]
        return tuple(files)
    return (function.handler_file,) if function.handler_file else ()


def _candidates_in_folder(service: ServiceConfig, function: FunctionConfig) -> bool:
    return any((service.directory / c).is_file() for c in handler_candidates(function))


def _require_handler_file(service: ServiceConfig, function: FunctionConfig, found: bool) -> None:
    if found:
        return
    hint = f"create it or fix functions.{function.key}.handler in serverless.yml"
    if function.runtime_family == runtimes.NODEJS:
        shown = f"{function.handler_file} (or .mjs, .cjs)"
    else:
        shown = function.handler_file
    raise HandlerError(
        f"handler file {shown} not found (function '{function.key}', handler "
        f"{function.handler}, runtime {function.runtime})",
        file=function.handler_file or None,
        hint=hint,
    )


def _check_executable(service: ServiceConfig, function: FunctionConfig, path: Path) -> None:
    what = "bootstrap" if function.runtime_family == runtimes.PROVIDED else "binary"
    if not path.is_file():
        raise HandlerError(
            f"handler file {function.handler_file} not found: runtime {function.runtime} runs "
            f"the {what} {function.handler_file} of the package (function '{function.key}')",
            file=function.handler_file,
            hint="build it into the service folder (e.g. GOOS=linux go build -o bootstrap), "
            "or give the built zip as package.artifact",
        )
    if not os.access(path, os.X_OK):
        raise HandlerError(
            f"{function.handler_file} is not executable, and Lambda must run it "
            f"(function '{function.key}', runtime {function.runtime})",
            file=function.handler_file,
            hint=f"chmod +x {function.handler_file}",
        )


def read_artifact(service: ServiceConfig, artifact: str) -> zipfile.ZipFile:
    """The prebuilt zip a `package.artifact` names (the loader checked that it exists)."""
    path = service.directory / artifact
    try:
        return zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise HandlerError(
            f"package artifact {artifact} is not a zip file ({exc})",
            file=artifact,
            hint="give the zip your build made (Lambda takes .zip and .jar files)",
        ) from None


def _check_artifact_handler(service: ServiceConfig, function: FunctionConfig) -> None:
    """The handler as found in the prebuilt zip (Java and .NET: form only)."""
    assert function.package_artifact is not None
    with read_artifact(service, function.package_artifact) as archive:
        infos = {info.filename: info for info in archive.infolist() if not info.is_dir()}
        candidates = handler_candidates(function)
        if function.runtime_family in (runtimes.JAVA, runtimes.DOTNET) or not candidates:
            return
        found = next((c for c in candidates if c in infos), None)
        if found is None:
            raise HandlerError(
                f"{candidates[0]} (handler {function.handler} of function '{function.key}', "
                f"runtime {function.runtime}) is not in package artifact "
                f"{function.package_artifact}",
                file=function.package_artifact,
                hint="fix the handler, or build the zip with that file at its root",
            )
        if function.runtime_family == runtimes.PYTHON:
            _check_python_source(function, archive.read(found))
        elif function.runtime_family in (runtimes.PROVIDED, runtimes.GO):
            mode = infos[found].external_attr >> 16
            if infos[found].create_system == 3 and not mode & 0o111:
                raise HandlerError(
                    f"{found} in package artifact {function.package_artifact} is not "
                    f"executable, and Lambda must run it (function '{function.key}')",
                    file=function.package_artifact,
                    hint=f"chmod +x {found} before zipping it (zip keeps the mode)",
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


def package_patterns(
    service: ServiceConfig, function: FunctionConfig | None = None
) -> tuple[str, ...]:
    """Default excludes, then the service-level patterns; for a function packaged
    individually, its own patterns after them (Serverless uses function-level patterns only
    then, and warns otherwise: see tooling.config.service)."""
    patterns = [*DEFAULT_EXCLUDES, "!" + service.config_file.name]
    # Definition files are deployed as state machines, not as code: leaving them out keeps a
    # definition change from redeploying every function. A pattern can still bring them back.
    for machine in service.state_machines.values():
        if machine.source is not None and machine.source.file != service.config_file.name:
            patterns.append("!" + machine.source.file)
    # Layers' folders are packaged as layers, not into functions (Serverless' getExcludes).
    patterns.extend(f"!{layer.path}/**" for layer in service.layers.values() if layer.path
                    and layer.path != ".")  # fmt: skip
    patterns.extend(service.package_patterns)
    if function is not None:
        patterns.extend(function.package_patterns)
    return tuple(patterns)


# ---------------------------------------------------------------------------------------------
# Zip


def build_packages(service: ServiceConfig, out_dir: Path) -> Packages:
    """Every function's package (see the module docstring); nothing when there is no function."""
    functions: dict[str, Package] = {}
    built = {
        key: source
        for key, function in service.functions.items()
        if (source := typescript.typescript_source(service, function)) is not None
    }
    shared = [
        f
        for f in service.functions.values()
        if not f.package_artifact
        and not f.package_individually
        and f.key not in built
        and f.image is None
    ]
    service_package = build_package(service, out_dir) if shared else None
    artifacts: dict[str, Package] = {}
    for key, function in service.functions.items():
        if function.image is not None:
            continue  # a container image function has no package
        if key in built:
            functions[key] = bundle_package(service, function, built[key], out_dir)
        elif function.package_artifact is not None:
            if function.package_artifact not in artifacts:
                artifacts[function.package_artifact] = artifact_package(
                    service, function.package_artifact
                )
            functions[key] = artifacts[function.package_artifact]
        elif function.package_individually:
            functions[key] = build_package(service, out_dir, function=function)
        else:
            assert service_package is not None
            functions[key] = service_package
    return Packages(service_package, functions)


def bundle_package(
    service: ServiceConfig, function: FunctionConfig, source: str, out_dir: Path
) -> Package:
    """`<out_dir>/<function key>.zip` holding the esbuild bundle of a TypeScript handler at
    the handler's path (tooling/typescript.py)."""
    bundle, sources = typescript.build_bundle(service, function, source, out_dir)
    name = typescript.built_name(function)
    package = _write_zip(inside(out_dir, f"{function.key}.zip"), {name: bundle}, ())
    return dataclasses.replace(package, sources=sources)


def artifact_package(service: ServiceConfig, artifact: str) -> Package:
    """A prebuilt zip, deployed as it is."""
    with read_artifact(service, artifact) as archive:
        files = tuple(sorted(i.filename for i in archive.infolist() if not i.is_dir()))
    path = service.directory / artifact
    data = path.read_bytes()
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    return Package(path=path, sha256=digest, files=files, size=len(data))


def build_package(
    service: ServiceConfig, out_dir: Path, *, function: FunctionConfig | None = None
) -> Package:
    """Write `<out_dir>/<service>.zip` (or `<function key>.zip` for a function packaged
    individually) and return its description (see the module docstring)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    name = service.service if function is None else function.key
    target = inside(out_dir, f"{name}.zip")
    skip = [out_dir]
    development_warnings: list[FileWarning] = []
    if service.package_exclude_dev_dependencies:
        development = development_only(service.directory)
        skip.extend(service.directory / path for path in development.paths)
        development_warnings = [FileWarning(f, m) for f, m in development.warnings]
    selection = select_package_files(service.directory, package_patterns(service, function), skip)
    selection.warnings[:0] = development_warnings
    files = selection.files
    users = (
        [function]
        if function is not None
        else [
            f
            for f in service.functions.values()
            if not f.package_artifact and not f.package_individually
        ]
    )
    for user in users:
        if typescript.typescript_source(service, user) is not None:
            continue  # built into a package of its own
        candidates = handler_candidates(user)
        if candidates and not set(candidates) & set(files):
            raise HandlerError(
                f"{candidates[0]} (handler of function '{user.key}') would not be in the package",
                file=str(service.config_file.name),
                hint="check package.patterns: the handler file must not be excluded",
            )
    if not files:
        raise HandlerError(
            "no file matches the package patterns",
            file=service.config_file.name,
            hint="check package.patterns in serverless.yml",
        )
    return _write_zip(
        target, {rel: service.directory / rel for rel in files}, tuple(selection.warnings)
    )


def build_layer_package(service: ServiceConfig, layer: LayerConfig, out_dir: Path) -> Package:
    """A layer's code: its `package.artifact`, else `<out_dir>/layers/<key>.zip` of its folder's
    files (at the zip's root, as Serverless zips them), chosen as a function package's are:
    Serverless' default excludes, the service's `package.patterns`, then the layer's, each
    resolved against the layer's folder; no secrets unless named, no link out of the service
    folder; byte-for-byte reproducible."""
    if layer.artifact is not None:
        return artifact_package(service, layer.artifact)
    assert layer.path is not None
    folder = out_dir / "layers"
    folder.mkdir(parents=True, exist_ok=True)
    root = service.directory / layer.path
    # As Serverless: the service's patterns too, resolved against the layer's folder.
    patterns = [
        *DEFAULT_EXCLUDES, "!" + service.config_file.name, *service.package_patterns,
        *layer.patterns,
    ]  # fmt: skip
    selection = select_package_files(root, patterns, [out_dir], base=service.directory)
    if not selection.files:
        raise HandlerError(
            f"layer '{layer.key}': no file of {layer.path}/ matches its package patterns",
            file=service.config_file.name,
            hint=f"put the layer's files in {layer.path}/ (python/ or nodejs/node_modules/), or "
            f"check layers.{layer.key}.package.patterns",
        )
    warnings = tuple(
        dataclasses.replace(w, file=f"{layer.path}/{w.file}") for w in selection.warnings
    )
    entries = {rel: root / rel for rel in selection.files}
    return _write_zip(inside(folder, f"{layer.key}.zip"), entries, warnings)


def _write_zip(
    target: Path, entries: dict[str, Path], warnings: tuple[FileWarning, ...]
) -> Package:
    """The zip of `entries` (name in the zip -> file), written whole or not at all."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
        for rel, full in entries.items():
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
        path=target, sha256=digest, files=tuple(entries), size=len(data), warnings=warnings
    )
