"""What the toolkit deployed for one target, stage and region, written after each resource.

`.tool/deployed/<target>-<stage>.json` (`<target>-<stage>-<region>.json` for a stage's second
region; under `deployed/<file>/` for a service file given with `--config`). Each entry is a
resource's address and what it depends on, so the sweeper can delete resources the service no
longer declares in a safe order even though their models are gone.
Writes are atomic (temporary file, then rename): a deploy killed at any point leaves either the
old or the new record, and running it again finishes the job.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tooling.config.service import CONFIG_FILES, ServiceConfig
from tooling.deploy.models import KINDS, Address, Kind, Resource, mapping_name
from tooling.names import partition_for
from tooling.statedir import private_parents, state_path

SCHEMA_VERSION = 2
# Version 1 kept one list of names per key (state machines and mappings by ARN).
_V1_KINDS: dict[str, Kind] = {
    "roles": "role",
    "triggerRoles": "role",
    "logGroups": "log group",
    "triggerLogGroups": "log group",
    "functions": "function",
    "triggerFunctions": "function",
    "stateMachines": "state machine",
    "queues": "queue",
    "eventSourceMappings": "event source mapping",
}


@dataclass(frozen=True)
class RecordEntry:
    address: Address
    depends_on: tuple[Address, ...] = ()

    def to_json(self) -> dict[str, Any]:
        entry: dict[str, Any] = {"kind": self.address.kind, "name": self.address.name}
        if self.address.arn is not None:
            entry["arn"] = self.address.arn
        entry["dependsOn"] = [dependency.to_json() for dependency in self.depends_on]
        return entry


class Record:
    """The deployed resources of one target, stage and region, in the order they were made."""

    def __init__(self, path: Path, service: ServiceConfig, account_id: str) -> None:
        self.path = path
        self.header = {"service": service.service, "stage": service.stage, "region": service.region}
        self._entries: dict[Address, RecordEntry] = {}
        if path.exists():
            data = json.loads(path.read_text())
            self.header = {key: data.get(key, value) for key, value in self.header.items()}
            if data.get("schemaVersion", 1) == 1:
                entries = _from_version_1(data, service.region, account_id)
            else:
                entries = [_entry(item) for item in data.get("resources", [])]
            self._entries = {entry.address: entry for entry in entries}

    def holds(self, address: Address) -> bool:
        return address in self._entries

    def entries(self) -> list[RecordEntry]:
        return list(self._entries.values())

    def entry(self, address: Address) -> RecordEntry | None:
        return self._entries.get(address)

    def add(self, resource: Resource) -> None:
        entry = RecordEntry(resource.address, resource.dependencies())
        have = self._entries.get(entry.address)
        if have is not None and have.to_json() == entry.to_json():
            return
        self._entries[entry.address] = entry
        self._write()

    def discard(self, address: Address) -> None:
        if self._entries.pop(address, None) is not None:
            self._write()

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": SCHEMA_VERSION,
            **self.header,
            "resources": [entry.to_json() for entry in self._entries.values()],
        }

    def _write(self) -> None:
        private_parents(self.path)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, suffix=".tmp")
        with os.fdopen(fd, "w") as handle:
            json.dump(self.to_json(), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)


def _entry(item: dict[str, Any]) -> RecordEntry:
    kind = item.get("kind")
    if kind not in KINDS:
        raise ValueError(f"unknown resource kind {kind!r} in the deploy record")
    depends = tuple(Address(d["kind"], d["name"]) for d in item.get("dependsOn", []))
    return RecordEntry(Address(kind, str(item["name"]), item.get("arn")), depends)


def _from_version_1(data: dict[str, Any], region: str, account_id: str) -> list[RecordEntry]:
    """Version 1 had no dependencies: the sweeper then falls back to the order of kinds."""
    partition = partition_for(region)
    entries: list[RecordEntry] = []
    for key, kind in _V1_KINDS.items():
        for value in data.get(key, []):
            name, arn = str(value), None
            if kind == "state machine":  # recorded by ARN
                name, arn = name.rsplit(":", 1)[1], name
            elif kind == "queue":
                arn = f"arn:{partition}:sqs:{region}:{account_id}:{name}"
            elif kind == "event source mapping":  # "<queue ARN> <function>"
                arn, _, function = name.partition(" ")
                name = mapping_name(arn.rsplit(":", 1)[1], function)
            entries.append(RecordEntry(Address(kind, name, arn)))
    return entries


def record_for(service: ServiceConfig, target: str, account_id: str) -> Record:
    """The record of this target, stage and region. `<target>-<stage>.json` holds the region the
    stage was first deployed to; another region of the same stage gets its own
    `<target>-<stage>-<region>.json`, so deploying or removing it never plans the deletion of
    the first region's resources."""
    folder = ["deployed"]
    if service.config_file.name not in CONFIG_FILES:  # --config: another service, own records
        folder.append(service.config_file.name)
    first = state_path(service.directory, *folder, f"{target}-{service.stage}.json")
    regional = state_path(
        service.directory, *folder, f"{target}-{service.stage}-{service.region}.json"
    )
    if regional.exists() or _recorded_region(first) not in (None, service.region):
        return Record(regional, service, account_id)
    return Record(first, service, account_id)


def _recorded_region(path: Path) -> str | None:
    if not path.exists():
        return None
    region = json.loads(path.read_text()).get("region")
    return str(region) if region is not None else None
