"""Runs Lambda invocations inside an isolated Python process: one execution environment
(stdlib only).

Started by `lambda_runner.py` as `python -I -S -u lambda_bootstrap.py REQUEST_FD RESULT_FD
RUNNER_PID [RUNTIME_PACKAGES...]` (those go last on sys.path, as Lambda's runtime site-packages),
with the
function's code directory as cwd and the Lambda environment (`_HANDLER`, `LAMBDA_TASK_ROOT`, ...).
It mirrors AWS's Python runtime interface client (aws/aws-lambda-python-runtime-interface-client,
awslambdaric/bootstrap.py, lambda_context.py, lambda_runtime_marshaller.py):

1. init, once the runner says so (a runtime may be started ahead of its first invocation: the
   function's code runs only when it is invoked): put the task root first on sys.path, import the
   handler; report `init_done`, or `init_error` with the runtime's error document (requestId ""
   as AWS answers for init errors);
2. read a request (request id, event text, function timeout, ARN; one JSON line) from
   REQUEST_FD;
3. call the handler; write the `result` (payload text, errorType when it failed) to RESULT_FD;
   then wait for the next request (a warm invocation: module-level state stays, as on Lambda),
   until REQUEST_FD closes.

stdout and stderr carry only what the function prints (plus the runtime's own `[ERROR]` lines), so
the protocol lives on its own descriptors. Between invocations the runner freezes the process
(SIGSTOP, as Lambda freezes the environment) and ends what the invocation started: the processes
the handler started stay below this one (a child subreaper), where the runner finds them. A
request may list such children for it to reap. The process ends without atexit hooks (Lambda
never runs them), and dies with the runner's thread that started it (Linux).
"""

from __future__ import annotations

import contextlib
import decimal
import importlib
import json
import logging
import os
import resource
import signal
import sys
import time
import traceback
from typing import Any

BOOTSTRAP_FILE = os.path.abspath(__file__)
# awslambdaric's text log format indents stack-trace lines with NO-BREAK SPACE (ERROR_LOG_IDENT).
_ERROR_LOG_INDENT = "\u00a0"

# Error types, as in awslambdaric/lambda_runtime_exception.py (FaultException).
MARSHAL_ERROR = "Runtime.MarshalError"
UNMARSHAL_ERROR = "Runtime.UnmarshalError"
USER_CODE_SYNTAX_ERROR = "Runtime.UserCodeSyntaxError"
HANDLER_NOT_FOUND = "Runtime.HandlerNotFound"
IMPORT_MODULE_ERROR = "Runtime.ImportModuleError"
BUILT_IN_MODULE_CONFLICT = "Runtime.BuiltInModuleConflict"
MALFORMED_HANDLER_NAME = "Runtime.MalformedHandlerName"

_current_request_id: str | None = None


class Fault(Exception):
    """An error the runtime itself reports (AWS: FaultException)."""

    def __init__(self, error_type: str, message: str, trace: list[str] | None = None) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message
        self.trace = trace


# --- the context object -----------------------------------------------------------------------


class CognitoIdentity:
    __slots__ = ("cognito_identity_id", "cognito_identity_pool_id")

    def __init__(self) -> None:
        self.cognito_identity_id: str | None = None
        self.cognito_identity_pool_id: str | None = None

    def __repr__(self) -> str:
        return (
            f"CognitoIdentity([cognito_identity_id={self.cognito_identity_id},"
            f"cognito_identity_pool_id={self.cognito_identity_pool_id}])"
        )


