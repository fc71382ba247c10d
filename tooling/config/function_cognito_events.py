"""A function's `cognitoUserPool` events, read as Serverless v3 reads them (lib/plugins/aws/
package/compile/events/cognito-user-pool.js, v3.38): `{pool, trigger, existing, forceDeploy,
kmsKeyId}`.

Without `existing`, Serverless puts a user pool named `pool` in its stack
(`CognitoUserPool<Name>`, the name's letters and digits), its `LambdaConfig` holding each
trigger's function, and merges an entry of `resources:` with that logical id over it; each
function gets a Lambda permission for `cognito-idp.amazonaws.com` from that pool. The toolkit
does the same with the stack of `resources:` (`generated_pools`, merged under the user's entry
as Serverless merges it) and a permission of its own, once the stack gives the pool's ARN.
With `existing: true` Serverless rewrites a pool of the account through a custom resource; the
toolkit changes no pool it did not make: such an event is a warning at its line, and the
function deploys without it. What Serverless' schema or code refuses is a problem at its line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tooling.config.events import Location
from tooling.config.function_messages import FunctionMessages
from tooling.config.sqs_events import Locate, Resolve
from tooling.errors import BadInput
from tooling.sourcemap import pointer_join

CUSTOM_SENDERS = ("CustomSMSSender", "CustomEmailSender")
TRIGGERS = (
    "PreSignUp", "PostConfirmation", "PreAuthentication", "PostAuthentication",
    "PreTokenGeneration", "CustomMessage", "DefineAuthChallenge", "CreateAuthChallenge",
    "VerifyAuthChallengeResponse", "UserMigration", *CUSTOM_SENDERS,
)  # fmt: skip
COGNITO_KEYS = frozenset({"pool", "trigger", "existing", "forceDeploy", "kmsKeyId"})
LAMBDA_VERSION = "V1_0"  # the one LambdaVersion of custom sender triggers
PRINCIPAL = "cognito-idp.amazonaws.com"
_POOL = re.compile(r"^[\w\s+=,.@-]{1,128}$")  # the schema's pattern and maxLength
_KMS_ARN = re.compile(r"^arn:aws[a-z-]*:kms:")
_EG = "e.g. `- cognitoUserPool: {pool: users, trigger: PreSignUp}`"


def pool_logical_id(pool: str) -> str:
    """Serverless' logical id of the pool it makes (naming.getCognitoUserPoolLogicalId)."""
    name = re.sub(r"[^0-9A-Za-z]", "", pool)
    return f"CognitoUserPool{name[:1].upper()}{name[1:]}"


@dataclass(frozen=True)
class CognitoEvent:
    """One `cognitoUserPool` event: the pool named `pool` calls the function on `trigger`.
    `pool_arn` is the pool's ARN (a placeholder while the stack has not made it)."""

    pool: str
    trigger: str
    pool_arn: str
    kms_key_id: str | None = None
    location: Location = (None, None, None)


@dataclass
class CognitoEventReader(FunctionMessages):
    function_key: str
    at: Locate
    resolve: Resolve
    warnings: list[str]
    problems: list[BadInput]

    def read(self, value: Any, at: str) -> CognitoEvent | None:
        parsed = parse_event(value, at, self._problem)
        if parsed is None:
            return None
        pool, trigger, existing, kms_key_id = parsed
        if existing:
            self._warn(
                at,
                f"the {trigger} trigger of the existing user pool {pool!r} is not deployed: "
                "Serverless rewrites that pool's settings through a custom resource, and the "
                "toolkit changes no pool it did not make (add the trigger to the pool yourself, "
                "or let the service make the pool: drop `existing`)",
            )
            return None
        kw = self.at(at)
        arn = self.resolve(
            {"Fn::GetAtt": [pool_logical_id(pool), "Arn"]}, at, f"user pool {pool!r}"
        )
        if not isinstance(arn, str):
            return None
        return CognitoEvent(
            pool, trigger, arn, kms_key_id, location=(kw["file"], kw["line"], kw["column"])
        )


def parse_event(value: Any, at: str, problem: Any) -> tuple[str, str, bool, str | None] | None:
    """(pool, trigger, existing, kmsKeyId) of one event as Serverless' schema reads it; None
    with `problem(pointer, message, hint)` called when it refuses it."""
    if not isinstance(value, dict):
        problem(at, "a cognitoUserPool event is a mapping with pool and trigger", _EG)
        return None
    for key in value:
        if key not in COGNITO_KEYS:
            problem(
                pointer_join(at, str(key)),
                f"cognitoUserPool key `{key}` is not one Serverless allows (it refuses the file)",
                "use " + ", ".join(sorted(COGNITO_KEYS)),
            )
            return None
    pool, trigger = value.get("pool"), value.get("trigger")
    if not isinstance(pool, str) or not _POOL.fullmatch(pool):
        problem(pointer_join(at, "pool"),
                f"cognitoUserPool pool {pool!r} is not a user pool name",
                "1-128 letters, digits, spaces and +=,.@_-")  # fmt: skip
        return None
    if trigger not in TRIGGERS:
        problem(pointer_join(at, "trigger"),
                f"cognitoUserPool trigger {trigger!r} is not one Cognito calls",
                "one of " + ", ".join(TRIGGERS))  # fmt: skip
        return None
    for flag in ("existing", "forceDeploy"):
        if value.get(flag) is not None and not isinstance(value[flag], bool):
            problem(pointer_join(at, flag), f"cognitoUserPool {flag} must be true or false")
            return None
    kms = value.get("kmsKeyId")
    if kms is not None and not (isinstance(kms, str) and _KMS_ARN.match(kms)):
        problem(pointer_join(at, "kmsKeyId"), "kmsKeyId must be a KMS key ARN")
        return None
    if trigger in CUSTOM_SENDERS and kms is None:
        problem(at, f"a {trigger} trigger needs kmsKeyId (Serverless refuses it: "
                "COGNITO_KMS_KEY_NOT_SET)")  # fmt: skip
        return None
    return pool, str(trigger), bool(value.get("existing")), kms


def generated_pools(
    functions: Mapping[str, Any], function_arns: Mapping[str, str]
) -> dict[str, Any]:
    """The user pools Serverless adds to its stack for the functions' `cognitoUserPool` events
    (without `existing`), by logical id: `functions` is `functions:` as written (key -> spec),
    `function_arns` each function's ARN. A malformed event adds nothing (the reader says why)."""
    configs: dict[str, tuple[str, dict[str, Any]]] = {}
    for key, spec in functions.items():
        events = spec.get("events") if isinstance(spec, dict) else None
        for event in events if isinstance(events, list) else []:
            if (
                not isinstance(event, dict)
                or "cognitoUserPool" not in event
                or key not in (function_arns)
            ):
                continue
            parsed = parse_event(event["cognitoUserPool"], "", lambda *_: None)
            if parsed is None or parsed[2]:
                continue
            pool, trigger, _, kms = parsed
            logical_id = pool_logical_id(pool)
            config = configs.setdefault(logical_id, (pool, {}))[1]
            if trigger in CUSTOM_SENDERS:
                config[trigger] = {"LambdaArn": function_arns[key], "LambdaVersion": LAMBDA_VERSION}
                config["KMSKeyID"] = kms
            else:
                config[trigger] = function_arns[key]
    return {
        logical_id: {
            "Type": "AWS::Cognito::UserPool",
            "Properties": {"UserPoolName": pool, "LambdaConfig": config},
        }
        for logical_id, (pool, config) in configs.items()
    }
