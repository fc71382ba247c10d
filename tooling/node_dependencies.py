"""Which installed Node.js packages a service's package leaves out: its development dependencies.

Serverless v3 packs `node_modules/` like any other folder, and then (unless
`package.excludeDevDependencies: false`) leaves out every package that only development
dependencies need: for each `package.json` outside `node_modules`, it asks `npm ls` for the
development and the production dependency trees and excludes the difference, with each
excluded package's `.bin` links; that exclusion comes after every pattern, so no pattern brings
such a package back.

The toolkit computes the same difference without running npm, from the installed tree itself:
starting from a `package.json`'s `dependencies`, `optionalDependencies` and `peerDependencies`
(production) or its `devDependencies`, each name is found as Node.js finds it (in the
`node_modules` of the requiring package's folder, then of each folder above it, up to the
service folder), and the found package's own dependencies are followed in turn. What the
development tree reaches and the production tree does not is left out. Packages that neither
tree reaches (extraneous) stay, as with Serverless. A package that is not installed is skipped
(an optional one, or an install that was not run: the handler then fails to load, as on AWS).
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MODULES = "node_modules"
_PRODUCTION_KEYS = ("dependencies", "optionalDependencies", "peerDependencies")
_DEVELOPMENT_KEYS = ("devDependencies",)
# Folders never walked for package.json files (they are never packed either).
_NOT_WALKED = frozenset({MODULES, ".git", ".venv", "venv", ".tool", ".serverless"})
MAX_PACKAGE_JSON_BYTES = 10 * 1024 * 1024


@dataclass
class DevelopmentOnly:
    """Paths (relative POSIX) to leave out of the package, and what to tell the user."""

    paths: list[str] = field(default_factory=list)
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (file, message)


def development_only(directory: Path) -> DevelopmentOnly:
    """The installed packages (and their `.bin` links) that only development dependencies of
    the service's `package.json` files need."""
    base = directory.resolve()
    result = DevelopmentOnly()
    excluded: dict[Path, dict[str, Any]] = {}
    for manifest_path in _manifests(directory):
        manifest = _read_manifest(manifest_path)
        if manifest is None:
            rel = manifest_path.relative_to(directory).as_posix()
            result.warnings.append(
                (
                    rel,
                    "not a readable package.json: its development dependencies are not left "
                    "out of the package (Serverless' `npm ls` skips it too)",
                )
            )
            continue
        root = manifest_path.parent.resolve()
        production = _closure(root, manifest, _PRODUCTION_KEYS, base)
        development = _closure(root, manifest, _DEVELOPMENT_KEYS, base)
        for folder in development.keys() - production.keys():
            excluded[folder] = development[folder]
    for folder, manifest in sorted(excluded.items()):
        result.paths.append(folder.relative_to(base).as_posix())
        result.paths.extend(
            link.relative_to(base).as_posix() for link in _bin_links(folder, manifest)
        )
    return result


def _manifests(directory: Path) -> Iterator[Path]:
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in _NOT_WALKED)
        if "package.json" in files:
            yield Path(root) / "package.json"


def _read_manifest(path: Path) -> dict[str, Any] | None:
    try:
        if path.stat().st_size > MAX_PACKAGE_JSON_BYTES:
            return None
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _names(manifest: dict[str, Any], keys: Iterable[str]) -> list[str]:
    names: list[str] = []
    for key in keys:
        value = manifest.get(key)
        if isinstance(value, dict):
            names.extend(name for name in value if isinstance(name, str) and _valid_name(name))
    return names


def _valid_name(name: str) -> bool:
    """A package name that stays one folder (or `@scope/name`) under node_modules."""
    parts = name.split("/")
    if name.startswith("@"):
        if len(parts) != 2:
            return False
    elif len(parts) != 1:
        return False
    return all(part not in ("", ".", "..") and "\\" not in part for part in parts)


def _closure(
    root: Path, manifest: dict[str, Any], keys: Iterable[str], base: Path
) -> dict[Path, dict[str, Any]]:
    """Every installed package folder reached from `manifest`'s `keys`, and its manifest."""
    found: dict[Path, dict[str, Any]] = {}
    pending = [(root, name) for name in _names(manifest, keys)]
    while pending:
        requirer, name = pending.pop()
        folder = _resolve(requirer, name, base)
        if folder is None or folder in found:
            continue
        own = _read_manifest(folder / "package.json") or {}
        found[folder] = own
        pending.extend((folder, dependency) for dependency in _names(own, _PRODUCTION_KEYS))
    return found


def _resolve(requirer: Path, name: str, base: Path) -> Path | None:
    """The folder Node.js loads `name` from when `requirer` requires it, within `base`."""
    folder = requirer
    while True:
        if folder.name != MODULES:
            candidate = folder / MODULES / name
            if candidate.is_dir() and not candidate.is_symlink():
                return candidate
        if folder == base or base not in folder.parents:
            return None
        folder = folder.parent


def _bin_links(folder: Path, manifest: dict[str, Any]) -> list[Path]:
    """The `.bin` entries npm made for the package's executables."""
    bins = manifest.get("bin")
    name = str(manifest.get("name") or folder.name)
    if isinstance(bins, str):
        commands = [name.rsplit("/", 1)[-1]]
    elif isinstance(bins, dict):
        commands = [str(command) for command in bins]
    else:
        return []
    modules = folder.parent.parent if folder.parent.name.startswith("@") else folder.parent
    return [
        modules / ".bin" / command
        for command in commands
        if _valid_name(command) and not command.startswith("@")
    ]