class LambdaContext:
    """The handler's `context`, with the attributes of awslambdaric's LambdaContext.

    memory_limit_in_mb is a *string*: AWS reads it from AWS_LAMBDA_FUNCTION_MEMORY_SIZE as is.
    identity is a CognitoIdentity with both ids None for a plain Invoke; client_context is None.
    """

    def __init__(self, request_id: str, invoked_function_arn: str, deadline_ms: int) -> None:
        self.aws_request_id = request_id
        self.log_group_name = os.environ.get("AWS_LAMBDA_LOG_GROUP_NAME")
        self.log_stream_name = os.environ.get("AWS_LAMBDA_LOG_STREAM_NAME")
        self.function_name = os.environ.get("AWS_LAMBDA_FUNCTION_NAME")
        self.memory_limit_in_mb = os.environ.get("AWS_LAMBDA_FUNCTION_MEMORY_SIZE")
        self.function_version = os.environ.get("AWS_LAMBDA_FUNCTION_VERSION")
        self.invoked_function_arn = invoked_function_arn
        self.tenant_id = None
        self.client_context = None
        self.identity = CognitoIdentity()
        self._epoch_deadline_time_in_ms = deadline_ms

    def get_remaining_time_in_millis(self) -> int:
        remaining = self._epoch_deadline_time_in_ms - int(time.time() * 1000)
        return remaining if remaining > 0 else 0

    def log(self, msg: object) -> None:
        sys.stdout.write(str(msg))

    def __repr__(self) -> str:
        return (
            f"LambdaContext([aws_request_id={self.aws_request_id},"
            f"log_group_name={self.log_group_name},"
            f"log_stream_name={self.log_stream_name},"
            f"function_name={self.function_name},"
            f"memory_limit_in_mb={self.memory_limit_in_mb},"
            f"function_version={self.function_version},"
            f"invoked_function_arn={self.invoked_function_arn},"
            f"client_context={self.client_context},"
            f"identity={self.identity},"
            f"tenant_id={self.tenant_id}])"
        )


# --- logging like the runtime ------------------------------------------------------------------


class _RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = _current_request_id or ""
        return True


class _StdoutHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        sys.stdout.write(self.format(record))


def _setup_logging() -> None:
    # awslambdaric._setup_logging (text format): UTC times, the request id on each record.
    logging.Formatter.converter = time.gmtime
    handler = _StdoutHandler()
    handler.setFormatter(
        logging.Formatter(
            "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n",
            "%Y-%m-%dT%H:%M:%S",
        )
    )
    handler.addFilter(_RequestIdFilter())
    logging.getLogger().addHandler(handler)


# --- errors ------------------------------------------------------------------------------------


def make_error(
    message: str | None, error_type: str | None, trace: list[str] | None, request_id: str | None
) -> dict[str, Any]:
    # Key order and defaults of awslambdaric.bootstrap.make_error.
    return {
        "errorMessage": message or "",
        "errorType": error_type or "",
        "requestId": request_id if request_id is not None else "",
        "stackTrace": trace or [],
    }


def _user_frames(tb: Any) -> list[tuple[str, int | None, str, str | None]]:
    """The traceback without the bootstrap's own leading frames, as 4-tuples.

    AWS drops the leading frames from its bootstrap.py and formats plain tuples, so the lines have
    no 3.11+ caret markers.
    """
    frames = [(f.filename, f.lineno, f.name, f.line) for f in traceback.extract_tb(tb)]
    for index, frame in enumerate(frames):
        if frame[0] != BOOTSTRAP_FILE:
            return frames[index:]
    return frames


def _error_from_exception(exc: BaseException, request_id: str | None) -> dict[str, Any]:
    # typeshed wants an int line number; format_list prints a missing one (None) as CPython does
    trace = traceback.format_list(_user_frames(exc.__traceback__))  # type: ignore[arg-type]
    return make_error(str(exc), type(exc).__name__, trace, request_id)


