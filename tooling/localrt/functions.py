"""Deployed function records <-> what the Lambda runner needs."""

from __future__ import annotations

from pathlib import Path

from tooling.localrt.lambda_runner import FunctionSpec
from tooling.localrt.store import FunctionRecord


def spec_from_record(record: FunctionRecord, region: str) -> FunctionSpec:
    config = record.config
    return FunctionSpec(
        name=record.name,
        arn=record.arn,
        handler=config.get("Handler", ""),  # a container image has none
        runtime=config.get("Runtime", ""),
        memory_size=int(config["MemorySize"]),
        timeout=int(config["Timeout"]),
        environment=dict(config.get("Environment", {}).get("Variables", {})),
        code_dir=Path(record.code_dir),
        region=region,
        reserved_concurrency=config.get("ReservedConcurrentExecutions"),
        event_invoke_config=config.get("EventInvokeConfig"),
        layer_dirs=tuple(Path(d) for d in config.get("LayerDirectories") or ()),
    )
