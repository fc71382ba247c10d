"""Names before paths: service, stage, region and keys follow the rules AWS applies to the names
built from them, checked when the service is loaded, before anything is created or written."""

from __future__ import annotations

import string
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tooling import iam
from tooling.cli import main
from tooling.config.service import load_service
from tooling.errors import ConfigError
from tooling.names import (
    IAM_ROLE_NAME,
    LOG_GROUP_NAME,
    REGION_NAME,
    SERVICE_NAME,
    STAGE_NAME,
    STATE_MACHINE_KEY,
)

HANDLER = "def lambda_handler(event, context):\n    return event\n"
DEFINITION = (
    '{"StartAt": "A", "States": {"A": {"Type": "Task", '
    '"Resource": {"Fn::GetAtt": ["hello", "Arn"]}, "End": true}}}'
)


def write_service(folder: Path, *, service: str = "meta", provider: str = "") -> Path:
    """A service whose function and state machine have names of their own, so that only the
    service, stage and region reach the role names and the state files."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "handler.py").write_text(HANDLER)
    (folder / "statemachine.asl.json").write_text(DEFINITION)
    (folder / "serverless.yml").write_text(
        f"service: {service}\n"
        "provider:\n"
        "  name: aws\n"
        "  runtime: python3.12\n"
        f"{provider}"
        "functions:\n"
        "  hello:\n"
        "    name: hello-fn\n"
        "    handler: handler.lambda_handler\n"
        "stepFunctions:\n"
        "  stateMachines:\n"
        "    loop:\n"
        "      name: loop-machine\n"
        "      definition: ${file(statemachine.asl.json)}\n"
    )
    return folder


def snapshot(root: Path, skip: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under `root` but those under `skip`: its mode, mtime and content."""
    files = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and skip not in path.parents:
            info = path.stat()
            files[str(path)] = (info.st_mode, info.st_mtime_ns, path.read_bytes())
    return files


# -- the traversal forms of the issue, through the CLI --------------------------------------


