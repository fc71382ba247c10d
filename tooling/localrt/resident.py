"""The resident runtime: one process per service folder that holds the local runtime's modules in
memory and forks execution workers from itself, so that a run starts in a few milliseconds
instead of a Python start-up plus the worker's imports (about 150 ms on a 2-core machine).

- It starts like an execution worker (tooling/processes.py): detached, init as its parent, with
  the scrubbed environment, through exec; the first command that starts an execution in the
  folder starts it. A forked process's /proc/<pid>/environ is its parent's, so a handler walking
  up its ancestors finds the worker, this process, then init: nothing of the caller's.
- It listens on `.tool/runtime.sock` (0600, inside the 0700 `.tool/`; a peer of another user
  is refused even so, where the system names it: SO_PEERCRED) and holds
  `.tool/runtime.lock` for its whole life, so a folder has one. It ends after IDLE_SECONDS
  without a request (`TOOL_RESIDENT_IDLE_SECONDS`), when its socket is removed or replaced, and
  when a starter finds it stale: the toolkit's code on disk changed under it, or the starter's
  scrubbed environment (PATH, locale, TZ, `TOOL_*`...) is not the one it was started with (it
  answers `stale`, exits, and the starter starts a fresh one). `TOOL_RESIDENT=0` keeps a
  command from using one.
- It keeps one *spare* worker forked ahead: the spare picks its owner token, opens the store and
  starts the runtime process of the function the last run invoked first (runtime_hint.py; the
  function's own code is loaded only when invoked: lambda_runner.py, `prestart`). A starter
  *reserves* the spare (the resident runtime hands it the connection, and forks the next spare a
  moment later), writes the execution's row with the spare's token as its owner, then tells the
  spare which execution to run, with the worker's log file (SCM_RIGHTS). The spare answers
  `started`, then runs exactly as `python -m tooling.localrt.worker` does. The connection stays
  with it: one byte when the run has ended, then end of file when the worker exits, so a
  follower wakes at once instead of at its next poll.
- Crash safety does not rest on it. A reserved spare knows no execution until it is told one, so
  whatever dies before that leaves nothing to clean. Once told, it is a worker like any other
  (lease, heartbeat, takeover: tooling/localrt/ownership.py): if its `started` does not come,
  the starter gives the execution a new owner token and starts the worker itself (a spare that
  got the request after all cannot claim it). A spare whose resident runtime dies exits; a
  reserved one whose starter dies exits; workers go on without the resident runtime.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

SOCKET_NAME = "runtime.sock"
LOCK_NAME = "runtime.lock"
LOG_NAME = "runtime.log"
IDLE_SECONDS = 600.0  # TOOL_RESIDENT_IDLE_SECONDS
# How often it looks for executions whose worker died (TOOL_RESIDENT_SWEEP_SECONDS), when it
# was started with a way to resume them.
SWEEP_SECONDS = 5.0
START_SECONDS = 10.0  # how long a starter waits for a new resident runtime to listen
ANSWER_SECONDS = 10.0  # how long a starter waits for an answer (a loaded machine)
RESERVED_SECONDS = 30.0  # how long a reserved spare waits to be told its execution
# The next spare is forked this long after one was handed over (at once when a starter asks
# first): getting it ready costs a process start, which should not compete with the run.
SPARE_DELAY_SECONDS = 0.25
MAX_REQUEST_BYTES = 64 * 1024
# Modules a worker may need beyond its own imports: loaded once the runtime listens, while idle.
LATER_MODULES = (
    "tooling.localrt.callback_endpoint",
    "tooling.localaws.integrations",
    "tooling.engine.jsonata_eval",
)
ENDED = b"."  # the run has ended (the store says how)


class Unanswered(Exception):  # noqa: N818 - an outcome the starter handles, not a failure
    """The spare was told its execution and did not answer: it may run it, or not."""


def toolkit_identity() -> list[str]:
    """What a resident runtime must share with its client: the interpreter and the toolkit."""
    return [sys.executable, str(Path(__file__).resolve().parents[1])]


def enabled() -> bool:
    """Whether workers are forked by the folder's resident runtime (TOOL_RESIDENT=0: never)."""
    return os.environ.get("TOOL_RESIDENT", "1") != "0"


