"""Lambda runtimes: their families, how each reads a function's `handler`, and AWS's deprecations.

How each family reads the handler string (what the check below mirrors):
- Python (`python3.x`): `path/module.function`; the runtime imports `path.module` (awslambdaric
  bootstrap `_get_handler`: `modname.replace("/", ".")`), so `./` or `..` make it fail.
- Node.js (`nodejs*`): `[dir/]module.export[.nested]`; the module is the basename up to its first
  dot, looked up as the file itself, `.js`, `.mjs` or `.cjs` under `dir`, then as a package; a
  handler containing `..` is refused (aws-lambda-nodejs-runtime-interface-client
  src/UserFunction.js).
- Ruby (`ruby*`): `[dir/]file.method` (`.rb`), the method possibly `Module::Class.method`.
- Java (`java*`): `package.Class::method`, or `package.Class` (handleRequest); form only.
- .NET (`dotnet*`): `Assembly::Namespace.Class::Method`, or the assembly name of an executable
  assembly; form only.
- OS-only runtimes (`provided`, `provided.al2`, `provided.al2023`): Lambda runs the `bootstrap`
  executable at the package root; the handler is only passed to it (`_HANDLER`).
- `go1.x` (retired): the handler names the executable in the package.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PYTHON, NODEJS, RUBY, JAVA, DOTNET, PROVIDED, GO = (
    "python",
    "nodejs",
    "ruby",
    "java",
    "dotnet",
    "provided",
    "go",
)
IMAGE = "image"  # a container image: no runtime, no handler (tooling.config.function_images)
# What the local runtime runs (the rest deploys to AWS only); Node.js with the `node` on PATH
# (tooling.localrt.runtimes).
LOCAL_FAMILIES = frozenset({PYTHON, NODEJS})
NODE_EXTENSIONS = ("", ".js", ".mjs", ".cjs")  # the order Lambda's Node.js loader tries them
# Plugins that build TypeScript for Serverless at package time (the toolkit runs no plugin).
TYPESCRIPT_PLUGINS = (
    "serverless-esbuild",
    "serverless-plugin-typescript",
    "serverless-webpack",
    "serverless-bundle",
)

_JAVA_NAME = r"[A-Za-z_$][\w$]*"
_JAVA_HANDLER = re.compile(rf"^{_JAVA_NAME}(?:\.{_JAVA_NAME})*(?:::{_JAVA_NAME})?$")
_DOTNET_NAME = r"[A-Za-z_][\w.`+-]*"
_DOTNET_HANDLER = re.compile(rf"^{_DOTNET_NAME}(?:::{_DOTNET_NAME}::[A-Za-z_]\w*)?$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_PYTHON_MODULE = re.compile(r"^[A-Za-z0-9_./-]+$")
_RUBY_METHOD = re.compile(r"^(?:[A-Z]\w*::)*(?:[A-Z]\w*\.)?[a-z_]\w*[?!]?$")


def runtime_family(runtime: str) -> str | None:
    """The family of a runtime identifier, or None for one the toolkit does not know."""
    for prefix, family in (
        ("python", PYTHON),
        ("nodejs", NODEJS),
        ("ruby", RUBY),
        ("java", JAVA),
        ("dotnet", DOTNET),
        ("provided", PROVIDED),
        ("go", GO),
    ):
        if runtime.startswith(prefix):
            return family
    return None


@dataclass(frozen=True)
class Handler:
    """A handler string as the runtime reads it."""

    family: str
    module_path: str  # Python/Node/Ruby: the module's path without extension; Go: the binary
    function: str  # the function/export/method, or "" where the runtime has none
    executable: str | None = None  # provided/go: the file Lambda executes


class HandlerFormError(ValueError):
    """The handler string cannot work with the runtime: message and hint."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint


def parse_handler(handler: str, family: str) -> Handler:
    """Read `handler` as runtime `family` does; HandlerFormError when it cannot work."""
    if not handler or handler != handler.strip():
        raise HandlerFormError(
            f"handler {handler!r} is empty or has spaces", "write it without spaces"
        )
    if family == PYTHON:
        return _python(handler)
    if family == NODEJS:
        return _node(handler)
    if family == RUBY:
        return _ruby(handler)
    if family == JAVA:
        if not _JAVA_HANDLER.match(handler):
            raise HandlerFormError(
                f"handler {handler!r} is not a Java handler",
                "write package.Class::method (or package.Class for handleRequest)",
            )
        return Handler(JAVA, "", handler.partition("::")[2] or "handleRequest")
    if family == DOTNET:
        if not _DOTNET_HANDLER.match(handler):
            raise HandlerFormError(
                f"handler {handler!r} is not a .NET handler",
                "write Assembly::Namespace.Class::Method (or the assembly name of an executable "
                "assembly)",
            )
        return Handler(DOTNET, "", handler.rsplit("::", 1)[-1])
    if family == GO:
        return Handler(GO, handler, "", executable=handler.removeprefix("./"))
    return Handler(PROVIDED, "", "", executable="bootstrap")


