"""What stopped real serverless.yml projects in the field test (bench/field_test.py), each
reproduced on a small service of our own, through the real CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.cli import main

HANDLER = "def hello(event, context):\n    return {'ok': True}\n"
PASS = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def make(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str]) -> Path:
    folder = tmp_path / "svc"
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    monkeypatch.chdir(folder)
    return folder


def service_yml(name: str, extra: str = "") -> str:
    return (
        f"service: {name}\n"
        "provider:\n  name: aws\n  runtime: python3.12\n"
        "functions:\n  hello:\n    handler: handler.hello\n"
        f"{extra}"
    )


def deployed_names(capsys: pytest.CaptureFixture[str], *args: str) -> set[str]:
    code, out, err = run(capsys, "info", "--json", *args)
    assert code == 0, err
    return {resource["name"] for resource in json.loads(out)["resources"]}


# -- --config: another service file in the folder ------------------------------------------------


def test_config_option_deploys_another_service_file_with_its_own_record(
    tmp_path, monkeypatch, capsys
):
    """Serverless `--config serverless.api.yml`: two services in one folder, same stage; removing
    one leaves the other (each has its own deploy record)."""
    folder = make(
        tmp_path,
        monkeypatch,
        {
            "serverless.yml": service_yml("first"),
            "serverless.api.yml": service_yml("second"),
            "handler.py": HANDLER,
        },
    )
    assert run(capsys, "deploy")[0] == 0
    code, _, err = run(capsys, "deploy", "--config", "serverless.api.yml")
    assert code == 0, err
    assert "second-dev-hello" in deployed_names(capsys, "--config", "serverless.api.yml")
    assert (folder / ".tool/deployed/serverless.api.yml/local-dev.json").is_file()

    code, _, err = run(capsys, "--config=serverless.api.yml", "remove")
    assert code == 0, err
    assert "second-dev-hello" not in deployed_names(capsys, "--config", "serverless.api.yml")
    assert "first-dev-hello" in deployed_names(capsys)


def test_config_option_refuses_what_serverless_refuses(tmp_path, monkeypatch, capsys):
    make(tmp_path, monkeypatch, {"serverless.yml": service_yml("first"), "handler.py": HANDLER})
    (tmp_path / "elsewhere.yml").write_text(service_yml("other"))
    code, out, err = run(capsys, "validate", "--config", "missing.yml")
    assert code == 2 and "no such file" in out
    code, out, err = run(capsys, "deploy", "--config", "missing.yml")
    assert code == 2 and "no such file" in err and out == ""
    code, _, err = run(capsys, "plan", "--config", "../elsewhere.yml")
    assert code == 2 and "must be in the service folder" in err
    code, _, err = run(capsys, "plan", "--config", "handler.py")
    assert code == 2 and "unsupported file extension" in err


def test_a_folder_with_serverless_yaml_or_json_is_a_service(tmp_path, monkeypatch, capsys):
    """Serverless looks for serverless.yml, then .yaml, then .json."""
    make(tmp_path, monkeypatch, {"serverless.yaml": service_yml("yaml"), "handler.py": HANDLER})
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    assert "yaml-dev-hello" in deployed_names(capsys)

    config = {
        "service": "json",
        "provider": {"name": "aws", "runtime": "python3.12"},
        "stepFunctions": {"stateMachines": {"main": {"definition": PASS}}},
    }
    make(tmp_path / "j", monkeypatch, {"serverless.json": json.dumps(config)})
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    assert "json-dev-main" in deployed_names(capsys)


# -- functions: as a list of fragments -----------------------------------------------------------


def test_functions_as_a_list_of_files_are_merged(tmp_path, monkeypatch, capsys):
    """Serverless v3 merges a `functions:` list (`- ${file(functions.yml)}`) as it merges the
    `resources:` list; a problem in a fragment points into that fragment's file."""
    yml = (
        "service: listed\n"
        "provider:\n  name: aws\n  runtime: python3.12\n"
        "functions:\n  - ${file(functions.yml)}\n  - ${file(more.yml)}\n"
    )
    make(
        tmp_path,
        monkeypatch,
        {
            "serverless.yml": yml,
            "functions.yml": "hello:\n  handler: handler.hello\n",
            "more.yml": "other:\n  handler: handler.hello\n  timeout: 9\n",
            "handler.py": HANDLER,
        },
    )
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    assert {"listed-dev-hello", "listed-dev-other"} <= deployed_names(capsys)

    (tmp_path / "svc" / "more.yml").write_text("other:\n  handler: handler.hello\n  timeout: x\n")
    code, _, err = run(capsys, "plan")
    assert code == 2
    assert err.startswith("error: more.yml:3:12:"), err


def test_a_package_that_is_not_a_mapping_is_a_warning_as_in_serverless(
    tmp_path, monkeypatch, capsys
):
    """`package: [individually: true]`: Serverless warns (configValidationMode: warn) and
    ignores it; with configValidationMode: error it refuses the file."""
    yml = service_yml("pkg") + "package:\n  - individually: true\n"
    make(tmp_path, monkeypatch, {"serverless.yml": yml, "handler.py": HANDLER})
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    assert err.count("warning: serverless.yml:9:3: package must be a mapping (got list)") == 1

    (tmp_path / "svc" / "serverless.yml").write_text("configValidationMode: error\n" + yml)
    code, _, err = run(capsys, "plan")
    assert code == 2 and "configValidationMode: error" in err