def _seconds(variable: str, default: float, minimum: float | None = None) -> float:
    try:
        value = float(os.environ.get(variable, default))
    except ValueError:
        return default
    return value if minimum is None else max(minimum, value)


def idle_seconds() -> float:
    return _seconds("TOOL_RESIDENT_IDLE_SECONDS", IDLE_SECONDS)


def sweep_seconds() -> float:
    return _seconds("TOOL_RESIDENT_SWEEP_SECONDS", SWEEP_SECONDS, minimum=0.05)


def _read_line(sock: socket.socket, limit: int = MAX_REQUEST_BYTES) -> bytes:
    """One line from `sock` (b"" at end of file); OSError on timeout."""
    line = b""
    while not line.endswith(b"\n") and len(line) < limit:
        chunk = sock.recv(limit)
        if not chunk:
            break
        line += chunk
    return line


def _answer(sock: socket.socket, answer: dict[str, Any]) -> None:
    with contextlib.suppress(OSError):
        sock.sendall((json.dumps(answer) + "\n").encode())


# --- the client side ------------------------------------------------------------------------


class WorkerChannel:
    """The connection to a worker forked by the resident runtime: readable when its run ended
    (one byte) or when it exited (end of file)."""

    def __init__(self, sock: socket.socket, pid: int) -> None:
        self.sock = sock
        self.pid = pid
        self.open = True

    def wait(self, seconds: float) -> None:
        """Return after `seconds`, or as soon as the worker says the run ended or exits."""
        if not self.open:
            time.sleep(seconds)
            return
        ready, _, _ = select.select([self.sock], [], [], max(0.0, seconds))
        if ready:
            try:
                data = self.sock.recv(4096)
            except OSError:
                data = b""
            if not data:
                self.close()

    def close(self) -> None:
        if self.open:
            self.open = False
            self.sock.close()


class Reservation:
    """A spare worker reserved for one execution: `owner` is the token its row must carry."""

    def __init__(self, sock: socket.socket, owner: str, pid: int, store: Path) -> None:
        self.sock = sock
        self.owner = owner
        self.pid = pid
        self.store = store

    def start(self, arn: str, log_fd: int) -> WorkerChannel | None:
        """Tell the spare to run execution `arn` (whose row has this reservation's owner), its
        output to `log_fd`. Its channel; None when the spare is gone without having read the
        request (nothing runs it: start the worker another way, same owner). Unanswered when
        it may have read it."""
        data = (json.dumps({"op": "start", "arn": arn, "store": str(self.store)}) + "\n").encode()
        try:
            socket.send_fds(self.sock, [data], [log_fd])
        except OSError:
            self.cancel()  # the spare closed its end: it never had the request
            return None
        try:
            self.sock.settimeout(ANSWER_SECONDS)
            answer = json.loads(_read_line(self.sock))
            self.sock.settimeout(None)
        except (OSError, ValueError):
            self.cancel()
            raise Unanswered() from None
        if not isinstance(answer, dict) or answer.get("started") is not True:
            self.cancel()
            raise Unanswered()
        return WorkerChannel(self.sock, self.pid)

    def cancel(self) -> None:
        """Give the spare up (it exits)."""
        self.sock.close()


