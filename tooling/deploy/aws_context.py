"""What every AWS provider is given: tooling.deploy.aws_providers.AwsContext, seen as a
Protocol so the providers' modules need not import the module that assembles them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from tooling.aws.client import AwsClient


class AwsContext(Protocol):
    aws: AwsClient
    region: str
    tags: dict[str, str]  # the service's tags, on everything it makes
    description: str

    def ours(self, tags: dict[str, str]) -> bool: ...


def tag_list(context: AwsContext) -> list[dict[str, str]]:
    """The service's tags in the Key/Value list form most AWS APIs take."""
    return [{"Key": key, "Value": value} for key, value in context.tags.items()]
