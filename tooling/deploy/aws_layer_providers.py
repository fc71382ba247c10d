"""The AWS target's provider of the service's own layers (PublishLayerVersion and friends).

A layer's current version is the newest one the service and stage published, told apart by the
mark its Description ends with (tooling.deploy.layer_versions): nothing else on AWS records it.
A change publishes a new version; then the older versions of the service's are deleted unless
they were published with `retain: true` (Serverless' stack deletes a replaced
AWS::Lambda::LayerVersion unless its DeletionPolicy is Retain). Functions still using an older
version keep it: Lambda keeps a copy until no function refers to it (DeleteLayerVersion).
"""

from __future__ import annotations

import json
from typing import Any

from tooling.aws.errors import AwsRejected
from tooling.deploy.aws_context import AwsContext
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
from tooling.errors import NotFound

MAX_DIRECT_UPLOAD_BYTES = 50 * 1024 * 1024  # PublishLayerVersion Content.ZipFile


class AwsLayers:
    def __init__(self, context: AwsContext, owner: str) -> None:
        self.c = context
        self.owner = owner  # tooling.deploy.layer_versions.layer_owner of the service and stage

    def check(self, resource: Layer) -> None:
        if resource.code is not None and resource.code.size > MAX_DIRECT_UPLOAD_BYTES:
            raise AwsRejected(
                f"the package of layer {resource.name} is {resource.code.size} bytes; Lambda "
                f"takes at most {MAX_DIRECT_UPLOAD_BYTES} bytes uploaded directly",
                hint=f"leave large files out with layers.{resource.key}.package.patterns",
            )

    def _versions(self, name: str) -> list[dict[str, Any]]:
        what = f"list the versions of layer {name}"
        try:
            return [
                version
                for page in self.c.aws.pages(
                    "lambda", "list_layer_versions", what=what, LayerName=name
                )
                for version in page.get("LayerVersions", [])
            ]
        except NotFound:
            return []  # no such layer

    def find(self, address: Address) -> Found | None:
        ours = own_versions(self._versions(address.name), self.owner)
        if not ours:
            return None
        newest = ours[0]
        policy = self.c.aws.find(
            "lambda", "get_layer_version_policy",
            what=f"read the permissions of layer {address.name} version {newest['Version']}",
            LayerName=address.name, VersionNumber=int(newest["Version"]),
        )  # fmt: skip
        statements = json.loads(policy["Policy"]).get("Statement", []) if policy else []
        return {
            **newest,
            "StatementIds": [
                s["Sid"] for s in statements if str(s.get("Sid", "")).startswith("tool-")
            ],  # fmt: skip
            "OwnVersions": [int(v["Version"]) for v in ours],
            # Older versions published without `retain`: deleted once a newer one is published
            "StaleVersions": [int(v["Version"]) for v in ours[1:] if not _retained(v)],
        }

    def owns(self, address: Address, found: Found) -> bool:
        return True  # found only when a version carries this service's and stage's mark

    def diff(self, resource: Layer, found: Found) -> Diff:
        return layer_diff(resource, found)

    def create(self, resource: Layer) -> None:
        assert resource.code is not None, "a layer is published with its package"
        settings: dict[str, Any] = {"Description": published_description(resource)}
        if resource.compatible_runtimes:
            settings["CompatibleRuntimes"] = list(resource.compatible_runtimes)
        if resource.compatible_architectures:
            settings["CompatibleArchitectures"] = list(resource.compatible_architectures)
        if resource.license_info:
            settings["LicenseInfo"] = resource.license_info
        published = self.c.aws.call(
            "lambda", "publish_layer_version", what=f"publish layer {resource.name}",
            LayerName=resource.name, Content={"ZipFile": resource.code.path.read_bytes()},
            **settings,
        )  # fmt: skip
        version = int(published["Version"])
        self._permit(resource, version, [])
        self._delete_older(resource.name, version)

    def update(self, resource: Layer, found: Found, diff: Diff) -> None:
        if set(diff.attributes) <= set(PERMISSIONS_ONLY):
            self._permit(resource, int(found["Version"]), list(found.get("StatementIds") or []))
            self._delete_older(resource.name, int(found["Version"]))
            return
        self.create(resource)

    def _permit(self, resource: Layer, version: int, current: list[str]) -> None:
        """The version's permissions: lambda:GetLayerVersion for each allowed account, and no
        other statement of the toolkit's."""
        wanted = {permission_statement_id(a): a for a in resource.allowed_accounts}
        for sid in sorted(set(current) - set(wanted)):
            self.c.aws.call(
                "lambda", "remove_layer_version_permission",
                what=f"remove permission {sid} of layer {resource.name} version {version}",
                LayerName=resource.name, VersionNumber=version, StatementId=sid,
            )  # fmt: skip
        for sid, account in sorted(wanted.items()):
            if sid in current:
                continue
            self.c.aws.call(
                "lambda", "add_layer_version_permission",
                what=f"let {account} use layer {resource.name} version {version}",
                LayerName=resource.name, VersionNumber=version, StatementId=sid,
                Action="lambda:GetLayerVersion", Principal=_principal(account),
            )  # fmt: skip

    def _delete_older(self, name: str, newest: int) -> None:
        for version in own_versions(self._versions(name), self.owner):
            if int(version["Version"]) < newest and not _retained(version):
                self._delete_version(name, int(version["Version"]))

    def _delete_version(self, name: str, version: int) -> None:
        self.c.aws.call(
            "lambda", "delete_layer_version", what=f"delete layer {name} version {version}",
            LayerName=name, VersionNumber=version,
        )  # fmt: skip

    def delete(self, address: Address) -> None:
        """Every version the service published, except those published with `retain: true`."""
        for version in own_versions(self._versions(address.name), self.owner):
            if not _retained(version):
                self._delete_version(address.name, int(version["Version"]))

    def describe(self, address: Address, found: Found) -> Description:
        versions = found.get("OwnVersions") or []
        mark = mark_of(str(found.get("Description", "")))
        details = f"version {found.get('Version')}"
        if len(versions) > 1:
            details += f" ({len(versions)} versions kept)"
        if mark is not None and mark.retain:
            details += ", retained on remove"
        text = user_description(str(found.get("Description", "")))
        return Description(str(found.get("LayerVersionArn", "")),
                           f"{details}{': ' + text if text else ''}")  # fmt: skip


def _principal(account: str) -> str:
    """AddLayerVersionPermission's Principal: an account id or `*` (an `arn:...:root` is its
    account)."""
    return account.split(":")[4] if account.startswith("arn:") else account


def _retained(version: dict[str, Any]) -> bool:
    mark = mark_of(str(version.get("Description", "")))
    return mark is not None and mark.retain
