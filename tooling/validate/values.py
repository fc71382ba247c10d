"""The value of each field a state allows, checked by the kind the field table gives it
(tooling.asl.fields): the same kind is checked the same way in every state type. A field the
state does not allow is reported by the structure rule, and its value is not checked."""

from __future__ import annotations

import re
from typing import Any

from tooling.asl import StateNode, fields
from tooling.asl.fields import Kind, Number
from tooling.asl.timestamps import is_timestamp
from tooling.config.resources import PENDING as STACK_VALUE_PENDING
from tooling.sourcemap import pointer_join
from tooling.validate.diagnostics import Collector, did_you_mean
from tooling.validate.jsonata import is_expression
from tooling.validate.payload import (
    check_assign,
    check_jsonata_or,
    check_jsonata_string,
    check_jsonata_template,
    check_path,
    check_payload_template,
    check_reference_path,
    warn_result_dollar_keys,
)
from tooling.validate.rules import Rule

_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(?:\d{12})?:.+$")
_LAMBDA_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9_$-]+)?$"
)
_STATES_ARN = re.compile(r"^arn:aws[a-z-]*:states:(?::|[a-z0-9-]+:\d{12}:)[A-Za-z0-9_.:-]+$")
_PLACEHOLDER = re.compile(r"\$\{[^}]+\}")  # ${...} substituted before deploy (Serverless, SAM)


