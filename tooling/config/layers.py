"""The service's own top-level `layers:`, read as Serverless v3 reads them (lib/plugins/aws/
provider.js, the `layers` schema; lib/plugins/aws/package/compile/layers.js).

Each key names a layer: `path` (a folder of the service, zipped with the function packages'
rules) or `package.artifact` (a prebuilt zip), `name` (the LayerName; the key by default),
`description`, `compatibleRuntimes`, `compatibleArchitectures`, `licenseInfo`,
`allowedAccounts` (12-digit accounts, `*` or `arn:aws:iam::<account>:root`: each gets
lambda:GetLayerVersion) and `retain` (keep published versions on update and remove).
`package.patterns` (and the legacy `include`/`exclude`) select the folder's files. Functions and
`provider.layers` name a layer by its logical id, `<Name>LambdaLayer` (the key, normalised as
Serverless does): `{Ref: <Name>LambdaLayer}`, or `Fn::GetAtt: [<Name>LambdaLayer,
LayerVersionArn]`. Until a deploy knows the version's ARN, such an entry of a function's
`layers` is `own_layer_ref(logical_id)` (tooling.deploy.phases puts the ARN in its place).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.config.intrinsics import normalized_name
from tooling.errors import ConfigError, Where
from tooling.sourcemap import pointer_join

LAYER_KEYS = frozenset(
    {
        "path", "name", "description", "compatibleRuntimes", "compatibleArchitectures",
        "licenseInfo", "allowedAccounts", "retain", "package",
    }
)  # fmt: skip
LAYER_PACKAGE_KEYS = frozenset({"artifact", "exclude", "include", "patterns"})
# PublishLayerVersion's Description takes 256 characters; the toolkit's mark on the versions
# it publishes (" [tool:<8 hex>:<16 hex>:retain]", tooling.deploy.layer_versions) takes 40.
MARK_LENGTH = 40
MAX_DESCRIPTION = 256 - MARK_LENGTH
MAX_LICENSE = 512  # PublishLayerVersion LicenseInfo
MAX_RUNTIMES = 15  # PublishLayerVersion CompatibleRuntimes
ARCHITECTURES = ("x86_64", "arm64")
_NAME = re.compile(
    r"^((arn:[a-zA-Z0-9-]+:lambda:[a-zA-Z0-9-]+:\d{12}:layer:[a-zA-Z0-9-_]+)|[a-zA-Z0-9-_]+)$"
)
_ACCOUNT = re.compile(r"^(\d{12}|\*|arn:(aws[a-zA-Z-]*):iam::\d{12}:root)$")
OWN_LAYER_PREFIX = "own-layer:"  # an entry of FunctionSettings.layers naming an own layer
# An own layer's version ARN while a dry run has not published it (tooling.deploy.phases).
LAYER_PENDING = "<{logical_id}: known after the layer is published>"


@dataclass(frozen=True)
class LayerConfig:
    key: str  # layers.<key>
    logical_id: str  # <Name>LambdaLayer
    name: str  # LayerName (the key unless `name` is given)
    path: str | None  # its folder, relative to the service folder (None: package.artifact)
    artifact: str | None  # package.artifact: a prebuilt zip in the service folder
    patterns: tuple[str, ...]  # package.patterns (exclude as `!pattern`)
    description: str = ""
    compatible_runtimes: tuple[str, ...] = ()
    compatible_architectures: tuple[str, ...] = ()
    license_info: str = ""
    allowed_accounts: tuple[str, ...] = ()
    retain: bool = False
    pointer: str = ""  # /layers/<key>


def layer_logical_id(key: str) -> str:
    """Serverless' getLambdaLayerLogicalId: `common` -> `CommonLambdaLayer`."""
    return f"{normalized_name(key)}LambdaLayer"


def own_layer_ref(logical_id: str) -> str:
    return OWN_LAYER_PREFIX + logical_id


def own_layer_id(entry: str) -> str | None:
    """The logical id an entry of a function's layers names, when it is an own layer."""
    return entry[len(OWN_LAYER_PREFIX) :] if entry.startswith(OWN_LAYER_PREFIX) else None


