"""Handlers as each Lambda runtime reads them, packages as Serverless v3 makes them, and AWS's
runtime deprecations."""

from __future__ import annotations

import json
import shutil
import zipfile
from collections.abc import Mapping
from datetime import date
from pathlib import Path

import pytest

from tooling.config import runtimes
from tooling.config.service import ServiceConfig, load_service
from tooling.errors import ConfigError, HandlerError
from tooling.package import build_packages, check_handlers


def service(
    tmp_path: Path,
    functions: str,
    files: Mapping[str, str | bytes] | None = None,
    *,
    top: str = "",
    today: date = date(2026, 12, 7),
) -> ServiceConfig:
    folder = tmp_path / "svc"
    folder.mkdir(exist_ok=True)
    for name, content in (files or {}).items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    yml = f"service: rt\nprovider:\n  name: aws\n{top}functions:\n{functions}"
    (folder / "serverless.yml").write_text(yml)
    return load_service(folder, env={}, today=today)


def zip_bytes(path: Path, entries: dict[str, tuple[bytes, int]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, (data, mode) in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, data)


# -- handler strings --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("family", "handler", "module", "function"),
    [
        ("python", "handler.lambda_handler", "handler", "lambda_handler"),
        ("python", "src/pkg.mod.run", "src/pkg/mod", "run"),
        ("nodejs", "index.handler", "index", "handler"),
        ("nodejs", "./src/lambda/scheduler/index.handler", "src/lambda/scheduler/index", "handler"),
        ("nodejs", "src/app.handlers.create", "src/app", "handlers.create"),
        ("ruby", "function.handler", "function", "handler"),
        ("ruby", "lib/app.App::Handler.process", "lib/app", "App::Handler.process"),
        ("java", "com.example.Handler::handleRequest", "", "handleRequest"),
        ("java", "com.example.Handler", "", "handleRequest"),
        ("dotnet", "CsharpHandlers::AwsDotnetCsharp.Handler::Hello", "", "Hello"),
        ("dotnet", "MyExecutableAssembly", "", "MyExecutableAssembly"),
    ],
)
def test_handler_strings_as_the_runtimes_read_them(
    family: str, handler: str, module: str, function: str
) -> None:
    parsed = runtimes.parse_handler(handler, family)
    assert (parsed.module_path, parsed.function) == (module, function)


@pytest.mark.parametrize(
    ("family", "handler", "message"),
    [
        ("python", "./src/index.handler", "starts with ./"),
        ("python", "handler", "is not `module.function`"),
        ("nodejs", "../shared/index.handler", "contains '..'"),
        ("nodejs", "index", "is not `file.export`"),
        ("java", "com.example.Handler::", "is not a Java handler"),
        ("dotnet", "Assembly::Type", "is not a .NET handler"),
        ("ruby", "function", "is not `file.method`"),
    ],
)
def test_handler_strings_that_cannot_work(family: str, handler: str, message: str) -> None:
    with pytest.raises(runtimes.HandlerFormError, match=message):
        runtimes.parse_handler(handler, family)


def test_the_provided_runtimes_run_bootstrap_and_go1x_the_named_binary() -> None:
    assert runtimes.parse_handler("whatever", "provided").executable == "bootstrap"
    assert runtimes.parse_handler("bin/hello", "go").executable == "bin/hello"


def test_a_bad_handler_is_a_config_error_at_its_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        service(tmp_path, "  f:\n    runtime: java21\n    handler: 'com.example::'\n")
    assert (caught.value.line, caught.value.column) == (7, 14)
    assert "is not a Java handler" in caught.value.message


def test_an_unknown_runtime_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="'cobol1' is not a Lambda runtime"):
        service(tmp_path, "  f:\n    runtime: cobol1\n    handler: a.b\n")


# -- handler files ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "file", ["src/index.js", "src/index.mjs", "src/index.cjs", "src/index/index.js"]
)
def test_node_handler_files_lambda_would_load(tmp_path: Path, file: str) -> None:
    svc = service(
        tmp_path,
        "  f:\n    runtime: nodejs22.x\n    handler: src/index.handler\n",
        {file: "export const handler = async () => 1;\n"},
    )
    check_handlers(svc)
    packages = build_packages(svc, tmp_path / "out")
    assert file in packages.functions["f"].files


