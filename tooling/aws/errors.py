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


class ServiceErrorAnswer(Exception):
    """A service answered an SDK call with an error, kept as the service sent it (for callers
    that name it themselves, e.g. the local service integrations)."""

    def __init__(
        self,
        *,
        code: str,
        message: str,
        status: int,
        request_id: str,
        host_id: str | None = None,
        modeled: str | None = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.request_id = request_id
        self.host_id = host_id
        self.modeled = modeled  # the error shape the service's model names for `code`, if any


class ServiceUnreachable(Exception):
    """The endpoint refused the connection: the request was never delivered."""


class ParametersRefused(Exception):
    """Parameters that cannot be sent at all (e.g. an unknown field): `reason` says which."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
