"""CloudFormation intrinsics inside state machine definitions, resolved to concrete values.

serverless-step-functions lets definitions point at the service's functions with `Fn::GetAtt`,
`Ref`, `Fn::Sub`, `Fn::Join`, and with `#{AWS::Region}`-style pseudo parameters (which it turns
into `Fn::Sub`). CloudFormation would resolve them at deploy time; the toolkit deploys without a
stack, so it resolves them itself, as CloudFormation and the plugin would:

- a function (key or `<Key>LambdaFunction`): GetAtt Arn -> its ARN, Ref -> its name, except that
  the plugin turns a definition's `{"Ref": fn}` (the whole value, not one nested in another
  intrinsic) into the function's ARN (lib/utils/aws.js resolveLambdaFunctionName);
- a state machine by the plugin's logical id (`<Key>StepFunctionsStateMachine`, or the `id` or
  `name` normalised; lib/naming.js): Ref and GetAtt Arn -> its ARN, GetAtt Name -> its name;
- an entry of `resources:`: what `ResourceValues` knows (the outputs of the service's stack, see
  tooling.config.resources); a value it does not know is reported as unresolved, for the caller
  to refuse with the reference's line;
- `Fn::ImportValue`: what another stack exports, read from the target (`ExportValues`); an
  export that does not exist is an error, as CloudFormation refuses it. An export of the
  service's own `resources:` is the value it exports (read from that stack like any entry).
"""

from __future__ import annotations

import base64
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NoReturn, Protocol, runtime_checkable

from tooling.config.resources import PENDING as _PENDING_TEXT
from tooling.errors import DefinitionError
from tooling.names import partition_for
from tooling.sourcemap import SourceMap, pointer_join

_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")
_HASH_PLACEHOLDER = re.compile(r"#\{([^}]*)\}")
_SUPPORTED = (
    "Fn::GetAtt", "Ref", "Fn::Sub", "Fn::Join", "Fn::ImportValue", "Fn::Select", "Fn::Split",
    "Fn::Base64", "Fn::FindInMap", "Fn::If",
)  # fmt: skip
_NO_VALUE = object()  # Ref AWS::NoValue chosen by Fn::If: the property or item is left out


def normalized_name(key: str) -> str:
    """Serverless' normalised name: first letter upper-cased, '-' -> Dash, '_' -> Underscore."""
    text = key.replace("-", "Dash").replace("_", "Underscore")
    return text[:1].upper() + text[1:]


def function_logical_id(key: str) -> str:
    """CloudFormation logical id Serverless gives a function: `hello` -> `HelloLambdaFunction`."""
    return f"{normalized_name(key)}LambdaFunction"


def state_machine_logical_id(key: str, spec: Mapping[str, Any] | None = None) -> str:
    """The plugin's logical id of a state machine: its `id` or `name`, normalised, when given;
    else `<Key>StepFunctionsStateMachine` (serverless-step-functions lib/naming.js)."""
    custom = (spec or {}).get("id") or (spec or {}).get("name")
    if isinstance(custom, str) and custom:
        return normalized_name(custom)
    return f"{normalized_name(key)}StepFunctionsStateMachine"


@dataclass(frozen=True)
class FunctionTarget:
    name: str
    arn: str
    has_url: bool = False  # `url:` (a function URL, `<Key>LambdaFunctionUrl`)


@dataclass(frozen=True)
class MachineTarget:
    name: str
    arn: str


class ResourceValues(Protocol):
    """Physical values of `resources:` entries, read from the outputs of the service's stack
    (tooling.config.resources.StackValues): None means "not known". Those that also know
    the functions' URLs (by their logical ids, `<Key>LambdaFunctionUrl`) are
    `FunctionUrlValues`."""

    def ref(self, logical_id: str) -> str | None: ...

    def get_att(self, logical_id: str, attribute: str) -> str | None: ...


@runtime_checkable
class FunctionUrlValues(Protocol):
    """Values that also know the functions' URLs (tooling.config.resources.DeployedValues)."""

    def function_url(self, logical_id: str) -> str | None: ...