def test_a_missing_node_file_names_the_extensions_tried(tmp_path: Path) -> None:
    svc = service(tmp_path, "  f:\n    runtime: nodejs22.x\n    handler: src/index.handler\n")
    with pytest.raises(
        HandlerError, match=r"handler file src/index.js \(or .mjs, .cjs\) not found"
    ):
        check_handlers(svc)


def test_typescript_sources_are_built_as_serverless_v4_builds_them_unless_turned_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-esbuild-here"))  # none on PATH either
    functions = "  f:\n    runtime: nodejs22.x\n    handler: src/index.handler\n"
    files = {"src/index.ts": "export const handler = async () => 1;\n"}
    # Nothing named (a v3 project without a plugin, too): v4's own build, which needs esbuild.
    svc = service(tmp_path, functions, files, top="frameworkVersion: '2 || 3'\n")
    with pytest.raises(HandlerError, match="built for Serverless by Serverless v4's default"):
        check_handlers(svc)
    with_esbuild(svc.directory)
    assert build_packages(svc, tmp_path / "out").functions["f"].files == ("src/index.js",)

    off = service(tmp_path, functions, files, top="build:\n  esbuild: false\n")
    with pytest.raises(HandlerError, match="is TypeScript") as caught:
        check_handlers(off)
    assert "`build.esbuild: false` turns off the build" in caught.value.message
    assert "compile the handler" in (caught.value.hint or "")

    svc = service(tmp_path, functions, files, top="plugins:\n  - serverless-esbuild\n")
    assert any("plugin serverless-esbuild builds the code" in w for w in svc.warnings)
    shutil.rmtree(svc.directory / "node_modules")
    with pytest.raises(HandlerError, match="built for Serverless by serverless-esbuild") as caught:
        check_handlers(svc)
    assert "nor an esbuild on PATH is installed" in caught.value.message
    assert "npm ci" in (caught.value.hint or "")


FAKE_ESBUILD = """#!/bin/sh
# Stands in for esbuild: records its arguments, writes the bundle it was asked for.
printf '%s\\n' "$@" > "$(dirname "$0")/../../esbuild-args.txt"
for arg in "$@"; do
  case "$arg" in --outfile=*) out="${arg#--outfile=}" ;; esac
done
printf 'exports.handler = async () => "bundled";\\n' > "$out"
"""


def with_esbuild(folder: Path, script: str = FAKE_ESBUILD) -> None:
    bin_dir = folder / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "esbuild").write_text(script)
    (bin_dir / "esbuild").chmod(0o755)


def test_a_typescript_handler_is_bundled_with_the_projects_esbuild(tmp_path: Path) -> None:
    functions = (
        "  f:\n    runtime: nodejs20.x\n    handler: src/index.handler\n"
        "  g:\n    runtime: python3.12\n    handler: handler.main\n"
    )
    files = {
        "src/index.ts": "export const handler = async () => 1;\n",
        "handler.py": "def main(event, context):\n    return 1\n",
    }
    svc = service(tmp_path, functions, files, top="plugins:\n  - serverless-esbuild\n")
    with_esbuild(svc.directory)
    check_handlers(svc)  # buildable: no refusal
    packages = build_packages(svc, tmp_path / "out")

    assert packages.functions["f"].files == ("src/index.js",)
    with zipfile.ZipFile(packages.functions["f"].path) as archive:
        assert archive.read("src/index.js") == b'exports.handler = async () => "bundled";\n'
    args = (svc.directory / "esbuild-args.txt").read_text().splitlines()
    assert args[:2] == ["src/index.ts", "--bundle"]
    assert {"--platform=node", "--target=node20", "--format=cjs", "--external:aws-sdk"} <= set(args)
    # The Python function keeps the service's package, without the TypeScript bundle's function.
    assert "handler.py" in packages.functions["g"].files
    assert packages.service is not None and packages.functions["g"] is packages.service


