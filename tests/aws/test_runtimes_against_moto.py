"""Every Lambda runtime deploys to AWS: a Node.js service, a Go service (prebuilt binary) and a
.NET service (prebuilt package.artifact), each with `tool deploy --target aws` against the moto
server, their functions configured with the runtime and handler serverless.yml gives. Locally,
those runtimes are refused at deploy with one line, while `tool validate` passes."""

from __future__ import annotations

import base64
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import pytest

from tooling.cli import main

MACHINE = json.dumps(
    {
        "StartAt": "Call",
        "States": {
            "Call": {"Type": "Task", "Resource": {"Fn::GetAtt": ["main", "Arn"]}, "End": True}
        },
    }
)


def service_yml(name: str, runtime: str, handler: str, package: str = "") -> str:
    return (
        f"service: {name}\nprovider:\n  name: aws\n  runtime: {runtime}\n{package}"
        f"functions:\n  main:\n    handler: {handler}\n"
        "stepFunctions:\n  stateMachines:\n    flow:\n      definition: ${file(flow.json)}\n"
    )


def write(folder: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)


def zip_with(path: Path, entries: dict[str, tuple[bytes, int]]) -> bytes:
    """A zip as a build would make it: each entry with its Unix mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as archive:
        for name, (data, mode) in entries.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.create_system = 3
            info.external_attr = (0o100000 | mode) << 16
            archive.writestr(info, data)
    return path.read_bytes()


def deploy_aws(capsys: pytest.CaptureFixture[str]) -> str:
    code = main(["deploy", "--target", "aws"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def configuration(aws: Any, name: str) -> dict[str, Any]:
    return dict(aws.lambda_.get_function(FunctionName=name)["Configuration"])


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "svc"
    path.mkdir()
    monkeypatch.chdir(path)
    return path


def test_a_node_service_deploys_with_its_runtime_and_handler(
    aws_env: str, aws: Any, folder: Path, capsys: pytest.CaptureFixture[str]
):
    write(
        folder,
        {
            "serverless.yml": service_yml(
                "inventory", "nodejs20.x", "src/handlers/inventory.checkInventory"
            ),
            "src/handlers/inventory.js": "exports.checkInventory = async (e) => ({ ok: true });\n",
            "package.json": '{"name": "inventory"}\n',
            "flow.json": MACHINE,
        },
    )
    out = deploy_aws(capsys)
    assert "create    function inventory-dev-main" in out
    assert "create    state machine inventory-dev-flow" in out
    config = configuration(aws, "inventory-dev-main")
    assert (config["Runtime"], config["Handler"]) == (
        "nodejs20.x",
        "src/handlers/inventory.checkInventory",
    )
    code = aws.lambda_.get_function(FunctionName="inventory-dev-main")["Code"]
    assert code  # uploaded; what is in it is checked by tests/test_runtimes.py


def test_a_go_service_deploys_its_prebuilt_binary(
    aws_env: str, aws: Any, folder: Path, capsys: pytest.CaptureFixture[str]
):
    data = zip_with(folder / "bin" / "hello.zip", {"bootstrap": (b"\x7fELF fake go binary", 0o755)})
    write(
        folder,
        {
            "serverless.yml": service_yml(
                "goservice",
                "provided.al2023",
                "bootstrap",
                "package:\n  artifact: bin/hello.zip\n",
            ),
            "flow.json": MACHINE,
        },
    )
    deploy_aws(capsys)
    config = configuration(aws, "goservice-dev-main")
    assert (config["Runtime"], config["Handler"]) == ("provided.al2023", "bootstrap")
    assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert not (folder / ".tool" / "build" / "goservice.zip").exists()  # the artifact, as is


def test_a_dotnet_service_deploys_its_function_artifact(
    aws_env: str, aws: Any, folder: Path, capsys: pytest.CaptureFixture[str]
):
    data = zip_with(
        folder / "bin" / "Release" / "net8.0" / "hello.zip",
        {"CsharpHandlers.dll": (b"MZ fake assembly", 0o644)},
    )
    handler = "CsharpHandlers::AwsDotnetCsharp.Handler::Hello"
    yml = service_yml("dotnet", "dotnet8", handler).replace(
        f"    handler: {handler}\n",
        f"    handler: {handler}\n    package:\n      artifact: bin/Release/net8.0/hello.zip\n",
    )
    write(folder, {"serverless.yml": yml, "flow.json": MACHINE})
    deploy_aws(capsys)
    config = configuration(aws, "dotnet-dev-main")
    assert (config["Runtime"], config["Handler"]) == ("dotnet8", handler)
    assert config["CodeSha256"] == base64.b64encode(hashlib.sha256(data).digest()).decode()
    # A second deploy finds nothing to change.
    code = main(["deploy", "--target", "aws"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "create" not in captured.out and "update" not in captured.out, captured.out


def test_locally_a_runtime_this_machine_cannot_run_is_deployed_with_a_warning(
    folder: Path, capsys: pytest.CaptureFixture[str]
):
    yml = service_yml("mixed", "python3.12", "handler.main").replace(
        "functions:\n",
        "functions:\n  ruby:\n    runtime: ruby3.3\n    handler: handler.main\n",
    )
    write(
        folder,
        {
            "serverless.yml": yml,
            "handler.py": "def main(event, context):\n    return event\n",
            "handler.rb": "def main(event:, context:)\n  event\nend\n",
            "flow.json": MACHINE,
        },
    )
    assert main(["validate"]) == 0
    capsys.readouterr()
    assert main(["deploy"]) == 0  # the rest of the service works (tests/cli/test_deploy_local.py)
    err = capsys.readouterr().err
    assert (
        "warning: serverless.yml:7:14: function 'ruby': runtime ruby3.3 does not run on the "
        "local target: deployed, but an invocation of it fails with "
        "Lambda.InvalidRuntimeException" in err
    )


def test_a_profile_missing_from_this_machine_is_not_needed_with_keys_in_the_environment(
    aws_env: str, folder: Path, capsys: pytest.CaptureFixture[str]
):
    # aws_env sets AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and an empty ~/.aws/config.
    yml = service_yml("prof", "python3.12", "handler.main").replace(
        "  runtime: python3.12\n", "  runtime: python3.12\n  profile: team-dev\n"
    )
    write(
        folder,
        {
            "serverless.yml": yml,
            "handler.py": "def main(event, context):\n    return event\n",
            "flow.json": MACHINE,
        },
    )
    code = main(["deploy", "--dry-run", "--target", "aws"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert "keys from the environment (provider.profile team-dev unused)" in captured.err
    # Named on the command line, a profile is used, and a missing one is an error.
    assert main(["deploy", "--dry-run", "--target", "aws", "--aws-profile", "team-dev"]) == 2
    assert "team-dev" in capsys.readouterr().err
