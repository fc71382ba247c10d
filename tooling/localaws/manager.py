"""Starting, finding and stopping a service folder's local AWS services (tooling.localaws.server).

Everything lives in `.tool/aws/` (0700): the journal (the data), server.json (pid, port, token of
the running server), server.lock (held by the server while it lives), start.lock (held by a
command while it starts one) and server.log.

The first command that needs the services starts them and later ones reuse them. A server counts
as running only when server.lock is held (the kernel releases it when the process dies, however
it dies) and the port in server.json answers with the token in server.json; anything else (a
SIGKILLed server, a stale server.json, a port now used by another program) is treated as not
running, and the services are started again. Commands racing to start them take start.lock in
turn, so one server starts; the server's own lock makes a second one exit even if a starter died
between starting a server and seeing it ready.

The server takes only requests signed with the folder's local credentials (tooling.localaws.
signing): the folder's key (`.tool/local-credentials.key`) is made before a server starts, and
each command signs with a key id of its own (`credentials()`), each run's handlers with theirs.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.errors import ToolError
from tooling.localaws.s3_events import CURSOR_FILE, OUTBOX_FILE
from tooling.localaws.server import (
    BUSY_EXIT,
    IDENTITY_PATH,
    JOURNAL_FILE,
    LOCK_FILE,
    STATE_FILE,
)
from tooling.localaws.signing import Credentials, LocalSigning
from tooling.names import LOCAL_ACCOUNT_ID
from tooling.statedir import inside, private_parents

START_LOCK_FILE = "start.lock"
LOG_FILE = "server.log"
START_TIMEOUT_SECONDS = 60.0  # moto's import and an empty journal, with a wide margin
# Replaying takes about 3 ms per journaled change on a busy 2-core machine (bench/local_aws.py);
# the wait grows with the journal at a rate ten times slower than that.
REPLAY_SECONDS_PER_ENTRY = 0.03
STOP_TIMEOUT_SECONDS = 10.0
PROBE_TIMEOUT_SECONDS = 2.0
_POLL_SECONDS = 0.05


class LocalAwsError(ToolError):
    """The local AWS services could not be started or stopped."""


@dataclass(frozen=True)
class RunningServer:
    pid: int
    port: int
    started_at: float
    replayed: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def _no_proxy_opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(urllib.request.ProxyHandler({}))


class LocalAwsServices:
    """The local AWS services of the service folder whose `.tool` folder is `tool_dir`."""

    def __init__(
        self,
        tool_dir: Path,
        *,
        python: str = sys.executable,
        start_timeout: float = START_TIMEOUT_SECONDS,
    ) -> None:
        self.tool_dir = tool_dir
        self.data_dir = inside(tool_dir, "aws")  # a link planted there cannot lead out
        self.python = python
        self.start_timeout = start_timeout
        self._lock = threading.Lock()  # one start at a time within this process too
        self._opener = _no_proxy_opener()
        self._credentials: Credentials | None = None

    # -- credentials -----------------------------------------------------------------------

    def signing(self) -> LocalSigning:
        """The folder's local credentials (tooling.localaws.signing), made when missing."""
        found = LocalSigning.of_folder(self.tool_dir, create=True)
        assert found is not None
        return found

    def credentials(self) -> Credentials:
        """Credentials of this folder for this command's own requests (one key id each)."""
        if self._credentials is None:
            self._credentials = self.signing().issue()
        return self._credentials

    # -- reading ---------------------------------------------------------------------------

    @property
    def journal_path(self) -> Path:
        return self.data_dir / JOURNAL_FILE

    def has_data(self) -> bool:
        """Whether the services ever held anything for this folder (the journal exists)."""
        return self.journal_path.is_file()

    def running(self) -> RunningServer | None:
        """The server, when it is alive and answers as this folder's; None otherwise."""
        state = self._read_state()
        if state is None or not self._server_lock_held():
            return None
        if self._probe(state) is None:
            return None
        return RunningServer(
            pid=int(state["pid"]),
            port=int(state["port"]),
            started_at=float(state.get("startedAt", 0.0)),
            replayed=int(state.get("replayed", 0)),
        )

    def journal_entries(self) -> int:
        if not self.has_data():
            return 0
        with self.journal_path.open("rb") as file:
            return sum(1 for line in file if line.endswith(b"\n"))

    # -- starting --------------------------------------------------------------------------

    def endpoint(self) -> str:
        """The running server's URL, started first if it is not running."""
        found = self.running()
        if found is not None:
            return found.url
        with self._lock, self._file_lock(START_LOCK_FILE):
            found = self.running()
            if found is not None:
                return found.url
            return self._start().url

    def _start(self) -> RunningServer:
        """Start a server and wait until it answers. While another process holds the folder's
        server lock (a server starting for a command that died, or one still dying after a
        SIGKILL: its threads let go of the lock last), wait for it to answer or let go."""
        private_parents(self.data_dir / START_LOCK_FILE)  # .tool and .tool/aws, 0700
        self.signing()  # the server reads the folder's key at start
        allowed = self.start_timeout + REPLAY_SECONDS_PER_ENTRY * self.journal_entries()
        deadline = time.monotonic() + allowed
        process: subprocess.Popen[bytes] | None = None
        while time.monotonic() < deadline:
            if process is None and not self._server_lock_held():
                process = self._spawn()
            if process is not None and process.poll() is not None:
                if process.returncode != BUSY_EXIT:
                    raise LocalAwsError(
                        "the local AWS services stopped while starting "
                        f"(exit status {process.returncode}): {self._log_tail()}",
                        hint=f"see {self.data_dir / LOG_FILE}",
                    )
                process = None  # another server holds the folder: wait for that one
            state = self._read_state()
            if state is not None and (process is None or state.get("pid") == process.pid):
                found = self.running()
                if found is not None:
                    return found
            time.sleep(_POLL_SECONDS)
        if process is not None:
            _terminate(process.pid)
        raise LocalAwsError(
            f"the local AWS services did not answer within {allowed:.0f} s",
            hint=f"see {self.data_dir / LOG_FILE}; `tool local stop` ends a server that hangs",
        )

    def _spawn(self) -> subprocess.Popen[bytes]:
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / STATE_FILE).unlink()  # a dead server's address
        log = os.open(self.data_dir / LOG_FILE, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        try:
            return subprocess.Popen(
                [self.python, "-I", "-m", "tooling.localaws.server", str(self.data_dir)],
                cwd=self.data_dir,
                env=server_environment(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,  # not ended by the Ctrl-C of the command that started it
            )
        except OSError as exc:
            raise LocalAwsError(
                f"cannot start the local AWS services with {self.python}: {exc}"
            ) from exc
        finally:
            os.close(log)

    # -- stopping --------------------------------------------------------------------------

    def stop(self) -> RunningServer | None:
        """Stop the server; what was running (None: nothing was). The journal stays."""
        if not self.data_dir.is_dir():
            return None
        with self._lock, self._file_lock(START_LOCK_FILE):
            found = self.running()
            if found is None and self._server_lock_held():
                found = self._confirmed_hanging_server()
            if found is None:
                with contextlib.suppress(FileNotFoundError):
                    (self.data_dir / STATE_FILE).unlink()
                return None
            _terminate(found.pid)
            deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
            while self._server_lock_held():
                if time.monotonic() >= deadline:
                    with contextlib.suppress(ProcessLookupError):
                        os.kill(found.pid, signal.SIGKILL)
                    deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
                time.sleep(_POLL_SECONDS)
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / STATE_FILE).unlink()
            return found

    def release(self) -> list[str]:
        """`tool remove`'s step: stop the services; what they hold stays (`tool local reset`)."""
        stopped = self.stop()
        if stopped is None:
            return []
        return [
            f"stopped the local AWS services (pid {stopped.pid}); what they hold stays in "
            f"{self.data_dir} (`tool local reset` forgets it)"
        ]

    def reset(self) -> RunningServer | None:
        """Stop the server and forget everything the services held for this folder."""
        stopped = self.stop()
        for name in (JOURNAL_FILE, LOG_FILE, OUTBOX_FILE, CURSOR_FILE):
            with contextlib.suppress(FileNotFoundError):
                (self.data_dir / name).unlink()
        return stopped

    def _confirmed_hanging_server(self) -> RunningServer | None:
        """A server that holds the lock but does not answer, if its pid is surely the server
        (Linux: its command line names this folder); None when that cannot be told."""
        state = self._read_state()
        if state is None:
            return None
        pid = int(state["pid"])
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            return None
        if b"tooling.localaws.server" in command and str(self.data_dir).encode() in command:
            return RunningServer(pid=pid, port=int(state["port"]), started_at=0.0, replayed=0)
        return None

    # -- helpers ---------------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any] | None:
        try:
            state = json.loads((self.data_dir / STATE_FILE).read_text())
        except (OSError, ValueError):
            return None
        return state if isinstance(state, dict) and {"pid", "port", "token"} <= set(state) else None

    def _probe(self, state: dict[str, Any]) -> dict[str, Any] | None:
        url = f"http://127.0.0.1:{int(state['port'])}{IDENTITY_PATH}"
        try:
            with self._opener.open(url, timeout=PROBE_TIMEOUT_SECONDS) as answer:
                identity = json.loads(answer.read())
        except (OSError, ValueError, urllib.error.URLError):
            return None
        if not isinstance(identity, dict) or identity.get("token") != state["token"]:
            return None  # another program on that port
        return identity

    def _server_lock_held(self) -> bool:
        path = self.data_dir / LOCK_FILE
        if not path.exists():
            return False
        fd = os.open(path, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # also releases the shared lock just taken
        return False

    @contextlib.contextmanager
    def _file_lock(self, name: str) -> Iterator[None]:
        private_parents(self.data_dir / START_LOCK_FILE)  # .tool and .tool/aws, 0700
        fd = os.open(self.data_dir / name, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = (self.data_dir / LOG_FILE).read_text(errors="replace")
        except OSError:
            return "no log"
        return " | ".join(text.strip().splitlines()[-lines:]) or "no log"


def server_environment() -> dict[str, str]:
    """The server's environment: none of the caller's credentials, proxies or AWS settings.
    Resources are created in the local runtime's account."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "MOTO_ACCOUNT_ID": LOCAL_ACCOUNT_ID,
    }
    if "TMPDIR" in os.environ:
        env["TMPDIR"] = os.environ["TMPDIR"]
    return env


def handler_environment(url: str, credentials: Credentials) -> dict[str, str]:
    """What a handler's process needs to reach the local AWS services with an AWS SDK:
    botocore and the AWS SDK for JavaScript v3 both read AWS_ENDPOINT_URL."""
    return {"AWS_ENDPOINT_URL": url, **credentials.environment()}


def _terminate(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.kill(pid, signal.SIGTERM)