def test_v4_build_esbuild_names_the_build_too(tmp_path: Path) -> None:
    functions = "  f:\n    runtime: nodejs20.x\n    handler: src/index.handler\n"
    files = {"src/index.ts": "export const handler = async () => 1;\n"}
    svc = service(tmp_path, functions, files, top="build:\n  esbuild:\n    minify: true\n")
    assert svc.typescript_build == "build.esbuild"
    assert any("`build` is read only for whether esbuild builds" in w for w in svc.warnings)
    with_esbuild(svc.directory)
    assert build_packages(svc, tmp_path / "out").functions["f"].files == ("src/index.js",)


def test_an_esbuild_error_is_one_line_with_the_source(tmp_path: Path) -> None:
    functions = "  f:\n    runtime: nodejs20.x\n    handler: src/index.handler\n"
    files = {"src/index.ts": "export const handler = ;\n"}
    svc = service(tmp_path, functions, files, top="plugins:\n  - serverless-esbuild\n")
    with_esbuild(svc.directory, "#!/bin/sh\necho '✘ [ERROR] Unexpected \";\"' >&2\nexit 1\n")
    with pytest.raises(HandlerError, match=r"esbuild could not build src/index.ts") as caught:
        build_packages(svc, tmp_path / "out")
    assert "Unexpected" in caught.value.message and caught.value.file == "src/index.ts"


def test_bootstrap_must_exist_and_be_executable(tmp_path: Path) -> None:
    functions = "  f:\n    runtime: provided.al2023\n    handler: bootstrap\n"
    with pytest.raises(HandlerError, match="runs the bootstrap bootstrap of the package"):
        check_handlers(service(tmp_path, functions))
    svc = service(tmp_path, functions, {"bootstrap": "#!/bin/sh\n"})
    with pytest.raises(HandlerError, match="is not executable"):
        check_handlers(svc)
    (svc.directory / "bootstrap").chmod(0o755)
    check_handlers(svc)
    package = build_packages(svc, tmp_path / "out").functions["f"]
    with zipfile.ZipFile(package.path) as archive:
        assert archive.getinfo("bootstrap").external_attr >> 16 & 0o111


def test_a_go1x_function_runs_the_binary_its_handler_names(tmp_path: Path) -> None:
    functions = "  f:\n    runtime: go1.x\n    handler: bin/hello\n"
    svc = service(tmp_path, functions, {"bin/hello": "binary"})
    (svc.directory / "bin" / "hello").chmod(0o755)
    check_handlers(svc)
    assert any(
        "runtime go1.x is deprecated by AWS since 2024-01-08" in w and "use provided.al2023" in w
        for w in svc.warnings
    )


def test_java_and_dotnet_are_checked_for_form_only(tmp_path: Path) -> None:
    svc = service(
        tmp_path,
        "  j:\n    runtime: java21\n    handler: com.example.Handler::handleRequest\n"
        "  d:\n    runtime: dotnet8\n    handler: A::B.C::D\n",
    )
    check_handlers(svc)
    assert sum("has no package.artifact" in w for w in svc.warnings) == 2


# -- artifacts and individual packages --------------------------------------------------------


def test_an_artifact_is_deployed_as_it_is_and_checked_inside(tmp_path: Path) -> None:
    folder = tmp_path / "svc"
    zip_bytes(folder / "build" / "go.zip", {"bootstrap": (b"elf", 0o755)})
    functions = (
        "  f:\n    runtime: provided.al2\n    handler: bootstrap\n"
        "    package:\n      artifact: build/go.zip\n"
    )
    svc = service(tmp_path, functions)
    check_handlers(svc)
    packages = build_packages(svc, tmp_path / "out")
    assert packages.service is None  # no function uses the service zip
    assert packages.functions["f"].path == folder / "build" / "go.zip"
    assert packages.functions["f"].files == ("bootstrap",)
    zip_bytes(folder / "build" / "go.zip", {"bootstrap": (b"elf", 0o644)})
    with pytest.raises(HandlerError, match="is not executable"):
        check_handlers(svc)
    zip_bytes(folder / "build" / "go.zip", {"main": (b"elf", 0o755)})
    with pytest.raises(HandlerError, match="bootstrap .* is not in package artifact build/go.zip"):
        check_handlers(svc)