class ValueRule(Rule):
    def state(self, state: StateNode) -> None:
        assert state.type is not None
        for key, value in state.fields.items():
            row = fields.field(state.type, state.language, key)
            if row is not None:
                self.check(row, key, value, state.at(key), state.jsonata)

    def check(self, row: fields.Field, key: str, value: Any, at: str, jsonata: bool) -> None:
        out = self.out
        kind = row.kind
        if kind is Kind.STRING:
            if not isinstance(value, str):
                out.error(at, "FIELD_TYPE", f"{key} must be a string")
        elif kind is Kind.STATE_NAME:
            if not isinstance(value, str):
                out.error(at, "FIELD_TYPE", f"{key} must be a state name")
        elif kind is Kind.END:
            if value is not True:
                out.error(
                    at,
                    "STATE_END_INVALID",
                    f"End must be true (got {value!r}); to continue, use Next instead",
                )
        elif kind is Kind.PATH:
            check_path(out, value, at, key, nullable=True)
        elif kind is Kind.RESULT_PATH:
            check_reference_path(out, value, at, key, nullable=True, writes=True)
        elif kind is Kind.REFERENCE_PATH:
            check_reference_path(out, value, at, key)
        elif kind is Kind.PATH_OR_INTRINSIC:
            check_reference_path(out, value, at, key, intrinsic=True)
        elif kind in (Kind.TEMPLATE, Kind.OBJECT_TEMPLATE, Kind.ARGUMENTS):
            self.template(kind, key, value, at, jsonata)
        elif kind is Kind.ASSIGN:
            check_assign(out, value, at, jsonata)
        elif kind is Kind.RESULT:
            warn_result_dollar_keys(out, value, at)
        elif kind is Kind.NUMBER:
            assert row.number is not None
            check_number(out, value, at, key, row.number, jsonata)
        elif kind is Kind.TIMESTAMP:
            if jsonata and isinstance(value, str) and value.startswith("{%"):
                check_jsonata_string(out, value, at)
            elif not is_timestamp(value):
                out.error(
                    at,
                    "TIMESTAMP_INVALID",
                    f"Timestamp {value!r} is not an RFC 3339 timestamp such as "
                    '"2026-01-31T12:00:00Z" (uppercase T and Z)',
                )
        elif kind is Kind.STRING_OR_EXPRESSION:
            if not isinstance(value, str):
                out.error(at, "FIELD_TYPE", f"{key} must be a string")
            elif jsonata:
                check_jsonata_string(out, value, at)
        elif kind is Kind.ITEMS:
            check_jsonata_or(out, value, at, key, "an array", isinstance(value, list))
        elif kind is Kind.LABEL:
            if not isinstance(value, str) or not 1 <= len(value) <= 40:
                out.error(at, "FIELD_VALUE", "Label must be a string of 1 to 40 characters")
        elif kind is Kind.RESOURCE:
            self.resource(value, at)
        elif kind is Kind.OBJECT:
            assert row.table is not None
            known_fields(out, value, at, key, fields.object_fields(row.table))

    def template(self, kind: Kind, key: str, value: Any, at: str, jsonata: bool) -> None:
        """A payload template (JSONPath: `.$` fields) or a JSONata template (`{% %}`)."""
        out = self.out
        if jsonata:
            check_jsonata_template(out, value, at)
            if kind is Kind.ARGUMENTS and not (isinstance(value, dict) or is_expression(value)):
                out.error(
                    at,
                    "FIELD_TYPE",
                    f'{key} must be an object or a JSONata expression "{{% ... %}}"',
                )
        elif kind is Kind.OBJECT_TEMPLATE and not isinstance(value, dict):
            out.error(at, "FIELD_TYPE", f"{key} must be an object (a payload template)")
        else:
            check_payload_template(out, value, at, key)

    def resource(self, value: Any, pointer: str) -> None:
        out = self.out
        if isinstance(value, dict) and len(value) == 1:
            key = next(iter(value))
            if key == "Ref" or key.startswith("Fn::"):
                return  # a CloudFormation intrinsic, resolved at deploy time
        if not isinstance(value, str):
            out.error(pointer, "FIELD_TYPE", "Resource must be an ARN string")
            return
        if _PLACEHOLDER.search(value) or STACK_VALUE_PENDING.fullmatch(value):
            return  # substituted before deploy, or read from the stack of resources: first
        if not _ARN.match(value):
            out.error(
                pointer,
                "RESOURCE_INVALID",
                f'Resource "{value}" is not an ARN; use a Lambda function ARN or an integration '
                'such as "arn:aws:states:::lambda:invoke"',
            )
        elif value.split(":")[2] == "lambda" and not _LAMBDA_ARN.match(value):
            out.error(
                pointer,
                "RESOURCE_INVALID",
                f'Resource "{value}" is not a Lambda function ARN '
                "(arn:aws:lambda:<region>:<account>:function:<name>)",
            )
        elif value.split(":")[2] == "states" and not _STATES_ARN.match(value):
            out.error(
                pointer,
                "RESOURCE_INVALID",
                f'Resource "{value}" is not a Step Functions integration ARN '
                '(e.g. "arn:aws:states:::lambda:invoke")',
            )


def check_number(
    out: Collector, value: Any, at: str, key: str, number: Number, jsonata: bool
) -> None:
    """A numeric field: a number in range, or (JSONata states) a `{% %}` expression."""
    kind = number.describe()
    if jsonata and isinstance(value, str) and (value.startswith("{%") or value.endswith("%}")):
        check_jsonata_string(out, value, at)
    elif number.accepts(value):
        return
    elif isinstance(value, int | float) and not isinstance(value, bool):
        out.error(at, "FIELD_VALUE", f"{key} must be {kind}, not {value}")
    else:
        more = " or a JSONata expression" if jsonata else ""
        out.error(at, "FIELD_TYPE", f"{key} must be {kind}{more}, not {value!r}")


def known_fields(out: Collector, value: Any, at: str, what: str, allowed: frozenset[str]) -> bool:
    """An object whose fields must be among `allowed`; False when it is not an object."""
    if not isinstance(value, dict):
        out.error(at, "FIELD_TYPE", f"{what} must be an object")
        return False
    for key in value:
        if key not in allowed:
            out.error(
                pointer_join(at, key),
                "FIELD_UNKNOWN",
                f'"{key}" is not allowed in {what}{did_you_mean(key, allowed)}',
            )
    return True
