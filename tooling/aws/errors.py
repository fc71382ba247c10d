"""What an AWS failure becomes for the user. Kept free of botocore so anything may import it."""

from __future__ import annotations

from tooling.errors import BadInput, OperationFailed


class AwsOperationFailed(OperationFailed):
    """An AWS call failed for a reason that is not the user's input (exit 1)."""

    def __init__(self, message: str, *, code: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class AwsAccessDenied(AwsOperationFailed):
    """The credentials in use may not do this, or are missing, expired or invalid."""


class AwsRejected(BadInput):
    """AWS refused a value we sent (a name, a definition, a policy): fix the input (exit 2)."""

    def __init__(self, message: str, *, code: str = "", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.code = code


class AwsSetupError(BadInput):
    """No credentials, an unknown profile, no region: the AWS settings need fixing (exit 2)."""
