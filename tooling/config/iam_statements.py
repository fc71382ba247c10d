"""The shape IAM policy statements written in serverless.yml must have.

Shared by `provider.iam.role.statements` (checked in tooling.iam) and a state machine's
`iamRoleStatements` (checked by the loader, which knows lines and columns).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

STATEMENT_HINT = "an IAM statement needs Effect, Action and Resource"
STATEMENT_EXAMPLE = "e.g. - Effect: Allow / Action: s3:GetObject / Resource: arn:aws:s3:::b/*"


@dataclass(frozen=True)
class StatementProblem:
    message: str  # what is wrong, without saying where
    key: str | None  # the statement's key at fault, None for the statement as a whole
    hint: str | None = None


def statement_problem(statement: Any) -> StatementProblem | None:
    """What is wrong with one statement, or None when it has the shape IAM requires."""
    if not isinstance(statement, dict):
        return StatementProblem("must be a mapping", None, STATEMENT_HINT)
    missing = [
        key for key in ("Effect", "Action") if key not in statement and f"Not{key}" not in statement
    ]
    if "Resource" not in statement and "NotResource" not in statement:
        missing.append("Resource")
    if missing:
        return StatementProblem(f"has no {', '.join(missing)}", None, STATEMENT_HINT)
    if statement.get("Effect") not in ("Allow", "Deny"):
        return StatementProblem(
            f"Effect must be Allow or Deny (got {statement.get('Effect')!r})", "Effect"
        )
    return None