def _python(handler: str) -> Handler:
    module, dot, function = handler.rpartition(".")
    if not dot or not module or not _IDENTIFIER.match(function):
        raise HandlerFormError(
            f"handler {handler!r} is not `module.function`",
            "e.g. `handler.lambda_handler` for lambda_handler in handler.py",
        )
    if module.startswith(("./", "../", "/")) or "/../" in module:
        shown = module.lstrip("./")
        raise HandlerFormError(
            f"handler {handler!r} starts with {module.split('/')[0]}/: Lambda's Python runtime "
            f"imports {module.replace('/', '.')!r} and fails (TypeError: relative import)",
            f"write the path from the package root without it: {shown}.{function}",
        )
    if not _PYTHON_MODULE.match(module) or "" in module.replace("/", ".").split("."):
        raise HandlerFormError(
            f"handler {handler!r}: {module!r} is not a module path",
            "use folder and module names made of letters, digits, '_' and '-'",
        )
    return Handler(PYTHON, module.replace(".", "/"), function)


def _node(handler: str) -> Handler:
    if ".." in handler:
        # Lambda answers Runtime.MalformedHandlerName for any "..".
        raise HandlerFormError(
            f"handler {handler!r} contains '..', which Lambda's Node.js runtime refuses",
            "write the path from the package root",
        )
    folder, _, base = handler.rpartition("/")
    module, dot, export = base.partition(".")
    if not dot or not module or not export:
        raise HandlerFormError(
            f"handler {handler!r} is not `file.export`",
            "e.g. `handler.hello` for exports.hello in handler.js",
        )
    root = folder.removeprefix("./").lstrip("/")
    return Handler(NODEJS, f"{root}/{module}" if root else module, export)


def _ruby(handler: str) -> Handler:
    folder, _, base = handler.rpartition("/")
    module, dot, method = base.partition(".")
    if not dot or not module or not _RUBY_METHOD.match(method):
        raise HandlerFormError(
            f"handler {handler!r} is not `file.method`",
            "e.g. `handler.hello` for def hello(event:, context:) in handler.rb",
        )
    root = folder.removeprefix("./")
    return Handler(RUBY, f"{root}/{module}" if root else module, method)


# ---------------------------------------------------------------------------------------------
# Deprecations (AWS Lambda developer guide, "Runtime deprecation"; dates as collected in
# cfn-lint's LmbdRuntimeLifecycle.json, 2026-08): deprecated, create blocked, update blocked,
# and the runtime to move to.


@dataclass(frozen=True)
class Lifecycle:
    deprecated: date
    create_blocked: date | None
    update_blocked: date | None
    successor: str


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


