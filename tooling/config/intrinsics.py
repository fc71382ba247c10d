"""CloudFormation intrinsics inside state machine definitions, resolved to concrete values.

serverless-step-functions lets definitions point at the service's functions with `Fn::GetAtt`,
`Ref`, `Fn::Sub`, `Fn::Join`, and with `#{AWS::Region}`-style pseudo parameters (which it turns
into `Fn::Sub`). CloudFormation would resolve them at deploy time; the toolkit deploys without a
stack for the local runtime, so it resolves them itself: GetAtt Arn -> function ARN, Ref -> name.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tooling.errors import DefinitionError
from tooling.names import partition_for
from tooling.sourcemap import SourceMap, pointer_join

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_HASH_PLACEHOLDER = re.compile(r"#\{([^}]*)\}")
_SUPPORTED = ("Fn::GetAtt", "Ref", "Fn::Sub", "Fn::Join")


def normalized_name(key: str) -> str:
    """Serverless' normalised name: first letter upper-cased, '-' -> Dash, '_' -> Underscore."""
    text = key.replace("-", "Dash").replace("_", "Underscore")
    return text[:1].upper() + text[1:]


def function_logical_id(key: str) -> str:
    """CloudFormation logical id Serverless gives a function: `hello` -> `HelloLambdaFunction`."""
    return f"{normalized_name(key)}LambdaFunction"


@dataclass(frozen=True)
class FunctionTarget:
    name: str
    arn: str


@dataclass(frozen=True)
class IntrinsicContext:
    """What a definition's intrinsics may refer to."""

    functions: Mapping[str, FunctionTarget]  # by function key
    region: str
    account_id: str
    stack_name: str
    other_resources: frozenset[str] = frozenset()  # logical ids under resources.Resources
    partition: str = field(default="")

    def pseudo(self, name: str) -> str | None:
        partition = self.partition or partition_for(self.region)
        return {
            "AWS::Region": self.region,
            "AWS::AccountId": self.account_id,
            "AWS::Partition": partition,
            "AWS::URLSuffix": "amazonaws.com.cn" if partition == "aws-cn" else "amazonaws.com",
            "AWS::StackName": self.stack_name,
        }.get(name)

    def function(self, name: str) -> FunctionTarget | None:
        if name in self.functions:
            return self.functions[name]
        for key, target in self.functions.items():
            if function_logical_id(key) == name:
                return target
        return None

    def known_names(self) -> list[str]:
        return [*self.functions, *(function_logical_id(k) for k in self.functions)]


class _Unresolvable(Exception):
    """The intrinsic names a resource the toolkit does not create; left as written."""