def test_self_provider_stage_is_dev_when_not_written(tmp_path, monkeypatch, capsys):
    """Serverless v3 sets provider.stage to "dev" before it resolves variables, whatever
    --stage says (lib/classes/service.js)."""
    machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    yml = (
        "service: st\nprovider:\n  name: aws\n"
        "stepFunctions:\n  stateMachines:\n    main:\n"
        "      name: main-${self:provider.stage}\n"
        f"      definition: {json.dumps(machine)}\n"
    )
    make(tmp_path, monkeypatch, {"serverless.yml": yml})
    code, _, err = run(capsys, "deploy", "--stage", "prod")
    assert code == 0, err
    assert "main-dev" in deployed_names(capsys, "--stage", "prod")


def test_use_dotenv_reads_the_stage_env_file_then_env(tmp_path, monkeypatch, capsys):
    """`useDotenv: true`: `.env.<stage>`, else `.env`, for ${env:}; the real environment wins."""
    machine = {"StartAt": "P", "States": {"P": {"Type": "Pass", "End": True}}}
    yml = (
        "service: dot\nuseDotenv: true\nprovider:\n  name: aws\n"
        "stepFunctions:\n  stateMachines:\n    main:\n"
        "      name: ${env:MACHINE}-${env:SUFFIX}\n"
        f"      definition: {json.dumps(machine)}\n"
    )
    make(
        tmp_path,
        monkeypatch,
        {
            "serverless.yml": yml,
            ".env": "MACHINE=plain\nSUFFIX=x\n",
            ".env.prod": "SUFFIX=s\nMACHINE=prod-${SUFFIX}\n",
        },
    )
    monkeypatch.delenv("MACHINE", raising=False)
    monkeypatch.delenv("SUFFIX", raising=False)
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    assert "plain-x" in deployed_names(capsys)
    code, _, err = run(capsys, "deploy", "--stage", "prod")
    assert code == 0, err
    assert "prod-s-s" in deployed_names(capsys, "--stage", "prod")
    monkeypatch.setenv("SUFFIX", "real")
    code, _, err = run(capsys, "plan", "--json", "--stage", "test")
    assert code == 0, err
    assert "plain-real" in {change["name"] for change in json.loads(_)["changes"]}

    (tmp_path / "svc" / "serverless.yml").write_text(yml.replace("useDotenv: true\n", ""))
    monkeypatch.delenv("SUFFIX")
    code, _, err = run(capsys, "plan")
    assert code == 2 and "cannot resolve ${env:MACHINE}" in err


def test_a_plugin_variable_source_is_named(tmp_path, monkeypatch, capsys):
    yml = service_yml("lift", "custom:\n  queue: ${construct:jobs.queueUrl}\n")
    make(tmp_path, monkeypatch, {"serverless.yml": yml, "handler.py": HANDLER})
    code, _, err = run(capsys, "plan")
    assert code == 2
    assert "unsupported variable source 'construct' (serverless-lift's" in err


def test_activities_are_created_locally_and_named_by_ref(tmp_path, monkeypatch, capsys):
    """`stepFunctions.activities` (the plugin makes an AWS::StepFunctions::Activity of each)
    used to be dropped without a word; a `Ref` to one was refused. Locally they are created in
    the local AWS services; a Task that calls one is not run by the local engine (said at
    deploy), so this service only names it."""
    yml = (
        "service: acts\nprovider:\n  name: aws\n"
        "stepFunctions:\n  activities:\n    - approval\n  stateMachines:\n    main:\n"
        "      definition:\n        StartAt: P\n        States:\n"
        "          P:\n            Type: Pass\n"
        "            Result: {activity: {Ref: ApprovalStepFunctionsActivity}}\n"
        "            End: true\n"
    )
    make(tmp_path, monkeypatch, {"serverless.yml": yml})
    code, _, err = run(capsys, "deploy")
    assert code == 0, err
    (tmp_path / "in.json").write_text("{}")
    code, out, err = run(capsys, "invoke", "--input", str(tmp_path / "in.json"))
    assert code == 0, err
    assert json.loads(out) == {
        "activity": "arn:aws:states:us-east-1:000000000000:activity:approval"
    }

    bad = yml.replace("    - approval\n", "    - 'no spaces allowed'\n")
    (tmp_path / "svc" / "serverless.yml").write_text(bad)
    code, _, err = run(capsys, "plan")
    assert code == 2 and "serverless.yml:6:7:" in err and "is not an activity name" in err


def test_the_requirements_plugin_is_said_to_do_nothing_here(tmp_path, monkeypatch, capsys):
    """serverless-python-requirements installs requirements.txt into Serverless' package; the
    toolkit runs no plugin, so its package holds only the folder's files: said, not silent."""
    yml = service_yml("req", "plugins:\n  - serverless-python-requirements\n")
    make(tmp_path, monkeypatch, {"serverless.yml": yml, "handler.py": HANDLER})
    code, _, err = run(capsys, "plan")
    assert code == 0 and "serverless-python-requirements" not in err  # nothing to install
    (tmp_path / "svc" / "requirements.txt").write_text("requests\n")
    code, _, err = run(capsys, "plan")
    assert code == 0
    assert "plugin serverless-python-requirements installs requirements.txt" in err