FUNCTION_URL_PENDING = "<{logical_id}.FunctionUrl: known after the function URL is created>"


class ExportValues(Protocol):
    """Values other stacks export (`Fn::ImportValue`), read from the target."""

    def value(self, name: str) -> str | None: ...

    def missing_reason(self, name: str) -> str: ...


@dataclass(frozen=True)
class IntrinsicContext:
    """What a definition's intrinsics may refer to."""

    functions: Mapping[str, FunctionTarget]  # by function key
    region: str
    account_id: str
    stack_name: str
    other_resources: frozenset[str] = frozenset()  # logical ids under resources.Resources
    partition: str = field(default="")
    state_machines: Mapping[str, MachineTarget] = field(default_factory=dict)  # by logical id
    resource_values: ResourceValues | None = None
    # A definition's whole-value {"Ref": fn} gives the ARN (the plugin); elsewhere CloudFormation's
    # Ref of a function gives its name.
    ref_function_as_arn: bool = False
    exports: ExportValues | None = None  # Fn::ImportValue
    # Exports of the service's own `resources:` Outputs (name -> the output's Value): importing
    # one is reading that value, from the stack the service deploys first.
    own_exports: Mapping[str, Any] = field(default_factory=dict)
    # The `Mappings` of `resources:` (Fn::FindInMap), as CloudFormation reads them.
    mappings: Mapping[str, Any] = field(default_factory=dict)
    # The `Conditions` of `resources:` (Fn::If), evaluated as CloudFormation evaluates them.
    conditions: Mapping[str, Any] = field(default_factory=dict)

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

    def function_with_url(self, name: str) -> FunctionTarget | None:
        """The function whose URL `name` is (`<Key>LambdaFunctionUrl`), if it has one."""
        for key, target in self.functions.items():
            if target.has_url and f"{normalized_name(key)}LambdaFunctionUrl" == name:
                return target
        return None

    def known_names(self) -> list[str]:
        return [
            *self.functions,
            *(function_logical_id(k) for k in self.functions),
            *(
                f"{normalized_name(k)}LambdaFunctionUrl"
                for k, t in self.functions.items()
                if t.has_url
            ),  # fmt: skip
            *self.state_machines,
            *sorted(self.other_resources),
        ]


class _Unresolvable(Exception):
    """The intrinsic names an entry of `resources:` whose value is not known (no stack yet)."""


@dataclass(frozen=True)
class Unresolved:
    """An intrinsic left as written because its `resources:` value is unknown."""

    pointer: str  # where the intrinsic stands, in the resolved value's source
    message: str
    hint: str


UNRESOLVED_HINT = (
    "`tool deploy` creates the stack and reads the value from it; a resource whose Condition "
    "is false has no value"
)