_LIFECYCLE_ROWS = (
    ("dotnet6", "2024-12-20", "2027-02-01", "2027-03-03", "dotnet10"),
    ("dotnet7", "2024-05-14", "2024-05-14", "2024-05-14", "dotnet10"),
    ("dotnet8", "2026-11-10", "2027-02-01", "2027-03-03", "dotnet10"),
    ("dotnetcore1.0", "2019-06-27", "2019-06-30", "2019-07-30", "dotnet10"),
    ("dotnetcore2.0", "2019-05-30", "2019-04-30", "2019-05-30", "dotnet10"),
    ("dotnetcore2.1", "2022-01-05", "2022-01-05", "2022-04-13", "dotnet10"),
    ("dotnetcore3.1", "2023-04-03", "2023-04-03", "2023-05-03", "dotnet10"),
    ("go1.x", "2024-01-08", "2024-02-08", "2027-03-03", "provided.al2023"),
    ("java8", "2024-01-08", "2024-02-08", "2027-03-03", "java25"),
    ("java8.al2", "2027-06-30", "2027-07-31", "2027-08-31", "java25"),
    ("java11", "2027-06-30", "2027-07-31", "2027-08-31", "java25"),
    ("java17", "2027-06-30", "2027-07-31", "2027-08-31", "java25"),
    ("nodejs", "2016-08-30", "2016-09-30", "2016-10-31", "nodejs24.x"),
    ("nodejs4.3", "2020-03-05", "2020-02-03", "2020-03-05", "nodejs24.x"),
    ("nodejs4.3-edge", "2020-03-05", "2019-03-31", "2019-04-30", "nodejs24.x"),
    ("nodejs6.10", "2019-08-12", "2019-07-12", "2019-08-12", "nodejs24.x"),
    ("nodejs8.10", "2020-03-06", "2020-02-04", "2020-03-06", "nodejs24.x"),
    ("nodejs10.x", "2021-07-30", "2021-07-30", "2022-02-14", "nodejs24.x"),
    ("nodejs12.x", "2023-03-31", "2023-03-31", "2023-04-30", "nodejs24.x"),
    ("nodejs14.x", "2023-12-04", "2024-01-09", "2027-03-03", "nodejs24.x"),
    ("nodejs16.x", "2024-06-12", "2027-02-01", "2027-03-03", "nodejs24.x"),
    ("nodejs18.x", "2025-09-01", "2027-02-01", "2027-03-03", "nodejs24.x"),
    ("nodejs20.x", "2026-04-30", "2027-02-01", "2027-03-03", "nodejs24.x"),
    ("nodejs22.x", "2027-04-30", "2027-06-01", "2027-07-01", "nodejs24.x"),
    ("provided", "2024-01-08", "2024-02-08", "2027-03-03", "provided.al2023"),
    ("provided.al2", "2026-07-31", "2027-02-01", "2027-03-03", "provided.al2023"),
    ("python2.7", "2021-07-15", "2021-07-15", "2022-05-30", "python3.14"),
    ("python3.6", "2022-07-18", "2022-07-18", "2022-08-29", "python3.14"),
    ("python3.7", "2023-12-04", "2024-01-09", "2027-03-03", "python3.14"),
    ("python3.8", "2024-10-14", "2027-02-01", "2027-03-03", "python3.14"),
    ("python3.9", "2025-12-15", "2027-02-01", "2027-03-03", "python3.14"),
    ("python3.10", "2026-10-31", "2027-02-01", "2027-03-03", "python3.14"),
    ("python3.11", "2027-06-30", "2027-07-31", "2027-08-31", "python3.14"),
    ("ruby2.5", "2021-07-30", "2021-07-30", "2022-03-31", "ruby4.0"),
    ("ruby2.7", "2023-12-07", "2024-01-09", "2027-03-03", "ruby4.0"),
    ("ruby3.2", "2026-03-31", "2027-02-01", "2027-03-03", "ruby4.0"),
    ("ruby3.3", "2027-03-31", "2027-04-30", "2027-05-31", "ruby4.0"),
)
LIFECYCLE: dict[str, Lifecycle] = {
    name: Lifecycle(date.fromisoformat(dep), _d(create), _d(update), successor)
    for name, dep, create, update, successor in _LIFECYCLE_ROWS
}
# Runtime identifiers Lambda takes for .zip packages today (AWS developer guide's runtime table).
CURRENT_RUNTIMES = frozenset(
    {
        "nodejs20.x", "nodejs22.x", "nodejs24.x",
        "python3.10", "python3.11", "python3.12", "python3.13", "python3.14",
        "java8.al2", "java11", "java17", "java21", "java25",
        "dotnet8", "dotnet10",
        "ruby3.2", "ruby3.3", "ruby3.4", "ruby4.0",
        "provided.al2", "provided.al2023",
    }
)  # fmt: skip


def deprecation_warning(runtime: str, today: date) -> str | None:
    """What to say about a runtime AWS has deprecated by `today`, or None."""
    life = LIFECYCLE.get(runtime)
    if life is None or today < life.deprecated:
        return None
    if life.update_blocked is not None and today >= life.update_blocked:
        state = f"Lambda blocks creating and updating such functions since {life.update_blocked}"
    elif life.create_blocked is not None and today >= life.create_blocked:
        state = f"Lambda blocks creating such functions since {life.create_blocked}" + (
            f" and updating them from {life.update_blocked}" if life.update_blocked else ""
        )
    else:
        state = (
            f"Lambda blocks creating such functions from {life.create_blocked}"
            if life.create_blocked
            else "Lambda may block deploying it"
        )
    return (
        f"runtime {runtime} is deprecated by AWS since {life.deprecated} ({state}); "
        f"use {life.successor}"
    )
