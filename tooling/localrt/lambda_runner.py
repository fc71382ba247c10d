"""Runs a deployed function's handler once, in a separate isolated process, as Lambda would
(Python here; Node.js the same way with node_bootstrap.cjs, see tooling.localrt.runtimes).

Each invocation is a cold start: a fresh `python -I -S -u lambda_bootstrap.py` with only Lambda's
environment, the task root as cwd, and the function's code first on sys.path. The runner talks
to the bootstrap over two extra pipes (request in, messages out); the child's stdout and stderr
are the function's log.

AWS facts mirrored here (sources: awslambdaric bootstrap/context/marshaller; Lambda developer
guide "execution environment lifecycle" (new-style REPORT lines), "defined runtime environment
variables"; Invoke outputs quoted in public issues):
- a function timeout answers {"errorType":"Sandbox.Timedout","errorMessage":"RequestId: <id>
  Error: Task timed out after 3.00 seconds"} (compact JSON, errorType first: the service writes it);
- a runtime that exits answers {"errorType":"Runtime.ExitError","errorMessage":"RequestId: <id>
  Error: Runtime exited with error: exit status 1"} or "... signal: segmentation fault";
- both are FunctionError "Unhandled", like a handler's exception;
- REPORT: "REPORT RequestId: <id>\\tDuration: 12.34 ms\\tBilled Duration: 13 ms\\tMemory Size: 128
  MB\\tMax Memory Used: 40 MB\\tInit Duration: 50.00 ms\\t", then "Status: timeout" or
  "Status: error\\tError Type: Runtime.ExitError" for sandbox failures.
Not enforced: memory_size (RLIMIT_AS breaks ordinary Python, whose address space is far larger
than its RSS), so Runtime.OutOfMemory never happens here.

What the function prints is kept up to MAX_LOG_BYTES per invocation (CloudWatch Logs takes at
most 256 KiB per log event): the first and the last half, with a line in between saying how much
was dropped, so a handler printing gigabytes costs the runner a fixed amount of memory.

Everything the handler starts ends with the invocation, whatever its session or process group
(tooling/localrt/process_tree.py): each sandbox carries a marker in its environment, is a child
subreaper, and dies with the runner's thread that started it.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import queue
import selectors
import signal
import site
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar, cast

from tooling.engine.ports import TaskTimedOut
from tooling.errors import NotFound, ToolError
from tooling.localrt.process_tree import MARKER, end_descendants, end_tree, is_stopped, marker
from tooling.localrt.runtimes import local_runtime

BOOTSTRAP = Path(__file__).with_name("lambda_bootstrap.py")
# The runtime's own packages (boto3, as on Lambda), put last on the handler's sys.path by the
# bootstrap: `-S` skips `site`, whose .pth processing costs each cold start ~10 ms and would
# hand the handler this toolkit's editable install.
RUNTIME_PACKAGES = [path for path in site.getsitepackages() if os.path.isdir(path)]


def _runtime_packages(command: Sequence[str], fn: FunctionSpec) -> list[str]:
    """What the Python bootstrap appends to sys.path (nothing for other runtimes): the folders
    a layer gives Python (`python/lib/python3.x/site-packages` and `python/` in /opt on
    Lambda; a later layer over an earlier one, as Lambda extracts them), then the runtime's
    packages."""
    if command[-1] != str(BOOTSTRAP):
        return []
    return [*python_layer_paths(fn.runtime, fn.layer_dirs), *RUNTIME_PACKAGES]


def python_layer_paths(runtime: str, layer_dirs: Sequence[Path]) -> list[str]:
    version = runtime.removeprefix("python")
    paths = []
    for layer in reversed(layer_dirs):
        paths += [str(layer / "python" / "lib" / f"python{version}" / "site-packages"),
                  str(layer / "python")]  # fmt: skip
    return paths


# Lambda's on-demand Init phase may take at most 10 s (developer guide, "Init phase").
INIT_LIMIT_SECONDS = 10.0
UNHANDLED = "Unhandled"
# CloudWatch Logs: a log event holds at most 256 KiB (PutLogEvents quotas).
MAX_LOG_BYTES = 256 * 1024
TIMEOUT_ERROR = "Sandbox.Timedout"
EXIT_ERROR = "Runtime.ExitError"

# Names Go's os.ProcessState prints for signals (Lambda's "Runtime exited with error: signal: ...").
_SIGNAL_NAMES = {
    signal.SIGHUP: "hangup",
    signal.SIGINT: "interrupt",
    signal.SIGQUIT: "quit",
    signal.SIGILL: "illegal instruction",
    signal.SIGTRAP: "trace/breakpoint trap",
    signal.SIGABRT: "aborted",
    signal.SIGBUS: "bus error",
    signal.SIGFPE: "floating point exception",
    signal.SIGKILL: "killed",
    signal.SIGUSR1: "user defined signal 1",
    signal.SIGSEGV: "segmentation fault",
    signal.SIGUSR2: "user defined signal 2",
    signal.SIGPIPE: "broken pipe",
    signal.SIGALRM: "alarm clock",
    signal.SIGTERM: "terminated",
}

# Lambda gives a function its execution role's keys; locally there is no role, so it gets none,
# and boto3 inside the handler must not fall back to the caller's ~/.aws files or the instance
# metadata service either. These three variables are the only ones Lambda itself does not set.
_NO_CREDENTIALS_ENV = {
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_EC2_METADATA_DISABLED": "true",
}


@dataclass(frozen=True)
class FunctionSpec:
    name: str  # deployed name, e.g. "hello-loop-dev-hello"
    arn: str
    handler: str  # "handler.lambda_handler" (module path with dots or slashes, then the function)
    runtime: str  # e.g. "python3.12" (gives AWS_EXECUTION_ENV)
    memory_size: int  # MB
    timeout: int  # seconds
    environment: Mapping[str, str]
    code_dir: Path  # the extracted deployment package (task root)
    region: str
    version: str = "$LATEST"
    reserved_concurrency: int | None = None  # 0: every invocation is throttled
    # PutFunctionEventInvokeConfig's settings (asynchronous invocations: retries, destinations)
    event_invoke_config: Mapping[str, Any] | None = field(default=None, compare=False)
    # The function's own layers, unpacked (Lambda merges them into /opt), in its order.
    layer_dirs: tuple[Path, ...] = ()


@dataclass(frozen=True)
class Invocation:
    payload: str  # the response payload text, as Invoke returns it
    function_error: str | None  # "Unhandled" on any error (X-Amz-Function-Error), else None
    request_id: str
    log: str  # the function's output framed by START/END/REPORT
    duration_ms: float


def lambda_environment(
    fn: FunctionSpec,
    *,
    interpreter: str,
    log_stream_name: str,
    services: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The whole environment of the function's process: its variables plus Lambda's own, and
    `services`: what the local runtime offers the handler (the callback endpoint's variables).

    Nothing comes from the caller's environment. Paths that are /var/task, /var/runtime and
    /var/lang on Lambda are the code directory, this package and the prefix of the runtime's
    interpreter (python or node) here.
    PYTHONPATH (/var/runtime on Lambda) is not set: `-I` ignores it and the bootstrap puts the
    task root on sys.path itself.
    """
    task_root = str(fn.code_dir.resolve())
    python_bin = str(Path(interpreter).parent)
    python_lib = str(Path(interpreter).resolve().parent.parent / "lib")
    # /opt/bin on Lambda: the layers' bin/ folders (a later layer first), else the path itself
    opt_bin = ":".join(f"{layer}/bin" for layer in reversed(fn.layer_dirs)) or "/opt/bin"
    env = dict(fn.environment)
    env.update(
        {
            # Reserved (developer guide, "Defined runtime environment variables").
            "_HANDLER": fn.handler,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_{fn.runtime}",
            "AWS_LAMBDA_FUNCTION_NAME": fn.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
            "AWS_LAMBDA_FUNCTION_VERSION": fn.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{fn.name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": log_stream_name,
            "AWS_REGION": fn.region,
            "AWS_DEFAULT_REGION": fn.region,
            "LAMBDA_TASK_ROOT": task_root,
            "LAMBDA_RUNTIME_DIR": str(BOOTSTRAP.parent),
            "TZ": ":UTC",
            # Unreserved defaults, with local stand-ins for Lambda's directories.
            "LANG": "en_US.UTF-8",
            "PATH": f"{python_bin}:/usr/local/bin:/usr/bin/:/bin:{opt_bin}",
            "LD_LIBRARY_PATH": f"{python_lib}:/lib64:/usr/lib64:{task_root}:{task_root}/lib"
            + "".join(f":{layer}/lib" for layer in reversed(fn.layer_dirs)),  # /opt/lib
        }
    )
    env.update(_NO_CREDENTIALS_ENV)
    env.update(services or {})
    return env


def new_log_stream_name(version: str, now: datetime | None = None) -> str:
    """`YYYY/MM/DD/[$LATEST]<32 hex>`, as Lambda names a sandbox's log stream."""
    day = (now or datetime.now(UTC)).strftime("%Y/%m/%d")
    return f"{day}/[{version}]{uuid.uuid4().hex}"


def report_line(
    request_id: str,
    *,
    duration_ms: float,
    memory_size: int,
    max_memory_mb: int,
    init_duration_ms: float | None,
    status: str | None = None,
    error_type: str | None = None,
) -> str:
    # Billed Duration: Lambda rounds up to the next millisecond (1 ms billing since 2020). The
    # developer guide's new-style samples show rounding down for failures; not followed here.
    fields = [
        f"REPORT RequestId: {request_id}",
        f"Duration: {duration_ms:.2f} ms",
        f"Billed Duration: {max(1, math.ceil(duration_ms))} ms",
        f"Memory Size: {memory_size} MB",
        f"Max Memory Used: {max_memory_mb} MB",
    ]
    if init_duration_ms is not None:  # a cold start's: warm invocations have none
        fields.append(f"Init Duration: {init_duration_ms:.2f} ms")
    if status:
        fields.append(f"Status: {status}")
    if error_type:
        fields.append(f"Error Type: {error_type}")
    return "\t".join(fields) + "\t\n"  # CloudWatch REPORT lines end with a tab


def exit_reason(status: int) -> str:
    """Lambda's wording for how the runtime process ended (Go's ProcessState text)."""
    if os.WIFSIGNALED(status):
        number = os.WTERMSIG(status)
        try:
            name = _SIGNAL_NAMES.get(signal.Signals(number), f"signal {number}")
        except ValueError:
            name = f"signal {number}"
        return f"Runtime exited with error: signal: {name}"
    code = os.waitstatus_to_exitcode(status)
    if code == 0:
        # Lambda's text when the runtime stops without an error of its own (wording confirmed;
        # that it is used exactly for exit status 0 is not).
        return "Runtime exited without providing a reason"
    return f"Runtime exited with error: exit status {code}"


def _service_error(error_type: str, message: str) -> str:
    # The Lambda service (not the Python runtime) writes these: compact, errorType first.
    return json.dumps({"errorType": error_type, "errorMessage": message}, separators=(",", ":"))


_T = TypeVar("_T")

# The handler sandboxes alive in this process (pid: marker), so a stopped execution's worker
# can end them before it exits (each sandbox has a session of its own).
_LIVE_SANDBOXES: dict[int, str] = {}


def kill_live_sandboxes() -> None:
    """SIGKILL every handler sandbox this process started and has not closed yet, with
    everything they started."""
    for pid, tag in list(_LIVE_SANDBOXES.items()):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pid, signal.SIGKILL)
        end_tree(pid, tag)