class IntrinsicResolver:
    def __init__(self, context: IntrinsicContext, source: SourceMap | None) -> None:
        self.context = context
        self.source = source
        self.warnings: list[str] = []
        self.unresolved: list[Unresolved] = []
        self._depth = 0  # > 0 while inside another intrinsic's arguments

    def resolve(self, value: Any, pointer: str = "") -> Any:
        if isinstance(value, dict):
            intrinsic = _intrinsic_key(value)
            if intrinsic is not None:
                if len(value) > 1:
                    value = self._drop_extra_keys(value, intrinsic, pointer)
                try:
                    return self._intrinsic(
                        intrinsic, value[intrinsic], pointer_join(pointer, intrinsic)
                    )
                except _Unresolvable as exc:
                    if self._depth > 0:  # inside Fn::Join or Fn::Sub: the whole is unknown
                        raise
                    self.unresolved.append(Unresolved(pointer, str(exc), UNRESOLVED_HINT))
                    return value
            if len(value) == 1:
                key = next(iter(value))
                if isinstance(key, str) and key.startswith("Fn::"):
                    self._fail(
                        pointer,
                        f"{key} is not supported by the toolkit (it resolves "
                        f"{', '.join(_SUPPORTED)} itself, without CloudFormation)",
                        "write the value itself, or ${param:NAME} with --param NAME=VALUE",
                    )
            resolved = {k: self.resolve(v, pointer_join(pointer, k)) for k, v in value.items()}
            return {k: v for k, v in resolved.items() if v is not _NO_VALUE}
        if isinstance(value, list):
            items = [self.resolve(v, pointer_join(pointer, i)) for i, v in enumerate(value)]
            return [item for item in items if item is not _NO_VALUE]
        if isinstance(value, str) and "#{" in value:
            try:
                return _HASH_PLACEHOLDER.sub(
                    lambda m: self._placeholder(m.group(1), {}, pointer), value
                )
            except _Unresolvable as exc:
                if self._depth > 0:
                    raise
                self.unresolved.append(Unresolved(pointer, str(exc), UNRESOLVED_HINT))
        return value

    def _drop_extra_keys(
        self, value: dict[str, Any], intrinsic: str, pointer: str
    ) -> dict[str, Any]:
        """serverless-step-functions treats an object holding `Ref` or `Fn::GetAtt` as that
        intrinsic and drops its other keys (lib/utils/aws.js translateLocalFunctionNames)."""
        extra = [str(k) for k in value if k != intrinsic]
        if intrinsic not in ("Ref", "Fn::GetAtt") or any(
            k in _SUPPORTED or k.startswith("Fn::") for k in extra
        ):
            self._fail(
                pointer,
                f"an intrinsic object must hold only its function, and this one also has "
                f"{', '.join(extra)}",
                f"keep {intrinsic} alone in the object",
            )
        self.warnings.append(
            f"{self._where(pointer)}{', '.join(extra)} next to {intrinsic} is dropped (as "
            "serverless-step-functions drops it); if it belongs to the state, indent it one "
            "level less"
        )
        return {intrinsic: value[intrinsic]}

    # -- helpers ------------------------------------------------------------------------------

    def _where(self, pointer: str) -> str:
        if self.source is None:
            return ""
        kw = self.source.error_kwargs(pointer)
        parts = [str(p) for p in (kw["file"], kw["line"], kw["column"]) if p is not None]
        return ":".join(parts) + ": "

    def _fail(self, pointer: str, message: str, hint: str | None = None) -> NoReturn:
        where = self.source.error_kwargs(pointer) if self.source else {}
        raise DefinitionError(message, hint=hint, **where)

    def _unknown(self, pointer: str, what: str, name: str) -> None:
        close = difflib.get_close_matches(name, self.context.known_names(), n=1)
        known = ", ".join(self.context.functions) or "none"
        hint = f"did you mean '{close[0]}'?" if close else f"functions of this service: {known}"
        self._fail(
            pointer,
            f"{what} names '{name}', which is not a function, state machine or resource of this "
            "service",
            hint,
        )

    def _from_resources(self, what: str, name: str, attribute: str | None) -> str:
        values = self.context.resource_values
        found = None
        if values is not None:
            found = values.ref(name) if attribute is None else values.get_att(name, attribute)
        if found is not None:
            return found
        raise _Unresolvable(
            f"{what} names '{name}' from `resources:`, and its "
            + ("value" if attribute is None else attribute)
            + " is not known: the stack of `resources:` gives none"
        )

    def _intrinsic(self, key: str, argument: Any, pointer: str) -> Any:
        if key == "Fn::GetAtt":
            return self._get_att(argument, pointer)
        if key == "Ref":
            return self._ref(argument, pointer, whole=self._depth == 0)
        self._depth += 1
        try:
            if key == "Fn::Join":
                return self._join(argument, pointer)
            if key == "Fn::ImportValue":
                return self._import_value(argument, pointer)
            if key == "Fn::Select":
                return self._select(argument, pointer)
            if key == "Fn::Split":
                return self._split(argument, pointer)
            if key == "Fn::Base64":
                return self._base64(argument, pointer)
            if key == "Fn::FindInMap":
                return self._find_in_map(argument, pointer)
            if key == "Fn::If":
                return self._if(argument, pointer)
            return self._sub(argument, pointer)
        finally:
            self._depth -= 1

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
        machine = self.context.state_machines.get(resource)
        if machine is not None:
            if attribute not in ("Arn", "Name"):
                self._fail(
                    pointer,
                    f"Fn::GetAtt {resource}.{attribute}: a state machine has Arn and Name",
                    f'use ["{resource}", "Arn"]',
                )
            return machine.arn if attribute == "Arn" else machine.name
        owner = self.context.function_with_url(resource)
        if owner is not None:
            if attribute == "FunctionArn":
                return owner.arn
            if attribute != "FunctionUrl":
                self._fail(
                    pointer,
                    f"Fn::GetAtt {resource}.{attribute}: a function URL has FunctionUrl and "
                    "FunctionArn",
                    f'use ["{resource}", "FunctionUrl"]',
                )
            return self._function_url(resource)
        target = self.context.function(resource)
        if target is None:
            if resource in self.context.other_resources:
                return self._from_resources("Fn::GetAtt", resource, attribute)
            self._unknown(pointer, "Fn::GetAtt", resource)
        assert target is not None
        if attribute != "Arn":
            self._fail(
                pointer,
                f"Fn::GetAtt {resource}.{attribute}: only the Arn attribute of a function is known",
                f'use ["{resource}", "Arn"]',
            )
        return target.arn

    def _function_url(self, logical_id: str) -> str:
        """The URL Lambda gave the function, or a placeholder until it exists (the deploy makes
        it first: tooling/deploy/phases.py)."""
        values: object = self.context.resource_values
        found = values.function_url(logical_id) if isinstance(values, FunctionUrlValues) else None
        return found or FUNCTION_URL_PENDING.format(logical_id=logical_id)

    def _ref(self, argument: Any, pointer: str, *, whole: bool = False) -> str:
        if not isinstance(argument, str):
            self._fail(pointer, "Ref needs a resource name", 'e.g. {"Ref": "hello"}')
        pseudo = self.context.pseudo(argument)
        if pseudo is not None:
            return pseudo
        machine = self.context.state_machines.get(argument)
        if machine is not None:
            return machine.arn  # CloudFormation: Ref of a state machine is its ARN
        owner = self.context.function_with_url(argument)
        if owner is not None:
            return owner.arn  # Ref of an AWS::Lambda::Url: its function's ARN
        target = self.context.function(argument)
        if target is None:
            if argument in self.context.other_resources:
                return self._from_resources("Ref", argument, None)
            self._unknown(pointer, "Ref", argument)
        assert target is not None
        return target.arn if whole and self.context.ref_function_as_arn else target.name

    def _import_value(self, argument: Any, pointer: str) -> str:
        name = self.resolve(argument, pointer)
        if not isinstance(name, str) or not name:
            self._fail(pointer, "Fn::ImportValue needs the name of an export (a string)")
        if name in self.context.own_exports:
            own = self.resolve(self.context.own_exports[name], pointer)
            if not isinstance(own, str):
                self._fail(pointer, f"Fn::ImportValue {name!r}: the export's Value is not text")
            return str(own)
        exports = self.context.exports
        value = exports.value(name) if exports is not None else None
        if value is None:
            reason = (
                exports.missing_reason(name) if exports is not None else "no export is read here"
            )
            self._fail(
                pointer,
                f"Fn::ImportValue {name!r}: {reason}",
                "deploy the stack that exports it first: CloudFormation refuses to import an "
                "export that does not exist",
            )
        assert value is not None
        return value

    def _join(self, argument: Any, pointer: str) -> str:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)):
            self._fail(pointer, "Fn::Join needs [delimiter, [values]]", 'e.g. [":", ["a", "b"]]')
        items = self.resolve(argument[1], pointer_join(pointer, 1))
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            self._fail(pointer_join(pointer, 1), "Fn::Join values must be a list of strings")
        delimiter: str = argument[0]
        return delimiter.join(items)

    # Fn::Split, Fn::Select and Fn::Base64 of a value the stack gives later (a placeholder
    # text, tooling.config.resources.PENDING) give that text: still pending, and done again
    # once the stack has the value.

    def _split(self, argument: Any, pointer: str) -> list[str] | str:
        if not (isinstance(argument, list) and len(argument) == 2 and isinstance(argument[0], str)
                and argument[0]):  # fmt: skip
            self._fail(pointer, "Fn::Split needs [delimiter, text]", 'e.g. ["/", "a/b"]')
        text = self.resolve(argument[1], pointer_join(pointer, 1))
        if not isinstance(text, str):
            self._fail(pointer_join(pointer, 1), "Fn::Split splits a string")
        if _PENDING_TEXT.search(text):
            return text
        return text.split(argument[0])

    def _select(self, argument: Any, pointer: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 2):
            self._fail(pointer, "Fn::Select needs [index, [values]]", 'e.g. ["1", ["a", "b"]]')
        index = self.resolve(argument[0], pointer_join(pointer, 0))
        values = self.resolve(argument[1], pointer_join(pointer, 1))
        if isinstance(values, str) and _PENDING_TEXT.search(values):
            return values
        if isinstance(index, str) and index.isdigit():
            index = int(index)
        if not isinstance(index, int) or isinstance(index, bool) or not isinstance(values, list):
            self._fail(pointer, "Fn::Select needs an index and a list")
        if not 0 <= index < len(values):
            self._fail(
                pointer,
                f"Fn::Select index {index} is out of range: the list has {len(values)} values",
            )
        return values[index]

    def _base64(self, argument: Any, pointer: str) -> str:
        text = self.resolve(argument, pointer)
        if not isinstance(text, str):
            self._fail(pointer, "Fn::Base64 encodes a string")
        if _PENDING_TEXT.search(text):
            return text
        return base64.b64encode(text.encode("utf-8")).decode("ascii")

    def _find_in_map(self, argument: Any, pointer: str) -> Any:
        if not (isinstance(argument, list) and len(argument) == 3):
            self._fail(pointer, "Fn::FindInMap needs [map, top-level key, second-level key]")
        keys = [self.resolve(item, pointer_join(pointer, i)) for i, item in enumerate(argument)]
        if not all(isinstance(k, str) for k in keys):
            self._fail(pointer, "Fn::FindInMap's keys must be strings")
        found: Any = self.context.mappings
        for depth, key in enumerate(keys):
            if not isinstance(found, Mapping) or key not in found:
                where = ("Mappings of resources:", "the map", "its entry")[depth]
                self._fail(
                    pointer_join(pointer, depth),
                    f"Fn::FindInMap: {where} has no {key!r}",
                    "CloudFormation refuses a map or key that does not exist",
                )
            found = found[key]
        return found

    def _if(self, argument: Any, pointer: str) -> Any:
        """Fn::If [condition, when true, when false]; `Ref: AWS::NoValue` leaves the value out."""
        if not (isinstance(argument, list) and len(argument) == 3 and isinstance(argument[0], str)):
            self._fail(pointer, "Fn::If needs [condition name, value if true, value if false]")
        chosen = 1 if self._condition(argument[0], pointer_join(pointer, 0), ()) else 2
        branch = argument[chosen]
        if branch == {"Ref": "AWS::NoValue"}:
            return _NO_VALUE
        self._depth -= 1  # a branch stands for the whole value, as if written there
        try:
            return self.resolve(branch, pointer_join(pointer, chosen))
        finally:
            self._depth += 1

    def _condition(self, name: str, pointer: str, seen: tuple[str, ...]) -> bool:
        """A condition of `resources:` Conditions, as CloudFormation evaluates it."""
        if name in seen:
            self._fail(pointer, f"Condition {name} refers to itself ({' -> '.join((*seen, name))})")
        if name not in self.context.conditions:
            self._fail(
                pointer,
                f"Fn::If names condition {name!r}, which the Conditions of resources: do not hold",
                "CloudFormation refuses a condition that does not exist",
            )
        return self._truth(self.context.conditions[name], pointer, (*seen, name))

    def _truth(self, expression: Any, pointer: str, seen: tuple[str, ...]) -> bool:
        if isinstance(expression, dict) and len(expression) == 1:
            key, argument = next(iter(expression.items()))
            if key == "Condition" and isinstance(argument, str):
                return self._condition(argument, pointer, seen)
            if key == "Fn::Not" and isinstance(argument, list) and len(argument) == 1:
                return not self._truth(argument[0], pointer, seen)
            if key in ("Fn::And", "Fn::Or") and isinstance(argument, list) and argument:
                values = [self._truth(item, pointer, seen) for item in argument]
                return all(values) if key == "Fn::And" else any(values)
            if key == "Fn::Equals" and isinstance(argument, list) and len(argument) == 2:
                left, right = (self.resolve(item, pointer) for item in argument)
                return bool(str(left) == str(right))
        self._fail(
            pointer,
            f"condition {seen[-1]!r} is not one the toolkit evaluates: it takes Fn::Equals, "
            "Fn::Not, Fn::And, Fn::Or and Condition",
        )

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


