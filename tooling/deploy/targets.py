"""The deploy side of `--target`: which providers act for the service."""

from __future__ import annotations

from collections.abc import Callable

from tooling.config.service import ServiceConfig
from tooling.deploy.local_providers import local_target
from tooling.deploy.providers import DeployTarget
from tooling.errors import BadInput


def _aws_target(service: ServiceConfig) -> DeployTarget:
    # boto3 is imported here only, when the AWS target is asked for.
    from tooling import session
    from tooling.deploy.aws_providers import aws_target

    return aws_target(service, session.aws_client(service))


TARGETS: dict[str, Callable[[ServiceConfig], DeployTarget]] = {
    "local": local_target,
    "aws": _aws_target,
}


def deploy_target(service: ServiceConfig, target: str) -> DeployTarget:
    if target not in TARGETS:
        raise BadInput(f"unknown target {target!r}", hint="use --target local or --target aws")
    return TARGETS[target](service)
