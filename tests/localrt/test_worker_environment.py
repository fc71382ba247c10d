"""The caller's credentials are not readable by handlers: workers start with a scrubbed
environment, detached from the `tool` command, and the command hides its own environment."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tooling.backends.local import RESIDENT_ENTRY
from tooling.processes import worker_environment

pytestmark = pytest.mark.slow  # end-to-end: `make test` runs it, `make test-fast` does not

SENTINEL = "caller-secret-7f3a9c"

WALKER = """
import os


def _environ(pid):
    with open(f"/proc/{pid}/environ", "rb") as f:
        return dict(
            item.split(b"=", 1) for item in f.read().split(b"\\0") if b"=" in item
        )


def _parent(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def _name(pid):
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read().replace(b"\\0", b" ").decode(errors="replace")[:120]


def handler(event, context):
    chain, found, unreadable = [], [], []
    pid = os.getppid()
    while pid > 0:
        chain.append({"pid": pid, "cmd": _name(pid)})
        try:
            env = _environ(pid)
        except PermissionError:
            unreadable.append(pid)
        else:
            for key, value in env.items():
                if any(s.encode() in value for s in event["sentinels"]) or key.startswith(
                    b"AWS_SECRET"
                ):
                    found.append({"pid": pid, "variable": key.decode()})
        pid = _parent(pid)
    return {"chain": chain, "found": found, "unreadable": unreadable}
"""
SERVERLESS = """\
service: walker
provider:
  name: aws
  runtime: python3.12
functions:
  walk:
    handler: walker.handler
stepFunctions:
  stateMachines:
    m:
      definition:
        StartAt: Walk
        States:
          Walk:
            Type: Task
            Resource: {"Fn::GetAtt": [walk, Arn]}
            End: true
"""


def test_the_worker_environment_keeps_what_the_runtime_needs_only() -> None:
    caller = {
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "Europe/Paris",
        "TMPDIR": "/tmp",
        "PYTHONPATH": "/src",
        "TOOL_TARGET": "local",
        "AWS_ACCESS_KEY_ID": "AKIA...",
        "AWS_SECRET_ACCESS_KEY": SENTINEL,
        "AWS_SESSION_TOKEN": "t",
        "AWS_PROFILE": "prod",
        "GITHUB_TOKEN": "ghp_x",
        "MY_SECRET": "s",
        "SSH_AUTH_SOCK": "/run/agent",
    }
    assert worker_environment(caller) == {
        "PATH": "/usr/bin",
        "HOME": "/home/me",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TZ": "Europe/Paris",
        "TMPDIR": "/tmp",
        "PYTHONPATH": "/src",
        "TOOL_TARGET": "local",
    }
    assert worker_environment(caller, {"AWS_REGION": "eu-west-1"})["AWS_REGION"] == "eu-west-1"


def tool_command() -> list[str]:
    return [str(Path(sys.executable).parent / "tool")]


@pytest.mark.parametrize("resident", ["1", "0"], ids=["resident-runtime", "worker-started-here"])
def test_a_handler_finds_no_caller_secret_in_any_ancestor(tmp_path: Path, resident: str) -> None:
    folder = tmp_path / "walker"
    folder.mkdir()
    (folder / "walker.py").write_text(WALKER)
    (folder / "serverless.yml").write_text(SERVERLESS)
    secrets = [SENTINEL, SENTINEL + "-second-caller"]
    (folder / "in.json").write_text(json.dumps({"sentinels": secrets}))
    # Two callers with secrets of their own; with the resident runtime, the second one's worker
    # is forked by the resident runtime the first one's command started.
    for secret in secrets:
        env = {
            **os.environ,
            "AWS_ACCESS_KEY_ID": "AKIACALLERKEY",
            "AWS_SECRET_ACCESS_KEY": secret,
            "GITHUB_TOKEN": secret,
            "TOOL_RESIDENT": resident,
        }
        for args in (["deploy"], ["invoke", "--input", "in.json", "--json"]):
            done = subprocess.run(
                [*tool_command(), *args],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout)["output"]
        assert result["found"] == [], result
        # The handler's parent is the worker; above it no `tool` command, up to init.
        chain = result["chain"]
        if resident == "1":
            assert RESIDENT_ENTRY in chain[0]["cmd"]  # a fork of the one below
            assert RESIDENT_ENTRY in chain[1]["cmd"]
        else:
            assert "tooling.localrt.worker" in chain[0]["cmd"]
        assert not any("bin/tool" in link["cmd"] for link in chain), chain


def test_hidden_process_environment_is_unreadable_by_the_same_user(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # Root reads any process: act as another user. Changing user makes a process
        # non-dumpable; a process that user started itself is dumpable: restore that first.
        prefix = (
            "import ctypes, os; os.setgid(4242); os.setuid(4242)\n"
            "assert ctypes.CDLL(None).prctl(4, 1, 0, 0, 0) == 0\n"
        )
    else:
        prefix = ""
    hider = prefix + (
        "import sys, time\n"
        "from tooling.processes import hide_from_other_processes\n"
        "print(hide_from_other_processes(), flush=True)\n"
        "time.sleep(60)\n"
    )
    reader = prefix + (
        "import sys\n"
        "try:\n"
        "    open(f'/proc/{sys.argv[1]}/environ', 'rb').read()\n"
        "    print('READ')\n"
        "except PermissionError:\n"
        "    print('DENIED')\n"
    )
    env = {**os.environ, "AWS_SECRET_ACCESS_KEY": SENTINEL}
    hidden = subprocess.Popen(
        [sys.executable, "-c", "import tooling.processes, ctypes\n" + hider],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert hidden.stdout is not None
        assert hidden.stdout.readline().strip() == "True"
        seen = subprocess.run(
            [sys.executable, "-c", reader, str(hidden.pid)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert seen.stdout.strip() == "DENIED"
    finally:
        hidden.send_signal(signal.SIGKILL)
        hidden.wait()
    # A process that does not hide is readable: the probe itself works.
    plain = subprocess.Popen(
        [sys.executable, "-c", prefix + "import time; print('up', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert plain.stdout is not None and plain.stdout.readline().strip() == "up"
        seen = subprocess.run(
            [sys.executable, "-c", reader, str(plain.pid)],
            capture_output=True,
            text=True,
            check=True,
        )
        assert seen.stdout.strip() == "READ"
    finally:
        plain.send_signal(signal.SIGKILL)
        plain.wait()


def test_hiding_is_harmless_for_the_process_itself() -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import os, subprocess, sys\n"
            "from tooling.processes import hide_from_other_processes\n"
            "assert hide_from_other_processes()\n"
            "open(f'/proc/{os.getpid()}/environ', 'rb').read()\n"  # itself: still readable
            "print(subprocess.run([sys.executable, '-c', 'print(1)'], capture_output=True,"
            " text=True).stdout.strip())\n",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (done.returncode, done.stdout.strip()) == (0, "1"), done.stderr


def test_a_detached_process_is_in_a_session_of_its_own_and_seen_ending(tmp_path: Path) -> None:
    from tooling.backends.local import _pid_alive
    from tooling.processes import spawn_detached

    log = tmp_path / "out.log"
    with open(log, "wb") as output:
        pid = spawn_detached(
            [
                sys.executable,
                "-c",
                "import os, sys, time; print(os.getppid(), os.getsid(0));"
                " sys.stdout.flush(); time.sleep(0.3)",
            ],
            env=worker_environment(),
            cwd=tmp_path,
            output=output,
        )
    assert os.getpgid(pid) == pid and _pid_alive(pid)
    deadline = time.monotonic() + 10
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.01)
    # Ended and seen as ended even before init reaps it (some inits reap every few seconds).
    assert not _pid_alive(pid) and time.monotonic() < deadline
    parent, session = map(int, log.read_text().split())
    assert parent != os.getpid() and session == pid
