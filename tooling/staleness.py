"""Has the service changed since it was deployed? `tool deploy` records the files it deployed
from (the package's files, serverless.yml, the definition files) with their size, modification
time and SHA-256; `tool invoke` compares the files with that record before it starts a run, so
a run of old code after an edit does not go unnoticed.

The comparison stats each recorded file (cheap) and hashes only those whose size or time
changed, so `touch` alone is no change. A file the package would newly include is not seen
unless a recorded file changed too (a new module is used by an edited one). A deploy made
before this record existed leaves nothing to compare: no warning.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tooling.errors import BadInput

if TYPE_CHECKING:
    from tooling.config.service import ServiceConfig

RECORD_VERSION = 1


def record_path(service: ServiceConfig, target: str, create: bool = False) -> Path:
    """`.tool/sources/<target>-<stage>-<region>.json` (checked by tooling.statedir)."""
    from tooling.statedir import state_path

    name = f"{target}-{service.stage}-{service.region}.json"
    return state_path(service.directory, "sources", name, create=create)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def source_files(service: ServiceConfig, package_files: tuple[str, ...]) -> list[str]:
    """What a deploy is made of, relative to the service folder, sorted."""
    names = set(package_files)
    names.add(service.config_file.relative_to(service.directory).as_posix())
    for machine in service.state_machines.values():
        if machine.source is not None and machine.source.file:
            names.add(machine.source.file)
    return sorted(name for name in names if (service.directory / name).is_file())


def record_sources(service: ServiceConfig, target: str, package_files: tuple[str, ...]) -> None:
    """Write the record after a successful deploy (replaced whole: write, then rename)."""
    files: dict[str, Any] = {}
    for name in source_files(service, package_files):
        path = service.directory / name
        stat = path.stat()
        files[name] = {"size": stat.st_size, "mtimeNs": stat.st_mtime_ns, "sha256": _digest(path)}
    target_path = record_path(service, target, create=True)
    temporary = target_path.with_name(f"{target_path.name}.{uuid.uuid4().hex}.tmp")
    temporary.write_text(json.dumps({"version": RECORD_VERSION, "files": files}, indent=1))
    os.replace(temporary, target_path)


def changed_sources(service: ServiceConfig, target: str) -> list[str] | None:
    """Files changed (or gone) since the last deploy to this target, stage and region; None
    when no deploy was recorded."""
    try:
        record = json.loads(record_path(service, target).read_text())
        files = record["files"]
    except (OSError, ValueError, KeyError, TypeError, BadInput):
        return None
    changed = []
    for name, seen in files.items():
        path = service.directory / name
        try:
            stat = path.stat()
        except OSError:
            changed.append(name)
            continue
        if stat.st_size == seen.get("size") and stat.st_mtime_ns == seen.get("mtimeNs"):
            continue
        with contextlib.suppress(OSError):
            if stat.st_size == seen.get("size") and _digest(path) == seen.get("sha256"):
                continue
        changed.append(name)
    return changed
