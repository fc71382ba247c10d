"""Processes of the local runtime: which are alive, and ending a handler's whole process tree.

A handler may start processes of its own, and those may leave its process group and session
(`setsid`, as daemons do) or outlive their parent. Two things find them all:
- every handler sandbox carries a marker in its environment (`_TOOL_SANDBOX=<owner>/<request>`),
  which its descendants inherit across fork and exec, even after setsid;
- the sandbox is a child subreaper (Linux), so descendants whose parent died stay below it, and
  walking the process table from it finds them too (even those that cleared their environment).
A sandbox dies with the thread that started it (PR_SET_PDEATHSIG), so a killed worker leaves no
handler running; what the handler started is ended by the marker, by whoever takes the run over.

Linux only (/proc and prctl); elsewhere a sandbox's process group is all that is ended.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

MARKER = "_TOOL_SANDBOX"
_PROC = Path("/proc")
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_MAX_ROUNDS = 20  # kill passes over the process table (a process may fork while we look)


def marker(owner: str, request_id: str) -> str:
    return f"{owner}/{request_id}"


@dataclass(frozen=True)
class ProcessInfo:
    pid: int
    ppid: int
    state: str
    started: int  # clock ticks after boot


def _stat(pid: int) -> ProcessInfo | None:
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError, NotADirectoryError):
        return None
    # pid (comm) state ppid ... field 22 starttime; comm may hold spaces and parentheses.
    fields = text.rsplit(")", 1)[1].split()
    return ProcessInfo(pid, int(fields[1]), fields[0], int(fields[19]))


def has_proc() -> bool:
    return (_PROC / "self" / "stat").exists()


def process_start(pid: int) -> int | None:
    """When `pid` started (clock ticks after boot), to tell it from a later process that got
    the same pid; None without /proc."""
    info = _stat(pid)
    return info.started if info else None


def process_alive(pid: int, started: int | None = None) -> bool:
    """Whether `pid` runs (a zombie does not), and is the process that started at `started`."""
    if has_proc():
        info = _stat(pid)
        if info is None or info.state in ("Z", "X", "x"):
            return False
        return started is None or info.started == started
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _processes() -> list[ProcessInfo]:
    found = []
    with contextlib.suppress(FileNotFoundError):
        for entry in os.scandir(_PROC):
            if entry.name.isdigit():
                info = _stat(int(entry.name))
                if info is not None and info.state not in ("Z", "X", "x"):
                    found.append(info)
    return found


def _carries(pid: int, prefix: bytes) -> bool:
    try:
        environ = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return False
    return any(item.startswith(prefix) for item in environ.split(b"\0"))


def _doomed(root: int | None, prefix: bytes, spare: set[int]) -> list[int]:
    """Live processes below `root` (by parent links) or carrying the marker `prefix`."""
    processes = _processes()
    children: dict[int, list[int]] = {}
    for info in processes:
        children.setdefault(info.ppid, []).append(info.pid)
    found: set[int] = set()
    if root is not None:
        stack = [root]
        while stack:
            for child in children.get(stack.pop(), []):
                if child not in found:
                    found.add(child)
                    stack.append(child)
    for info in processes:
        if info.pid not in found and _carries(info.pid, prefix):
            found.add(info.pid)
    return sorted(found - spare)


def end_tree(root: int | None, marker_prefix: str, spare: Collection[int] = ()) -> int:
    """SIGKILL every process below `root` and every process whose environment carries a
    marker starting with `marker_prefix` (but none of `spare`), until none is left. How many
    were killed."""
    if not has_proc():
        return 0
    prefix = f"{MARKER}={marker_prefix}".encode()
    spare = {os.getpid(), *spare}
    killed = 0
    for _ in range(_MAX_ROUNDS):
        doomed = _doomed(root, prefix, spare)
        if not doomed:
            break
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
                killed += 1
    return killed


def _children(pid: int) -> list[int] | None:
    """The children of `pid`, from its threads' /proc children lists (zombies included); None
    where the kernel keeps no such lists."""
    found: list[int] = []
    try:
        tasks = os.listdir(_PROC / str(pid) / "task")
    except (FileNotFoundError, ProcessLookupError, NotADirectoryError, PermissionError):
        return []
    for task in tasks:
        try:
            found += map(int, (_PROC / str(pid) / "task" / task / "children").read_text().split())
        except FileNotFoundError:
            if not (_PROC / str(pid) / "task" / task).exists():
                continue  # the thread ended while we looked
            return None  # a kernel without CONFIG_PROC_CHILDREN
        except (ProcessLookupError, PermissionError):
            continue
    return found


def end_descendants(root: int) -> list[int] | None:
    """SIGKILL every live process below `root`, which must be a child subreaper that stays
    (frozen) as it is: then every process it or its descendants started is below it, even
    after setsid or the death of its parent, so walking down from it finds all of them, at a
    fraction of the cost of reading the whole process table. The children of `root` that were
    killed (left for it to reap); None where the kernel keeps no children lists (use end_tree)."""
    direct: set[int] = set()
    for _ in range(_MAX_ROUNDS):
        doomed: list[int] = []
        stack = [root]
        while stack:
            parent = stack.pop()
            children = _children(parent)
            if children is None:
                return None
            for child in children:
                info = _stat(child)
                if info is None or info.state in ("Z", "X", "x"):
                    continue  # ended already (a zombie has no children of its own)
                doomed.append(child)
                if parent == root:
                    direct.add(child)
                stack.append(child)
        if not doomed:
            break
        for pid in doomed:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signal.SIGKILL)
    return sorted(direct)


def is_stopped(pid: int) -> bool:
    """Whether `pid` is stopped by a signal (or gone: nothing of it runs either)."""
    info = _stat(pid)
    return info is None or info.state in ("T", "t", "Z", "X", "x")


def _prctl(option: int, value: int) -> bool:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return int(libc.prctl(option, value, 0, 0, 0)) == 0
    except (OSError, AttributeError):
        return False


def die_with_parent() -> bool:
    """SIGKILL this process when the thread that started it ends (Linux)."""
    return _prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def adopt_orphans() -> bool:
    """Become the parent of descendants whose own parent dies (Linux child subreaper)."""
    return _prctl(_PR_SET_CHILD_SUBREAPER, 1)
