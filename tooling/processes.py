"""How the toolkit's processes keep the caller's secrets away from handlers.

Handlers run as the user, without a sandbox, and any process can read the environment a process
of the same user started with (`/proc/<pid>/environ`). So:

- an execution's worker starts with `worker_environment()`: what the runtime needs (PATH, HOME,
  locale, TZ, temporary folder, Python's settings, the toolkit's `TOOL_*`), never the caller's
  AWS_* credentials or other variables; the local target needs no AWS credentials (a worker that
  ever needs some gets them passed explicitly, by name, as `extra`);
- it is started detached (`spawn_detached`): a short-lived launcher forks it and exits, so the
  worker's parent is init (or the nearest subreaper), not the `tool` command that holds the
  credentials; a handler walking up its ancestors finds the worker and then init;
- the `tool` command itself asks the kernel (`hide_from_other_processes`) to make its memory and
  environment unreadable by other processes of the user (PR_SET_DUMPABLE 0, as ssh-agent does):
  that covers `tool run`, whose handlers are its own children. It does not stop root.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from tooling.errors import ToolError

_KEPT = frozenset(
    {
        "PATH",
        "HOME",
        "USER",
        "LOGNAME",
        "LANG",
        "LANGUAGE",
        "TZ",
        "TMPDIR",
        "TEMP",
        "TMP",
        "PYTHONPATH",
        "PYTHONHOME",
        "PYTHONUTF8",
        "PYTHONIOENCODING",
        "PYTHONHASHSEED",
        "PYTHONDONTWRITEBYTECODE",
        "VIRTUAL_ENV",
        "SYSTEMROOT",
    }
)
_KEPT_PREFIXES = ("LC_", "TOOL_")

# The launcher: fork, let the child lead a session of its own and report its pid, then exit so
# that the child is reparented away from the caller. Runs with -I -S: no site, no user paths.
_LAUNCHER = """\
import os, sys
fd = int(sys.argv[1])
if os.fork() == 0:
    os.setsid()
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.execv(sys.argv[2], sys.argv[2:])
os._exit(0)
"""

_PR_SET_DUMPABLE = 4


def worker_environment(
    source: Mapping[str, str] | None = None, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment an execution's worker starts with: `source` (os.environ) filtered down to
    what the runtime needs, plus `extra`, named explicitly by the caller."""
    source = os.environ if source is None else source
    kept = {
        name: value
        for name, value in source.items()
        if name in _KEPT or name.startswith(_KEPT_PREFIXES)
    }
    return {**kept, **(extra or {})}


def spawn_detached(
    argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, output: IO[bytes]
) -> int:
    """Start `argv` detached from this process (parent: init), in a session of its own (its pid
    is its process group), with `env` only; its stdout and stderr go to `output`. Its pid."""
    import subprocess  # here: `tool` loads this module at start-up, for the line below

    read_end, write_end = os.pipe()
    try:
        launcher = subprocess.Popen(
            [sys.executable, "-I", "-S", "-c", _LAUNCHER, str(write_end), *argv],
            env=dict(env),
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=output,
            pass_fds=(write_end,),
        )
    except BaseException:
        os.close(read_end)
        raise
    finally:
        os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        reported = reader.read()  # EOF once the launcher and the child have let go of the pipe
    launcher.wait()
    if not reported.isdigit():
        raise ToolError(
            f"could not start {argv[0]} (the launcher exited with status {launcher.returncode})"
        )
    return int(reported)


def is_zombie(pid: int) -> bool:
    """Whether `pid` has ended and waits to be reaped (Linux /proc; False where unknown). A
    detached worker is reaped by init, which some inits do only every few seconds."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rpartition(b")")[2].split()[:1] == [b"Z"]
    except OSError:
        return False


def hide_from_other_processes() -> bool:
    """Make this process's memory and /proc environment unreadable by other processes of the
    user (Linux PR_SET_DUMPABLE 0; reset by exec, so its children are unaffected). False where
    the kernel offers no such switch."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # here: only the `tool` command needs it

    try:
        libc = ctypes.CDLL(None, use_errno=True)  # the interpreter's own libc symbols
        return int(libc.prctl(_PR_SET_DUMPABLE, 0, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False