class CappedOutput:
    """What a sandbox printed, at most `limit` bytes of it: the head and the tail, and how much
    was dropped between them. Memory stays bounded whatever the handler prints."""

    def __init__(self, limit: int = MAX_LOG_BYTES) -> None:
        self.limit = limit
        self._head = bytearray()
        self._tail = bytearray()
        self._dropped_bytes = 0
        self._dropped_lines = 0

    def feed(self, chunk: bytes) -> None:
        room = self.limit // 2 - len(self._head)
        if room > 0:
            self._head += chunk[:room]
            chunk = chunk[room:]
        if not chunk:
            return
        self._tail += chunk
        excess = len(self._tail) - (self.limit - self.limit // 2)
        if excess > 0:
            self._dropped_lines += self._tail.count(b"\n", 0, excess)
            self._dropped_bytes += excess
            del self._tail[:excess]

    def take(self) -> str:
        """The text so far (a dropped middle marked by one line); starts over, with what is
        left of the limit."""
        head, tail = bytes(self._head), bytes(self._tail)
        dropped_bytes, dropped_lines = self._dropped_bytes, self._dropped_lines
        if dropped_bytes:
            # Cut at line ends, so that no kept line is a fragment (unless lines are longer
            # than what is kept of them).
            cut = head.rfind(b"\n") + 1
            if cut:
                dropped_bytes += len(head) - cut
                head = head[:cut]
            start = tail.find(b"\n") + 1
            if 0 < start < len(tail):  # a tail within one long line is kept as it is
                dropped_bytes += start
                dropped_lines += 1
                tail = tail[start:]
        text = head.decode("utf-8", errors="replace")
        if dropped_bytes:
            text += (
                f"[tool: {dropped_lines:,} lines ({dropped_bytes:,} bytes) of output dropped here:"
                f" an invocation keeps at most {_size(self.limit)} of output (a CloudWatch"
                " log event holds 256 KiB), its first and last half]\n"
            )
        text += tail.decode("utf-8", errors="replace")
        self.limit = max(self.limit - len(head) - len(tail), 4096)
        self._head, self._tail = bytearray(), bytearray()
        self._dropped_bytes = self._dropped_lines = 0
        return text


def _size(count: int) -> str:
    return f"{count // 1024} KiB" if count >= 1024 else f"{count} bytes"


class _Expired(Exception):
    """A deadline of the runner passed before the child answered."""


class _Sandbox:
    """One runtime process (an execution environment): its pipes, its output so far, and how
    it ended. Requests go in one JSON line each, so a warm environment takes several."""

    def __init__(self, command: Sequence[str], fn: FunctionSpec, env: dict[str, str]) -> None:
        self.marker = env[MARKER]
        # The Python bootstrap is a child subreaper: all it starts stays below it.
        self.subreaper = command[-1] == str(BOOTSTRAP)
        request_read, self._request_write = os.pipe()
        self._result_read, result_write = os.pipe()
        output_read, output_write = os.pipe()
        try:
            self._process = subprocess.Popen(
                # The runner's pid, then the runtime's packages (Python: last on sys.path).
                [
                    *command,
                    str(request_read),
                    str(result_write),
                    str(os.getpid()),
                    *_runtime_packages(command, fn),
                ],  # fmt: skip
                cwd=fn.code_dir,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=output_write,
                stderr=output_write,
                pass_fds=(request_read, result_write),
                start_new_session=True,  # its own process group: a kill takes its children too
            )
        except BaseException:
            for fd in (request_read, self._request_write, self._result_read, result_write):
                os.close(fd)
            os.close(output_read)
            os.close(output_write)
            raise
        self.pid = self._process.pid
        _LIVE_SANDBOXES[self.pid] = self.marker
        for fd in (request_read, result_write, output_write):
            os.close(fd)
        self._output = output_read
        self._text = CappedOutput()
        self._messages = b""
        self._selector = selectors.DefaultSelector()
        self._selector.register(self._output, selectors.EVENT_READ)
        self._selector.register(self._result_read, selectors.EVENT_READ)
        self._result_open = True
        self._closed = False
        self._frozen = False
        self._to_reap: list[int] = []
        self.exit_status: int | None = None
        self.max_memory_kb = 0

    # -- reading ---------------------------------------------------------------------------

    def next_message(self, deadline: float) -> dict[str, Any] | None:
        """The child's next protocol message, or None once it closed the channel (exited)."""
        while True:
            line, sep, rest = self._messages.partition(b"\n")
            if sep:
                self._messages = rest
                message: dict[str, Any] = json.loads(line)
                return message
            if not self._result_open:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Expired
            self._pump(remaining)

    def _pump(self, timeout: float) -> None:
        """Read what the child wrote within `timeout` seconds: output and protocol messages."""
        for key, _ in self._selector.select(timeout):
            chunk = os.read(key.fd, 65536)
            if key.fd == self._output:
                self._keep_output(chunk)
            else:
                self._messages += chunk
            if not chunk:
                self._selector.unregister(key.fd)
                if key.fd == self._result_read:
                    self._result_open = False

    def _keep_output(self, chunk: bytes) -> None:
        self._text.feed(chunk)

    def take_output(self) -> str:
        """What the function printed since the last call (all of it is in the pipe already),
        capped (CappedOutput)."""
        self._drain_output()
        return self._text.take()

    def new_invocation(self) -> None:
        """A warm invocation keeps up to the whole cap of output, as a cold one does."""
        self._text = CappedOutput()

    def _drain_output(self) -> None:
        if self._closed:
            return
        os.set_blocking(self._output, False)
        try:
            while True:
                chunk = os.read(self._output, 65536)
                self._keep_output(chunk)
                if not chunk:
                    break
        except BlockingIOError:
            pass  # nothing more for now (a killed grandchild may still hold the pipe open)
        finally:
            os.set_blocking(self._output, True)

    # -- writing ---------------------------------------------------------------------------

    def begin_init(self) -> None:
        """Start the Init phase: the runtime waits for this before it loads the function (so a
        runtime started ahead of time runs no code of the function's until it is invoked)."""
        self.send_request({"kind": "init"})

    def send_request(self, request: dict[str, Any]) -> None:
        """One request, as one line; what the runtime must reap first goes with it."""
        if self._to_reap:
            request = {**request, "reap": self._to_reap}
            self._to_reap = []
        try:
            data = (json.dumps(request) + "\n").encode("utf-8")
            while data:
                data = data[os.write(self._request_write, data) :]
        except BrokenPipeError:
            pass  # the child died; next_message reports it

    # -- between invocations ---------------------------------------------------------------

    def alive(self) -> bool:
        return not self._closed and self.exit_status is None and not self._has_exited(self.pid)

    def freeze(self) -> None:
        """Lambda freezes an environment between invocations: stop the runtime process (its
        threads too), then end every process the invocation started. The runtime itself
        stays, with its memory, for the next invocation (tooling/localrt/process_tree.py)."""
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGSTOP)
        self._frozen = True
        self._wait_stopped()  # no fork of its gets past the walk below
        ended = end_descendants(self.pid) if self.subreaper else None
        if ended is None:  # Node.js (no subreaper), or no /proc children lists
            end_tree(self.pid, self.marker, spare=(self.pid,))
        else:
            self._to_reap = ended

    def _wait_stopped(self) -> None:
        if hasattr(os, "waitid"):
            # Returns once the process has stopped (or exited); WNOWAIT leaves both reportable.
            with contextlib.suppress(ChildProcessError):
                os.waitid(os.P_PID, self.pid, os.WSTOPPED | os.WEXITED | os.WNOWAIT)
            return
        deadline = time.monotonic() + 1.0
        while not is_stopped(self.pid) and time.monotonic() < deadline:
            time.sleep(0.0005)

    def thaw(self) -> None:
        if self._frozen:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGCONT)
            self._frozen = False

    # -- ending ----------------------------------------------------------------------------

    def wait_exit(self, deadline: float) -> None:
        """Wait (keeping its output) until the child exits by itself; it stays unreaped."""
        while not self._has_exited(self.pid):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise _Expired
            self._pump(min(0.02, remaining))  # the poll interval; returns early on output

    def _has_exited(self, pid: int) -> bool:
        if hasattr(os, "waitid"):
            flags = os.WEXITED | os.WNOHANG | os.WNOWAIT
            return os.waitid(os.P_PID, pid, flags) is not None
        reaped, status, usage = os.wait4(pid, os.WNOHANG)  # no waitid (macOS): reap now
        if reaped:
            self._record_exit(status, usage)
        return bool(reaped)

    def close(self) -> None:
        """Kill the child and everything it started (process group, descendants, marked
        processes), reap it (keeping its status, peak memory, output)."""
        if self._closed:
            return
        pid = self.pid
        if self.exit_status is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGSTOP)  # no more forks while its tree is ended
        if not self._frozen:
            # Once reaped, its pid may be another process's: then only the marker counts. (A
            # frozen environment has nothing left to end: its invocation's processes were
            # ended when it was frozen, and it has not run since.)
            end_tree(pid if self.exit_status is None else None, self.marker)
        if self.exit_status is None:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(pid, signal.SIGKILL)
            _, status, usage = os.wait4(pid, 0)
            self._record_exit(status, usage)
        _LIVE_SANDBOXES.pop(pid, None)
        self._drain_output()
        self._closed = True
        self._selector.close()
        for fd in (self._output, self._result_read, self._request_write):
            if fd >= 0:
                os.close(fd)

    def _record_exit(self, status: int, usage: Any) -> None:
        self.exit_status = status
        self._process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait
        peak = usage.ru_maxrss // 1024 if sys.platform == "darwin" else usage.ru_maxrss
        self.max_memory_kb = max(self.max_memory_kb, peak)