def log_error(error: dict[str, Any]) -> None:
    """`[ERROR] Type: message` and the traceback, as the runtime logs an unhandled error.

    CloudWatch shows the frame's lines joined with newlines (telemetry log sink); the indentation
    of trace lines is NO-BREAK SPACE in the text format.
    """
    description = "[ERROR]"
    if error.get("errorType"):
        description += " " + error["errorType"]
    if error.get("errorMessage"):
        if error.get("errorType"):
            description += ":"
        description += " " + error["errorMessage"]
    lines = [description]
    if error.get("stackTrace") is not None:
        lines.append("Traceback (most recent call last):")
        for element in error["stackTrace"]:
            if element == "":
                lines.append("")
                continue
            for line in element.splitlines():
                stripped = line.lstrip(" ")
                lines.append(_ERROR_LOG_INDENT * (len(line) - len(stripped)) + stripped)
    sys.stdout.write("\n".join(lines) + "\n")


# --- handler loading ---------------------------------------------------------------------------


def load_handler(handler: str) -> Any:
    """awslambdaric.bootstrap._get_handler: same checks, error types and message wording."""
    try:
        module_name, function_name = handler.rsplit(".", 1)
    except ValueError as exc:
        raise Fault(MALFORMED_HANDLER_NAME, f"Bad handler '{handler}': {exc}") from None
    if module_name.split(".")[0] in sys.builtin_module_names:
        raise Fault(
            BUILT_IN_MODULE_CONFLICT,
            f"Cannot use built-in module {module_name} as a handler module",
        )
    try:
        module = importlib.import_module(module_name.replace("/", "."))
    except ImportError as exc:
        raise Fault(
            IMPORT_MODULE_ERROR, f"Unable to import module '{module_name}': {exc}"
        ) from None
    except SyntaxError as exc:
        trace = [f'  File "{exc.filename}" Line {exc.lineno}\n    {exc.text}']
        raise Fault(
            USER_CODE_SYNTAX_ERROR, f"Syntax error in module '{module_name}': {exc}", trace
        ) from None
    try:
        return getattr(module, function_name)
    except AttributeError:
        # Recent awslambdaric raises this during init (older versions raised it per invoke).
        raise Fault(
            HANDLER_NOT_FOUND, f"Handler '{function_name}' missing on module '{module_name}'"
        ) from None


# --- marshalling -------------------------------------------------------------------------------


def _encode_default(value: object) -> object:
    # AWS (simplejson) writes a Decimal as a bare number; the stdlib cannot emit raw JSON, so an
    # integral Decimal becomes an int and any other a float (may lose digits past float precision).
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def to_json(value: object) -> str:
    """The runtime's encoder: default separators (", ", ": "); non-ASCII kept only on python3.12.

    awslambdaric's Encoder passes ensure_ascii=False only when AWS_EXECUTION_ENV is
    AWS_Lambda_python3.12 (checked in its lambda_runtime_marshaller.py); other runtimes escape.
    """
    keep_unicode = os.environ.get("AWS_EXECUTION_ENV") == "AWS_Lambda_python3.12"
    return json.dumps(value, default=_encode_default, ensure_ascii=not keep_unicode)


def marshal_response(response: object) -> str:
    if isinstance(response, bytes):
        return response.decode("utf-8", errors="replace")
    try:
        return to_json(response)
    except Exception as exc:
        raise Fault(MARSHAL_ERROR, f"Unable to marshal response: {exc}") from None


def unmarshal_event(event_text: str) -> object:
    try:
        return json.loads(event_text)
    except Exception as exc:
        raise Fault(UNMARSHAL_ERROR, f"Unable to unmarshal input: {exc}") from None


# --- protocol ----------------------------------------------------------------------------------


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            if stream is not None:
                stream.flush()
        except Exception:  # the handler may have replaced or closed a stream
            pass


def _send(result_fd: int, message: dict[str, Any]) -> None:
    # Output first: the runner splits the log at each message, so prints must be in the pipe.
    _flush_output()
    data = (json.dumps(message) + "\n").encode("utf-8")
    while data:
        written = os.write(result_fd, data)
        data = data[written:]


