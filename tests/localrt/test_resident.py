"""The resident runtime (tooling/localrt/resident.py): one process per service folder that forks
execution workers; reserved spares, crash safety when it or a spare dies at any moment, the
scrubbed environment, and its socket's permissions."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.localrt import resident
from tooling.localrt.resident import ResidentRuntime

ROOT = Path(__file__).resolve().parents[2]
SERVICE_FILES = ("serverless.yml", "handler.py", "statemachine.asl.json", "in.json")
TOOL = str(Path(sys.executable).with_name("tool"))
MACHINE_ARN = "arn:aws:states:us-east-1:000000000000:stateMachine:hello-loop-dev-loop"
WANTED = {"value1": "value1", "value2": "value2", "count": 5}

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="Linux /proc only")


@pytest.fixture
def folder(tmp_path: Path) -> Iterator[Path]:
    service = tmp_path / "service"
    service.mkdir()
    for name in SERVICE_FILES:
        shutil.copy(ROOT / name, service / name)
    deployed = subprocess.run([TOOL, "deploy"], cwd=service, capture_output=True, text=True)
    assert deployed.returncode == 0, deployed.stderr
    yield service
    ResidentRuntime(service / ".tool").stop()


def run_to_end(backend: LocalBackend, name: str | None = None) -> dict[str, object]:
    started = backend.start_execution(
        MACHINE_ARN, name or str(uuid.uuid4()), (ROOT / "in.json").read_text()
    )
    deadline = time.monotonic() + 60
    while True:
        described = backend.describe_execution(started["executionArn"])
        if described["status"] != "RUNNING" or time.monotonic() > deadline:
            return described
        backend.wait_for_change(started["executionArn"], 0.2)


def resident_pid(tool_dir: Path) -> int | None:
    inode = (tool_dir / "runtime.lock").stat().st_ino
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if len(fields) > 5 and fields[5].endswith(f":{inode}"):
            return int(fields[4])
    return None


def parent_of(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def test_a_started_worker_is_forked_by_the_folders_resident_runtime(folder: Path) -> None:
    backend = LocalBackend(folder, "us-east-1")
    first = run_to_end(backend)
    second = run_to_end(backend)

    assert json.loads(str(first["output"]))["taskresult"] == WANTED
    assert json.loads(str(second["output"]))["taskresult"] == WANTED
    tool_dir = folder / ".tool"
    pid = resident_pid(tool_dir)
    assert pid is not None
    assert stat.S_IMODE((tool_dir / "runtime.sock").stat().st_mode) == 0o600
    assert stat.S_IMODE(tool_dir.stat().st_mode) == 0o700
    record = backend.store.get_execution(str(second["executionArn"]))
    assert record is not None and record.resumes == 0
    # The worker was the resident runtime's child (it has exited since; its record says who).
    assert record.worker_pid is not None and record.worker_pid != pid


def test_a_local_deploy_starts_the_resident_runtime_ahead_for_the_first_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOL_RESIDENT_AHEAD", "1")
    service = tmp_path / "ahead"
    service.mkdir()
    for name in SERVICE_FILES:
        shutil.copy(ROOT / name, service / name)
    deployed = subprocess.run([TOOL, "deploy"], cwd=service, capture_output=True, text=True)
    assert deployed.returncode == 0, deployed.stderr
    tool_dir = service / ".tool"
    deadline = time.monotonic() + 30
    while not ResidentRuntime(tool_dir).running() and time.monotonic() < deadline:
        time.sleep(0.05)
    ahead = resident_pid(tool_dir)
    assert ahead is not None  # started by the deploy, before any run

    described = run_to_end(LocalBackend(service, "us-east-1"))
    assert described["status"] == "SUCCEEDED"
    assert resident_pid(tool_dir) == ahead  # the first run used it: no second one started
    again = subprocess.run([TOOL, "deploy"], cwd=service, capture_output=True, text=True)
    assert again.returncode == 0 and resident_pid(tool_dir) == ahead  # one per folder

    # tool remove ends it with what it served: nothing of the service keeps running.
    removed = subprocess.run([TOOL, "remove"], cwd=service, capture_output=True, text=True)
    assert removed.returncode == 0, removed.stderr
    assert "stopped the folder's resident runtime" in removed.stderr
    assert not ResidentRuntime(tool_dir).running()


def test_a_dry_run_or_an_aws_deploy_starts_no_resident_runtime(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOL_RESIDENT_AHEAD", "1")
    service = tmp_path / "dry"
    service.mkdir()
    for name in SERVICE_FILES:
        shutil.copy(ROOT / name, service / name)
    planned = subprocess.run(
        [TOOL, "deploy", "--dry-run"], cwd=service, capture_output=True, text=True
    )
    assert planned.returncode == 0, planned.stderr
    assert not (service / ".tool" / "runtime.lock").exists()


def test_without_a_resident_runtime_the_worker_is_started_as_before(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOL_RESIDENT", "0")
    described = run_to_end(LocalBackend(folder, "us-east-1"))

    assert described["status"] == "SUCCEEDED"
    assert not (folder / ".tool" / "runtime.sock").exists()


def test_a_killed_resident_runtime_is_started_again_by_the_next_start(folder: Path) -> None:
    backend = LocalBackend(folder, "us-east-1")
    run_to_end(backend)
    tool_dir = folder / ".tool"
    first = resident_pid(tool_dir)
    assert first is not None
    os.kill(first, signal.SIGKILL)

    described = run_to_end(LocalBackend(folder, "us-east-1"))

    assert described["status"] == "SUCCEEDED"
    second = resident_pid(tool_dir)
    assert second is not None and second != first
    assert (tool_dir / "runtime.sock").exists()  # the dead one's socket file was replaced


def test_a_resident_runtime_started_with_another_environment_is_replaced(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = LocalBackend(folder, "us-east-1")
    run_to_end(backend)
    tool_dir = folder / ".tool"
    first = resident_pid(tool_dir)
    # A worker would see this PATH: the resident runtime started with the old one cannot serve.
    monkeypatch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin:/opt/other")

    described = run_to_end(LocalBackend(folder, "us-east-1"))

    assert described["status"] == "SUCCEEDED"
    second = resident_pid(tool_dir)
    assert second is not None and second != first
    environ = Path(f"/proc/{second}/environ").read_bytes().split(b"\0")
    assert b"PATH=/usr/local/bin:/usr/bin:/bin:/opt/other" in environ


def test_a_spare_given_up_before_it_was_told_an_execution_exits(folder: Path) -> None:
    tool_dir = folder / ".tool"
    runtime = ResidentRuntime(tool_dir)
    reservation = runtime.reserve(tool_dir / "local.db")
    assert reservation is not None and reservation.pid > 0
    assert parent_of(reservation.pid) == resident_pid(tool_dir)

    reservation.cancel()

    deadline = time.monotonic() + 10
    while Path(f"/proc/{reservation.pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(f"/proc/{reservation.pid}").exists()


def test_a_spare_that_does_not_answer_is_replaced_and_cannot_run_the_execution(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The starter told the spare its execution and heard nothing back: the spare may have got
    the request or not. The starter gives the execution a new owner and starts the worker
    itself; the spare, when it wakes, cannot claim the execution."""
    backend = LocalBackend(folder, "us-east-1")
    run_to_end(backend)  # the resident runtime runs and has a spare
    monkeypatch.setattr(resident, "ANSWER_SECONDS", 1.0)
    stopped: list[int] = []
    reserve = ResidentRuntime.reserve

    def reserve_then_freeze(self: ResidentRuntime, store: Path) -> resident.Reservation | None:
        reservation = reserve(self, store)
        assert reservation is not None
        os.kill(reservation.pid, signal.SIGSTOP)  # it answers nothing from now on
        stopped.append(reservation.pid)
        return reservation

    monkeypatch.setattr(ResidentRuntime, "reserve", reserve_then_freeze)
    try:
        described = run_to_end(backend, name="frozen-spare")
    finally:
        for pid in stopped:
            os.kill(pid, signal.SIGCONT)

    assert described["status"] == "SUCCEEDED"
    assert json.loads(str(described["output"]))["taskresult"] == WANTED
    record = backend.store.get_execution(str(described["executionArn"]))
    assert record is not None and record.resumes == 1  # the new owner took it over
    history = backend.history_since(str(described["executionArn"]), 0)
    assert [event["type"] for event in history].count("ExecutionStarted") == 1
    # The thawed spare read its request, could not claim the execution, and exited.
    deadline = time.monotonic() + 10
    while Path(f"/proc/{stopped[0]}").exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not Path(f"/proc/{stopped[0]}").exists()


