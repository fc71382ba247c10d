"""Container image functions (`image:`), read as Serverless v3 reads them
(tooling/config/function_images.py through load_service)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tooling.config.runtimes import IMAGE
from tooling.config.service import load_service
from tooling.errors import ConfigError

URI = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app"
DIGEST = "sha256:" + "b" * 64


def load(tmp_path: Path, functions: str, provider: str = "") -> Any:
    (tmp_path / "serverless.yml").write_text(
        f"service: boxed\nprovider:\n  name: aws\n  region: us-east-1\n{provider}"
        f"functions:\n{functions}"
    )
    return load_service(tmp_path, env={})


def test_an_image_by_uri_name_or_mapping(tmp_path: Path) -> None:
    svc = load(
        tmp_path,
        f"  byuri:\n    image: {URI}@{DIGEST}\n"
        "  byname:\n    image: base\n"
        "  mapped:\n    image:\n      name: base\n      command: [app.handler]\n"
        "      entryPoint: [/lambda-entrypoint.sh]\n      workingDirectory: /var/task\n",
        provider=f"  ecr:\n    images:\n      base:\n        uri: {URI}:v1\n",
    )
    assert not svc.problems
    byuri, byname, mapped = (svc.functions[k] for k in ("byuri", "byname", "mapped"))
    assert byuri.image.uri == f"{URI}@{DIGEST}" and byuri.runtime_family == IMAGE
    assert (byuri.runtime, byuri.handler, byuri.handler_file) == ("", "", "")
    assert byname.image.uri == f"{URI}:v1"
    assert mapped.image.image_config() == {
        "Command": ["app.handler"],
        "EntryPoint": ["/lambda-entrypoint.sh"],
        "WorkingDirectory": "/var/task",
    }


def test_runtime_and_layers_of_an_image_function_are_said_to_be_ignored(tmp_path: Path) -> None:
    svc = load(tmp_path, f"  f:\n    image: {URI}:v1\n    runtime: python3.12\n")
    assert any("`runtime` does not apply to a container image" in w for w in svc.warnings)


@pytest.mark.parametrize(
    ("functions", "provider", "line", "message"),
    [
        (f"  f:\n    handler: h.f\n    image: {URI}:v1\n", "", 7,
         "either handler or image (not both)"),
        ("  f:\n    image: nope\n", "", 7, 'image "nope" is not defined in provider.ecr.images'),
        ("  f:\n    image: {uri: x, name: y}\n", "", 7, 'either "uri" or "name" (not both)'),
        ("  f:\n    image: app\n", "  ecr:\n    images:\n      app:\n        path: ./\n", 8,
         "the toolkit runs no Docker"),
        ("  f:\n    image: 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:v1\n", "", 7,
         'must match the provider region "us-east-1"'),
        (f"  f:\n    image: {{uri: {URI}:v1, command: app.handler}}\n", "", 7,
         "image.command must be a list of strings"),
    ],
)  # fmt: skip
def test_images_serverless_refuses_are_refused_at_their_line(
    tmp_path: Path, functions: str, provider: str, line: int, message: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, functions, provider)
    assert message in str(caught.value)
    assert caught.value.line == line


def test_an_image_to_build_points_at_its_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(
            tmp_path,
            "  f:\n    image: app\n",
            "  ecr:\n    images:\n      app:\n        path: ./\n",
        )
    assert caught.value.line == 8 and "provider.ecr.images.app.uri" in (caught.value.hint or "")
