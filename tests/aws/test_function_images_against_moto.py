"""Container image functions deploy as Serverless deploys them, against a moto server: an image
given by tag runs as the digest the tag names at deploy (ECR DescribeImages), with its
ImageConfig; a no-op redeploy changes nothing; a new push under the tag is one UpdateFunctionCode;
`tool remove` deletes the function."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import boto3
import pytest

from .cli_runs import mutating, run
from .conftest import MOTO_ACCOUNT, REGION

SERVICE = """\
service: boxed
provider:
  name: aws
  region: us-east-1
  ecr:
    images:
      app:
        uri: REPO:v1
functions:
  work:
    image:
      name: app
      command: [app.handler]
stepFunctions:
  stateMachines:
    flow:
      definition:
        StartAt: W
        States:
          W: {Type: Task, Resource: {Fn::GetAtt: [work, Arn]}, End: true}
"""


def push(ecr: Any, layer: str) -> str:
    """An image in repository `app` under tag v1 (moto's digest comes from the layers')."""
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": {"digest": "sha256:" + "c" * 64, "size": 1,
                   "mediaType": "application/vnd.docker.container.image.v1+json"},
        "layers": [{"digest": "sha256:" + layer * 64, "size": 1,
                    "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip"}],
    }  # fmt: skip
    image = ecr.put_image(repositoryName="app", imageManifest=json.dumps(manifest), imageTag="v1")
    return str(image["image"]["imageId"]["imageDigest"])


@pytest.fixture
def ecr(aws_env: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    client: Any = boto3.Session(region_name=REGION).client("ecr")
    repository = client.create_repository(repositoryName="app")["repository"]["repositoryUri"]
    (tmp_path / "serverless.yml").write_text(SERVICE.replace("REPO", repository))
    monkeypatch.chdir(tmp_path)
    return client


def test_an_image_by_tag_deploys_as_its_digest_and_a_new_push_updates_it(
    ecr: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    first = push(ecr, "1")
    code, _, err, _ = run(capsys, "deploy")
    assert code == 0, err
    lambda_: Any = boto3.Session(region_name=REGION).client("lambda")
    answer = lambda_.get_function(FunctionName="boxed-dev-work")
    repository = f"{MOTO_ACCOUNT}.dkr.ecr.{REGION}.amazonaws.com/app"
    assert answer["Code"]["ImageUri"] == f"{repository}@{first}"
    config = answer["Configuration"]
    assert config["PackageType"] == "Image" and "Runtime" not in config
    assert config["ImageConfigResponse"]["ImageConfig"]["Command"] == ["app.handler"]

    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert out.splitlines()[-1] == "No changes." and mutating(calls) == []

    second = push(ecr, "2")
    assert second != first
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert mutating(calls) == ["UpdateFunctionCode"]
    answer = lambda_.get_function(FunctionName="boxed-dev-work")
    assert answer["Code"]["ImageUri"] == f"{repository}@{second}"

    code, _, err, _ = run(capsys, "remove")
    assert code == 0, err
    assert lambda_.list_functions()["Functions"] == []


def test_a_tag_ecr_does_not_hold_is_an_error_before_anything_changes(
    ecr: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err, calls = run(capsys, "deploy")
    assert code != 0
    assert "find container image" in err and mutating(calls) == []


def test_a_new_command_is_one_configuration_update(
    ecr: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    push(ecr, "1")
    assert run(capsys, "deploy")[0] == 0
    yml = Path("serverless.yml")
    yml.write_text(yml.read_text().replace("[app.handler]", "[app.other]"))
    code, _, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert mutating(calls) == ["UpdateFunctionConfiguration"]
    lambda_: Any = boto3.Session(region_name=REGION).client("lambda")
    config = lambda_.get_function(FunctionName="boxed-dev-work")["Configuration"]
    assert config["ImageConfigResponse"]["ImageConfig"]["Command"] == ["app.other"]
    code, _, err, calls = run(capsys, "deploy")
    assert code == 0 and mutating(calls) == []


def test_a_new_push_moves_the_provisioned_alias_to_a_new_version(
    ecr: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """provisionedConcurrency on an image function: the version holds the digest deployed; a
    new push under the tag publishes a version and moves the alias (issue 15)."""
    yml = Path("serverless.yml")
    yml.write_text(yml.read_text().replace("  work:\n", "  work:\n    provisionedConcurrency: 1\n"))
    first = push(ecr, "1")
    assert run(capsys, "deploy")[0] == 0
    lambda_: Any = boto3.Session(region_name=REGION).client("lambda")
    alias = lambda_.get_alias(FunctionName="boxed-dev-work", Name="provisioned")
    version = lambda_.get_function(
        FunctionName="boxed-dev-work", Qualifier=alias["FunctionVersion"]
    )
    assert version["Code"]["ImageUri"].endswith(first)
    code, out, err, calls = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes." and mutating(calls) == []
    second = push(ecr, "2")
    code, out, err, calls = run(capsys, "deploy")
    assert code == 0, err
    assert "PublishVersion" in mutating(calls), out
    alias = lambda_.get_alias(FunctionName="boxed-dev-work", Name="provisioned")
    version = lambda_.get_function(
        FunctionName="boxed-dev-work", Qualifier=alias["FunctionVersion"]
    )
    assert version["Code"]["ImageUri"].endswith(second)
    code, out, err, calls = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes." and mutating(calls) == []
