"""Which versions of a layer are the service's, and whether the newest one is what it wants.

Lambda keeps no tags on layers, so a version the toolkit publishes says whose it is and what it
holds at the end of its Description: `[tool:<owner>:<hash>]` (`...:retain]` with `retain: true`),
where `owner` stands for the service and stage and `hash` for the code and every setting
(tooling.deploy.models.Layer.content_hash). So the target alone answers "is it published
already?": a deploy killed after PublishLayerVersion finds that version on its next run and
publishes nothing, and `tool remove` finds every version of its own, even with no record.
No I/O here.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from tooling.config.layers import MARK_LENGTH
from tooling.deploy.models import Layer
from tooling.deploy.providers import Diff

_MARK = re.compile(r"(?:^| )\[tool:([0-9a-f]{8}):([0-9a-f]{16})(:retain)?\]$")
assert len(" [tool:12345678:1234567890abcdef:retain]") == MARK_LENGTH


def layer_owner(service: str, stage: str) -> str:
    return hashlib.sha256(f"{service}\n{stage}".encode()).hexdigest()[:8]


@dataclass(frozen=True)
class Mark:
    owner: str
    content: str
    retain: bool


def mark_of(description: str) -> Mark | None:
    found = _MARK.search(description or "")
    return Mark(found.group(1), found.group(2), bool(found.group(3))) if found else None


def user_description(description: str) -> str:
    """The Description without the toolkit's mark."""
    return _MARK.sub("", description or "")


def published_description(layer: Layer) -> str:
    mark = f"[tool:{layer.owner}:{layer.content_hash()}{':retain' if layer.retain else ''}]"
    return f"{layer.description} {mark}" if layer.description else mark


def own_versions(versions: list[dict[str, Any]], owner: str) -> list[dict[str, Any]]:
    """ListLayerVersions' items that `owner` published, newest first."""
    ours = [
        v for v in versions if (m := mark_of(str(v.get("Description", "")))) and m.owner == owner
    ]
    return sorted(ours, key=lambda v: int(v["Version"]), reverse=True)


def _owner(version: dict[str, Any]) -> str | None:
    mark = mark_of(str(version.get("Description", "")))
    return mark.owner if mark else None


def layer_diff(layer: Layer, found: dict[str, Any]) -> Diff:
    """`found`: the newest version of the service's (ListLayerVersions' item, with
    `StatementIds`: its permissions'). A difference of permissions alone changes them on that
    version (PERMISSIONS_ONLY); any other publishes a new version."""
    mark = mark_of(str(found.get("Description", "")))
    parts: list[tuple[str, tuple[str, ...]]] = []
    if user_description(str(found.get("Description", ""))) != layer.description:
        parts.append(("description changed", ("Description",)))
    if list(found.get("CompatibleRuntimes") or []) != list(layer.compatible_runtimes):
        parts.append(("compatible runtimes changed", ("CompatibleRuntimes",)))
    if list(found.get("CompatibleArchitectures") or []) != list(layer.compatible_architectures):
        parts.append(("compatible architectures changed", ("CompatibleArchitectures",)))
    if str(found.get("LicenseInfo") or "") != layer.license_info:
        parts.append(("license changed", ("LicenseInfo",)))
    wanted = sorted(permission_statement_id(a) for a in layer.allowed_accounts)
    if sorted(found.get("StatementIds") or []) != wanted:
        parts.append(("allowed accounts changed", ("Policy",)))
    if mark is None or mark.retain != layer.retain:
        parts.append(("retain changed", ("Description",)))
    if not parts and (mark is None or mark.content != layer.content_hash()):
        parts.append(("code changed", ("Content",)))
    if found.get("StaleVersions"):  # a deploy stopped between publishing and deleting them
        stale = ", ".join(str(v) for v in found["StaleVersions"])
        parts.append((f"older versions left: {stale}", STALE_VERSIONS))
    return Diff.of(*parts)


STALE_VERSIONS = ("Versions",)
# What changes on the current version, without publishing another.
PERMISSIONS_ONLY = ("Policy", *STALE_VERSIONS)


def permission_statement_id(account: str) -> str:
    """AddLayerVersionPermission's StatementId for an account (letters, digits, '-', '_')."""
    return "tool-" + ("everyone" if account == "*" else re.sub(r"[^0-9]", "", account)[:12])
