"""`${ssm:}`, `${cf:}` and `${s3:}` on the local target: read from the folder's local AWS services
(tooling.aws.variables, pointed at their endpoint). The services are started only when they hold
something: a fresh folder's services hold no parameter, stack or object, so the value is missing
without starting them. Functions run without their layers here (tooling.localrt), so a layer
written `...:latest` that the local services do not hold is not needed: `layers_needed` says so
to the loader, which leaves it out with a warning."""

from __future__ import annotations

from typing import Any

from tooling.aws.client import AwsClient, local_endpoint_client
from tooling.aws.variables import AwsVariables
from tooling.config.missing import MISSING
from tooling.localaws.manager import LocalAwsServices

SET_IT = "with the endpoint `tool local start` prints: AWS_ENDPOINT_URL=<endpoint> "


class LocalAwsVariables(AwsVariables):
    layers_needed = False

    def __init__(self, services: LocalAwsServices, region: str) -> None:
        super().__init__(self._client, "the local AWS services", SET_IT)
        self.services = services
        self.region = region
        self._clients: dict[str, AwsClient] = {}

    def resolve(self, kind: str, address: str, params: tuple[str, ...]) -> Any:
        if not self.services.has_data():
            self._missing(kind, address, "the local AWS services hold nothing yet")
            return MISSING
        return super().resolve(kind, address, params)

    def _client(self, region: str | None) -> AwsClient:
        region = region or self.region
        if region not in self._clients:
            url = self.services.endpoint()
            self._clients[region] = local_endpoint_client(
                url, region, self.services.credentials().environment()
            )
        return self._clients[region]
