"""The service's own top-level `layers:` against a moto server: published before the functions
that name them (`{Ref: <Name>LambdaLayer}`), nothing published on a no-op redeploy, one new
version when the content changes (the older one deleted), permissions for allowedAccounts,
`tool info` lists them, `tool remove` deletes the versions unless `retain: true`, and a deploy
killed right after PublishLayerVersion is finished by the next one without publishing again."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest

from tooling.deploy.aws_layer_providers import AwsLayers

from .cli_runs import mutating, run
from .conftest import MOTO_ACCOUNT, REGION

SERVICE = """\
service: layered
provider:
  name: aws
  runtime: python3.12
  region: us-east-1
layers:
  common:
    path: layer
    description: shared code
    compatibleRuntimes: [python3.12]
    allowedAccounts: ["111122223333"]
functions:
  hello:
    handler: handler.hello
    layers:
      - {Ref: CommonLambdaLayer}
"""
LAYER_ARN = f"arn:aws:lambda:{REGION}:{MOTO_ACCOUNT}:layer:common"


@pytest.fixture
def service(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    (tmp_path / "serverless.yml").write_text(SERVICE)
    (tmp_path / "handler.py").write_text(
        "import greeting\n\ndef hello(event, context):\n    return greeting.greet()\n"
    )
    (tmp_path / "layer" / "python").mkdir(parents=True)
    (tmp_path / "layer" / "python" / "greeting.py").write_text("def greet():\n    return 'hi'\n")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _layers_of(aws: Any, name: str) -> list[str]:
    config = aws.lambda_.get_function(FunctionName=name)["Configuration"]
    return [layer["Arn"] for layer in config.get("Layers", [])]


def _versions(aws: Any) -> list[int]:
    listed = aws.lambda_.list_layer_versions(LayerName="common")["LayerVersions"]
    return sorted(int(v["Version"]) for v in listed)


def test_deploy_publishes_the_layer_before_its_function_and_a_no_op_publishes_nothing(
    service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[0] == "create    layer common"
    operations = mutating(calls)
    assert operations.index("PublishLayerVersion") < operations.index("CreateFunction")
    assert _layers_of(aws, "layered-dev-hello") == [f"{LAYER_ARN}:1"]
    version = aws.lambda_.get_layer_version(LayerName="common", VersionNumber=1)
    assert version["Description"].startswith("shared code [tool:")
    assert version["CompatibleRuntimes"] == ["python3.12"]
    policy = json.loads(
        aws.lambda_.get_layer_version_policy(LayerName="common", VersionNumber=1)["Policy"]
    )
    assert [s["Principal"] for s in policy["Statement"]] in (
        [{"AWS": "111122223333"}],
        ["111122223333"],
        [{"AWS": "arn:aws:iam::111122223333:root"}],
    )

    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes."
    assert mutating(calls) == []

    code, out, err, _ = run(capsys, "info")
    assert code == 0, err
    line = next(line for line in out.splitlines() if line.startswith("layer"))
    assert f"{LAYER_ARN}:1" in line and "shared code" in line


def test_changed_content_publishes_one_new_version_and_moves_the_function(
    service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    (service / "layer" / "python" / "greeting.py").write_text("def greet():\n    return 'hey'\n")
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "update    layer common (code changed)" in out.splitlines()
    assert mutating(calls).count("PublishLayerVersion") == 1
    assert _layers_of(aws, "layered-dev-hello") == [f"{LAYER_ARN}:2"]
    assert _versions(aws) == [2]  # the replaced version is deleted (no retain)


def test_remove_deletes_the_published_versions(
    service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    code, out, err, _ = run(capsys, "remove")
    assert code == 0, err
    assert "delete    layer common (tool remove)" in out.splitlines()
    assert _versions(aws) == []


def test_retain_keeps_every_version_on_update_and_remove(
    service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    text = SERVICE.replace("    path: layer\n", "    path: layer\n    retain: true\n")
    (service / "serverless.yml").write_text(text)
    assert run(capsys, "deploy")[0] == 0
    (service / "layer" / "python" / "greeting.py").write_text("def greet():\n    return 'hey'\n")
    assert run(capsys, "deploy")[0] == 0
    assert _versions(aws) == [1, 2]
    code, _, err, _ = run(capsys, "remove")
    assert code == 0, err
    assert _versions(aws) == [1, 2]


class _Killed(BaseException):
    """The process dies here: nothing after it runs (no record written, no cleanup)."""


def test_a_deploy_killed_after_publishing_is_finished_without_publishing_again(
    service: Path, aws: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def killed(*args: Any, **kwargs: Any) -> None:
        raise _Killed

    with monkeypatch.context() as patch:
        patch.setattr(AwsLayers, "_permit", killed)  # right after PublishLayerVersion
        with pytest.raises(_Killed):
            run(capsys, "deploy")
    assert _versions(aws) == [1]
    capsys.readouterr()
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "PublishLayerVersion" not in mutating(calls)
    assert "AddLayerVersionPermission" in mutating(calls)  # what the killed one left undone
    assert _layers_of(aws, "layered-dev-hello") == [f"{LAYER_ARN}:1"]
    assert _versions(aws) == [1]


def test_a_layer_taken_out_of_serverless_yml_is_deleted_after_its_function_leaves_it(
    service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(capsys, "deploy")[0] == 0
    text = SERVICE.split("layers:\n  common:")[0] + "functions:\n  hello:\n    handler: h.hello\n"
    (service / "serverless.yml").write_text(text)
    (service / "h.py").write_text("def hello(event, context):\n    return 1\n")
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    assert "delete    layer common (no longer in serverless.yml)" in out.splitlines()
    assert _layers_of(aws, "layered-dev-hello") == []
    assert _versions(aws) == []


def test_resources_may_name_a_layer_published_before_the_stack(
    service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    outputs = "resources:\n  Outputs:\n    CommonArn:\n      Value: {Ref: CommonLambdaLayer}\n"
    (service / "serverless.yml").write_text(SERVICE + outputs)
    code, out, err, _ = run(capsys, "deploy")
    assert code == 0, err
    stack = boto3.client("cloudformation", region_name=REGION).describe_stacks(
        StackName="layered-dev"
    )["Stacks"][0]
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == {
        "CommonArn": f"{LAYER_ARN}:1"
    }


def test_a_deploy_killed_before_deleting_the_replaced_version_is_finished_next_time(
    service: Path, aws: Any, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert run(capsys, "deploy")[0] == 0
    (service / "layer" / "python" / "greeting.py").write_text("def greet():\n    return 'hey'\n")

    def killed(*args: Any, **kwargs: Any) -> None:
        raise _Killed

    with monkeypatch.context() as patch:
        patch.setattr(AwsLayers, "_delete_older", killed)  # after publishing version 2
        with pytest.raises(_Killed):
            run(capsys, "deploy")
    assert _versions(aws) == [1, 2]
    capsys.readouterr()
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "update    layer common (older versions left: 1)" in out.splitlines()
    assert "PublishLayerVersion" not in mutating(calls)
    assert _versions(aws) == [2]
    assert _layers_of(aws, "layered-dev-hello") == [f"{LAYER_ARN}:2"]


# A child `tool deploy --target aws` that SIGKILLs itself right after PublishLayerVersion
# answered: nothing after it runs, not even the record's write.
KILLED_AFTER_PUBLISH = """
import os, signal, sys
from tooling.cli import main
from tooling.deploy.aws_layer_providers import AwsLayers
def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
AwsLayers._permit = die
sys.exit(main(["deploy", "--target", "aws"]))
"""


def test_a_deploy_sigkilled_after_publishing_is_finished_by_the_next_one(
    service: Path, aws: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    child = subprocess.run(
        [sys.executable, "-c", KILLED_AFTER_PUBLISH], cwd=service, capture_output=True, timeout=120
    )
    assert child.returncode == -signal.SIGKILL, child.stderr.decode()
    assert _versions(aws) == [1]
    code, _, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "PublishLayerVersion" not in mutating(calls)
    assert _layers_of(aws, "layered-dev-hello") == [f"{LAYER_ARN}:1"]
    assert run(capsys, "deploy")[1].splitlines()[-1] == "No changes."
