"""`resources:` (CloudFormation), as the toolkit deploys it: one stack per service and stage that
holds only these resources (functions and state machines are deployed directly, without it).

- `read_resources`: the map form (`resources: {Resources: ..., Outputs: ...}`) or the list form
  (a list of fragments, usually `${file(...)}`, merged as Serverless v3 merges them: lodash
  `_.merge`, lib/classes/service.js mergeArrays), `extensions` applied as Serverless applies them
  (lib/plugins/aws/package/lib/merge-custom-provider-resources.js), every name a template entry
  refers to checked;
- `stack_template`: the template sent: references to the service's own functions, state machines,
  function role and log groups (which are not in the stack) replaced by their physical values,
  `DependsOn` on them dropped, and one Output per value the service reads from the stack;
- `StackValues`: the `ResourceValues` the loader reads `Ref`/`Fn::GetAtt` of `resources:`
  entries from: the stack's Outputs, or a placeholder saying when the value will be known.

No I/O here: the outputs come from whoever looked the stack up.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from tooling.sourcemap import pointer_join

TEMPLATE_SECTIONS = frozenset(
    {
        "AWSTemplateFormatVersion", "Conditions", "Description", "Mappings", "Metadata",
        "Outputs", "Parameters", "Resources", "Transform", "extensions",
    }
)  # fmt: skip  # Serverless v3 lib/plugins/aws/provider.js, the `resources` schema
RESOURCE_KEYS = frozenset(
    {
        "Type", "Properties", "CreationPolicy", "DeletionPolicy", "DependsOn", "Metadata",
        "UpdatePolicy", "UpdateReplacePolicy", "Condition",
    }
)  # fmt: skip
EXTENSION_KEYS = RESOURCE_KEYS - {"Type"}
LOGICAL_ID = re.compile(r"^[a-zA-Z0-9]{1,255}$")
PSEUDO_PARAMETERS = frozenset(
    {
        "AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
        "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
    }
)  # fmt: skip
OUTPUT_PREFIX = "Tool"  # the Outputs the toolkit adds: ToolRef<Id>, ToolAtt<Id><Attribute>
_SUB_NAME = re.compile(r"\$\{([^!}][^}]*)\}")

DEPLOYMENT_BUCKET_ID = "ServerlessDeploymentBucket"
# The http events' REST API, as Serverless names it in its stack: the toolkit makes it before
# the stack, so that `resources:` may name it (tooling/deploy/phases.py).
REST_API_LOGICAL_ID = "ApiGatewayRestApi"
REST_API_PENDING = "<ApiGatewayRestApi{attribute}: known after the REST API is created>"


HTTP_API_LOGICAL_ID = "HttpApi"  # the httpApi events' API, made before the stack too
HTTP_API_PENDING = "<HttpApi{attribute}: known after the HTTP API is created>"
WEBSOCKETS_API_LOGICAL_ID = "WebsocketsApi"  # the websocket events' API, made before it too
WEBSOCKETS_API_PENDING = "<WebsocketsApi{attribute}: known after the WebSocket API is created>"


@dataclass(frozen=True)
class HttpApiIds:
    """What `Ref: HttpApi` (or `WebsocketsApi`) and its `ApiEndpoint` give: the id API Gateway
    chose, and the URL of its default endpoint (locally, `tool serve`'s)."""

    id: str
    endpoint: str


@dataclass(frozen=True)
class RestApiIds:
    """What `Ref: ApiGatewayRestApi` and its `RootResourceId` give: the ids API Gateway chose."""

    id: str
    root_resource_id: str
    # the ids of the authorizers the http events make, by name (what `Ref:
    # <Name>ApiGatewayAuthorizer` gives), when `resources:` names one
    authorizers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Reference:
    """A value the service reads from the stack: `Ref` of a logical id (attribute None) or
    `Fn::GetAtt` of one of its attributes."""

    logical_id: str
    attribute: str | None = None

    def __str__(self) -> str:
        return self.logical_id if self.attribute is None else f"{self.logical_id}.{self.attribute}"

    @property
    def output_key(self) -> str:
        """The stack Output the toolkit adds for it (Output ids are alphanumeric)."""
        if self.attribute is None:
            return f"{OUTPUT_PREFIX}Ref{self.logical_id}"
        plain = re.sub(r"[^A-Za-z0-9]", "", self.attribute)
        key = f"{OUTPUT_PREFIX}Att{self.logical_id}{plain}"
        if plain != self.attribute:  # "Endpoint.Address" and "EndpointAddress" must differ
            key += hashlib.sha256(self.attribute.encode()).hexdigest()[:8]
        return key

    def output_value(self) -> dict[str, Any]:
        if self.attribute is None:
            return {"Ref": self.logical_id}
        return {"Fn::GetAtt": [self.logical_id, self.attribute]}


@dataclass(frozen=True)
class ResourceProblem:
    """Something wrong in `resources:`, at `pointer` in serverless.yml (through `${file()}`)."""

    pointer: str
    message: str
    hint: str | None = None


@dataclass(frozen=True)
class ServiceTarget:
    """A logical id that Serverless would put in the stack and the toolkit deploys directly:
    what `Ref` and `Fn::GetAtt` of it give."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ResourcesConfig:
    """`resources:` merged and checked, variables resolved, CloudFormation intrinsics as written."""

    template: dict[str, Any]
    # "Resources/<id>" (and "Outputs/<id>", ...) -> its pointer in serverless.yml
    origins: Mapping[str, str] = field(default_factory=dict)
    # logical ids of the service's functions, state machines, ... that the template names
    names_service: tuple[str, ...] = ()

    @property
    def resources(self) -> dict[str, Any]:
        return dict(self.template.get("Resources") or {})

    def pointer(self, section: str, key: str, *rest: str | int) -> str:
        base = self.origins.get(f"{section}/{key}") or pointer_join(
            pointer_join("/resources", section), key
        )
        for part in rest:
            base = pointer_join(base, part)
        return base


# -- reading ----------------------------------------------------------------------------------


def merged(fragments: list[Any]) -> tuple[dict[str, Any], dict[str, str], list[ResourceProblem]]:
    """The list form, merged as lodash `_.merge` does (deep for objects, by index for lists;
    empty items skipped). Returns the merged value, where each Section/key came from, and
    the items that are not mappings."""
    result: dict[str, Any] = {}
    origins: dict[str, str] = {}
    problems: list[ResourceProblem] = []
    for index, fragment in enumerate(fragments):
        if fragment is None or fragment == "" or fragment is False:
            continue
        at = pointer_join("/resources", index)
        if not isinstance(fragment, dict):
            problems.append(
                ResourceProblem(
                    at,
                    f"resources[{index}] must be a mapping (got {type(fragment).__name__}): "
                    "Serverless refuses a non-object item in the resources list",
                    "write each item as a mapping, e.g. - ${file(resources/table.yml)}",
                )
            )
            continue
        for section, value in fragment.items():
            if isinstance(value, dict):
                for key in value:
                    origins[f"{section}/{key}"] = pointer_join(pointer_join(at, section), key)
        merge_into(result, fragment)
    return result, origins, problems


def merge_into(target: dict[str, Any], source: Mapping[str, Any]) -> None:
    """`source` merged into `target` as lodash `_.merge` does (Serverless merges the list forms
    of `resources` and `functions` with it)."""
    for key, value in source.items():
        have = target.get(key)
        if isinstance(have, dict) and isinstance(value, dict):
            merge_into(have, value)
        elif isinstance(have, list) and isinstance(value, list):
            target[key] = _merge_lists(have, value)
        else:
            target[key] = copy.deepcopy(value)


def _merge_lists(have: list[Any], value: list[Any]) -> list[Any]:
    out = list(have)
    for index, item in enumerate(value):
        if index < len(out) and isinstance(out[index], dict) and isinstance(item, dict):
            holder = {"v": out[index]}
            merge_into(holder, {"v": item})
            out[index] = holder["v"]
        elif index < len(out) and isinstance(out[index], list) and isinstance(item, list):
            out[index] = _merge_lists(out[index], item)
        elif index < len(out):
            out[index] = copy.deepcopy(item)
        else:
            out.append(copy.deepcopy(item))
    return out


def read_resources(
    value: Any, service_ids: Mapping[str, frozenset[str]], *, deployment_bucket: bool = True
) -> tuple[ResourcesConfig | None, list[ResourceProblem], list[ResourceProblem]]:
    """`resources:` as written (variables resolved) -> (config, problems, warnings).

    `service_ids` are the logical ids the template may name besides its own entries (the
    functions, state machines, ... the toolkit deploys directly), with the attributes
    `Fn::GetAtt` may ask of each. `deployment_bucket`: Serverless' stack would hold its
    `ServerlessDeploymentBucket` (no `provider.deploymentBucket`), so a template naming it gets
    it. Problems stop validate, plan and deploy (not remove or info)."""
    problems: list[ResourceProblem] = []
    warnings: list[ResourceProblem] = []
    if value is None:
        return None, problems, warnings
    origins: dict[str, str] = {}
    if isinstance(value, list):
        value, origins, problems = merged(value)
    elif isinstance(value, dict):
        value = copy.deepcopy(value)
        for section, content in value.items():
            if isinstance(content, dict):
                for key in content:
                    origins[f"{section}/{key}"] = pointer_join(
                        pointer_join("/resources", section), key
                    )
    else:
        problems.append(
            ResourceProblem(
                "/resources",
                "resources must be a mapping (Resources, Outputs, ...) or a list of them",
                "e.g. resources: {Resources: {Table: {Type: AWS::DynamoDB::Table, ...}}}",
            )
        )
        return None, problems, warnings
    template: dict[str, Any] = _plain(value)
    config = ResourcesConfig(template, origins)
    for section in template:
        if section not in TEMPLATE_SECTIONS:
            warnings.append(
                ResourceProblem(
                    pointer_join("/resources", section),
                    f"unknown key '{section}' in resources: neither Serverless nor "
                    "CloudFormation knows it (ignored)",
                )
            )
    for section in list(template):
        if section not in TEMPLATE_SECTIONS:
            del template[section]
    for section in ("Resources", "Outputs", "Conditions", "Mappings", "Parameters", "Metadata"):
        if section in template and not isinstance(template[section], dict):
            problems.append(
                ResourceProblem(
                    pointer_join("/resources", section), f"resources.{section} must be a mapping"
                )
            )
            del template[section]
    problems += _check_resources(config)
    extensions = template.pop("extensions", None)
    if extensions is not None:
        said, warned = _extend(config, extensions, service_ids)
        problems += said
        warnings += warned
    if deployment_bucket:
        _add_deployment_bucket(template)
    named, said = _checknamed_in(config, service_ids)
    problems += said
    if not template.get("Resources"):
        if not template.get("Outputs"):
            if template.get("Conditions"):
                warnings.append(
                    ResourceProblem(
                        "/resources/Conditions",
                        "resources: holds Conditions but no Resources or Outputs: nothing to "
                        "deploy (ignored)",
                    )
                )
            return None, problems, warnings
        # Outputs alone: in Serverless they are outputs of the service's stack, which other
        # services read (`${cf:<service>-<stage>.Name}`); a stack needs a resource to hold them.
        template["Resources"] = {
            OUTPUTS_HOLDER: {"Type": "AWS::CloudFormation::WaitConditionHandle"}
        }
    return ResourcesConfig(template, origins, tuple(named)), problems, warnings


# Logical ids of Serverless' own stack that a template may name, and why the toolkit has none.
SERVERLESS_STACK_IDS = {
    DEPLOYMENT_BUCKET_ID: "Serverless' deployment bucket: its stack holds it only when "
    "provider.deploymentBucket names no bucket of yours, and then neither does the toolkit's",
    REST_API_LOGICAL_ID: "the REST API Serverless makes in its stack for http events; this "
    "service has no http event, so there is no API to name",
    HTTP_API_LOGICAL_ID: "the HTTP API Serverless makes in its stack for httpApi events; this "
    "service has none (or adds its routes to an existing API, provider.httpApi.id), so there is "
    "no API to name",
    WEBSOCKETS_API_LOGICAL_ID: "the WebSocket API Serverless makes in its stack for websocket "
    "events; this service has none, so there is no API to name",
}
# The resource a stack of Outputs alone holds: a wait condition handle creates nothing.
OUTPUTS_HOLDER = "ToolOutputsHolder"
DEPLOYMENT_BUCKET = DEPLOYMENT_BUCKET_ID
# Serverless v3's own stack (lib/plugins/aws/package/lib/core-cloudformation-template.json).
_DEPLOYMENT_BUCKET_RESOURCES: dict[str, Any] = {
    DEPLOYMENT_BUCKET: {
        "Type": "AWS::S3::Bucket",
        "Properties": {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            }
        },
    },
    f"{DEPLOYMENT_BUCKET}Policy": {
        "Type": "AWS::S3::BucketPolicy",
        "Properties": {
            "Bucket": {"Ref": DEPLOYMENT_BUCKET},
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": "s3:*",
                        "Effect": "Deny",
                        "Principal": "*",
                        "Resource": [
                            {
                                "Fn::Join": [
                                    "",
                                    [
                                        "arn:",
                                        {"Ref": "AWS::Partition"},
                                        ":s3:::",
                                        {"Ref": DEPLOYMENT_BUCKET},
                                        "/*",
                                    ],
                                ]
                            },
                            {
                                "Fn::Join": [
                                    "",
                                    [
                                        "arn:",
                                        {"Ref": "AWS::Partition"},
                                        ":s3:::",
                                        {"Ref": DEPLOYMENT_BUCKET},
                                    ],
                                ]
                            },
                        ],
                        "Condition": {"Bool": {"aws:SecureTransport": False}},
                    }
                ]
            },
        },
    },
}


def _add_deployment_bucket(template: dict[str, Any]) -> None:
    """A template naming `ServerlessDeploymentBucket` (a role allowed to read it, ...) gets the
    bucket and its TLS-only policy, as Serverless' stack has them; the toolkit uploads nothing
    to it."""
    resources = template.get("Resources") or {}
    if DEPLOYMENT_BUCKET in resources:
        return
    names: set[str] = set()
    for section in ("Resources", "Outputs"):
        for spec in (template.get(section) or {}).values():
            names.update(found.name for found in named_in(spec))
            if isinstance(spec, dict):
                names.update(_depends_on(spec))
    if DEPLOYMENT_BUCKET in names or f"{DEPLOYMENT_BUCKET}Policy" in names:
        template["Resources"] = {**resources, **copy.deepcopy(_DEPLOYMENT_BUCKET_RESOURCES)}


def _plain(value: Any) -> Any:
    """JSON-ready: YAML dates (an unquoted `Version: 2012-10-17`) become their ISO text, which
    is what the author meant and what CloudFormation and IAM accept."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def _check_resources(config: ResourcesConfig) -> list[ResourceProblem]:
    problems: list[ResourceProblem] = []
    for logical_id, spec in config.resources.items():
        at = config.pointer("Resources", logical_id)
        if not LOGICAL_ID.match(logical_id):
            problems.append(
                ResourceProblem(
                    at,
                    f"resources.Resources.{logical_id}: a logical id must be 1-255 letters "
                    "and digits (CloudFormation refuses it)",
                )
            )
        if not isinstance(spec, dict):
            problems.append(
                ResourceProblem(at, f"resources.Resources.{logical_id} must be a mapping")
            )
            continue
        kind = spec.get("Type")
        if not isinstance(kind, str) or not kind:
            problems.append(
                ResourceProblem(
                    at,
                    f"resources.Resources.{logical_id} has no Type",
                    "e.g. Type: AWS::DynamoDB::Table",
                )
            )
        for key in spec:
            if key not in RESOURCE_KEYS:
                problems.append(
                    ResourceProblem(
                        config.pointer("Resources", logical_id, key),
                        f"resources.Resources.{logical_id}: unknown key '{key}' (CloudFormation "
                        "refuses it)",
                        "a resource holds " + ", ".join(sorted(RESOURCE_KEYS)),
                    )
                )
    return problems


def _extend(
    config: ResourcesConfig, extensions: Any, service_ids: Mapping[str, frozenset[str]]
) -> tuple[list[ResourceProblem], list[ResourceProblem]]:
    """Serverless' `resources.extensions`: Properties and Metadata merged (shallow), DependsOn
    appended, the policies and Condition replaced."""
    problems: list[ResourceProblem] = []
    warnings: list[ResourceProblem] = []
    if not isinstance(extensions, dict):
        return [
            ResourceProblem("/resources/extensions", "resources.extensions must be a mapping")
        ], []
    resources = config.template.setdefault("Resources", {})
    for logical_id, extension in extensions.items():
        at = config.pointer("extensions", logical_id)
        if logical_id not in resources:
            if logical_id in service_ids:
                warnings.append(
                    ResourceProblem(
                        at,
                        f"resources.extensions.{logical_id}: {logical_id} is deployed by the "
                        "toolkit without CloudFormation, so this extension is not applied "
                        "(ignored)",
                    )
                )
            else:
                problems.append(
                    ResourceProblem(
                        at,
                        f'cannot extend "{logical_id}": it is not in resources.Resources',
                        "extensions change resources declared under resources.Resources",
                    )
                )
            continue
        if not isinstance(extension, dict):
            problems.append(
                ResourceProblem(at, f"resources.extensions.{logical_id} must be a mapping")
            )
            continue
        target = resources[logical_id]
        for key, value in extension.items():
            if key not in EXTENSION_KEYS:
                problems.append(
                    ResourceProblem(
                        config.pointer("extensions", logical_id, key),
                        f'cannot extend "{logical_id}" with "{key}": Serverless extends only '
                        + ", ".join(sorted(EXTENSION_KEYS)),
                    )
                )
            elif key in ("Properties", "Metadata"):
                target.setdefault(key, {}).update(value if isinstance(value, dict) else {})
            elif key == "DependsOn":
                have = target.get("DependsOn") or []
                have = [have] if isinstance(have, str) else list(have)
                target["DependsOn"] = have + (list(value) if isinstance(value, list) else [value])
            else:
                target[key] = value
    return problems, warnings


# -- references -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Found:
    name: str
    attribute: str | None
    pointer: str  # relative to the walked value
    how: str  # "Ref", "Fn::GetAtt", "Fn::Sub", "DependsOn"


def named_in(value: Any, pointer: str = "") -> Iterator[_Found]:
    """Every logical id a template value names, where, and how."""
    if isinstance(value, list):
        for index, item in enumerate(value):
            yield from named_in(item, pointer_join(pointer, index))
        return
    if not isinstance(value, dict):
        return
    if len(value) == 1:
        key, argument = next(iter(value.items()))
        at = pointer_join(pointer, key)
        if key == "Ref" and isinstance(argument, str):
            yield _Found(argument, None, at, "Ref")
            return
        if key == "Fn::GetAtt":
            target = _get_att(argument)
            if target is not None:
                yield _Found(target[0], target[1], at, "Fn::GetAtt")
            return
        if key == "Fn::Sub":
            template: Any = argument  # either may be any YAML value
            variables: Any = {}
            if isinstance(argument, list) and len(argument) == 2:
                template, variables = argument[0], argument[1]
                yield from named_in(variables, pointer_join(at, 1))
            if isinstance(template, str):
                local = set(variables) if isinstance(variables, dict) else set()
                for name in _SUB_NAME.findall(template):
                    resource, dot, attribute = name.partition(".")
                    if name in local or resource in local:
                        continue
                    yield _Found(resource, attribute if dot else None, at, "Fn::Sub")
            return
    for key, item in value.items():
        yield from named_in(item, pointer_join(pointer, key))


def _get_att(argument: Any) -> tuple[str, str] | None:
    if isinstance(argument, str) and "." in argument:
        name, _, attribute = argument.partition(".")
        return name, attribute
    if (
        isinstance(argument, list)
        and len(argument) == 2
        and isinstance(argument[0], str)
        and isinstance(argument[1], str)
    ):
        return argument[0], argument[1]
    return None


def _depends_on(spec: Mapping[str, Any]) -> list[str]:
    value = spec.get("DependsOn")
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def _checknamed_in(
    config: ResourcesConfig, service_ids: Mapping[str, frozenset[str]]
) -> tuple[list[str], list[ResourceProblem]]:
    """Names in Resources and Outputs must be entries, parameters, pseudo parameters or the
    service's own logical ids; returns the service ids named, and the problems."""
    template = config.template
    own = set(template.get("Resources") or {})
    parameters = set(template.get("Parameters") or {})
    named: list[str] = []
    problems: list[ResourceProblem] = []

    def judge(found: _Found, section: str, key: str, base: tuple[str | int, ...]) -> None:
        name = found.name
        if name in own or name in parameters or name in PSEUDO_PARAMETERS:
            return
        if found.how == "Fn::Sub" and name.startswith("AWS::"):
            return
        pointer = config.pointer(section, key, *base) + found.pointer
        if name in service_ids:
            if name not in named:
                named.append(name)
            attributes = service_ids[name]
            if found.attribute is not None and found.attribute not in attributes:
                problems.append(
                    ResourceProblem(
                        pointer,
                        f"{found.how} {name}.{found.attribute}: the toolkit deploys {name} "
                        "without CloudFormation and knows only its "
                        + (", ".join(sorted(attributes)) or "name"),
                    )
                )
            return
        known = SERVERLESS_STACK_IDS.get(name)
        problems.append(
            ResourceProblem(
                pointer,
                f"{found.how} in resources.{section}.{key} names '{name}', which is not a "
                "resource of resources: nor a function or state machine of this service"
                + (f" ({known})" if known else ""),
                "the toolkit's stack holds only resources:: declare it there yourself, or drop "
                "what names it"
                if known
                else "CloudFormation refuses unresolved references: declare it under "
                "resources.Resources, or fix the name",
            )
        )

    for logical_id, spec in (template.get("Resources") or {}).items():
        if not isinstance(spec, dict):
            continue
        for part in ("Properties", "Metadata", "CreationPolicy", "UpdatePolicy"):
            if part in spec:
                for found in named_in(spec[part]):
                    judge(found, "Resources", logical_id, (part,))
        for index, name in enumerate(_depends_on(spec)):
            found = _Found(name, None, "", "DependsOn")
            if name in own:
                continue
            judge(found, "Resources", logical_id, ("DependsOn", index))
    for key, spec in (template.get("Outputs") or {}).items():
        for found in named_in(spec):
            judge(found, "Outputs", key, ())
    return named, problems


# -- the template sent ------------------------------------------------------------------------


def stack_template(
    config: ResourcesConfig,
    targets: Mapping[str, ServiceTarget],
    references: tuple[Reference, ...],
) -> dict[str, Any]:
    """The template to deploy: the service's own logical ids replaced by their values (they are
    not in the stack), `DependsOn` on them dropped, and an Output per value the service reads
    (with the resource's Condition, so an Output never names a resource that is not made)."""
    template: dict[str, Any] = _substitute(copy.deepcopy(config.template), targets)
    resources = template.get("Resources") or {}
    for spec in resources.values():
        if isinstance(spec, dict) and "DependsOn" in spec:
            kept = [name for name in _depends_on(spec) if name not in targets]
            if kept:
                spec["DependsOn"] = kept
            else:
                del spec["DependsOn"]
    outputs = dict(template.get("Outputs") or {})
    for reference in references:
        if reference.logical_id not in resources:
            continue
        output: dict[str, Any] = {"Value": reference.output_value()}
        condition = resources[reference.logical_id].get("Condition")
        if condition is not None:
            output["Condition"] = condition
        outputs[reference.output_key] = output
    if outputs:
        template["Outputs"] = outputs
    return template


def _substitute(value: Any, targets: Mapping[str, ServiceTarget]) -> Any:
    if isinstance(value, list):
        return [_substitute(item, targets) for item in value]
    if not isinstance(value, dict):
        return value
    if len(value) == 1:
        key, argument = next(iter(value.items()))
        if key == "Ref" and isinstance(argument, str) and argument in targets:
            return targets[argument].ref
        if key == "Fn::GetAtt":
            found = _get_att(argument)
            if found is not None and found[0] in targets:
                return _attribute(targets[found[0]], found[0], found[1])
        if key == "Fn::Sub":
            return {key: _substitute_sub(argument, targets)}
    return {key: _substitute(item, targets) for key, item in value.items()}


def _substitute_sub(argument: Any, targets: Mapping[str, ServiceTarget]) -> Any:
    template, variables = argument, None
    if isinstance(argument, list) and len(argument) == 2:
        template, variables = argument
    if not isinstance(template, str):
        return argument
    local = set(variables) if isinstance(variables, dict) else set()

    def replace(match: re.Match[str]) -> str:
        name = match.group(1)
        resource, dot, attribute = name.partition(".")
        if name in local or resource in local or resource not in targets:
            return match.group(0)
        if not dot:
            return targets[resource].ref
        return _attribute(targets[resource], resource, attribute)

    text = _SUB_NAME.sub(replace, template)
    if variables is None:
        return text
    return [text, _substitute(variables, targets)]


def http_api_target(ids: HttpApiIds | None, pending_text: str = HTTP_API_PENDING) -> ServiceTarget:
    """`HttpApi` (or `WebsocketsApi`, with its `pending_text`) in a template: the API's id and
    endpoint, or placeholders until it exists."""
    if ids is None:
        pending = pending_text.format(attribute="")
        return ServiceTarget(
            pending,
            {"ApiId": pending, "ApiEndpoint": pending_text.format(attribute=".ApiEndpoint")},
        )
    return ServiceTarget(ids.id, {"ApiId": ids.id, "ApiEndpoint": ids.endpoint})


def rest_api_target(ids: RestApiIds | None) -> ServiceTarget:
    """`ApiGatewayRestApi` in a template: the API's ids, or placeholders until it exists."""
    if ids is None:
        return ServiceTarget(
            REST_API_PENDING.format(attribute=""),
            {"RootResourceId": REST_API_PENDING.format(attribute=".RootResourceId")},
        )
    return ServiceTarget(ids.id, {"RootResourceId": ids.root_resource_id})


def rest_authorizer_target(ids: RestApiIds | None, name: str, logical_id: str) -> ServiceTarget:
    """`<Name>ApiGatewayAuthorizer` in a template: the id of the authorizer made under `name`,
    or a placeholder until it exists."""
    found = dict(ids.authorizers) if ids is not None else {}
    value = found.get(name) or f"<{logical_id}: known after the REST API's authorizers are made>"
    return ServiceTarget(value, {"AuthorizerId": value})


def _attribute(target: ServiceTarget, name: str, attribute: str) -> str:
    # An attribute the toolkit does not know was refused when the service was loaded.
    return target.attributes.get(attribute, f"{name}.{attribute}")


# -- values read back -------------------------------------------------------------------------

PENDING_TEXT = "<{reference}: known after the stack is {verb}>"
PENDING = re.compile(r"<([^<>:]+): known after the stack is (created|updated|deployed)>")


def pending_value(reference: Reference, verb: str) -> str:
    return PENDING_TEXT.format(reference=reference, verb=verb)


def pending_in(value: Any) -> list[str]:
    """The placeholders `value` holds (strings found anywhere inside it), as "Id.Attr"."""
    found: list[str] = []
    _collect_pending(value, found)
    return found


def _collect_pending(value: Any, found: list[str]) -> None:
    if isinstance(value, str):
        for match in PENDING.finditer(value):
            if match.group(1) not in found:
                found.append(match.group(1))
    elif isinstance(value, dict):
        for item in value.values():
            _collect_pending(item, found)
    elif isinstance(value, list | tuple):
        for item in value:
            _collect_pending(item, found)


class StackValues:
    """`Ref`/`Fn::GetAtt` of `resources:` entries from the stack's Outputs (`outputs`: OutputKey
    -> OutputValue, as DescribeStacks answers them).

    `verb` None: the stack is as it will be, and a value it does not output is unknown (None).
    Otherwise the stack is about to be created or updated ("created", "updated", "deployed"):
    a value it does not output yet, or one of a resource in `changing` (an update may replace
    it), is a placeholder saying when it will be known."""

    def __init__(
        self,
        outputs: Mapping[str, str] | None = None,
        *,
        verb: str | None = None,
        changing: frozenset[str] = frozenset(),
    ) -> None:
        self.outputs = dict(outputs or {})
        self.verb = verb
        self.changing = changing

    def ref(self, logical_id: str) -> str | None:
        return self._value(Reference(logical_id))

    def get_att(self, logical_id: str, attribute: str) -> str | None:
        return self._value(Reference(logical_id, attribute))

    def _value(self, reference: Reference) -> str | None:
        if self.verb is not None and (
            reference.logical_id in self.changing or reference.output_key not in self.outputs
        ):
            return pending_value(reference, self.verb)
        return self.outputs.get(reference.output_key)


class RecordingValues:
    """Wraps any `ResourceValues` and keeps what was asked, in order."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.asked: list[Reference] = []

    def _note(self, reference: Reference) -> None:
        if reference not in self.asked:
            self.asked.append(reference)

    def ref(self, logical_id: str) -> str | None:
        self._note(Reference(logical_id))
        value: str | None = self.inner.ref(logical_id) if self.inner is not None else None
        return value

    def get_att(self, logical_id: str, attribute: str) -> str | None:
        self._note(Reference(logical_id, attribute))
        value: str | None = (
            self.inner.get_att(logical_id, attribute) if self.inner is not None else None
        )
        return value

    def function_url(self, logical_id: str) -> str | None:
        self._note(Reference(logical_id, "FunctionUrl"))
        inner = self.inner
        value: str | None = (
            inner.function_url(logical_id) if hasattr(inner, "function_url") else None
        )
        return value


class DeployedValues:
    """The stack's values (`stack`, None: none yet) and the functions' URLs as deployed
    (logical id -> URL), as the deploy's later phases load the service with them."""

    def __init__(self, stack: Any, urls: Mapping[str, str]) -> None:
        self.stack = stack
        self.urls = dict(urls)

    def ref(self, logical_id: str) -> str | None:
        value: str | None = self.stack.ref(logical_id) if self.stack is not None else None
        return value

    def get_att(self, logical_id: str, attribute: str) -> str | None:
        value: str | None = (
            self.stack.get_att(logical_id, attribute) if self.stack is not None else None
        )
        return value

    def function_url(self, logical_id: str) -> str | None:
        return self.urls.get(logical_id)


# -- the stack's settings ---------------------------------------------------------------------

# provider keys that shape Serverless' stack and are not applied to the toolkit's stack yet
STACK_KEYS_NOT_APPLIED = ("stackPolicy", "disableRollback", "rollbackConfiguration")


@dataclass(frozen=True)
class StackSettings:
    """How the stack is deployed: `provider.stackName` (default `<service>-<stage>`, as
    Serverless names its stack), `stackTags`, `stackParameters`, `cfnRole`, `notificationArns`."""

    name: str
    tags: Mapping[str, str] = field(default_factory=dict)
    parameters: Mapping[str, str] = field(default_factory=dict)
    role_arn: str | None = None
    notification_arns: tuple[str, ...] = ()


def resource_ids_of(value: Any) -> list[str]:
    """The logical ids under Resources, in either form of `resources:`."""
    fragments = value if isinstance(value, list) else [value]
    ids: list[str] = []
    for fragment in fragments:
        if isinstance(fragment, dict) and isinstance(fragment.get("Resources"), dict):
            ids += [str(key) for key in fragment["Resources"] if str(key) not in ids]
    return ids