def _intrinsic_key(value: dict[Any, Any]) -> str | None:
    """The supported intrinsic an object stands for: its only key, or (as the plugin reads an
    object holding one among others) its `Ref` or `Fn::GetAtt` key."""
    if len(value) == 1:
        key = next(iter(value))
        return key if key in _SUPPORTED else None
    for key in ("Ref", "Fn::GetAtt"):
        if key in value:
            return key
    return None


@dataclass(frozen=True)
class IntrinsicReport:
    value: Any  # the resolved copy
    warnings: tuple[str, ...]  # each starts with file:line:col when the source is known
    unresolved: tuple[Unresolved, ...]  # intrinsics left as written (`resources:` values)


def resolve_with_report(
    value: Any, context: IntrinsicContext, source: SourceMap | None = None
) -> IntrinsicReport:
    resolver = IntrinsicResolver(context, source)
    resolved = resolver.resolve(value)
    return IntrinsicReport(resolved, tuple(resolver.warnings), tuple(resolver.unresolved))


def resolve_intrinsics(
    definition: Any, context: IntrinsicContext, source: SourceMap | None = None
) -> tuple[Any, list[str]]:
    """Resolve intrinsics in `definition`. Returns (resolved copy, warnings about what was left)."""
    resolver = IntrinsicResolver(context, source)
    resolved = resolver.resolve(definition)
    left = [
        f"{resolver._where(u.pointer)}{u.message} (left as written)" for u in resolver.unresolved
    ]
    return resolved, resolver.warnings + left