@pytest.mark.parametrize(
    ("service", "provider", "options", "where"),
    [
        ("meta", "  stage: /../../../../{outside}/victimfile\n", [], "serverless.yml:5:10"),
        ("meta", "", ["--stage", "../../../../{outside}/victimfile"], "--stage:"),
        ("../../../x/escaped", "", [], "serverless.yml:1:10"),
    ],
    ids=["provider.stage", "--stage", "service"],
)
@pytest.mark.parametrize("command", ["deploy", "remove", "info", "plan"])
def test_path_traversal_in_names_is_refused_before_anything_is_written(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    service: str,
    provider: str,
    options: list[str],
    where: str,
    command: str,
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    victim = outside / "victimfile.json"
    victim.write_text('{"precious": true}\n')
    victim.chmod(0o644)
    folder = write_service(
        tmp_path / "deep" / "er" / "svc",
        service=service,
        provider=provider.format(outside=outside.relative_to("/")),
    )
    options = [o.format(outside=outside.relative_to("/")) for o in options]
    before = snapshot(tmp_path, skip=folder)
    monkeypatch.chdir(folder)

    assert main([command, *options]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(f"error: {where}"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert snapshot(tmp_path, skip=folder) == before  # the victim untouched, nothing new
    assert victim.read_text() == '{"precious": true}\n'
    assert not (folder / ".tool").exists()


# -- each rule, with the file:line:col of the value or the option's name ----------------------


@pytest.mark.parametrize(
    ("provider", "options", "message", "where"),
    [
        ("  stage: prod_1\n", [], "stage 'prod_1'", ("serverless.yml", 5, 10)),
        ("  stage: 'a b'\n", [], "stage 'a b'", ("serverless.yml", 5, 10)),
        ("", {"stage": "x/y"}, "--stage: stage 'x/y'", (None, None, None)),
        ("", {"stage": "dev\n"}, "--stage: stage 'dev\\n'", (None, None, None)),
        ("  region: US-EAST-1\n", [], "region 'US-EAST-1'", ("serverless.yml", 5, 11)),
        ("  region: ../x\n", [], "region '../x'", ("serverless.yml", 5, 11)),
        ("", {"region": "eu-west-1/.."}, "--region: region 'eu-west-1/..'", (None, None, None)),
        ("  region: eu-west-\u0661\n", [], "region 'eu-west-\u0661'", ("serverless.yml", 5, 11)),
    ],
)
def test_stage_and_region_are_checked_where_they_come_from(
    tmp_path: Path, provider: str, options: Any, message: str, where: tuple
) -> None:
    folder = write_service(tmp_path, provider=provider)
    with pytest.raises(ConfigError) as caught:
        load_service(folder, env={}, **(options or {}))
    assert caught.value.message.startswith(message)
    assert (caught.value.file, caught.value.line, caught.value.column) == where


@pytest.mark.parametrize(
    "service", ["my_service", "1service", "-x", "a.b", "svc/x", "..", "x" * 125]
)
def test_service_names_follow_the_stack_name_rule(tmp_path: Path, service: str) -> None:
    folder = write_service(tmp_path, service=service)
    with pytest.raises(ConfigError) as caught:
        load_service(folder, env={})
    assert caught.value.message.startswith("service name")
    assert (caught.value.file, caught.value.line) == ("serverless.yml", 1)


def test_a_service_name_from_a_variable_is_checked_at_the_variable(tmp_path: Path) -> None:
    folder = write_service(tmp_path, service="${env:NAME}")
    with pytest.raises(ConfigError, match="service name '../up'"):
        load_service(folder, env={"NAME": "../up"})
    assert load_service(folder, env={"NAME": "ok-name"}).service == "ok-name"


def test_function_and_state_machine_keys_are_checked(tmp_path: Path) -> None:
    folder = write_service(tmp_path)
    text = (folder / "serverless.yml").read_text()
    (folder / "serverless.yml").write_text(text.replace("  hello:\n", "  'he/llo':\n"))
    with pytest.raises(ConfigError, match="function key 'he/llo'") as caught:
        load_service(folder, env={})
    assert (caught.value.file, caught.value.line) == ("serverless.yml", 7)  # its value
    (folder / "serverless.yml").write_text(text.replace("    loop:\n", "    'lo op':\n"))
    with pytest.raises(ConfigError, match="state machine key 'lo op'") as caught:
        load_service(folder, env={})
    assert (caught.value.file, caught.value.line) == ("serverless.yml", 12)


@pytest.mark.parametrize("service", ["s", "hello-loop", "A1-b2"])
@pytest.mark.parametrize("stage", ["dev", "pr-42", "PROD", "1"])
@pytest.mark.parametrize("region", ["us-east-1", "us-gov-west-1", "cn-north-1", "us-isob-east-1"])
def test_ordinary_names_are_accepted(tmp_path: Path, service: str, stage: str, region: str):
    folder = write_service(tmp_path, service=service)
    loaded = load_service(folder, env={}, stage=stage, region=region)
    assert (loaded.service, loaded.stage, loaded.region) == (service, stage, region)


# -- the names built from accepted parts are valid AWS names ----------------------------------

_ALNUM = string.ascii_letters + string.digits
services = st.text(alphabet=_ALNUM + "-", max_size=40).map(lambda s: "s" + s)
stages = st.text(alphabet=_ALNUM + "-", min_size=1, max_size=40)
regions = st.from_regex(REGION_NAME, fullmatch=True)
machine_keys = st.text(alphabet=_ALNUM + "_+=,.@-", min_size=1, max_size=80)


@given(services, stages, regions, machine_keys)
def test_role_names_built_from_accepted_parts_are_valid_iam_names(
    service: str, stage: str, region: str, key: str
) -> None:
    assert SERVICE_NAME.match(service) and STAGE_NAME.match(stage)
    assert STATE_MACHINE_KEY.match(key)
    for name in (
        iam.role_name(service, stage, region, "lambdaRole"),
        iam.role_name(service, stage, region, key, "sfnRole"),
    ):
        assert IAM_ROLE_NAME.match(name), name


@given(st.from_regex(r"[a-zA-Z0-9_-]{1,64}", fullmatch=True))
def test_function_log_groups_are_valid_log_group_names(function_name: str) -> None:
    assert LOG_GROUP_NAME.match(iam.function_log_group(function_name))


def test_the_region_rule_accepts_every_region_serverless_lists() -> None:
    # provider.region's enum in Serverless' aws provider schema (2025).
    listed = (
        "us-east-1 us-east-2 us-gov-east-1 us-gov-west-1 us-iso-east-1 us-iso-west-1 "
        "us-isob-east-1 us-west-1 us-west-2 af-south-1 ap-east-1 ap-east-2 ap-northeast-1 "
        "ap-northeast-2 ap-northeast-3 ap-south-1 ap-south-2 ap-southeast-1 ap-southeast-2 "
        "ap-southeast-3 ap-southeast-4 ap-southeast-5 ap-southeast-6 ap-southeast-7 "
        "ca-central-1 ca-west-1 cn-north-1 cn-northwest-1 eu-central-1 eu-central-2 eu-north-1 "
        "eu-south-1 eu-south-2 eu-west-1 eu-west-2 eu-west-3 il-central-1 me-central-1 "
        "me-south-1 sa-east-1 mx-central-1"
    )
    assert all(REGION_NAME.fullmatch(region) for region in listed.split())
    refused = ("us-east", "useast1", "us_east_1", "../x", "", "us-east-1\n")
    assert not any(REGION_NAME.fullmatch(r) for r in refused)
