"""Every path the toolkit writes stays inside the service's `.tool/`, which only its owner can
read: the folder 0700, the store 0600."""

from __future__ import annotations

import dataclasses
import os
import shutil
import sqlite3
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tooling.backends.local import LocalBackend
from tooling.cli import main
from tooling.config.service import load_service
from tooling.deploy.record import record_for
from tooling.errors import InputError
from tooling.package import build_package
from tooling.statedir import inside, private_file, state_dir, state_path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_inside_refuses_every_way_out(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    folder.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (folder / "link").symlink_to(tmp_path / "elsewhere")
    for parts in (("..", "x"), ("a", "..", "..", "x"), ("/etc/passwd",), ("link", "x"), ("",)):
        with pytest.raises(InputError, match="outside"):
            inside(folder, *parts)
    assert not (tmp_path / "x").exists() and not (folder / "a").exists()
    assert inside(folder, "a", "b.json") == folder / "a" / "b.json"
    assert not (folder / "a").exists()  # checking creates nothing
    assert inside(folder, "a", "..", "c.json") == folder / "a" / ".." / "c.json"


def test_the_state_folder_is_created_0700_only_to_write_and_tightened(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        root = state_dir(tmp_path)
        assert root == tmp_path / ".tool" and not root.exists()  # looking creates nothing
        assert state_path(tmp_path, "deployed", "local-dev.json") == root / "deployed" / (
            "local-dev.json"
        )
        assert not root.exists()
        state_path(tmp_path, "deployed", "local-dev.json", create=True)
        assert mode(root) == 0o700 and mode(root / "deployed") == 0o700
        root.chmod(0o755)  # made by an older version
        state_dir(tmp_path)
        assert mode(root) == 0o700
    finally:
        os.umask(old)


def test_a_tool_folder_that_is_a_link_or_a_file_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "target"
    target.mkdir()
    service = tmp_path / "svc"
    service.mkdir()
    (service / ".tool").symlink_to(target)
    with pytest.raises(InputError, match="symbolic link"):
        state_path(service, "local.db")
    (service / ".tool").unlink()
    (service / ".tool").write_text("")
    with pytest.raises(InputError, match="not a folder"):
        state_dir(service)
    assert list(target.iterdir()) == []


def test_private_file_creates_0600_and_tightens_the_sqlite_siblings(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        db = tmp_path / "local.db"
        private_file(db)
        assert mode(db) == 0o600
        for path in (db, tmp_path / "local.db-wal", tmp_path / "local.db-shm"):
            path.touch()
            path.chmod(0o644)
        private_file(db)
        assert {mode(p) for p in tmp_path.iterdir()} == {0o600}
    finally:
        os.umask(old)


def test_the_deploy_record_path_is_checked_even_past_the_name_rules(service: Path) -> None:
    """The second line: a stage that reached the recorder unchecked still cannot escape."""
    loaded = load_service(service, env={})
    for stage in ("../../../../escaped", "/../../../x"):
        with pytest.raises(InputError, match="outside"):
            record_for(dataclasses.replace(loaded, stage=stage), "local", loaded.account_id)
    escaped = dataclasses.replace(loaded, service="../../../escaped")
    with pytest.raises(InputError, match="outside"):
        build_package(escaped, state_path(service, "build", create=True))
    assert sorted(p.name for p in service.parent.iterdir()) == ["service"]


def test_after_deploy_the_state_folder_is_0700_and_the_store_0600(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = os.umask(0o022)  # the usual umask: without the toolkit's care, 0755 and 0644
    try:
        assert main(["deploy"]) == 0, capsys.readouterr().err
        assert main(["invoke", "--input", "in.json"]) == 0, capsys.readouterr().err
    finally:
        os.umask(old)
    state = service / ".tool"
    assert mode(state) == 0o700
    stores = [p for p in state.iterdir() if p.name.startswith("local.db")]
    assert stores and {mode(p) for p in stores} == {0o600}, [(p, oct(mode(p))) for p in stores]


def test_an_existing_world_readable_store_is_tightened_when_opened(service: Path) -> None:
    state = service / ".tool"
    state.mkdir(mode=0o755)
    sqlite3.connect(state / "local.db").close()
    (state / "local.db").chmod(0o644)
    LocalBackend(service, "us-east-1")
    assert mode(state) == 0o700 and mode(state / "local.db") == 0o600


@pytest.fixture
def reachable_service(service: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the example service in a folder any user may pass through (0711), as a home
    folder often is; pytest's own temporary folders are 0700."""
    base = Path(tempfile.mkdtemp(prefix="tool-reachable-"))
    try:
        base.chmod(0o711)
        folder = base / "service"
        shutil.copytree(service, folder)
        folder.chmod(0o755)
        monkeypatch.chdir(folder)
        yield folder
    finally:
        shutil.rmtree(base)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as another user")
def test_another_user_cannot_read_the_store_or_the_state_folder(
    reachable_service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["deploy"]) == 0, capsys.readouterr().err
    probe = (
        "import os, sys\n"
        "os.setgid(4242); os.setuid(4242)\n"
        "for path in sys.argv[1:]:\n"
        "    try:\n"
        "        open(path, 'rb').read(16)\n"
        "        print('READ', path)\n"
        "    except PermissionError:\n"
        "        print('DENIED', path)\n"
    )
    store = reachable_service / ".tool" / "local.db"
    public = reachable_service / "in.json"  # readable: the probe itself works
    done = subprocess.run(
        [sys.executable, "-c", probe, str(store), str(public)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.splitlines() == [f"DENIED {store}", f"READ {public}"]


def test_links_planted_inside_the_state_folder_are_refused(
    service: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A `.tool/` that came with the project (a clone) cannot redirect the toolkit's writes."""
    outside = service.parent / "outside"
    outside.mkdir()
    victim = outside / "victim"
    victim.write_text("precious\n")
    state = service / ".tool"
    state.mkdir()
    (state / "local.db").symlink_to(victim)
    assert main(["deploy"]) == 2
    assert "outside" in capsys.readouterr().err
    (state / "local.db").unlink()
    (state / "deployed").symlink_to(outside, target_is_directory=True)
    assert main(["deploy"]) == 2
    assert "outside" in capsys.readouterr().err
    assert sorted(p.name for p in outside.iterdir()) == ["victim"]
    assert victim.read_text() == "precious\n"