class _Function(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def arn(self) -> str: ...
    @property
    def url(self) -> Any: ...


class _Machine(Protocol):
    @property
    def logical_id(self) -> str: ...
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
    def state_machines(self) -> Mapping[str, _Machine]: ...
    @property
    def resource_ids(self) -> frozenset[str]: ...
    @property
    def region(self) -> str: ...
    @property
    def account_id(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def stage(self) -> str: ...


def context_for(service: _Service) -> IntrinsicContext:
    """The intrinsic context of a loaded service: its functions, state machines, region, account,
    stack and `resources:` ids, as a definition sees them."""
    return IntrinsicContext(
        functions={
            k: FunctionTarget(f.name, f.arn, f.url is not None)
            for k, f in service.functions.items()
        },
        region=service.region,
        account_id=service.account_id,
        stack_name=f"{service.service}-{service.stage}",
        other_resources=service.resource_ids,
        state_machines={
            m.logical_id: MachineTarget(m.name, m.arn) for m in service.state_machines.values()
        },
        ref_function_as_arn=True,
    )


def resolve_definition_intrinsics(
    definition: Any, service: _Service, source: SourceMap | None = None
) -> Any:
    """Resolve a stand-alone definition's intrinsics against a loaded service's functions."""
    resolved, _ = resolve_intrinsics(definition, context_for(service), source)
    return resolved
