"""Variables whose values live in AWS services: `${ssm:}`, `${cf:}`, `${s3:}`.

Serverless v3 reads them with the AWS SDK while it resolves serverless.yml
(lib/configuration/variables/sources/instance-dependent/get-ssm.js, get-cf.js, get-s3.js): a
missing parameter, stack output or object resolves to null, so a fallback applies. The toolkit
resolves variables through this port, since reading AWS belongs to tooling/aws/client.py:
tooling.aws.variables reads AWS on the AWS target and the local AWS services on the local target
(tooling.session wires them). `Unwired` stands in where no reader is given (e.g. a test): it
resolves nothing, and says so. A reader may also say how to set a missing value
(`how_to_set(kind, address)`), for the error's hint.
"""

from __future__ import annotations

from typing import Any, Protocol

from tooling.config.missing import MISSING

# What each source reads, for messages (Serverless v3 docs, "Variables").
SOURCE_DESCRIPTIONS = {
    "ssm": "an SSM Parameter Store parameter",
    "cf": "a CloudFormation stack output",
    "s3": "an S3 object",
    "export": "a CloudFormation export (Fn::ImportValue)",
    "layer": "a Lambda layer's versions (a layer ARN ending in latest)",
}


class ExternalSources(Protocol):
    def resolve(self, kind: str, address: str, params: tuple[str, ...]) -> Any:
        """The value of `${kind(params):address}`, or MISSING when the service has none."""
        ...

    def missing_reason(self, kind: str, address: str) -> str:
        """Why `${kind:address}` gave no value, for the error message."""
        ...


class Unwired:
    """No reader is wired: every AWS-service variable is unresolved, with that reason."""

    def resolve(self, kind: str, address: str, params: tuple[str, ...]) -> Any:
        return MISSING

    def missing_reason(self, kind: str, address: str) -> str:
        what = SOURCE_DESCRIPTIONS.get(kind, kind)
        return (
            f"the toolkit does not read {what} yet (variables from AWS services are not supported)"
        )
