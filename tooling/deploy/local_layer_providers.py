"""The local target's provider of the service's own layers: versions kept in the folder's local
records, each unpacked once under `.tool/code/` (what Lambda puts in /opt). A function naming a
layer's version runs with that folder on its module paths (tooling.localrt.lambda_runner).
The versions carry the same mark as on AWS (tooling.deploy.layer_versions), so a layer is
published again exactly when AWS would publish it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from tooling.deploy.layer_versions import (
    PERMISSIONS_ONLY,
    layer_diff,
    mark_of,
    own_versions,
    permission_statement_id,
    published_description,
    user_description,
)
from tooling.deploy.models import Address, Layer
from tooling.deploy.providers import Description, Diff, Found
from tooling.localrt.code import install_code
from tooling.names import LOCAL_ACCOUNT_ID, partition_for
from tooling.statedir import state_path


class LocalState(Protocol):
    """What of tooling.deploy.local_providers.LocalState the layers use (seen as a Protocol,
    so that this module need not import the one that assembles the providers)."""

    directory: Path
    region: str

    def records(self) -> dict[str, dict[str, Any]]: ...

    def save_records(self, records: dict[str, dict[str, Any]]) -> None: ...


CODE_MISSING = "code missing from .tool/code"  # as a function's (tooling.deploy.local_providers)


def local_layer_arn(region: str, name: str, version: int) -> str:
    return f"arn:{partition_for(region)}:lambda:{region}:{LOCAL_ACCOUNT_ID}:layer:{name}:{version}"


def local_layer_arns(state: LocalState) -> set[str]:
    """The version ARNs of the layers the local target has published."""
    return {
        str(version["LayerVersionArn"])
        for layer in state.records()["layers"].values()
        for version in layer.get("versions", [])
    }


def layer_directories(state: LocalState, layers: tuple[str, ...]) -> list[str]:
    """The unpacked folders of the local layer versions a function names, in its order."""
    by_arn = {
        str(version["LayerVersionArn"]): str(version["CodeDirectory"])
        for layer in state.records()["layers"].values()
        for version in layer.get("versions", [])
    }
    return [by_arn[arn] for arn in layers if arn in by_arn]


class LocalLayers:
    def __init__(self, state: LocalState, owner: str) -> None:
        self.state = state
        self.owner = owner

    def check(self, resource: Layer) -> None:
        pass

    def _layer(self, name: str) -> dict[str, Any]:
        return dict(self.state.records()["layers"].get(name) or {"versions": [], "last": 0})

    def _save(self, name: str, layer: dict[str, Any]) -> None:
        records = self.state.records()
        records["layers"][name] = layer  # kept when empty: version numbers are never reused
        self.state.save_records(records)

    def find(self, address: Address) -> Found | None:
        ours = own_versions(self._layer(address.name)["versions"], self.owner)
        return {**ours[0], "OwnVersions": [int(v["Version"]) for v in ours]} if ours else None

    def owns(self, address: Address, found: Found) -> bool:
        return True  # found only when a version carries this service's and stage's mark

    def diff(self, resource: Layer, found: Found) -> Diff:
        diff = layer_diff(resource, found)
        if Path(str(found.get("CodeDirectory"))).is_dir():
            return diff
        return Diff((CODE_MISSING, *diff.reasons), ("Content", *diff.attributes))

    def create(self, resource: Layer) -> None:
        code = resource.code
        assert code is not None, "a layer is published with its package"
        directory = install_code(
            state_path(self.state.directory, "code", create=True), code.path, code.sha256
        )
        layer = self._layer(resource.name)
        number = int(layer.get("last", 0)) + 1  # Lambda never reuses a version number
        version = {
            "Version": number,
            "LayerVersionArn": local_layer_arn(self.state.region, resource.name, number),
            "Description": published_description(resource),
            "CompatibleRuntimes": list(resource.compatible_runtimes),
            "CompatibleArchitectures": list(resource.compatible_architectures),
            "LicenseInfo": resource.license_info,
            "StatementIds": sorted(permission_statement_id(a) for a in resource.allowed_accounts),
            "CodeSha256": code.sha256,
            "CodeDirectory": str(directory),
        }
        kept = [v for v in layer["versions"] if not self._replaced(v)]
        self._save(resource.name, {"versions": [*kept, version], "last": number})

    def _replaced(self, version: dict[str, Any]) -> bool:
        """An older version of the service's, deleted when a new one is published."""
        mark = mark_of(str(version.get("Description", "")))
        return mark is not None and mark.owner == self.owner and not mark.retain

    def update(self, resource: Layer, found: Found, diff: Diff) -> None:
        if set(diff.attributes) <= set(PERMISSIONS_ONLY):
            layer = self._layer(resource.name)
            for version in layer["versions"]:
                if version["Version"] == found["Version"]:
                    version["StatementIds"] = sorted(
                        permission_statement_id(a) for a in resource.allowed_accounts
                    )
            self._save(resource.name, layer)
            return
        self.create(resource)

    def delete(self, address: Address) -> None:
        layer = self._layer(address.name)
        layer["versions"] = [v for v in layer["versions"] if not self._replaced(v)]
        self._save(address.name, layer)

    def describe(self, address: Address, found: Found) -> Description:
        text = user_description(str(found.get("Description", "")))
        details = f"version {found.get('Version')}{': ' + text if text else ''}"
        return Description(str(found.get("LayerVersionArn", "")), details)