def named_layer(value: Any, own_ids: frozenset[str]) -> str | None:
    """The own layer (logical id) that `value` (an entry of a function's `layers`) names:
    `{Ref: X}` or `{Fn::GetAtt: [X, LayerVersionArn]}` (also `X.LayerVersionArn`)."""
    if not isinstance(value, dict) or len(value) != 1:
        return None
    ref = value.get("Ref")
    if isinstance(ref, str) and ref in own_ids:
        return ref
    attribute = value.get("Fn::GetAtt")
    if isinstance(attribute, str):
        attribute = attribute.split(".", 1)
    if (
        isinstance(attribute, list)
        and len(attribute) == 2
        and attribute[0] in own_ids
        and attribute[1] == "LayerVersionArn"
    ):
        return str(attribute[0])
    return None


class LayerReader:
    """Reads `layers:`; refusals are ConfigError at the value's line, what the toolkit does not
    use is a warning at its line."""

    def __init__(
        self,
        directory: Path,
        at: Callable[[str], Where],
        where: Callable[[str], str],
        patterns: Callable[[Mapping[str, Any], str], tuple[str, ...]],
        artifact: Callable[[Mapping[str, Any], str], str | None],
    ) -> None:
        self.directory = directory
        self.at, self.where = at, where
        self.patterns, self.artifact = patterns, artifact
        self.warnings: list[str] = []

    def read(self, value: Any) -> dict[str, LayerConfig]:
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise ConfigError("layers must be a mapping of layer names to settings",
                              **self.at("/layers"))  # fmt: skip
        layers = {str(key): self._layer(str(key), spec) for key, spec in value.items()}
        ids: dict[str, str] = {}
        for key, layer in layers.items():
            if layer.logical_id in ids:
                raise ConfigError(
                    f"layers '{ids[layer.logical_id]}' and '{key}' have the same logical id "
                    f"{layer.logical_id}",
                    **self.at(layer.pointer),
                    hint="rename one of them",
                )
            ids[layer.logical_id] = key
        return layers

    def _refuse(self, pointer: str, what: str, hint: str | None = None) -> ConfigError:
        return ConfigError(what, **self.at(pointer), hint=hint)

    def _layer(self, key: str, spec: Any) -> LayerConfig:
        pointer = pointer_join("/layers", key)
        if not isinstance(spec, dict):
            raise self._refuse(pointer, f"layer '{key}' must be a mapping with `path`")
        for name in spec:
            if name not in LAYER_KEYS:
                self.warnings.append(
                    f"{self.where(pointer_join(pointer, name))}: layers.{key}.{name} is not a "
                    "key Serverless reads for a layer (ignored); keys: "
                    + ", ".join(sorted(LAYER_KEYS))
                )
        package = spec.get("package") or {}
        package_at = pointer_join(pointer, "package")
        if not isinstance(package, dict):
            raise self._refuse(package_at, f"layers.{key}.package must be a mapping")
        for name in package:
            if name not in LAYER_PACKAGE_KEYS:
                self.warnings.append(
                    f"{self.where(pointer_join(package_at, name))}: layers.{key}.package.{name} "
                    "is not a key Serverless reads for a layer's package (ignored)"
                )
        artifact = self.artifact(package, package_at)
        path = self._path(key, spec.get("path"), pointer_join(pointer, "path"), artifact)
        name = spec.get("name", key)
        if not isinstance(name, str) or not _NAME.fullmatch(name) or len(name) > 140:
            raise self._refuse(
                pointer_join(pointer, "name") if "name" in spec else pointer,
                f"layer name {name!r} is not one Lambda takes",
                hint="letters, digits, '-' and '_', at most 140 (or a layer ARN without version)",
            )
        return LayerConfig(
            key=key,
            logical_id=layer_logical_id(key),
            # A layer's ARN (without version) names the layer of that name: Lambda publishes
            # only in the caller's account and region.
            name=name.rsplit(":", 1)[-1],
            path=path,
            artifact=artifact,
            patterns=self.patterns(package, package_at),
            description=self._text(
                spec,
                pointer,
                "description",
                MAX_DESCRIPTION,
                " (Lambda takes 256; the toolkit's mark on the version takes the rest)",
            ),  # fmt: skip
            compatible_runtimes=self._list(spec, pointer, "compatibleRuntimes", MAX_RUNTIMES),
            compatible_architectures=self._architectures(spec, pointer),
            license_info=self._text(spec, pointer, "licenseInfo", MAX_LICENSE),
            allowed_accounts=self._accounts(spec, pointer),
            retain=self._retain(spec, pointer),
            pointer=pointer,
        )

    def _path(self, key: str, value: Any, at: str, artifact: str | None) -> str | None:
        if value is None:
            if artifact is not None:
                return None
            raise self._refuse(
                at.rsplit("/", 1)[0],
                f"layer '{key}' has no `path`",
                hint="give the folder that holds the layer's files (e.g. `path: layer`), or "
                "package.artifact",
            )
        if not isinstance(value, str) or not value.strip():
            raise self._refuse(at, f"layers.{key}.path must be a folder of the service")
        base = self.directory.resolve()
        written = Path(value)
        if written.is_absolute() or ".." in written.parts:
            raise self._refuse(
                at,
                f"layers.{key}.path {value!r} leaves the service folder",
                hint="a layer's folder must be inside the service folder (no `..`, no absolute "
                "path)",
            )
        full = (self.directory / written).resolve()
        if full != base and base not in full.parents:
            raise self._refuse(
                at,
                f"layers.{key}.path {value!r} leads outside the service folder (a symbolic link "
                f"to {full})",
                hint="copy the layer's files into the service folder",
            )
        if not full.is_dir():
            if artifact is not None:
                return None  # Serverless uses the artifact and does not read the path
            raise self._refuse(
                at,
                f"layers.{key}.path {value!r}: no such folder",
                hint="create it, or fix the path (relative to the service folder)",
            )
        return full.relative_to(base).as_posix() if full != base else "."

    def _text(
        self, spec: Mapping[str, Any], pointer: str, name: str, limit: int, why: str = ""
    ) -> str:
        value = spec.get(name)
        if value is None:
            return ""
        if not isinstance(value, str) or len(value) > limit:
            what = f"{name} must be text of at most {limit} characters{why}"
            raise self._refuse(pointer_join(pointer, name), what)
        return value

    def _list(
        self, spec: Mapping[str, Any], pointer: str, name: str, limit: int
    ) -> tuple[str, ...]:
        value = spec.get(name)
        if value is None:
            return ()
        at = pointer_join(pointer, name)
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise self._refuse(at, f"{name} must be a list of names")
        if len(value) > limit:
            raise self._refuse(at, f"{name}: {len(value)} items; Lambda takes at most {limit}")
        return tuple(value)

    def _architectures(self, spec: Mapping[str, Any], pointer: str) -> tuple[str, ...]:
        value = self._list(spec, pointer, "compatibleArchitectures", len(ARCHITECTURES))
        for index, item in enumerate(value):
            if item not in ARCHITECTURES:
                raise self._refuse(
                    pointer_join(pointer_join(pointer, "compatibleArchitectures"), index),
                    f"architecture {item!r} is not one Lambda runs",
                    hint="x86_64 or arm64",
                )
        return value

    def _accounts(self, spec: Mapping[str, Any], pointer: str) -> tuple[str, ...]:
        value = self._list(spec, pointer, "allowedAccounts", 1000)
        for index, item in enumerate(value):
            if not _ACCOUNT.fullmatch(item):
                raise self._refuse(
                    pointer_join(pointer_join(pointer, "allowedAccounts"), index),
                    f"allowedAccounts: {item!r} is not an account",
                    hint="a 12-digit account id, `*`, or arn:aws:iam::<account>:root",
                )
        return value

    def _retain(self, spec: Mapping[str, Any], pointer: str) -> bool:
        value = spec.get("retain", False)
        if not isinstance(value, bool):
            raise self._refuse(pointer_join(pointer, "retain"), "retain must be true or false")
        return value
