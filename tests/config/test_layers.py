"""The service's own top-level `layers:`, read as Serverless v3 reads them
(tooling/config/layers.py): settings, logical ids, references from functions and the provider,
unknown keys said at their line, and folders that leave the service refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from tooling.config.layers import LayerConfig
from tooling.config.service import load_service
from tooling.errors import ConfigError

HEAD = "service: s\nprovider:\n  name: aws\n  runtime: python3.12\n"
FUNCTIONS = "functions:\n  a:\n    handler: handler.work\n"


def write(tmp_path: Path, text: str) -> None:
    (tmp_path / "handler.py").write_text("def work(event, context):\n    return 1\n")
    (tmp_path / "layer" / "python").mkdir(parents=True, exist_ok=True)
    (tmp_path / "serverless.yml").write_text(text)


def problems(tmp_path: Path) -> list[ConfigError]:
    return [p for p in load_service(tmp_path, env={}).problems if isinstance(p, ConfigError)]


def test_every_setting_is_read(tmp_path: Path) -> None:
    write(
        tmp_path,
        HEAD + "layers:\n  common-libs:\n    path: layer\n    name: shared\n"
        "    description: d\n    compatibleRuntimes: [python3.12]\n"
        "    compatibleArchitectures: [arm64]\n    licenseInfo: MIT\n"
        "    allowedAccounts: ['*', '111122223333']\n    retain: true\n"
        "    package:\n      patterns: ['!python/tests/**']\n" + FUNCTIONS,
    )
    svc = load_service(tmp_path, env={})
    assert svc.layers == {
        "common-libs": LayerConfig(
            key="common-libs",
            logical_id="CommonDashlibsLambdaLayer",
            name="shared",
            path="layer",
            artifact=None,
            patterns=("!python/tests/**",),
            description="d",
            compatible_runtimes=("python3.12",),
            compatible_architectures=("arm64",),
            license_info="MIT",
            allowed_accounts=("*", "111122223333"),
            retain=True,
            pointer="/layers/common-libs",
        )
    }
    assert not any("layers" in w for w in svc.warnings)


def test_functions_and_the_provider_name_a_layer_by_ref_or_get_att(tmp_path: Path) -> None:
    write(
        tmp_path,
        HEAD + "  layers:\n    - {Ref: CommonLambdaLayer}\n"
        "layers:\n  common:\n    path: layer\n"
        "functions:\n  a:\n    handler: handler.work\n"
        "  b:\n    handler: handler.work\n    layers:\n"
        "      - {Fn::GetAtt: [CommonLambdaLayer, LayerVersionArn]}\n",
    )
    svc = load_service(tmp_path, env={})
    assert svc.functions["a"].settings.layers == ("own-layer:CommonLambdaLayer",)
    assert svc.functions["b"].settings.layers == ("own-layer:CommonLambdaLayer",)
    assert not svc.problems


def test_unknown_keys_are_said_at_their_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        HEAD + "layers:\n  common:\n    path: layer\n    runtime: python3.12\n"
        "    package:\n      individually: true\n" + FUNCTIONS,
    )
    warnings = load_service(tmp_path, env={}).warnings
    assert any(w.startswith("serverless.yml:8:") and "layers.common.runtime" in w for w in warnings)
    assert any(
        w.startswith("serverless.yml:10:") and "layers.common.package.individually" in w
        for w in warnings
    )
    assert not any("not supported by the toolkit yet" in w and "layers" in w for w in warnings)


@pytest.mark.parametrize(
    ("path", "said"),
    [
        ("../elsewhere", "leaves the service folder"),
        ("/etc", "leaves the service folder"),
        ("missing", "no such folder"),
    ],
)
def test_a_folder_outside_the_service_or_missing_is_refused_at_its_line(
    tmp_path: Path, path: str, said: str
) -> None:
    service = tmp_path / "svc"
    service.mkdir()
    (tmp_path / "elsewhere").mkdir()
    write(service, HEAD + f"layers:\n  common:\n    path: {path}\n" + FUNCTIONS)
    [problem] = problems(service)
    assert (problem.file, problem.line) == ("serverless.yml", 7)
    assert said in problem.message


def test_a_link_out_of_the_service_is_refused(tmp_path: Path) -> None:
    service = tmp_path / "svc"
    service.mkdir()
    (tmp_path / "secrets").mkdir()
    (service / "layer-link").symlink_to(tmp_path / "secrets")
    write(service, HEAD + "layers:\n  common:\n    path: layer-link\n" + FUNCTIONS)
    [problem] = problems(service)
    assert "leads outside the service folder" in problem.message


def test_a_layer_with_no_path_nor_artifact_is_refused(tmp_path: Path) -> None:
    write(tmp_path, HEAD + "layers:\n  common:\n    description: d\n" + FUNCTIONS)
    [problem] = problems(tmp_path)
    assert "has no `path`" in problem.message


def test_bad_values_are_refused_at_their_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        HEAD + "layers:\n  common:\n    path: layer\n    allowedAccounts: [bob]\n" + FUNCTIONS,
    )
    [problem] = problems(tmp_path)
    assert problem.line == 8 and "is not an account" in problem.message


def test_a_description_leaves_room_for_the_toolkits_mark(tmp_path: Path) -> None:
    text = "x" * 217
    write(tmp_path, HEAD + f"layers:\n  common:\n    path: layer\n    description: {text}\n"
          + FUNCTIONS)  # fmt: skip
    [problem] = problems(tmp_path)
    assert problem.line == 8 and "at most 216 characters" in problem.message


def test_a_name_written_as_the_layers_arn_is_its_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        HEAD + "layers:\n  common:\n    path: layer\n"
        "    name: arn:aws:lambda:us-east-1:123456789012:layer:shared-libs\n" + FUNCTIONS,
    )
    assert load_service(tmp_path, env={}).layers["common"].name == "shared-libs"
