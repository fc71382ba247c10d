"""A state machine's `loggingConfig` (serverless-step-functions), as Step Functions wants it.

    loggingConfig:
      level: ERROR                 # ALL | ERROR | FATAL | OFF
      includeExecutionData: true
      destinations:                # optional here: without it the toolkit makes the log group
        - arn:aws:logs:...:log-group:my-group:*

A destination written as a CloudFormation reference (`Fn::GetAtt: [MyLogGroup, Arn]`) names a
resource the toolkit does not create; it is replaced by the toolkit's own log group, with a
warning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tooling.config.service import ServiceConfig, StateMachineConfig
from tooling.errors import ConfigError
from tooling.names import partition_for

LEVELS = ("ALL", "ERROR", "FATAL", "OFF")


@dataclass(frozen=True)
class MachineLogging:
    level: str
    include_execution_data: bool
    log_group: str | None  # the group the toolkit creates, if any
    destinations: tuple[str, ...]  # log group ARNs ending in ":*"
    warnings: tuple[str, ...] = ()

    def configuration(self) -> dict[str, Any]:
        """Step Functions' loggingConfiguration parameter."""
        return {
            "level": self.level,
            "includeExecutionData": self.include_execution_data,
            "destinations": [
                {"cloudWatchLogsLogGroup": {"logGroupArn": arn}} for arn in self.destinations
            ],
        }


def own_log_group(machine: StateMachineConfig) -> str:
    # The prefix the Step Functions console uses for the groups it makes.
    return f"/aws/vendedlogs/states/{machine.name}-Logs"


def machine_logging(service: ServiceConfig, machine: StateMachineConfig) -> MachineLogging | None:
    """None when the machine does not log (no loggingConfig, or level OFF)."""
    spec = machine.logging_config
    if spec is None:
        return None
    where = f"state machine '{machine.key}': loggingConfig"
    if not isinstance(spec, dict):
        raise ConfigError(f"{where} must be a mapping", file=service.config_file.name)
    level = str(spec.get("level", "ERROR")).upper()
    if level not in LEVELS:
        raise ConfigError(
            f"{where}.level must be one of {', '.join(LEVELS)} (got {spec.get('level')!r})",
            file=service.config_file.name,
        )
    if level == "OFF":
        return None
    include = spec.get("includeExecutionData", False)
    if not isinstance(include, bool):
        raise ConfigError(
            f"{where}.includeExecutionData must be true or false", file=service.config_file.name
        )
    given = spec.get("destinations") or []
    if not isinstance(given, list):
        raise ConfigError(f"{where}.destinations must be a list", file=service.config_file.name)
    arns = tuple(item for item in given if isinstance(item, str))
    warnings: tuple[str, ...] = ()
    if len(arns) != len(given):
        warnings = (
            f"{where}: destinations written as CloudFormation references are replaced by the "
            f"log group {own_log_group(machine)}",
        )
    if arns and not warnings:
        return MachineLogging(level, include, None, arns)
    group = own_log_group(machine)
    partition = partition_for(service.region)
    arn = f"arn:{partition}:logs:{service.region}:{service.account_id}:log-group:{group}:*"
    return MachineLogging(level, include, group, (arn,), warnings)


def normalized(configuration: dict[str, Any] | None) -> dict[str, Any]:
    """A loggingConfiguration as DescribeStateMachine answers it, comparable with ours."""
    configuration = configuration or {}
    level = configuration.get("level", "OFF")
    if level == "OFF":
        return {"level": "OFF"}
    return {
        "level": level,
        "includeExecutionData": bool(configuration.get("includeExecutionData", False)),
        "destinations": [
            {"cloudWatchLogsLogGroup": {"logGroupArn": d["cloudWatchLogsLogGroup"]["logGroupArn"]}}
            for d in configuration.get("destinations", [])
            if "cloudWatchLogsLogGroup" in d
        ],
    }
