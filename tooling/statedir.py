"""The service's state folder, `.tool/`, where every file the toolkit writes for a service goes.

Every such path is built by `state_path` (or `inside`, for a folder given by the caller), which
resolves it, symlinks included, and refuses one that would land outside the folder: names from
serverless.yml and the command line are checked when the service is loaded (tooling.names), and
this is the second line. Looking creates nothing; what writes creates its folders 0700
(`private_parents`), and the SQLite store is 0600 (`private_file`): they hold task tokens,
deployed code and the functions' configurations, `${env:}` values included. A `.tool` made
open to others (by an older version) is tightened when it is next used.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from tooling.errors import InputError

STATE_DIR = ".tool"
_PRIVATE_DIR = 0o700
_PRIVATE_FILE = 0o600


def state_dir(service_dir: Path) -> Path:
    """`<service_dir>/.tool`: refused if it is a link or a file; tightened to 0700 if it is a
    folder open to others; not created."""
    root = service_dir / STATE_DIR
    if root.is_symlink():
        raise InputError(
            f"{root} is a symbolic link (to {os.readlink(root)}); the toolkit keeps a service's "
            "state in a folder of its own",
            hint=f"remove the link; `{STATE_DIR}` is created again when needed",
        )
    if root.exists():
        if not root.is_dir():
            raise InputError(
                f"{root} exists and is not a folder",
                hint=f"move it away; the toolkit keeps its state in `{STATE_DIR}/`",
            )
        _tighten(root, _PRIVATE_DIR)
    return root


def state_path(service_dir: Path, *parts: str, create: bool = False) -> Path:
    """`<service_dir>/.tool/<parts...>`, checked to stay inside `.tool` (see `inside`); with
    `create`, its missing parent folders are made 0700."""
    path = inside(state_dir(service_dir), *parts)
    if create:
        private_parents(path)
    return path


def inside(folder: Path, *parts: str) -> Path:
    """`folder/<parts...>`, refused (InputError) unless it resolves to a path inside `folder`."""
    path = folder.joinpath(*parts)
    base = folder.resolve()
    resolved = path.resolve()
    if resolved == base or base not in resolved.parents:
        raise InputError(
            f"refusing to write {path}: it resolves to {resolved}, outside {base}",
            hint="names that become file names must not hold '/' or '..'; "
            f"check the links inside {folder}",
        )
    return path


def private_parents(path: Path) -> None:
    """Create the missing folders above `path`, each 0700 (`Path.mkdir(parents=True)` would
    give the ones above the last the default mode)."""
    missing = []
    parent = path.parent
    while not parent.exists():
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # made at the same time by another command
            folder.mkdir(mode=_PRIVATE_DIR)


def private_file(path: Path) -> None:
    """Create `path` readable and writable by its owner only (0600), or tighten it to that.
    SQLite gives its -wal and -shm files the mode of the database file."""
    private_parents(path)
    # Only a file created here is opened and closed: closing any descriptor of an SQLite file
    # drops the locks this process holds on it through its connections (POSIX locks).
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, _PRIVATE_FILE))
    for sibling in (path, *(path.with_name(path.name + s) for s in ("-wal", "-shm", "-journal"))):
        if sibling.exists():
            _tighten(sibling, _PRIVATE_FILE)


def _tighten(path: Path, mode: int) -> None:
    current = stat.S_IMODE(path.stat().st_mode)
    if current & ~mode:
        os.chmod(path, current & mode)