class IntrinsicResolver:
    def __init__(self, context: IntrinsicContext, source: SourceMap | None) -> None:
        self.context = context
        self.source = source
        self.warnings: list[str] = []

    def resolve(self, value: Any, pointer: str = "") -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                ((key, argument),) = value.items()
                if key in _SUPPORTED:
                    try:
                        return self._intrinsic(key, argument, pointer_join(pointer, key))
                    except _Unresolvable as exc:
                        self.warnings.append(f"{self._where(pointer)}{exc} (left as written)")
                        return value
                if isinstance(key, str) and key.startswith("Fn::"):
                    self._fail(
                        pointer,
                        f"{key} is not supported in state machine definitions",
                        f"use {', '.join(_SUPPORTED)} or a plain value",
                    )
            return {k: self.resolve(v, pointer_join(pointer, k)) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v, pointer_join(pointer, i)) for i, v in enumerate(value)]
        if isinstance(value, str) and "#{" in value:
            try:
                return _HASH_PLACEHOLDER.sub(
                    lambda m: self._placeholder(m.group(1), {}, pointer), value
                )
            except _Unresolvable as exc:
                self.warnings.append(f"{self._where(pointer)}{exc} (left as written)")
        return value

    # -- helpers ------------------------------------------------------------------------------

    def _where(self, pointer: str) -> str:
        if self.source is None:
            return ""
        kw = self.source.error_kwargs(pointer)
        parts = [str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None]
        return ":".join(parts) + ": "

    def _fail(self, pointer: str, message: str, hint: str | None = None) -> None:
        where = self.source.error_kwargs(pointer) if self.source else {}
        raise DefinitionError(message, hint=hint, **where)

    def _unknown(self, pointer: str, what: str, name: str) -> None:
        if name in self.context.other_resources:
            raise _Unresolvable(f"{what} refers to resource '{name}' from resources")
        close = difflib.get_close_matches(name, self.context.known_names(), n=1)
        known = ", ".join(self.context.functions) or "none"
        hint = f"did you mean '{close[0]}'?" if close else f"functions of this service: {known}"
        self._fail(pointer, f"{what} names '{name}', which is not a function of this service", hint)

    def _intrinsic(self, key: str, argument: Any, pointer: str) -> Any:
        if key == "Fn::GetAtt":
            return self._get_att(argument, pointer)
        if key == "Ref":
            return self._ref(argument, pointer)
        if key == "Fn::Join":
            return self._join(argument, pointer)
        return self._sub(argument, pointer)

    def _get_att(self, argument: Any, pointer: str) -> str:
        if isinstance(argument, str) and "." in argument:
            argument = argument.split(".", 1)
        if not (
            isinstance(argument, list)
            and len(argument) == 2
            and all(isinstance(a, str) for a in argument)
        ):
            self._fail(pointer, "Fn::GetAtt needs [resource, attribute]", 'e.g. ["hello", "Arn"]')
        resource, attribute = argument
        target = self.context.function(resource)
        if target is None:
            self._unknown(pointer, "Fn::GetAtt", resource)
        assert target is not None
        if attribute != "Arn":
            self._fail(
                pointer,
                f"Fn::GetAtt {resource}.{attribute}: only the Arn attribute of a function is known",
                f'use ["{resource}", "Arn"]',
            )
        return target.arn

    def _ref(self, argument: Any, pointer: str) -> str:
        if not isinstance(argument, str):
            self._fail(pointer, "Ref needs a resource name", 'e.g. {"Ref": "hello"}')
        pseudo = self.context.pseudo(argument)
        if pseudo is not None:
            return pseudo
        target = self.context.function(argument)
        if target is None:
            self._unknown(pointer, "Ref", argument)
        assert target is not None
        return target.name

    def _join(self, argument: Any, pointer: str) -> str:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            self._fail(pointer, "Fn::Join needs [delimiter, [values]]", 'e.g. [":", ["a", "b"]]')
        items = self.resolve(argument[1], pointer_join(pointer, 1))
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self._fail(pointer_join(pointer, 1), "Fn::Join values must be a list of strings")
        return argument[0].join(items)

    def _sub(self, argument: Any, pointer: str) -> str:
        variables: dict[str, Any] = {}
        template = argument
        if isinstance(argument, list):
            if len(argument) != 2 or not isinstance(argument[1], dict):
                self._fail(pointer, "Fn::Sub needs a string or [string, {name: value}]")
            template = argument[0]
            variables = self.resolve(argument[1], pointer_join(pointer, 1))
        if not isinstance(template, str):
            self._fail(pointer, "Fn::Sub needs a string template")
        parts: list[str] = []
        last = 0
        for match in _SUB_PLACEHOLDER.finditer(template):
            parts.append(template[last : match.start()])
            parts.append(self._placeholder(match.group(1), variables, pointer))
            last = match.end()
        parts.append(template[last:])
        return "".join(parts)

    def _placeholder(self, name: str, variables: Mapping[str, Any], pointer: str) -> str:
        """Value of `${name}` in Fn::Sub (also `#{name}` in plain definition strings)."""
        if name.startswith("!"):
            return "${" + name[1:] + "}"
        if name in variables:
            value = variables[name]
            if not isinstance(value, str):
                self._fail(pointer, f"Fn::Sub variable '{name}' must be a string")
            return value
        pseudo = self.context.pseudo(name)
        if pseudo is not None:
            return pseudo
        resource, dot, attribute = name.partition(".")
        if dot:
            return self._get_att([resource, attribute], pointer)
        return self._ref(name, pointer)


def resolve_intrinsics(
    definition: Any, context: IntrinsicContext, source: SourceMap | None = None
) -> tuple[Any, list[str]]:
    """Resolve intrinsics in `definition`. Returns (resolved copy, warnings about what was left)."""
    resolver = IntrinsicResolver(context, source)
    return resolver.resolve(definition), resolver.warnings


class _Function(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def arn(self) -> str: ...


class _Service(Protocol):
    """What `context_for` reads of a loaded service (tooling.config.service.ServiceConfig,
    which imports this module)."""

    @property
    def functions(self) -> Mapping[str, _Function]: ...
    @property
    def region(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def stage(self) -> str: ...


def context_for(service: _Service) -> IntrinsicContext:
    """The intrinsic context of a loaded service: its functions, region, account and stack."""
    return IntrinsicContext(
        functions={k: FunctionTarget(f.name, f.arn) for k, f in service.functions.items()},
        region=service.region,
        account_id=service.account_id,
        stack_name=f"{service.service}-{service.stage}",
    )


def resolve_definition_intrinsics(
    definition: Any, service: _Service, source: SourceMap | None = None
) -> Any:
    """Resolve a stand-alone definition's intrinsics against a loaded service's functions."""
    resolved, _ = resolve_intrinsics(definition, context_for(service), source)
    return resolved
