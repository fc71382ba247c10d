"""The trigger function's code package: the two modules it runs, and nothing of the user's."""

from __future__ import annotations

import hashlib
import zipfile
from pathlib import Path

HANDLER = "tooling.triggers.lambda_handler.handle"
# Package-relative paths; the two __init__ files are docstrings only.
MODULES = (
    "__init__.py",
    "triggers/__init__.py",
    "triggers/start_from_messages.py",
    "triggers/lambda_handler.py",
)
_PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # the `tooling` folder
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # deterministic archive: same code, same CodeSha256


def build_trigger_zip(target: Path) -> Path:
    """Write the zip to `target` (its bytes depend only on the module sources)."""
    root = _PACKAGE_ROOT
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for relative in MODULES:
            info = zipfile.ZipInfo(f"tooling/{relative}", _FIXED_TIME)
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (root / relative).read_bytes())
    return target


def source_digest() -> str:
    """A short hash of the shipped sources, to tell whether a deployed trigger is current."""
    root = _PACKAGE_ROOT
    digest = hashlib.sha256()
    for relative in MODULES:
        digest.update(relative.encode() + b"\0" + (root / relative).read_bytes())
    return digest.hexdigest()[:16]