class _Requests:
    """The runner's requests, one JSON line each, as they come."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.buffer = b""

    def next(self) -> dict[str, Any] | None:
        """The next request; None once the runner closed the channel."""
        while True:
            line, sep, rest = self.buffer.partition(b"\n")
            if sep:
                self.buffer = rest
                request: dict[str, Any] = json.loads(line.decode("utf-8"))
                return request
            chunk = os.read(self.fd, 65536)
            if not chunk:
                return None
            self.buffer += chunk


def _reap(pids: list[int]) -> None:
    """Children the runner ended after the last invocation (this process adopted them)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


def _peak_memory_kb() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KiB on Linux


def invoke(handler: Any, request: dict[str, Any]) -> tuple[str, str | None]:
    """Run the handler once; (payload text, errorType or None)."""
    global _current_request_id
    request_id = request["request_id"]
    _current_request_id = request_id
    deadline_ms = int(time.time() * 1000) + int(request["timeout_ms"])
    context = LambdaContext(request_id, request["invoked_function_arn"], deadline_ms)
    try:
        event = unmarshal_event(request["event"])
        return marshal_response(handler(event, context)), None
    except Fault as fault:
        error = make_error(fault.message, fault.error_type, fault.trace, request_id)
    except Exception as exc:  # SystemExit and other BaseExceptions end the process, as on AWS
        error = _error_from_exception(exc, request_id)
    log_error(error)
    return to_json(error), error["errorType"]


def _tie_to_runner(runner_pid: int | None) -> None:
    """Linux: die when the runner's thread that started this process ends (PR_SET_PDEATHSIG),
    and adopt the handler's descendants whose parent dies (PR_SET_CHILD_SUBREAPER), so that
    nothing the handler starts escapes the runner's clean-up."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)
        libc.prctl(36, 1, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if runner_pid is not None and os.getppid() != runner_pid:
        os._exit(1)  # the runner died before the death signal was set


def main(argv: list[str]) -> None:
    request_fd, result_fd = int(argv[1]), int(argv[2])
    _tie_to_runner(int(argv[3]) if len(argv) > 3 else None)
    # The function's own subprocesses must not inherit the protocol descriptors.
    os.set_inheritable(request_fd, False)
    os.set_inheritable(result_fd, False)
    for stream in (sys.stdout, sys.stderr):
        # sys.stdout is typed TextIO; in this process it is always a TextIOWrapper
        stream.reconfigure(encoding="utf-8", errors="backslashreplace")  # type: ignore[union-attr]

    requests = _Requests(request_fd)
    if requests.next() is None:  # {"kind": "init"}, or the runner ended this runtime unused
        os._exit(0)
    task_root = os.environ.get("LAMBDA_TASK_ROOT") or os.getcwd()
    sys.path.insert(0, task_root)
    sys.path.extend(argv[4:])  # the runtime's packages, after the runner's pid
    _setup_logging()
    init_error: dict[str, Any] | None
    try:
        handler = load_handler(os.environ.get("_HANDLER", ""))
    except Fault as fault:
        init_error = make_error(fault.message, fault.error_type, fault.trace, None)
    except Exception as exc:
        init_error = _error_from_exception(exc, None)
    else:
        init_error = None
    if init_error is not None:
        log_error(init_error)
        _send(
            result_fd,
            {
                "kind": "init_error",
                "payload": to_json(init_error),
                "error_type": init_error["errorType"],
                "max_memory_kb": _peak_memory_kb(),
            },
        )
        os._exit(1)
    _send(result_fd, {"kind": "init_done"})

    while (request := requests.next()) is not None:
        _reap(request.get("reap", []))
        payload, error_type = invoke(handler, request)
        _send(
            result_fd,
            {
                "kind": "result",
                "payload": payload,
                "error_type": error_type,
                "max_memory_kb": _peak_memory_kb(),
            },
        )
    _flush_output()
    os._exit(0)  # the environment is ended: no atexit hooks, as on Lambda


if __name__ == "__main__":
    main(sys.argv)