# Runtime processes started ahead of their first invocation (`prestart`), by owner, environment
# key and the services' variables they were given.
_PRESTARTED: dict[tuple[str, Hashable, Hashable], _Sandbox] = {}


def _start_sandbox(
    fn: FunctionSpec, owner: str, services: Mapping[str, str], python: str
) -> _Sandbox:
    runtime = local_runtime(fn.runtime, python, fn.code_dir.resolve(), fn.layer_dirs)
    env = lambda_environment(
        fn,
        interpreter=runtime.interpreter,
        log_stream_name=new_log_stream_name(fn.version),
        services=services,
    )
    env.update(runtime.variables)
    env[MARKER] = marker(owner, uuid.uuid4().hex)  # the environment's mark
    try:
        return _Sandbox(runtime.command, fn, env)
    except OSError as exc:
        raise ToolError(
            f"cannot start {runtime.interpreter} for function {fn.name}: {exc}"
        ) from exc


def prestart(fn: FunctionSpec, *, owner: str, python: str = sys.executable) -> None:
    """Start the runtime process of `fn` now, for a runner of `owner` (without services'
    variables) to use at the function's first invocation: the interpreter and the bootstrap
    load while nothing waits for them. The function's own Init phase (its module) still runs at
    that invocation, as an on-demand cold start's does. Call it from a thread that lives as long
    as the process (the runtime dies with it)."""
    if fn.code_dir.is_dir():
        _PRESTARTED[(owner, _environment_key(fn), ())] = _start_sandbox(fn, owner, {}, python)