def test_a_request_for_another_folders_store_is_refused(folder: Path, tmp_path: Path) -> None:
    tool_dir = folder / ".tool"
    ResidentRuntime(tool_dir).reserve(tool_dir / "local.db")  # it runs
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.connect(str(tool_dir / "runtime.sock"))
        request = {
            "op": "reserve",
            "store": str(tmp_path / "elsewhere" / "local.db"),
            "toolkit": resident.toolkit_identity(),
            "environment": resident.environment_digest(resident._worker_environment()),
        }
        sock.sendall((json.dumps(request) + "\n").encode())
        sock.settimeout(10)
        answer = json.loads(sock.recv(4096))
    assert answer == {"refused": "bad request"}


def test_the_code_on_disk_changing_makes_the_runtime_stale(tmp_path: Path) -> None:
    module = tmp_path / "stale_probe_module.py"
    module.write_text("VALUE = 1\n")
    sys.path.insert(0, str(tmp_path))
    try:
        __import__("stale_probe_module")
        before = resident._loaded_sources()
        assert str(module) in before
        time.sleep(0.01)
        module.write_text("VALUE = 2  # changed\n")
        assert resident._loaded_sources() != before
    finally:
        sys.path.remove(str(tmp_path))
        sys.modules.pop("stale_probe_module", None)


