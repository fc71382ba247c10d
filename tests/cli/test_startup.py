"""`tool` starts fast because each command loads only what it uses. Checked by the modules a
fresh process holds after the command ran (never by wall time: bench/cli_latency.py measures).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

# Loaded by a command only when it needs them: the AWS SDK, Typer's pydantic coercion, the
# deploy machinery, the interpreter, the JSONata library.
HEAVY = (
    "boto3",
    "botocore",
    "pydantic",
    "tooling.deploy",
    "tooling.iam",
    "tooling.package",
    "tooling.engine.interpreter",
    "jsonata",
)
PROBE = """
import json, sys
from tooling.cli import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "modules": sorted(sys.modules)}))
"""


def modules_after(folder: Path, *args: str) -> set[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], cwd=folder, capture_output=True, text=True
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0, done.stderr
    return set(report["modules"])


def loaded(modules: set[str], names: tuple[str, ...]) -> list[str]:
    return [name for name in names if name in modules]


def test_help_loads_no_engine_no_deploy_code_and_no_aws_sdk(service: Path) -> None:
    modules = modules_after(service, "--help")
    assert (
        loaded(modules, (*HEAVY, "yaml", "tooling.config.service", "tooling.localrt.store")) == []
    )


def test_validating_a_definition_file_loads_no_service_and_no_interpreter(service: Path) -> None:
    modules = modules_after(service, "validate", "statemachine.asl.json")
    assert loaded(modules, (*HEAVY, "yaml", "tooling.config.service")) == []


def test_invoke_loads_neither_the_aws_sdk_nor_the_engine_nor_deploy_code(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy"]) == 0
    capsys.readouterr()
    modules = modules_after(service, "invoke", "--input", "in.json")
    assert loaded(modules, HEAVY) == []


def test_the_execution_worker_loads_no_aws_sdk_no_yaml_no_jsonata(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import json, sys, tooling.localrt.worker; print(json.dumps(sorted(sys.modules)))",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    modules = set(json.loads(done.stdout))
    assert loaded(modules, ("boto3", "botocore", "yaml", "jsonata", "http.server")) == []


def test_each_command_is_loaded_from_the_module_that_defines_it() -> None:
    from tooling.cli.commands import app
    from tooling.cli.registry import COMMAND_HOMES

    defined: dict[str, str] = {}
    for info in app.registered_commands:
        assert info.callback is not None
        name = (info.name or info.callback.__name__).lower().replace("_", "-")
        defined[name] = info.callback.__module__
    for group in app.registered_groups:
        assert group.typer_instance is not None
        first = group.typer_instance.registered_commands[0]
        defined[str(group.name)] = first.callback.__module__
    assert {name: f"tooling.cli.{home}" for name, home in COMMAND_HOMES.items()} == defined


def test_a_command_loads_only_its_own_module(service: Path) -> None:
    modules = modules_after(service, "validate", "statemachine.asl.json")
    assert {m for m in modules if m.startswith("tooling.cli.")} == {
        "tooling.cli.app",
        "tooling.cli.registry",
        "tooling.cli.validate_cmd",
    }
