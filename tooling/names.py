"""AWS naming rules and ARNs, shared by both targets."""

from __future__ import annotations

import re

from tooling.errors import InputError

LOCAL_ACCOUNT_ID = "000000000000"
MAX_INPUT_BYTES = 262_144  # StartExecution's input limit (256 KiB, UTF-8)

# StartExecution `name`: 1-80 characters; no whitespace, brackets, wildcards, the listed
# punctuation, or control characters (API reference, StartExecution; "Quotas" page).
_FORBIDDEN_NAME_CHARS = re.compile(
    r"[\s<>{}\[\]?*\"#%\\^|~`$&,;:/\u0000-\u001f\u007f-\u009f\ufffe\uffff\ud800-\udfff]"
)


def check_execution_name(name: str) -> None:
    if not 1 <= len(name) <= 80:
        raise InputError(
            f"execution name {name!r} is {len(name)} characters long; AWS allows 1 to 80",
            hint="choose a shorter --name, or leave it out to get a fresh UUID",
        )
    bad = _FORBIDDEN_NAME_CHARS.search(name)
    if bad:
        raise InputError(
            f"execution name {name!r} contains {bad.group()!r}, which AWS does not allow",
            hint="use letters, digits, '-' and '_'",
        )


def check_input_size(text: str, source: str) -> None:
    size = len(text.encode("utf-8"))
    if size > MAX_INPUT_BYTES:
        raise InputError(
            f"{source}: the input is {size} bytes; "
            f"Step Functions accepts at most {MAX_INPUT_BYTES}",
            hint="pass a smaller document, e.g. a reference to data stored elsewhere",
        )


def execution_arn(state_machine_arn: str, name: str) -> str:
    # arn:aws:states:<region>:<account>:stateMachine:<sm> -> ...:execution:<sm>:<name>
    prefix, _, sm_name = state_machine_arn.rpartition(":stateMachine:")
    return f"{prefix}:execution:{sm_name}:{name}"


def state_machine_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:states:{region}:{account}:stateMachine:{name}"


def function_arn(region: str, account: str, name: str) -> str:
    return f"arn:aws:lambda:{region}:{account}:function:{name}"


def function_name_from_identifier(identifier: str) -> str:
    """The function name in a name, partial ARN (`acct:function:name`) or ARN, without qualifier."""
    parts = identifier.split(":")
    if "function" in parts:
        index = parts.index("function")
        if index + 1 < len(parts):
            return parts[index + 1]
    return identifier