class ResidentRuntime:
    """The client of a folder's resident runtime (`tool_dir` is the folder's `.tool`)."""

    def __init__(self, tool_dir: Path, entry: str = "tooling.localrt.resident") -> None:
        self.tool_dir = tool_dir
        self.entry = entry  # the module it is started as (`python -m ENTRY TOOL_DIR DIGEST`)

    def reserve(self, store: Path) -> Reservation | None:
        """A spare worker for an execution of `store`, started first when none runs; None when
        no resident runtime can give one here (then start the worker another way)."""
        request = {
            "op": "reserve",
            "store": str(store),
            "toolkit": toolkit_identity(),
            "environment": environment_digest(_worker_environment()),
        }
        for _ in range(2):
            sock = self._connect(start=True)
            if sock is None:
                return None
            try:
                _answer(sock, request)
                sock.settimeout(ANSWER_SECONDS)
                answer = json.loads(_read_line(sock))
                sock.settimeout(None)
            except (OSError, ValueError):
                # It died with the connection in its backlog (no spare knows of any execution):
                # once more, which starts a new one.
                sock.close()
                self._wait_gone(1.0)
                continue
            if isinstance(answer, dict) and isinstance(answer.get("owner"), str):
                return Reservation(sock, answer["owner"], int(answer.get("pid", 0)), store)
            sock.close()
            if not isinstance(answer, dict) or answer.get("refused") != "stale":
                return None  # another toolkit's runtime, or a request it refused
            self._wait_gone()  # a stale one exits after saying so: start a fresh one
        return None

    def start_ahead(self) -> bool:
        """Start the folder's resident runtime without waiting for it, unless one runs or is
        starting (after `tool deploy`, so that the first run finds it ready). Whether one was
        started."""
        if not self.tool_dir.is_dir() or _address(self.tool_dir) is None or self._locked():
            return False
        return self._spawn() is not None

    def running(self) -> bool:
        sock = self._connect(start=False)
        if sock is None:
            return False
        sock.close()
        return True

    def stop(self, timeout: float = 5.0) -> bool:
        """End the folder's resident runtime and its spare (the workers it forked go on).
        Whether one ran."""
        sock = self._connect(start=False)
        if sock is None:
            return False
        with sock:
            _answer(sock, {"op": "stop"})
            with contextlib.suppress(OSError):
                sock.settimeout(timeout)
                sock.recv(64)
        self._wait_gone(timeout)
        return True

    # -- internals -------------------------------------------------------------------------

    def _connect(self, *, start: bool) -> socket.socket | None:
        """A connection to the folder's resident runtime; with `start`, one is started when
        none runs (and waited for). None when there is none (or none can be had here)."""
        from tooling.localrt.process_tree import process_alive

        deadline = time.monotonic() + START_SECONDS
        spawned: int | None = None
        while True:
            sock = _connect_to(self.tool_dir)
            if sock is not None or not start:
                return sock
            if not self.tool_dir.is_dir() or _address(self.tool_dir) is None:
                return None
            if time.monotonic() > deadline:
                return None
            # None holds the lock: start one, unless the one started here is still on its way
            # (it takes the lock first thing; one that lost the lock to another exits).
            if not self._locked() and (spawned is None or not process_alive(spawned)):
                spawned = self._spawn()
                if spawned is None:
                    return None
            time.sleep(0.005)

    def _locked(self) -> bool:
        """Whether a resident runtime holds the folder's lock (it may be starting)."""
        try:
            fd = os.open(self.tool_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # releases the probe's lock
        return False

    def _spawn(self) -> int | None:
        from tooling.errors import ToolError
        from tooling.processes import spawn_detached

        environment = _worker_environment()
        try:
            fd = os.open(
                self.tool_dir / LOG_NAME,
                os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC,
                0o600,
            )
            with open(fd, "ab") as log:
                return spawn_detached(
                    [
                        sys.executable,
                        "-m",
                        self.entry,
                        str(self.tool_dir),
                        environment_digest(environment),
                    ],
                    env=environment,
                    cwd=self.tool_dir.parent,
                    output=log,
                )
        except (OSError, ToolError):
            return None

    def _wait_gone(self, timeout: float = START_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        while self._locked() and time.monotonic() < deadline:
            time.sleep(0.005)


def _worker_environment() -> dict[str, str]:
    from tooling.processes import worker_environment

    return worker_environment()


def environment_digest(environment: dict[str, str]) -> str:
    """A digest of the (scrubbed) environment workers run with: a resident runtime started with
    another one would give its workers the wrong PATH, locale or settings."""
    import hashlib

    text = json.dumps(sorted(environment.items()))
    return hashlib.sha256(text.encode()).hexdigest()


def _address(tool_dir: Path) -> str | None:
    """The socket's address: its path, or "" where the path is longer than an AF_UNIX address
    holds and a short alias through /proc/self/fd is needed (None where there is none)."""
    path = str(tool_dir / SOCKET_NAME)
    if len(path.encode()) < 100:
        return path
    return "" if Path("/proc/self/fd").is_dir() else None


@contextlib.contextmanager
def _short_address(tool_dir: Path) -> Any:
    address = _address(tool_dir)
    if address != "":
        yield address
        return
    fd = os.open(tool_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        yield f"/proc/self/fd/{fd}/{SOCKET_NAME}"
    finally:
        os.close(fd)


def _connect_to(tool_dir: Path) -> socket.socket | None:
    if _address(tool_dir) is None:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with _short_address(tool_dir) as address:
            sock.connect(address)
    except OSError:
        sock.close()
        return None
    return sock


# --- the resident runtime itself ------------------------------------------------------------


class _Spare:
    """A worker forked ahead, waiting to be handed a starter's connection."""

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock


class _Server:
    def __init__(
        self,
        tool_dir: Path,
        lock_fd: int,
        listener: socket.socket,
        environment: str,
        resume_stalled: Callable[[Path], None] | None = None,
    ) -> None:
        self.tool_dir = tool_dir
        self.resume_stalled = resume_stalled
        self.next_sweep = time.monotonic() + sweep_seconds()
        self.environment = environment
        self.lock_fd = lock_fd
        self.listener = listener
        self.identity = toolkit_identity()
        self.inode = os.stat(tool_dir / SOCKET_NAME).st_ino
        self.sources = _loaded_sources()
        self.later = list(LATER_MODULES)
        self.last_request = time.monotonic()
        self.store = str(tool_dir / "local.db")
        self.spare: _Spare | None = None
        self.spare_due: float | None = time.monotonic()  # when to fork the next spare

    def serve(self) -> int:
        idle = idle_seconds()
        sweep = sweep_seconds()
        while True:
            now = time.monotonic()
            if self.spare_due is not None and now >= self.spare_due:
                self._fork_spare()
            if self.resume_stalled is not None and now >= self.next_sweep:
                self._sweep()
                self.next_sweep = time.monotonic() + sweep
            # Wake to check that the folder is still ours every 5 s, when the idle time ends,
            # and for the next look for stalled executions.
            idle_left = idle - (now - self.last_request)
            wait = 0.0 if self.later else min(5.0, max(0.05, idle_left))
            if self.resume_stalled is not None:
                wait = min(wait, max(0.0, self.next_sweep - now))
            if self.spare_due is not None:
                wait = min(wait, max(0.0, self.spare_due - now))
            ready, _, _ = select.select([self.listener], [], [], wait)
            if not ready:
                if self.spare_due is not None:
                    continue
                if self.later:  # nothing to do: load what a worker may need later
                    with contextlib.suppress(Exception):
                        __import__(self.later.pop(0))
                    # Their files join the ones watched (those loaded before stay as read then).
                    self.sources = {**_loaded_sources(), **self.sources}
                    continue
                if time.monotonic() - self.last_request > idle or not self._still_ours():
                    return 0
                continue
            try:
                conn, _ = self.listener.accept()
            except OSError:
                continue
            self.last_request = time.monotonic()
            with conn:
                if self._handle(conn) == "exit":
                    return 0

    def _sweep(self) -> None:
        """Resume the executions whose worker died, as the next command that looked at them
        would: without this, nothing does while no command runs (AWS carries them on)."""
        if self.resume_stalled is None or not (self.tool_dir / "local.db").is_file():
            return
        try:
            self.resume_stalled(self.tool_dir)
        except Exception as exc:  # noqa: BLE001 - the next command still takes them over
            sys.stderr.write(f"resident runtime: resuming stalled executions failed: {exc!r}\n")

    def close(self) -> None:
        if self.spare is not None:
            self.spare.sock.close()  # the spare sees the end of its channel and exits
            self.spare = None

    def _still_ours(self) -> bool:
        try:
            return os.stat(self.tool_dir / SOCKET_NAME).st_ino == self.inode
        except OSError:
            return False

    def _handle(self, conn: socket.socket) -> str:
        if _peer_uid(conn) not in (None, os.getuid()):
            # The socket is 0600 in a 0700 folder; should those be loosened, another user still
            # gets no worker (it would run as this user) and nothing else from it.
            _answer(conn, {"refused": "another user"})
            return "next"
        conn.settimeout(2.0)  # a client that sends nothing does not hold the runtime up
        try:
            request = json.loads(_read_line(conn))
            if not isinstance(request, dict):
                raise ValueError("not an object")
        except (OSError, ValueError):
            return "next"
        if request.get("op") == "stop":
            _answer(conn, {"stopping": True})
            return "exit"
        refused = self._refusal(request)
        if refused is not None:
            _answer(conn, {"refused": refused})
            return "exit" if refused == "stale" else "next"
        for _ in range(2):  # a spare that died meanwhile is replaced once
            if self.spare is None:
                self._fork_spare()
            spare, self.spare = self.spare, None
            assert spare is not None
            try:
                socket.send_fds(spare.sock, [b"c"], [conn.fileno()])
            except OSError:
                continue
            finally:
                spare.sock.close()
            break
        else:
            _answer(conn, {"refused": "no spare"})
        self.spare_due = time.monotonic() + SPARE_DELAY_SECONDS  # the next starter's
        return "next"

    def _refusal(self, request: dict[str, Any]) -> str | None:
        if request.get("op") != "reserve":
            return "bad request"
        if request.get("toolkit") != self.identity:
            return "toolkit"  # another interpreter or installation: it starts its own workers
        if request.get("store") != self.store:
            return "bad request"  # this folder's executions only
        if request.get("environment") != self.environment or _loaded_sources() != self.sources:
            return "stale"
        return None

    def _fork_spare(self) -> None:
        mine, theirs = socket.socketpair()
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # else the child would print them again
        pid = os.fork()
        if pid == 0:
            mine.close()
            _spare(self, theirs)
        theirs.close()
        self.spare = _Spare(pid, mine)
        self.spare_due = None


def _spare(server: _Server, channel: socket.socket) -> NoReturn:
    """In a forked child: get ready, wait to be reserved, then become the worker told."""
    code = 0
    try:
        for number in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(number, signal.SIG_DFL)
        server.listener.close()
        os.close(server.lock_fd)  # the lock is the resident runtime's alone
        os.setsid()  # `tool stop` ends the worker's process group
        code = _serve_as_spare(server, channel)
    except BaseException:  # noqa: BLE001 - whatever it is goes to the runtime's log
        import traceback

        traceback.print_exc()
        code = 1
    finally:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
    os._exit(code)


def _serve_as_spare(server: _Server, channel: socket.socket) -> int:
    from tooling.localrt import worker
    from tooling.localrt.ownership import new_owner
    from tooling.localrt.store import Store

    owner = new_owner()
    store = Store(Path(server.store))
    opened = _identity(server.store)
    _prestart_hinted(server.tool_dir, store, owner)
    # Reserved: the resident runtime hands over a starter's connection (or, ending, its end).
    _, fds, _, _ = socket.recv_fds(channel, 16, 1)
    channel.close()
    if not fds:
        return 0
    conn = socket.socket(fileno=fds[0])
    conn.settimeout(ANSWER_SECONDS)
    _answer(conn, {"owner": owner, "pid": os.getpid()})
    conn.settimeout(RESERVED_SECONDS)
    try:
        data, fds, _, _ = socket.recv_fds(conn, MAX_REQUEST_BYTES, 1)
        request = json.loads(data)
    except (OSError, ValueError):
        return 0  # the starter gave up (or died): no execution was named
    if (
        not isinstance(request, dict)
        or request.get("op") != "start"
        or request.get("store") != server.store
        or not isinstance(request.get("arn"), str)
        or len(fds) != 1
    ):
        return 0
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    os.dup2(fds[0], 1)
    os.dup2(fds[0], 2)
    os.close(fds[0])
    conn.settimeout(None)
    _answer(conn, {"started": True})
    if _identity(server.store) != opened:  # the file was replaced meanwhile (deleted, deployed)
        store = Store(Path(server.store))
    worker.report_end_to(conn)
    return worker.main([server.store, request["arn"], owner], store=store)


def _peer_uid(conn: socket.socket) -> int | None:
    """The user id of the process at the other end of `conn` (None where the system does not
    say: then the socket's permissions alone keep other users out)."""
    option = getattr(socket, "SO_PEERCRED", None)
    if option is None:
        return None
    try:
        credentials = conn.getsockopt(socket.SOL_SOCKET, option, struct.calcsize("3i"))
    except OSError:
        return None
    _, uid, _ = struct.unpack("3i", credentials)
    return int(uid)


def _identity(path: str) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def _prestart_hinted(tool_dir: Path, store: Any, owner: str) -> None:
    """Start the runtime process of the function the last run started first (its code is
    loaded only when invoked): a wrong or stale guess costs a process, nothing else."""
    from tooling.localrt.functions import spec_from_record
    from tooling.localrt.lambda_runner import prestart
    from tooling.localrt.runtime_hint import read_hint

    hint = read_hint(tool_dir)
    if hint is None:
        return
    try:
        record = store.get_function(hint[0])
        if record is not None:
            prestart(spec_from_record(record, hint[1]), owner=owner)
    except Exception:  # noqa: BLE001 - a function that cannot start now: a cold start later
        pass


def _loaded_sources() -> dict[str, tuple[int, int]]:
    """The files of the loaded modules outside the standard library, with their size and
    modification time: a change on disk (the toolkit or a package updated) makes the runtime
    stale, so no worker runs old code."""
    stdlib = os.path.dirname(os.__file__)
    found: dict[str, tuple[int, int]] = {}
    for module in list(sys.modules.values()):
        path = getattr(module, "__file__", None)
        if not path or (path.startswith(stdlib + os.sep) and "site-packages" not in path):
            continue
        try:
            info = os.stat(path)
        except OSError:
            found[path] = (-1, -1)
            continue
        found[path] = (info.st_size, info.st_mtime_ns)
    return found


def _reap_children(signum: int, frame: object) -> None:
    """Workers and spares end on their own: reap them (a zombie counts as ended already)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def _bind(tool_dir: Path) -> socket.socket:
    path = tool_dir / SOCKET_NAME
    with contextlib.suppress(FileNotFoundError):
        path.unlink()  # a dead runtime's: the lock says none other runs
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o177)  # the socket is created 0600
    try:
        with _short_address(tool_dir) as address:
            listener.bind(address)
    finally:
        os.umask(old_umask)
    os.chmod(path, 0o600)
    listener.listen(64)
    return listener


def main(argv: list[str], resume_stalled: Callable[[Path], None] | None = None) -> int:
    """`python -m tooling.localrt.resident TOOL_DIR ENVIRONMENT_DIGEST`; `resume_stalled`
    (given by the layer that can start workers on its own) takes over the folder's executions
    whose worker died."""
    tool_dir = Path(argv[0]).resolve()
    environment = argv[1] if len(argv) > 1 else ""
    lock_fd = os.open(tool_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as exc:
        if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
            return 0  # another one runs (or is starting) for this folder
        raise
    import threading

    from tooling.localrt import worker  # noqa: F401 - loaded once, shared by every fork

    if threading.active_count() != 1:  # fork keeps one thread: the others' locks would stay
        sys.stderr.write("the resident runtime must have one thread; not starting\n")
        return 1
    signal.signal(signal.SIGCHLD, _reap_children)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    listener = _bind(tool_dir)
    server = _Server(tool_dir, lock_fd, listener, environment, resume_stalled)
    try:
        return server.serve()
    finally:
        server.close()
        if server._still_ours():
            with contextlib.suppress(OSError):
                (tool_dir / SOCKET_NAME).unlink()
        listener.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