class _Environment:
    """A warm execution environment: a runtime process that ran its Init phase for one
    function configuration, kept (frozen) between the invocations it serves, one at a time."""

    def __init__(self, sandbox: _Sandbox, key: Hashable) -> None:
        self.sandbox = sandbox
        self.key = key


def _environment_key(fn: FunctionSpec) -> Hashable:
    """What must match for an environment to serve an invocation: Lambda never reuses one
    across versions or configurations (code, handler, runtime, memory, timeout, variables,
    layers)."""
    return (
        fn.arn,
        fn.version,
        fn.handler,
        fn.runtime,
        fn.memory_size,
        fn.timeout,
        tuple(sorted(fn.environment.items())),
        str(fn.code_dir),
        fn.region,
        tuple(str(layer) for layer in fn.layer_dirs),
    )


class _Spawner:
    """Starts the runtime processes of warm environments from one thread that lives as long as
    the runner's process: a runtime dies with the thread that started it (PR_SET_PDEATHSIG),
    and a warm one must outlive the Map iteration or Parallel branch that first needed it."""

    def __init__(self) -> None:
        self._jobs: queue.SimpleQueue[tuple[Callable[[], Any], list[Any], threading.Event]]
        self._jobs = queue.SimpleQueue()
        threading.Thread(target=self._serve, name="lambda-environments", daemon=True).start()

    def run(self, job: Callable[[], _T]) -> _T:
        answer: list[Any] = []
        done = threading.Event()
        self._jobs.put((job, answer, done))
        done.wait()
        if isinstance(answer[0], BaseException):
            raise answer[0]
        return cast(_T, answer[0])

    def _serve(self) -> None:
        while True:
            job, answer, done = self._jobs.get()
            try:
                answer.append(job())
            except BaseException as exc:  # noqa: BLE001 - handed to the caller
                answer.append(exc)
            done.set()