def test_a_python_handler_inside_an_artifact_is_compiled(tmp_path: Path) -> None:
    folder = tmp_path / "svc"
    zip_bytes(folder / "dist" / "app.zip", {"app.py": (b"def other(e, c):\n    pass\n", 0o644)})
    svc = service(
        tmp_path,
        "  f:\n    handler: app.main\n",
        top="package:\n  artifact: dist/app.zip\n",
    )
    with pytest.raises(HandlerError, match="app.py has no top-level 'main'"):
        check_handlers(svc)


def test_a_missing_artifact_is_refused_as_serverless_does(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot access package artifact at 'nope.zip'"):
        service(tmp_path, "  f:\n    handler: app.main\n    package:\n      artifact: nope.zip\n")


def test_individually_packaged_functions_get_their_own_patterns(tmp_path: Path) -> None:
    functions = (
        "  a:\n    handler: a.main\n    package:\n      individually: true\n"
        "      patterns: ['!b.py']\n"
        "  b:\n    handler: b.main\n"
    )
    files = {"a.py": "def main(e, c): pass\n", "b.py": "def main(e, c): pass\n"}
    svc = service(tmp_path, functions, files)
    packages = build_packages(svc, tmp_path / "out")
    assert packages.functions["a"].path.name == "a.zip"
    assert packages.functions["a"].files == ("a.py",)
    assert packages.functions["b"] is packages.service
    assert packages.service.files == ("a.py", "b.py")


def test_no_function_means_no_package(tmp_path: Path) -> None:
    svc = service(tmp_path, "  {}\n")
    assert build_packages(svc, tmp_path / "out").service is None


# -- deprecations -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("runtime", "today", "expected"),
    [
        ("nodejs22.x", date(2026, 12, 7), None),
        ("nodejs20.x", date(2026, 4, 29), None),
        ("nodejs20.x", date(2026, 5, 1), "blocks creating such functions from 2027-02-01"),
        ("python3.8", date(2026, 12, 7), "use python3.14"),
        ("nodejs12.x", date(2026, 12, 7), "blocks creating and updating such functions since"),
        ("dotnet6", date(2027, 2, 2), "creating such functions since 2027-02-01"),
    ],
)
def test_deprecated_runtimes_name_their_replacement(
    runtime: str, today: date, expected: str | None
) -> None:
    warning = runtimes.deprecation_warning(runtime, today)
    if expected is None:
        assert warning is None
    else:
        assert warning is not None and expected in warning


def test_tool_run_refuses_a_task_calling_a_function_it_cannot_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tooling.adhoc import run_definition
    from tooling.errors import InputError
    from tooling.session import Options

    svc = service(
        tmp_path,
        "  rb:\n    runtime: ruby3.3\n    handler: handler.main\n",
        {"handler.rb": "def main(event:, context:)\n  1\nend\n"},
    )
    definition = svc.directory / "run.json"
    task = {"Type": "Task", "Resource": {"Fn::GetAtt": ["rb", "Arn"]}, "End": True}
    definition.write_text(json.dumps({"StartAt": "T", "States": {"T": task}}))
    with pytest.raises(InputError, match="calls function 'rb' \\(ruby3.3\\)"):
        run_definition(definition, "{}", Options(directory=svc.directory))


@pytest.mark.parametrize(
    ("functions", "files", "code"),
    [
        ("  f:\n    runtime: nodejs22.x\n    handler: a.h\n", {}, "HANDLER_FILE_MISSING"),
        ("  f:\n    runtime: nodejs22.x\n    handler: a.h\n", {"a.ts": ""}, "HANDLER_INVALID"),
        ("  f:\n    runtime: provided.al2\n    handler: x\n", {"bootstrap": ""}, "HANDLER_INVALID"),
        ("  f:\n    handler: a.h\n", {"a.py": "def g(e, c): pass\n"}, "HANDLER_FUNCTION_MISSING"),
        ("  f:\n    handler: a.h\n", {"a.py": "def h(e, c) pass\n"}, "HANDLER_SYNTAX"),
    ],
)
def test_validate_names_each_handler_problem(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    functions: str,
    files: dict[str, str],
    code: str,
) -> None:
    from tooling.validate import validate_service

    monkeypatch.setenv("PATH", str(tmp_path / "no-esbuild-here"))  # a.ts: no esbuild to build it

    found = [d.code for d in validate_service(service(tmp_path, functions, files)) if d.is_error]
    assert found == [code]
