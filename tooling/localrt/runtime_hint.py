"""Which function a folder's last run started first: the resident runtime's next spare worker
starts that function's runtime process ahead of time (tooling/localrt/resident.py). A wrong or
stale guess costs one process that nobody uses, nothing else."""

from __future__ import annotations

import json
import os
from pathlib import Path

HINT_NAME = "runtime-hint.json"


def write_hint(tool_dir: Path, function_arn: str, region: str) -> None:
    """Remember the function a run started first (atomically, 0600, inside `.tool`)."""
    from tooling.statedir import inside

    target = inside(tool_dir, HINT_NAME)
    staging = inside(tool_dir, f"{HINT_NAME}.{os.getpid()}.tmp")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    with open(fd, "w") as out:
        json.dump({"function": function_arn, "region": region}, out)
    os.replace(staging, target)


def read_hint(tool_dir: Path) -> tuple[str, str] | None:
    """(function ARN, region) of the last hint; None when there is none usable."""
    try:
        hint = json.loads((tool_dir / HINT_NAME).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(hint, dict):
        return None
    function, region = hint.get("function"), hint.get("region")
    if not isinstance(function, str) or not isinstance(region, str):
        return None
    return function, region
