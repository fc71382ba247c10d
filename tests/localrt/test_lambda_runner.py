"""The local Lambda runner: a real child process per invocation, Lambda's Python contract."""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tooling.engine.ports import TaskTimedOut
from tooling.errors import NotFound
from tooling.localrt.lambda_runner import (
    CappedOutput,
    FunctionSpec,
    Invocation,
    LocalLambdaRunner,
)

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

FIXTURE_CODE = Path(__file__).parent / "fixtures" / "lambda_code"
REQUEST_ID = "4b0d9a5c-0000-4000-8000-000000000001"
ARN = "arn:aws:lambda:us-east-1:123456789012:function:hello-loop-dev-hello"


@pytest.fixture
def code_dir(tmp_path: Path) -> Path:
    # A copy, so tests may add modules and the child's __pycache__ stays out of the repository.
    target = tmp_path / "task"
    shutil.copytree(FIXTURE_CODE, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


def make_spec(code_dir: Path, handler: str, **changes: object) -> FunctionSpec:
    fields: dict[str, object] = {
        "name": "hello-loop-dev-hello",
        "arn": ARN,
        "handler": handler,
        "runtime": "python3.12",
        "memory_size": 128,
        "timeout": 3,
        "environment": {"STAGE": "dev", "GREETING": "hi"},
        "code_dir": code_dir,
        "region": "us-east-1",
    }
    fields.update(changes)
    return FunctionSpec(**fields)  # type: ignore[arg-type]  # fields: the spec's, as a dict


def invoke(code_dir: Path, handler: str, payload: str = "{}", **changes: object) -> Invocation:
    runner = LocalLambdaRunner(new_request_id=lambda: REQUEST_ID)
    return runner.invoke(make_spec(code_dir, handler, **changes), payload)


def error_of(invocation: Invocation) -> dict[str, Any]:
    assert invocation.function_error == "Unhandled"
    return json.loads(invocation.payload)


# --- event and result ---------------------------------------------------------------------------


def test_the_event_reaches_the_handler_and_its_result_is_the_payload(code_dir: Path) -> None:
    event = {"key1": "value1", "nested": {"n": [1, 2.5, None, True]}}
    invocation = invoke(code_dir, "handler.echo", json.dumps(event))

    assert invocation.function_error is None
    assert invocation.request_id == REQUEST_ID
    assert json.loads(invocation.payload) == {"got": event, "unicode": "héllo"}
    # The runtime's encoder: default separators; python3.12 keeps non-ASCII characters.
    assert '"got": {"key1": "value1", "nested": {"n": [1, 2.5, null, true]}}' in invocation.payload
    assert '"unicode": "héllo"' in invocation.payload


def test_runtimes_other_than_312_escape_non_ascii_characters(code_dir: Path) -> None:
    invocation = invoke(code_dir, "handler.echo", runtime="python3.11")

    assert '"unicode": "h\\u00e9llo"' in invocation.payload


def test_a_value_json_cannot_encode_is_a_marshal_error(code_dir: Path) -> None:
    error = error_of(invoke(code_dir, "handler.unserialisable"))

    assert error == {
        "errorMessage": "Unable to marshal response: Object of type set is not JSON serializable",
        "errorType": "Runtime.MarshalError",
        "requestId": REQUEST_ID,
        "stackTrace": [],
    }


def test_an_event_that_is_not_json_is_an_unmarshal_error(code_dir: Path) -> None:
    error = error_of(invoke(code_dir, "handler.echo", "{not json"))

    assert error["errorType"] == "Runtime.UnmarshalError"
    assert str(error["errorMessage"]).startswith("Unable to unmarshal input: ")


# --- context and environment --------------------------------------------------------------------


def test_the_context_carries_lambdas_fields(code_dir: Path) -> None:
    context = json.loads(invoke(code_dir, "handler.describe_context").payload)

    assert context["function_name"] == "hello-loop-dev-hello"
    assert context["function_version"] == "$LATEST"
    assert context["invoked_function_arn"] == ARN
    assert context["memory_limit_in_mb"] == "128"  # a string, read from the environment
    assert context["aws_request_id"] == REQUEST_ID
    assert context["log_group_name"] == "/aws/lambda/hello-loop-dev-hello"
    assert re.fullmatch(r"\d{4}/\d{2}/\d{2}/\[\$LATEST\][0-9a-f]{32}", context["log_stream_name"])
    assert context["identity_id"] is None
    assert context["identity_pool_id"] is None
    assert context["client_context"] is None
    assert 0 < context["remaining_ms"] <= 3000


def test_the_environment_is_lambdas_and_none_of_the_callers(
    code_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOL_TEST_MARKER", "leaked")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIACALLERKEY")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "caller-secret")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    process = json.loads(invoke(code_dir, "handler.describe_process").payload)
    env = process["env"]

    assert "TOOL_TEST_MARKER" not in env
    assert "AWS_ACCESS_KEY_ID" not in env
    assert "AWS_SECRET_ACCESS_KEY" not in env
    assert "PYTHONPATH" not in env
    assert env["STAGE"] == "dev"
    assert env["GREETING"] == "hi"
    task_root = str(code_dir.resolve())
    assert env["_HANDLER"] == "handler.describe_process"
    assert env["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.12"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "hello-loop-dev-hello"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_INITIALIZATION_TYPE"] == "on-demand"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/hello-loop-dev-hello"
    assert env["AWS_LAMBDA_LOG_STREAM_NAME"].split("]")[0].endswith("[$LATEST")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["LAMBDA_TASK_ROOT"] == task_root
    assert env["TZ"] == ":UTC"
    assert env["LANG"] == "en_US.UTF-8"
    for name in ("LAMBDA_RUNTIME_DIR", "PATH", "LD_LIBRARY_PATH"):
        assert env[name]
    assert process["isolated"] == 1
    assert process["cwd"] == task_root
    assert process["sys_path_0"] == task_root


def test_the_callers_pythonpath_does_not_reach_the_handler(
    code_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "elsewhere.py").write_text("def handler(event, context):\n    return 1\n")
    monkeypatch.setenv("PYTHONPATH", str(outside))

    error = error_of(invoke(code_dir, "elsewhere.handler"))

    assert error["errorType"] == "Runtime.ImportModuleError"


def test_the_declared_variables_cannot_override_reserved_ones(code_dir: Path) -> None:
    environment = {"AWS_REGION": "mars-1", "_HANDLER": "x.y", "OWN": "kept"}
    process = json.loads(
        invoke(code_dir, "handler.describe_process", environment=environment).payload
    )

    assert process["env"]["AWS_REGION"] == "us-east-1"
    assert process["env"]["_HANDLER"] == "handler.describe_process"
    assert process["env"]["OWN"] == "kept"


# --- handler errors -----------------------------------------------------------------------------


def test_an_exception_is_an_unhandled_error_named_by_its_class(code_dir: Path) -> None:
    invocation = invoke(code_dir, "handler.fail")
    error = error_of(invocation)

    assert list(error) == ["errorMessage", "errorType", "requestId", "stackTrace"]
    assert error["errorMessage"] == "This is a custom error!"
    assert error["errorType"] == "CustomError"
    assert error["requestId"] == REQUEST_ID
    stack = error["stackTrace"]
    assert isinstance(stack, list) and len(stack) == 1  # the runner's own frames are left out
    assert re.fullmatch(
        r'  File ".*handler\.py", line \d+, in fail\n'
        r'    raise CustomError\("This is a custom error!"\)\n',
        stack[0],
    )
    assert "[ERROR] CustomError: This is a custom error!\nTraceback (most recent call last):\n" in (
        invocation.log
    )


def test_a_syntax_error_in_the_module_is_a_user_code_syntax_error(code_dir: Path) -> None:
    (code_dir / "broken.py").write_text("def handler(event, context)\n    return 1\n")

    invocation = invoke(code_dir, "broken.handler")
    error = error_of(invocation)

    assert error["errorType"] == "Runtime.UserCodeSyntaxError"
    assert str(error["errorMessage"]).startswith("Syntax error in module 'broken': ")
    assert error["requestId"] == ""  # an init error: no invocation yet
    trace = r'  File ".*broken\.py" Line 1\n    def handler.*\n'
    assert re.fullmatch(trace, error["stackTrace"][0])
    assert "Status: error\tError Type: Runtime.UserCodeSyntaxError" in invocation.log


def test_a_missing_handler_function_is_handler_not_found(code_dir: Path) -> None:
    error = error_of(invoke(code_dir, "handler.nowhere"))

    assert error == {
        "errorMessage": "Handler 'nowhere' missing on module 'handler'",
        "errorType": "Runtime.HandlerNotFound",
        "requestId": "",
        "stackTrace": [],
    }


def test_a_missing_module_is_an_import_module_error(code_dir: Path) -> None:
    error = error_of(invoke(code_dir, "nomodule.handler"))

    assert error["errorType"] == "Runtime.ImportModuleError"
    assert error["errorMessage"] == "Unable to import module 'nomodule': No module named 'nomodule'"


def test_a_handler_in_a_subdirectory_is_found_by_its_slashed_path(code_dir: Path) -> None:
    (code_dir / "src").mkdir()
    (code_dir / "src" / "app.py").write_text("def run(event, context):\n    return event\n")

    invocation = invoke(code_dir, "src/app.run", '{"a": 1}')

    assert invocation.function_error is None
    assert json.loads(invocation.payload) == {"a": 1}


# --- the process ending on its own, or too late ------------------------------------------------


def test_the_functions_timeout_is_sandbox_timedout(code_dir: Path) -> None:
    event = _sleep_event(code_dir)
    invocation = invoke(code_dir, "handler.sleep_after_noting_pid", event, timeout=1)

    assert invocation.function_error == "Unhandled"
    assert invocation.payload == (
        '{"errorType":"Sandbox.Timedout",'
        f'"errorMessage":"RequestId: {REQUEST_ID} Error: Task timed out after 1.00 seconds"}}'
    )
    assert invocation.log.rstrip("\n").endswith("Status: timeout\t")
    _assert_gone(code_dir)


def test_sys_exit_is_a_runtime_exit_error(code_dir: Path) -> None:
    invocation = invoke(code_dir, "handler.exit_three")

    assert error_of(invocation) == {
        "errorType": "Runtime.ExitError",
        "errorMessage": f"RequestId: {REQUEST_ID} Error: Runtime exited with error: exit status 3",
    }
    assert "about to exit\n" in invocation.log
    assert "Status: error\tError Type: Runtime.ExitError" in invocation.log


def test_a_crash_names_the_signal(code_dir: Path) -> None:
    error = error_of(invoke(code_dir, "handler.segfault"))

    assert error["errorMessage"] == (
        f"RequestId: {REQUEST_ID} Error: Runtime exited with error: signal: segmentation fault"
    )


def test_exiting_with_status_zero_gives_no_reason(code_dir: Path) -> None:
    error = error_of(invoke(code_dir, "handler.exit_quietly"))

    assert error["errorType"] == "Runtime.ExitError"
    assert error["errorMessage"] == (
        f"RequestId: {REQUEST_ID} Error: Runtime exited without providing a reason"
    )


def test_the_callers_deadline_raises_task_timed_out_and_kills_the_process(code_dir: Path) -> None:
    runner = LocalLambdaRunner()
    spec = make_spec(code_dir, "handler.sleep_after_noting_pid", timeout=30)

    with pytest.raises(TaskTimedOut):
        runner.invoke(spec, _sleep_event(code_dir), deadline_seconds=1)

    _assert_gone(code_dir)


def _sleep_event(code_dir: Path) -> str:
    return json.dumps({"pid_file": str(code_dir / "pid"), "seconds": 30})


def _assert_gone(code_dir: Path) -> None:
    pid = int((code_dir / "pid").read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


# --- logs ---------------------------------------------------------------------------------------


def _fake_clock(*readings: float) -> Iterator[float]:
    yield from readings


def test_prints_go_to_the_log_framed_by_lambdas_lines(code_dir: Path) -> None:
    readings = _fake_clock(1000.0, 1050.5, 1062.84)
    runner = LocalLambdaRunner(clock_ms=lambda: next(readings), new_request_id=lambda: REQUEST_ID)

    invocation = runner.invoke(make_spec(code_dir, "handler.talk"), "{}")

    assert invocation.payload == '"done"'
    assert invocation.duration_ms == pytest.approx(12.34)
    lines = invocation.log.splitlines()
    assert lines[:5] == [
        "module imported",  # printed while importing: before START, as in the Init phase
        f"START RequestId: {REQUEST_ID} Version: $LATEST",
        "to stdout",
        "to stderr",
        lines[4],
    ]
    timestamp = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z"
    assert re.fullmatch(rf"\[INFO\]\t{timestamp}\t{REQUEST_ID}\tvia logging", lines[4])
    assert lines[5] == f"END RequestId: {REQUEST_ID}"
    assert re.fullmatch(
        rf"REPORT RequestId: {REQUEST_ID}\tDuration: 12\.34 ms\tBilled Duration: 13 ms"
        r"\tMemory Size: 128 MB\tMax Memory Used: \d+ MB\tInit Duration: 50\.50 ms\t",
        lines[6],
    )
    assert len(lines) == 7


def test_a_missing_code_directory_is_reported(tmp_path: Path) -> None:
    with pytest.raises(NotFound, match="code of function hello-loop-dev-hello is missing"):
        invoke(tmp_path / "absent", "handler.echo")


def test_the_runtime_packages_come_last_on_the_handlers_path(code_dir: Path) -> None:
    """Sandboxes skip `site` (its .pth files cost every cold start): the runtime's packages
    are still importable, last on sys.path as on Lambda."""
    (code_dir / "paths.py").write_text(
        "import importlib.util, sys\n"
        "def handler(event, context):\n"
        "    return {'path': sys.path, 'boto3': importlib.util.find_spec('boto3') is not None}\n"
    )
    result = json.loads(invoke(code_dir, "paths.handler").payload)
    from tooling.localrt.lambda_runner import RUNTIME_PACKAGES

    assert RUNTIME_PACKAGES and result["path"][-len(RUNTIME_PACKAGES) :] == RUNTIME_PACKAGES
    assert result["boto3"] is True  # as Lambda's Python runtime bundles it


def test_capped_output_keeps_small_output_whole_and_cuts_at_lines() -> None:
    small = CappedOutput(limit=64)
    small.feed("héllo\n".encode())
    assert small.take() == "héllo\n"
    capped = CappedOutput(limit=40)
    for index in range(20):
        capped.feed(f"line {index:02}\n".encode())
    text = capped.take()
    assert text.startswith("line 00\nline 01\n") and text.endswith("line 19\n")
    assert "[tool: 16 lines (128 bytes) of output dropped here" in text
    assert all(line.startswith(("line ", "[tool: ")) for line in text.splitlines())


def test_capped_output_keeps_both_ends_of_lines_longer_than_the_cap() -> None:
    capped = CappedOutput(limit=64)
    capped.feed(b"a" * 100 + b"\n" + b"b" * 100 + b"\n")
    text = capped.take()
    assert text.startswith("a" * 32 + "[tool: ")
    assert text.endswith("b" * 31 + "\n")
