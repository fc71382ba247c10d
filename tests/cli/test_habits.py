"""The habits users bring from `sls invoke stepf`, SAM and the AWS CLI, and the polish of a
command line: -h, --version, completion, one-line usage errors, flags without values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def execution_input(service: Path, name: str) -> object:
    backend = LocalBackend(service, "us-east-1")
    return json.loads(backend.describe_execution(backend.resolve_execution(name))["input"])


@pytest.fixture
def deployed(service: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    assert run(capsys, "deploy")[0] == 0
    return service


SEED_OUTPUT_COUNT = 5


def test_inline_data_as_sls_writes_it(deployed: Path, capsys) -> None:
    code, out, err = run(
        capsys, "invoke", "-d", '{"key1": "value1", "key2": "b", "key3": "c"}', "--json"
    )
    assert code == 0, err
    assert json.loads(out)["output"]["taskresult"]["value2"] == "b"
    code, out, err = run(capsys, "invoke", "--data", '{"key1": "x", "key2": "b", "key3": "c"}')
    assert code == 1  # the seed fails for any key1 other than value1: a real run all the same
    assert "ErrorA" in err


def test_a_yaml_file_with_path(deployed: Path, capsys) -> None:
    (deployed / "in.yml").write_text("key1: value1\nkey2: from yaml\nkey3: c\n")
    code, out, err = run(capsys, "invoke", "-p", "in.yml", "--execution-name", "from-yaml")
    assert code == 0, err
    assert json.loads(out)["taskresult"]["value2"] == "from yaml"
    assert execution_input(deployed, "from-yaml") == {
        "key1": "value1",
        "key2": "from yaml",
        "key3": "c",
    }


def test_no_input_means_an_empty_object(deployed: Path, capsys) -> None:
    # The seed's KeyError is retried (States.TaskFailed: 30 s, then 60 s): the virtual clock
    # makes those waits instant.
    code, _, err = run(capsys, "invoke", "--execution-name", "no-input", "--clock", "virtual")
    assert code == 1  # the seed's handler needs key1: the run fails, as it would on AWS
    assert "KeyError" in err
    assert execution_input(deployed, "no-input") == {}


def test_name_is_the_state_machine_as_in_sls_invoke_stepf(deployed: Path, capsys) -> None:
    for name in ("loop", "hello-loop-dev-loop"):
        code, _, err = run(capsys, "invoke", "--name", name, "-i", "in.json")
        assert code == 0, err
        assert "of hello-loop-dev-loop" in err
    code, _, err = run(capsys, "invoke", "-n", "loop", "-i", "in.json", "--execution-name", "r1")
    assert code == 0, err
    assert "execution r1 of hello-loop-dev-loop" in err


def test_a_name_that_is_no_state_machine_is_refused_with_the_spelling_to_use(
    deployed: Path, capsys
) -> None:
    code, out, err = run(capsys, "invoke", "--name", "first-run", "-i", "in.json")
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == (
        "error: --name 'first-run' is no state machine of serverless.yml: in `tool invoke`, "
        "--name names the state machine, as in `sls invoke stepf` (to name the execution, "
        "use --execution-name first-run; state machines: loop)"
    )
    assert LocalBackend(deployed, "us-east-1").list_executions() == []


def test_name_and_state_machine_must_agree(deployed: Path, capsys) -> None:
    code, _, err = run(
        capsys, "invoke", "--name", "loop", "--state-machine", "loop", "-i", "in.json"
    )
    assert code == 0, err


def test_help_answers_to_h_too(capsys) -> None:
    code, out, _ = run(capsys, "-h")
    assert code == 0 and out.startswith("Usage: tool [OPTIONS] COMMAND")
    code, out, _ = run(capsys, "invoke", "-h")
    assert code == 0 and "--execution-name" in out and "--data" in out


def test_version(capsys) -> None:
    from importlib.metadata import version

    code, out, _ = run(capsys, "--version")
    assert (code, out) == (0, f"tool {version('tooling')}\n")


def test_shell_completion_is_offered(capsys) -> None:
    code, out, _ = run(capsys, "--help")
    assert "--install-completion" in out
    done = subprocess.run(
        [sys.executable, "-c", "from tooling.cli import entry_point; entry_point()"],
        env={
            "PATH": "/usr/bin:/bin",
            "_TOOL_COMPLETE": "complete_bash",
            "COMP_WORDS": "tool inv",
            "COMP_CWORD": "1",
        },
        capture_output=True,
        text=True,
    )
    assert "invoke" in done.stdout


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (("invoke", "--bogus"), "error: no such option: --bogus"),
        (("run",), "error: missing argument 'definition'"),
        (("send", "--count", "many"), "error: invalid value for '--count' / '-n': 'many'"),
        (("history",), "error: missing argument 'execution'"),
    ],
)
def test_usage_errors_are_one_line(capsys, args: tuple[str, ...], start: str) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and err.startswith(start)
    assert err.endswith(f"(see `tool {args[0]} --help`)\n")


def test_boolean_flags_take_no_value(service: Path, capsys) -> None:
    code, out, _ = run(capsys, "deploy", "--help")
    assert code == 0
    (dry_run,) = [line for line in out.splitlines() if "--dry-run" in line]
    assert dry_run.split()[0] == "--dry-run" and "bool" not in dry_run.lower()
    assert run(capsys, "deploy", "--dry-run")[0] == 0
    code, _, err = run(capsys, "deploy", "--dry-run", "true")
    assert code == 2 and "unexpected extra argument" in err


def test_send_refuses_a_body_that_is_not_json_unless_raw(deployed: Path, capsys) -> None:
    (deployed / "bad.json").write_text("this is not json")
    code, out, err = run(capsys, "send", "--input", "bad.json")
    assert (code, out) == (2, "")
    assert err.startswith("error: bad.json:1:1: invalid JSON input")
    code, out, err = run(capsys, "send", "--raw", "--input", "bad.json")
    assert code == 0 and "the trigger will reject it" in err


def test_send_takes_inline_data_and_defaults_to_an_empty_object(deployed: Path, capsys) -> None:
    assert run(capsys, "send", "-d", '{"key1": "value1"}')[0] == 0
    assert run(capsys, "send")[0] == 0


def test_the_input_bounds_hold_for_every_command(deployed: Path, capsys) -> None:
    deep = deployed / "deep.json"
    deep.write_text("[" * 10_000 + "]" * 10_000)
    huge = deployed / "huge.json"
    with huge.open("wb") as file:
        file.truncate(100 * 1024 * 1024)
    for args in (
        ("invoke", "--input", "deep.json"),
        ("run", "statemachine.asl.json", "--input", "deep.json"),
        ("send", "--input", "deep.json"),
        ("invoke", "--input", "huge.json"),
        ("send", "--path", "huge.json"),
    ):
        code, out, err = run(capsys, *args)
        assert (code, out) == (2, ""), args
        assert err.startswith("error: "), args
        assert ("nested more than" in err) or ("larger than 262144 bytes" in err), args
    assert LocalBackend(deployed, "us-east-1").list_executions() == []
