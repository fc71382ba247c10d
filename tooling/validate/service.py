"""Service checks: serverless.yml, each function's handler, each state machine after variable
resolution, and Lambda tasks that must name a function of the service (or a full ARN)."""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING, Any

from tooling.errors import BadInput, DefinitionError, HandlerError
from tooling.sourcemap import pointer_join
from tooling.validate.definition import iter_states, validate_tree
from tooling.validate.diagnostics import Collector, Diagnostic, Severity, did_you_mean, sort_key
from tooling.validate.jsonata import is_expression

if TYPE_CHECKING:
    from tooling.config.service import ServiceConfig

_LAMBDA_FUNCTION_ARN = re.compile(
    r"^arn:aws[a-z-]*:lambda:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):function:"
    r"(?P<name>[A-Za-z0-9_-]+)(?::[A-Za-z0-9_$-]+)?$"
)
_LAMBDA_INVOKE = re.compile(r"^arn:aws[a-z-]*:states:::lambda:invoke(?:\.waitForTaskToken)?$")
_WHERE = re.compile(r"^(?P<file>[^:]+?)(?::(?P<line>\d+))?(?::(?P<column>\d+))?: (?P<message>.*)$")


def validate_service(service: ServiceConfig) -> list[Diagnostic]:
    """Every check of `tool validate` on a loaded service."""
    diagnostics = [_config_warning(text) for text in service.warnings]
    diagnostics += [diagnostic_from_error(problem) for problem in service.problems]
    diagnostics += check_handler_files(service)
    for machine in service.state_machines.values():
        file = None if machine.source is not None else service.config_file.name
        diagnostics += validate_tree(machine.tree, file=file)
        diagnostics += check_lambda_resources(service, machine.tree, machine.source, file)
    return sorted(diagnostics, key=sort_key)


def diagnostic_from_error(exc: BadInput, code: str | None = None) -> Diagnostic:
    """A loading error (serverless.yml, variables, a definition file's JSON) as a diagnostic."""
    if code is None:
        text = exc.message.lower()
        if isinstance(exc, DefinitionError) and "json" in text:
            code = "JSON_SYNTAX"
        elif "fn::" in text or "ref " in text:
            code = "RESOURCE_UNRESOLVED"
        elif "variable" in text or "${" in exc.message:
            code = "VARIABLE_UNRESOLVED"
        elif isinstance(exc, HandlerError):
            code = "HANDLER_INVALID"
        else:
            code = "CONFIG_INVALID"
    message = f"{exc.message} ({exc.hint})" if exc.hint else exc.message
    return Diagnostic(Severity.ERROR, code, message, exc.file, exc.line, exc.column, "")


def _config_warning(text: str) -> Diagnostic:
    match = _WHERE.match(text)
    if not match:
        return Diagnostic(Severity.WARNING, "CONFIG_WARNING", text, None, None, None, "")
    line, column = match["line"], match["column"]
    return Diagnostic(
        Severity.WARNING,
        "CONFIG_WARNING",
        match["message"],
        match["file"],
        int(line) if line else None,
        int(column) if column else None,
        "",
    )


def check_handler_files(service: ServiceConfig) -> list[Diagnostic]:
    """tooling.package.check_handlers, one function at a time, each problem as a diagnostic."""
    from tooling.package import check_handlers

    found: list[Diagnostic] = []
    for key, function in service.functions.items():
        try:
            check_handlers(dataclasses.replace(service, functions={key: function}))
        except HandlerError as exc:
            if exc.line is not None or exc.message.startswith("cannot compile"):
                code = "HANDLER_SYNTAX"
            elif " has no top-level " in exc.message:
                code = "HANDLER_FUNCTION_MISSING"
            elif " not found" in exc.message or " is not in package artifact " in exc.message:
                code = "HANDLER_FILE_MISSING"
            else:  # TypeScript without a build, a bootstrap that cannot run, not a zip
                code = "HANDLER_INVALID"
            found.append(diagnostic_from_error(exc, code))
    return found


def check_lambda_resources(
    service: ServiceConfig, definition: Any, source: Any, file: str | None = None
) -> list[Diagnostic]:
    """Each Lambda task names a function of this service, or is a full ARN."""
    out = Collector(source, file)
    names = {f.name for f in service.functions.values()}
    keys = {f.key: f.name for f in service.functions.values()}
    for _name, state, pointer in iter_states(definition):
        if state.get("Type") != "Task" or "Resource" not in state:
            continue
        resource = state["Resource"]
        at = pointer_join(pointer, "Resource")
        if isinstance(resource, dict):
            out.error(
                at,
                "RESOURCE_UNRESOLVED",
                f"Resource {resource} was not resolved: it names no function or resource of "
                "this service",
            )
            continue
        if not isinstance(resource, str):
            continue
        arn = _LAMBDA_FUNCTION_ARN.match(resource)
        if arn:
            _check_own_arn(out, service, arn, names, at)
            continue
        if _LAMBDA_INVOKE.match(resource):
            for field in ("Parameters", "Arguments"):
                payload = state.get(field)
                if isinstance(payload, dict) and "FunctionName" in payload:
                    _check_function_name(
                        out,
                        payload["FunctionName"],
                        pointer_join(pointer_join(pointer, field), "FunctionName"),
                        names,
                        keys,
                    )
    return out.items


def _check_own_arn(
    out: Collector, service: ServiceConfig, arn: re.Match[str], names: set[str], at: str
) -> None:
    """A full ARN may name any function; one in this service's account and region that is not a
    function of the service is probably a typo."""
    if arn["account"] != service.account_id or arn["region"] != service.region:
        return
    if arn["name"] not in names:
        out.warning(
            at,
            "LAMBDA_FUNCTION_UNKNOWN",
            f'"{arn["name"]}" is not a function of this service'
            f"{did_you_mean(arn['name'], names)}; the local runtime cannot run it",
        )


def _check_function_name(
    out: Collector, value: Any, at: str, names: set[str], keys: dict[str, str]
) -> None:
    if not isinstance(value, str) or is_expression(value):
        return
    if _LAMBDA_FUNCTION_ARN.match(value):
        return
    name = value.split(":function:")[-1].split(":")[0]  # name, name:alias, account:function:name
    if name in names:
        return
    hint = f'; did you mean "{keys[name]}"?' if name in keys else did_you_mean(name, names)
    out.error(
        at,
        "LAMBDA_FUNCTION_UNKNOWN",
        f'FunctionName "{value}" is not a function of this service{hint} '
        "(use ${self:...} / Fn::GetAtt, the deployed name, or a full function ARN)",
    )
