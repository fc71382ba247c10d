"""Variables whose values live in AWS services: `${ssm:}`, `${cf:}`, `${s3:}`.

Serverless v3 reads them with the AWS SDK while it resolves serverless.yml
(lib/configuration/variables/sources/instance-dependent/get-ssm.js, get-cf.js, get-s3.js): a
missing parameter, stack output or object resolves to null, so a fallback applies. The toolkit
resolves variables before it knows the target, and reading AWS belongs to tooling/aws/client.py;
so the resolver asks through this port. `Unwired` is the stand-in until a target wires a reader
(boto3 on AWS, the local AWS services locally): it resolves nothing, and says so.
"""

from __future__ import annotations

from typing import Any, Protocol

from tooling.config.missing import MISSING

# What each source reads, for messages (Serverless v3 docs, "Variables").
SOURCE_DESCRIPTIONS = {
    "ssm": "an SSM Parameter Store parameter",
    "cf": "a CloudFormation stack output",
    "s3": "an S3 object",
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