class LocalLambdaRunner:
    """Invokes functions in child processes with Lambda's Python runtime contract.

    With `warm`, an environment that answered is kept for the next invocation of the same
    function configuration, as Lambda reuses execution environments (module-level state
    survives between invocations); concurrent invocations get environments of their own; one
    that timed out, crashed or failed its Init phase is discarded. `close()` ends those kept.
    Without it, every invocation is a cold start in a process of its own."""

    def __init__(
        self,
        *,
        python: str = sys.executable,
        clock_ms: Callable[[], float] = lambda: time.perf_counter() * 1000,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        services: Mapping[str, str] | None = None,
        owner: str | None = None,
        warm: bool = False,
        on_cold_start: Callable[[FunctionSpec], None] | None = None,
    ) -> None:
        """`owner` names the sandboxes' marker (an execution worker's owner token, so that
        whoever takes the execution over can end what its handlers left). `on_cold_start`
        hears of each runtime process started for an invocation (not of those prestarted),
        when it gets no services' variables."""
        self._python = python
        self._owner = owner or uuid.uuid4().hex
        self._services = dict(services or {})
        self._clock_ms = clock_ms
        self._new_request_id = new_request_id
        self._warm = warm
        self._idle: dict[Hashable, list[_Environment]] = {}
        self._lock = threading.Lock()
        self._spawner: _Spawner | None = None
        self._closed = False
        self._on_cold_start = on_cold_start

    def __enter__(self) -> LocalLambdaRunner:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """End the environments kept warm (with everything they started)."""
        with self._lock:
            self._closed = True
            idle = [env for envs in self._idle.values() for env in envs]
            self._idle.clear()
        for env in idle:
            env.sandbox.close()

    def invoke(
        self,
        fn: FunctionSpec,
        payload: str,
        *,
        deadline_seconds: float | None = None,
        request_id: str | None = None,
    ) -> Invocation:
        """Run the handler once on `payload` (JSON text).

        Raises TaskTimedOut (after killing the process) when `deadline_seconds` passes before the
        function answers and before its own timeout; the function's own timeout is an Invocation
        with Sandbox.Timedout, as Lambda answers.
        """
        if not fn.code_dir.is_dir():
            raise NotFound(
                f"the code of function {fn.name} is missing: {fn.code_dir} is not a directory",
                hint="deploy the service again",
            )
        request_id = request_id or self._new_request_id()
        started = time.monotonic()
        caller_deadline = started + deadline_seconds if deadline_seconds is not None else math.inf
        key = _environment_key(fn)
        environment = self._take_idle(key) if self._warm else None
        if environment is not None:
            run = _Run(fn, request_id, environment.sandbox, self._clock_ms, None, self._warm)
        else:
            init_started_ms = self._clock_ms()
            sandbox = self._start(fn)
            environment = _Environment(sandbox, key)
            run = _Run(fn, request_id, sandbox, self._clock_ms, init_started_ms, self._warm)
        kept = False
        try:
            invocation = run.execute(payload, started=started, caller_deadline=caller_deadline)
            kept = run.reusable and self._keep(environment)
            return invocation
        finally:
            if not kept:
                environment.sandbox.close()

    def _start(self, fn: FunctionSpec) -> _Sandbox:
        """A new environment's runtime process, in its Init phase (one started ahead of time
        when there is one for this configuration)."""
        services_key = tuple(sorted(self._services.items()))
        sandbox = _PRESTARTED.pop((self._owner, _environment_key(fn), services_key), None)
        if sandbox is not None and not sandbox.alive():
            sandbox.close()
            sandbox = None
        if sandbox is None:
            if not self._warm:
                sandbox = _start_sandbox(fn, self._owner, self._services, self._python)
            else:
                if self._spawner is None:
                    with self._lock:
                        if self._spawner is None:
                            self._spawner = _Spawner()
                sandbox = self._spawner.run(
                    lambda: _start_sandbox(fn, self._owner, self._services, self._python)
                )
            if self._on_cold_start is not None and not self._services:
                self._on_cold_start(fn)
        sandbox.begin_init()
        return sandbox

    def _take_idle(self, key: Hashable) -> _Environment | None:
        """An idle environment of this configuration, thawed; None when none is left."""
        while True:
            with self._lock:
                kept = self._idle.get(key)
                if not kept:
                    return None
                environment = kept.pop()  # the most recently used, as Lambda tends to
            if environment.sandbox.alive():
                environment.sandbox.thaw()
                environment.sandbox.new_invocation()
                return environment
            environment.sandbox.close()  # died while idle: discarded

    def _keep(self, environment: _Environment) -> bool:
        """Keep a frozen environment for the next invocation (False once the runner closed)."""
        with self._lock:
            if self._closed:
                return False
            self._idle.setdefault(environment.key, []).append(environment)
        return True


