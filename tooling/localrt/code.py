"""Deployed code on the local target: each package unpacked once under `.tool/code/<hash>/`."""

from __future__ import annotations

import hashlib
import shutil
import uuid
import zipfile
from pathlib import Path


def code_directory(code_root: Path, sha256: str) -> Path:
    """Where the package with this CodeSha256 is (or would be) unpacked."""
    return code_root / hashlib.sha256(sha256.encode()).hexdigest()[:24]


def install_code(code_root: Path, archive: Path, sha256: str) -> Path:
    """Unpack the package once per content hash; deployed code never changes under a run. A
    folder deleted by hand is unpacked again."""
    target = code_directory(code_root, sha256)
    if not target.is_dir():
        code_root.mkdir(parents=True, exist_ok=True)
        staging = target.with_name(f"{target.name}.{uuid.uuid4().hex}.tmp")
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(staging)
        try:
            staging.rename(target)
        except OSError:  # another deploy installed the same code first
            shutil.rmtree(staging, ignore_errors=True)
    return target
