"""A function's provisionedConcurrency on the local target: the alias recorded, what is not
reproduced said once per function, and a Task naming the alias's (or a version's) ARN invoking
the function's current code (issue 15)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

FUNCTION = "hello-loop-dev-hello"
SEED_OUTPUT = {
    "key1": "value1",
    "key2": "value2",
    "key3": "value3",
    "taskresult": {"value1": "value1", "value2": "value2", "count": 5},
}


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("qualifier", ["provisioned", "7"])
def test_the_alias_is_recorded_and_qualified_arns_run_the_current_code(
    service: Path, capsys: pytest.CaptureFixture[str], qualifier: str
) -> None:
    yml = service / "serverless.yml"
    yml.write_text(
        yml.read_text().replace(
            "    handler: handler.lambda_handler\n",
            "    handler: handler.lambda_handler\n    provisionedConcurrency: 2\n",
        )
    )
    definition = service / "statemachine.asl.json"
    arn = f"arn:aws:lambda:us-east-1:000000000000:function:{FUNCTION}:{qualifier}"
    definition.write_text(
        definition.read_text().replace('{"Fn::GetAtt": ["hello", "Arn"]}', json.dumps(arn))
    )
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    assert f"create    function alias {FUNCTION}:provisioned" in out
    said = [line for line in err.splitlines() if "not reproduced locally" in line]
    assert len(said) == 1, err
    assert f"function {FUNCTION}: provisioned concurrency (2)" in said[0]
    assert "invokes the function's current code" in said[0]
    code, out, err = run(capsys, "invoke", "--input", "in.json", "--clock", "virtual", "--json")
    assert code == 0, err
    assert json.loads(out)["output"] == SEED_OUTPUT
    code, out, err = run(capsys, "info")
    assert f"{FUNCTION}:provisioned" in out
    code, out, err = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes.", out


def test_use_exact_version_is_said_and_the_definition_names_the_function(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    yml = service / "serverless.yml"
    yml.write_text(
        yml.read_text().replace(
            "      type: STANDARD\n", "      type: STANDARD\n      useExactVersion: true\n"
        )
    )
    code, out, err = run(capsys, "deploy")
    assert code == 0, err
    said = [line for line in err.splitlines() if "useExactVersion" in line]
    assert len(said) == 1 and "names the functions unqualified" in said[0], err
    code, out, err = run(capsys, "invoke", "--input", "in.json", "--clock", "virtual", "--json")
    assert code == 0, err
    assert json.loads(out)["output"] == SEED_OUTPUT
    code, out, err = run(capsys, "deploy")
    assert out.splitlines()[-1] == "No changes.", out