class _Run:
    """The phases of one invocation (init when the environment is new, invoke) and the log
    framed around them. `reusable`: whether the environment may serve another invocation."""

    def __init__(
        self,
        fn: FunctionSpec,
        request_id: str,
        sandbox: _Sandbox,
        clock_ms: Callable[[], float],
        init_started_ms: float | None,
        keep_warm: bool = False,
    ) -> None:
        self.fn = fn
        self.keep_warm = keep_warm
        self.request_id = request_id
        self.sandbox = sandbox
        self.clock_ms = clock_ms
        self.cold = init_started_ms is not None
        self.init_started_ms = init_started_ms or 0.0
        self.init_duration_ms = 0.0
        self.invoke_started_ms = self.init_started_ms
        self.init_log = ""
        self.reusable = False

    def execute(self, payload: str, *, started: float, caller_deadline: float) -> Invocation:
        if self.cold:
            # Init: at most Lambda's 10 s. Longer is reported as the function's timeout
            # (Lambda retries init inside the invoke under the function timeout; not modelled).
            init_limit = started + INIT_LIMIT_SECONDS
            try:
                message = self.sandbox.next_message(min(init_limit, caller_deadline))
                if message is None:  # the process ended during init (sys.exit at import, crash)
                    self.sandbox.wait_exit(min(init_limit, caller_deadline))
            except _Expired:
                self._end_init()
                return self._timed_out(caller_first=caller_deadline <= init_limit)
            self._end_init()
            if message is None:
                return self._exited()
            if message["kind"] == "init_error":
                return self._init_failed(message)
        else:
            self.invoke_started_ms = self.clock_ms()

        self.sandbox.send_request(
            {
                "request_id": self.request_id,
                "event": payload,
                "timeout_ms": self.fn.timeout * 1000,
                "invoked_function_arn": self.fn.arn,
            }
        )
        function_deadline = time.monotonic() + self.fn.timeout
        deadline = min(function_deadline, caller_deadline)
        try:
            message = self.sandbox.next_message(deadline)
            if message is None:
                self.sandbox.wait_exit(deadline)
        except _Expired:
            return self._timed_out(caller_first=caller_deadline <= function_deadline)
        if message is None:
            return self._exited()
        self.reusable = self.keep_warm
        return self._finish(message["payload"], message["error_type"], message, keep=self.keep_warm)

    def _end_init(self) -> None:
        now = self.clock_ms()
        self.init_duration_ms = now - self.init_started_ms
        self.invoke_started_ms = now
        self.init_log = self.sandbox.take_output()

    def _init_failed(self, message: dict[str, Any]) -> Invocation:
        error_type = message["error_type"]
        self.init_log += (
            f"INIT_REPORT Init Duration: {self.init_duration_ms:.2f} ms\tPhase: init"
            f"\tStatus: error\tError Type: {error_type}\n"
        )
        return self._finish(
            message["payload"], error_type, message, status="error", report_error=error_type
        )

    def _timed_out(self, *, caller_first: bool) -> Invocation:
        if caller_first:
            # Killed by the caller's `finally`, before the caller sees this.
            raise TaskTimedOut(f"function {self.fn.name} did not answer within the task's timeout")
        seconds = f"{self.fn.timeout:.2f}"
        message = f"RequestId: {self.request_id} Error: Task timed out after {seconds} seconds"
        return self._finish(
            _service_error(TIMEOUT_ERROR, message), TIMEOUT_ERROR, None, status="timeout"
        )

    def _exited(self) -> Invocation:
        self.sandbox.close()
        assert self.sandbox.exit_status is not None
        message = f"RequestId: {self.request_id} Error: {exit_reason(self.sandbox.exit_status)}"
        return self._finish(
            _service_error(EXIT_ERROR, message),
            EXIT_ERROR,
            None,
            status="error",
            report_error=EXIT_ERROR,
        )

    def _finish(
        self,
        payload: str,
        error_type: str | None,
        message: dict[str, Any] | None,
        *,
        status: str | None = None,
        report_error: str | None = None,
        keep: bool = False,
    ) -> Invocation:
        """The invocation's answer and log. The environment is closed first (its processes
        ended, its output all in), or, when `keep`, frozen with what the invocation started
        ended."""
        duration_ms = self.clock_ms() - self.invoke_started_ms
        if keep:
            self.sandbox.freeze()
        else:
            self.sandbox.close()
        reported_kb = message.get("max_memory_kb", 0) if message else 0
        peak_kb = max(self.sandbox.max_memory_kb, reported_kb)
        output = self.sandbox.take_output()
        if output and not output.endswith("\n"):
            output += "\n"
        log = (
            self.init_log
            + f"START RequestId: {self.request_id} Version: {self.fn.version}\n"
            + output
            + f"END RequestId: {self.request_id}\n"
            + report_line(
                self.request_id,
                duration_ms=duration_ms,
                memory_size=self.fn.memory_size,
                max_memory_mb=max(1, math.ceil(peak_kb / 1024)),
                init_duration_ms=self.init_duration_ms if self.cold else None,
                status=status,
                error_type=report_error,
            )
        )
        return Invocation(
            payload=payload,
            function_error=UNHANDLED if error_type else None,
            request_id=self.request_id,
            log=log,
            duration_ms=duration_ms,
        )