def test_a_folder_path_too_long_for_a_socket_address_still_gets_a_resident_runtime(
    tmp_path: Path,
) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    deep.mkdir(parents=True)
    for name in SERVICE_FILES:
        shutil.copy(ROOT / name, deep / name)
    deployed = subprocess.run([TOOL, "deploy"], cwd=deep, capture_output=True, text=True)
    assert deployed.returncode == 0, deployed.stderr
    assert len(str(deep / ".tool" / "runtime.sock")) > 108
    try:
        described = run_to_end(LocalBackend(deep, "us-east-1"))
        assert described["status"] == "SUCCEEDED"
        assert ResidentRuntime(deep / ".tool").running()
    finally:
        ResidentRuntime(deep / ".tool").stop()


def test_an_idle_resident_runtime_ends_by_itself(
    folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TOOL_RESIDENT_IDLE_SECONDS", "0.5")
    run_to_end(LocalBackend(folder, "us-east-1"))
    pid = resident_pid(folder / ".tool")
    assert pid is not None

    deadline = time.monotonic() + 20
    while resident_pid(folder / ".tool") is not None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert resident_pid(folder / ".tool") is None
    assert not (folder / ".tool" / "runtime.sock").exists()


def test_a_store_replaced_while_the_spare_waited_is_the_one_its_worker_uses(folder: Path) -> None:
    """`.tool/local.db` deleted and deployed again (README: the next deploy repairs it): the
    spare forked before opened the old file; its worker must run the new file's execution."""
    run_to_end(LocalBackend(folder, "us-east-1"))  # the resident runtime and a spare wait
    time.sleep(0.5)
    for suffix in ("", "-wal", "-shm"):
        (folder / ".tool" / f"local.db{suffix}").unlink(missing_ok=True)
    deployed = subprocess.run([TOOL, "deploy"], cwd=folder, capture_output=True, text=True)
    assert deployed.returncode == 0, deployed.stderr

    backend = LocalBackend(folder, "us-east-1")
    described = run_to_end(backend)

    assert described["status"] == "SUCCEEDED"
    record = backend.store.get_execution(str(described["executionArn"]))
    assert record is not None and record.resumes == 0  # run by the spare, not taken over later


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to connect as another user")
def test_another_user_gets_nothing_even_where_the_socket_was_made_reachable(folder: Path) -> None:
    tool_dir = folder / ".tool"
    ResidentRuntime(tool_dir).reserve(tool_dir / "local.db")  # it runs
    # Loosened by hand: the folder and the socket open to everyone.
    tool_dir.chmod(0o755)
    (tool_dir / "runtime.sock").chmod(0o666)
    request = {
        "op": "reserve",
        "store": str(tool_dir / "local.db"),
        "toolkit": resident.toolkit_identity(),
        "environment": resident.environment_digest(resident._worker_environment()),
    }
    directory = os.open(tool_dir, os.O_RDONLY | os.O_DIRECTORY)
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # another user (nobody), reaching the socket through the open folder
        answer = b"{}"
        try:
            os.close(read_end)
            os.setgid(65534)
            os.setuid(65534)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(f"/proc/self/fd/{directory}/runtime.sock")
                with contextlib.suppress(BrokenPipeError):  # it may answer before reading
                    sock.sendall((json.dumps(request) + "\n").encode())
                sock.settimeout(10)
                answer = sock.recv(4096) or b"{}"
        except BaseException as exc:  # noqa: BLE001 - said to the parent
            answer = json.dumps({"error": repr(exc)}).encode()
        finally:
            os.write(write_end, answer)
            os._exit(0)
    os.close(write_end)
    os.close(directory)
    os.waitpid(pid, 0)
    with os.fdopen(read_end, "rb") as pipe:
        answer = json.loads(pipe.read())
    assert answer == {"refused": "another user"}


def test_a_spare_forked_before_the_toolkit_changed_runs_nothing(folder: Path) -> None:
    """A source file of a module the resident runtime loaded changes: the next start finds it
    stale, it exits with its spare, and a fresh one (with the new code) forks the worker."""
    backend = LocalBackend(folder, "us-east-1")
    run_to_end(backend)
    time.sleep(0.5)  # the next spare is forked
    tool_dir = folder / ".tool"
    first = resident_pid(tool_dir)
    assert first is not None
    spares = [
        int(child) for child in Path(f"/proc/{first}/task/{first}/children").read_text().split()
    ]
    assert spares
    source = Path(resident.__file__).with_name("runtime_hint.py")
    before = source.stat()
    os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns + 1_000_000_000))
    try:
        described = run_to_end(LocalBackend(folder, "us-east-1"))
    finally:
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))

    assert described["status"] == "SUCCEEDED"
    second = resident_pid(tool_dir)
    assert second is not None and second != first
    record = backend.store.get_execution(str(described["executionArn"]))
    assert record is not None and record.resumes == 0
    assert record.worker_pid not in spares
    # The stale runtime and its spare exit (the spare on its channel's end of file).
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{pid}").exists() for pid in [first, *spares]):
        assert time.monotonic() < deadline, "the stale runtime or its spare did not exit"
        time.sleep(0.05)
