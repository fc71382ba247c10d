"""A deploy in two phases when the service reads values from its `resources:` stack.

The values of `resources:` entries (a table's name, a topic's ARN) exist only once the stack
exists, and the service's definitions, IAM statements, roles and environment hold them. So:

1. the stack alone is planned (and, for a deploy, applied: change set, wait, events), after
   every local check of the service has passed with placeholders for those values;
2. its Outputs are read back, the service is loaded again with them (`load`), and the whole
   service is planned and applied as usual (the stack is then unchanged).

`tool plan` and `--dry-run` change nothing: a value the stack does not give yet (it is about to
be created, or the resource is about to change) stays a placeholder, and each change that holds
one says so ("uses values known after the stack is created: Orders.Arn"). A service that reads
nothing from its stack needs no phase: the stack is one more resource of the plan.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, fields, is_dataclass, replace
from pathlib import Path
from typing import Any

from tooling.config.function_urls import url_logical_id
from tooling.config.intrinsics import ResourceValues
from tooling.config.layers import LAYER_PENDING
from tooling.config.resources import (
    HTTP_API_LOGICAL_ID,
    REST_API_LOGICAL_ID,
    WEBSOCKETS_API_LOGICAL_ID,
    DeployedValues,
    HttpApiIds,
    RestApiIds,
    StackValues,
    pending_in,
)
from tooling.config.service import ServiceConfig
from tooling.deploy.desired import Prepared, before_the_stack, desired_resources, prepare
from tooling.deploy.event_resources import authorizer_settings, made_authorizers
from tooling.deploy.executor import ApplyingExecutor, DisplayExecutor, OnChange
from tooling.deploy.http_api_resources import http_api_model
from tooling.deploy.models import (
    Address,
    HttpApi,
    Layer,
    Resource,
    RestApi,
    Stack,
    WebsocketApi,
)
from tooling.deploy.plan import Change, Plan, Step, plan_deploy, plan_resources
from tooling.deploy.providers import DeployTarget, Found
from tooling.deploy.record import Record
from tooling.deploy.websocket_resources import websocket_api_model, websocket_url
from tooling.errors import BadInput, ToolError

Load = Callable[[ResourceValues], ServiceConfig]
PENDING_REASON = "uses values known after the stack is {verb}: {values}"
URL_PENDING = re.compile(
    r"<([A-Za-z0-9]+LambdaFunctionUrl)\.FunctionUrl: known after the function URL"
)


@dataclass(frozen=True)
class Outcome:
    """What a deploy (or its dry run) planned and did."""

    service: ServiceConfig  # as finally loaded (with the stack's values)
    prepared: Prepared
    plan: Plan  # the plan whose changes are shown
    changes: list[Change]


def deploy(
    service: ServiceConfig,
    load: Load,
    target: DeployTarget,
    record: Record,
    build_dir: Path,
    *,
    dry_run: bool,
    on_change: OnChange | None = None,
    on_warning: Callable[[str], None] | None = None,
    on_prepared: Callable[[Prepared], None] | None = None,
) -> Outcome:
    """Plan the service on `target` and, unless `dry_run`, apply the plan. `on_prepared` sees
    the service checked and packaged as it is planned; `on_warning` hears each warning of a
    plan before that plan runs."""
    said: list[str] = []

    def warn(plan: Plan) -> None:
        for warning in plan.warnings:
            if warning not in said:
                said.append(warning)
                if on_warning is not None:
                    on_warning(warning)

    service, layers_first = _layers_first(service, target, record, build_dir, dry_run, on_change)
    service, api_first = _rest_api_first(service, target, record, build_dir, dry_run, on_change)
    service, http_api_first = _http_api_first(
        service, target, record, build_dir, dry_run, on_change
    )
    service, websocket_first = _http_api_first(
        service, target, record, build_dir, dry_run, on_change, websocket=True
    )
    firsts = [c for c in (api_first, http_api_first, websocket_first) if c is not None]
    urls = _FunctionUrls(load, target, record, build_dir, dry_run, on_change)
    if _template_names_urls(service):  # the template needs them: before the stack
        service = urls.first(service, None)
    desired = desired_resources(service, target.platform).resources
    stack = next((r for r in desired if isinstance(r, Stack)), None)
    if stack is None or not service.resource_references:
        if not urls.made:
            service = urls.first(service, None)
        prepared = prepare(service, build_dir)
        if on_prepared is not None:
            on_prepared(prepared)
        plan = plan_deploy(prepared, target, record)
        warn(plan)
        if dry_run:
            plan.steps = [_say_url_pending(s) for s in plan.steps]
        changes = urls.done(_run(plan, target, record, dry_run, on_change))
        changes = _with_layers(changes, layers_first)
        return Outcome(service, prepared, plan, _with_first(changes, firsts))

    prepare(service, build_dir)  # every local check before the stack changes
    # With the stack: what it needs first (the function role, when its policy reads nothing
    # from the stack; tooling/deploy/desired.py).
    before = []
    for resource in (r for r in desired if r.address in stack.needs):
        early = before_the_stack(resource)
        if early is not resource and target.provider(early.address.kind).find(early.address):
            continue  # it exists: cut first, it would lose permissions until the second phase
        before.append(early)
    first = plan_resources([*before, stack], target, record, sweep=False)
    warn(first)
    step = next(s for s in first.steps if s.change.address == stack.address)
    remade = step.change.action == "create" or "StackStatus" in step.change.attributes
    verb = "created" if remade else "updated"
    if step.change.action == "unchanged":
        values = StackValues(_outputs(step.found))
    elif dry_run:
        values = StackValues(_outputs(step.found), verb=verb, changing=_changing(step))
    else:
        _run(first, target, record, dry_run, on_change)
        values = StackValues(_outputs(target.provider("stack").find(stack.address)))
    service = replace(
        load(DeployedValues(values, urls.values)),
        rest_api_ids=service.rest_api_ids,
        http_api_ids=service.http_api_ids,
        websocket_ids=service.websocket_ids,
        layer_arns=service.layer_arns,
    )
    if not urls.made:
        service = urls.first(service, values)
    prepared = prepare(service, build_dir)
    if on_prepared is not None:
        on_prepared(prepared)
    plan = plan_deploy(prepared, target, record)
    plan.warnings[:0] = [w for w in first.warnings if w not in plan.warnings]
    warn(plan)
    if dry_run:
        plan.steps = [
            _say_url_pending(_say_made_first(_say_pending(s, verb), service)) for s in plan.steps
        ]
        changes = _run(plan, target, record, dry_run, on_change)
    else:
        changes = _run(plan, target, record, dry_run, on_change)
        # What the first phase did is what this deploy did to those (now unchanged) resources.
        done_first = {s.change.address: s.change for s in first.steps}
        changes = [
            done_first[c.address]
            if c.address in done_first
            and (
                c.address == stack.address
                or c.action == "unchanged"
                or done_first[c.address].action == "create"  # made first, its policy completed
            )
            else c
            for c in changes
        ]
    changes = _with_layers(urls.done(changes), layers_first)
    return Outcome(service, prepared, plan, _with_first(changes, firsts))


def _template_names_urls(service: ServiceConfig) -> bool:
    names = service.resources.names_service if service.resources else ()
    return any(url_logical_id(key) in names for key, fn in service.functions.items() if fn.url)


class _FunctionUrls:
    """The functions' URLs the service reads (an environment variable, a definition, the
    template), made before what reads them: their functions and URLs are planned and applied
    first, each URL read back, and the service loaded again with them (Lambda chooses a URL
    only when it makes it). A dry run creates nothing: a URL not made yet stays a placeholder
    that the changes holding it name."""

    def __init__(
        self,
        load: Load,
        target: DeployTarget,
        record: Record,
        build_dir: Path,
        dry_run: bool,
        on_change: OnChange | None,
    ) -> None:
        self.load, self.target, self.record = load, target, record
        self.build_dir, self.dry_run, self.on_change = build_dir, dry_run, on_change
        self.values: dict[str, str] = {}  # logical id -> URL
        self.made = False
        self.changes: dict[Address, Change] = {}

    def first(self, service: ServiceConfig, stack_values: ResourceValues | None) -> ServiceConfig:
        self.made = True
        wanted = set(service.url_references)
        if _template_names_urls(service) and service.resources:
            wanted |= {n for n in service.resources.names_service if n.endswith("FunctionUrl")}
        owners = {
            url_logical_id(key): fn for key, fn in service.functions.items() if fn.url is not None
        }
        wanted &= set(owners)
        if not wanted:
            return service
        prepared = prepare(service, self.build_dir)
        desired = desired_resources(service, self.target.platform, prepared).resources
        addresses = {Address("function url", owners[name].name) for name in wanted}
        early = _with_needs(desired, addresses)
        held = sorted({p for r in early for p in pending_in(_plain(r))})
        if held and stack_values is None:  # before the stack: its values do not exist yet
            raise BadInput(
                "the function URLs "
                + ", ".join(sorted(wanted))
                + " are made first (what reads them needs them), but their functions read "
                "values the stack of resources: gives only after: " + ", ".join(held),
                hint="read the URL where the stack does not need it, or the stack's values "
                "elsewhere than in that function",
            )
        plan = plan_resources(early, self.target, self.record, sweep=False)
        for change in _run(plan, self.target, self.record, self.dry_run, self.on_change):
            self.changes[change.address] = change
        for name in sorted(wanted):
            address = Address("function url", owners[name].name, owners[name].arn)
            found = self.target.provider("function url").find(address)
            if found is not None and found.get("FunctionUrl"):
                self.values[name] = str(found["FunctionUrl"])
            elif not self.dry_run:
                raise ToolError(f"{address} was made but its URL cannot be read back")
        return replace(
            self.load(DeployedValues(stack_values, self.values)),
            rest_api_ids=service.rest_api_ids,
            http_api_ids=service.http_api_ids,
            websocket_ids=service.websocket_ids,
            layer_arns=service.layer_arns,
        )

    def done(self, changes: list[Change]) -> list[Change]:
        """What this deploy did to what it made first (then unchanged in the whole plan)."""
        return [
            self.changes[c.address] if c.address in self.changes and c.action == "unchanged" else c
            for c in changes
        ]


def _with_needs(resources: tuple[Resource, ...], wanted: set[Address]) -> list[Resource]:
    """The resources at `wanted` and everything they need, in the given order."""
    by_address = {r.address: r for r in resources}
    keep: set[Address] = set()
    todo = [a for a in wanted if a in by_address]
    while todo:
        address = todo.pop()
        if address in keep:
            continue
        keep.add(address)
        todo.extend(n for n in by_address[address].dependencies() if n in by_address)
    return [r for r in resources if r.address in keep]


def _say_url_pending(step: Step) -> Step:
    """In a dry run, a change holding the URL of a function not made yet says so."""
    if step.resource is None:
        return step
    text = json.dumps(_plain(step.resource), default=str)
    held = sorted(set(URL_PENDING.findall(text)))
    if not held:
        return step
    reason = "uses values known after the function URL is created: " + ", ".join(held)
    change = step.change
    action = "update" if change.action == "unchanged" else change.action
    return replace(step, change=replace(change, action=action, reasons=(*change.reasons, reason)))


def _layers_first(
    service: ServiceConfig,
    target: DeployTarget,
    record: Record,
    build_dir: Path,
    dry_run: bool,
    on_change: OnChange | None,
) -> tuple[ServiceConfig, list[Change]]:
    """The service's own layers, published before anything else (their functions name a
    version's ARN, which exists only once it is published), and the service carrying each
    layer's current version ARN. A dry run publishes nothing: a layer about to be published
    has a placeholder ARN, and the functions naming it say so. A deploy killed after
    publishing finds that version next time (its mark says what it holds) and publishes
    nothing again."""
    if not service.layers:
        return service, []
    prepared = prepare(service, build_dir)  # every local check before anything changes
    layers = [
        r for r in desired_resources(service, target.platform, prepared).resources
        if isinstance(r, Layer)
    ]  # fmt: skip
    plan = plan_resources(layers, target, record, sweep=False)
    changes = _run(plan, target, record, dry_run, on_change)
    arns: dict[str, str] = {}
    by_name = {layer.name: layer for layer in service.layers.values()}
    for step in plan.steps:
        layer = by_name[step.change.address.name]
        found = step.found
        if step.change.action != "unchanged":
            found = None if dry_run else target.provider("layer").find(step.change.address)
        if found is None:
            if not dry_run:
                raise ToolError(f"{step.change.address} was published but cannot be read back")
            arns[layer.logical_id] = LAYER_PENDING.format(logical_id=layer.logical_id)
        else:
            arns[layer.logical_id] = str(found["LayerVersionArn"])
    return replace(service, layer_arns=arns), changes


def _with_layers(changes: list[Change], layers: list[Change]) -> list[Change]:
    """What the deploy did to the layers it published first (then unchanged in the plan)."""
    first = {c.address: c for c in layers}
    return [first.get(c.address, c) if c.action == "unchanged" else c for c in changes]


def _http_api_first(
    service: ServiceConfig,
    target: DeployTarget,
    record: Record,
    build_dir: Path,
    dry_run: bool,
    on_change: OnChange | None,
    *,
    websocket: bool = False,
) -> tuple[ServiceConfig, Change | None]:
    """As `_rest_api_first`, for the httpApi events' API when `resources:` names `HttpApi` (or
    with `websocket`, the websocket events' when it names `WebsocketsApi`): it exists (with its
    stage and authorizers) before the stack, its routes come later."""
    names = service.resources.names_service if service.resources else ()
    bare: HttpApi | WebsocketApi | None
    if websocket:
        bare = websocket_api_model(service, existence_only=True)
        named = WEBSOCKETS_API_LOGICAL_ID in names
    else:
        bare = http_api_model(service, existence_only=True)
        named = HTTP_API_LOGICAL_ID in names
    if bare is None or not named or getattr(bare, "existing_id", None) is not None:
        return service, None
    prepare(service, build_dir)  # every local check before anything changes
    plan = plan_resources([bare], target, record, sweep=False)
    made = None
    if not dry_run and plan.steps[0].change.action == "create":
        made = _run(plan, target, record, dry_run, on_change)[0]
    found = target.provider(bare.address.kind).find(bare.address)
    if found is None:
        return service, None
    if websocket:
        endpoint = websocket_url(found, service.region, "")
        ids = HttpApiIds(str(found["ApiId"]), endpoint)
        return replace(service, websocket_ids=ids), made
    ids = HttpApiIds(str(found["ApiId"]), str(found.get("ApiEndpoint") or ""))
    return replace(service, http_api_ids=ids), made


def _rest_api_first(
    service: ServiceConfig,
    target: DeployTarget,
    record: Record,
    build_dir: Path,
    dry_run: bool,
    on_change: OnChange | None,
) -> tuple[ServiceConfig, Change | None]:
    """When `resources:` names `ApiGatewayRestApi` (an authorizer on it, say): the REST API
    exists before the stack (created bare when it does not: its methods and deployment come
    with the rest of the service, when the authorizers they name exist), and the service
    carries its ids for the template. A dry run creates nothing: the ids stay placeholders
    until the API exists. Returns the change that made it, if one did."""
    names = service.resources.names_service if service.resources else ()
    named = [a for a in made_authorizers(service).values() if a.logical_id in names]
    if service.api is None or (REST_API_LOGICAL_ID not in names and not named):
        return service, None
    prepare(service, build_dir)  # every local check before anything changes
    api = service.api
    bare = RestApi(
        name=api.name,
        stage=service.stage,
        endpoint_type=api.endpoint_type,
        methods=(),
        vpc_endpoint_ids=api.vpc_endpoint_ids,
        existence_only=True,
        # the authorizers the template names, made with it (their ids go in the template)
        authorizers=tuple(authorizer_settings(service, a) for a in named),
    )
    plan = plan_resources([bare], target, record, sweep=False)
    made = None
    if not dry_run and plan.steps[0].change.action in ("create", "update"):
        made = _run(plan, target, record, dry_run, on_change)[0]
    found = target.provider("rest api").find(bare.address)
    if found is None:
        return service, None
    authorizer_ids = {str(a.get("name")): str(a.get("id")) for a in found.get("Authorizers") or []}
    ids = RestApiIds(
        str(found["id"]),
        _root_resource_id(found),
        tuple((a.name, authorizer_ids[a.name]) for a in named if a.name in authorizer_ids),
    )
    return replace(service, rest_api_ids=ids), made


def _say_made_first(step: Step, service: ServiceConfig) -> Step:
    """In a dry run, the REST API `resources:` names, when it does not exist yet and its
    methods come after the stack, says it is made before the stack (the plan lists it where
    its methods go)."""
    names = service.resources.names_service if service.resources else ()
    change = step.change
    if change.action != "create":
        return step
    if change.address.kind == "http api" and HTTP_API_LOGICAL_ID in names:
        if service.http_api_ids is not None:
            return step
        reason = "made before the stack (resources: names HttpApi), its routes after"
        return replace(step, change=replace(change, reasons=(reason, *change.reasons)))
    if change.address.kind == "websocket api" and WEBSOCKETS_API_LOGICAL_ID in names:
        if service.websocket_ids is not None:
            return step
        reason = "made before the stack (resources: names WebsocketsApi), its routes after"
        return replace(step, change=replace(change, reasons=(reason, *change.reasons)))
    authorizers = [a.logical_id for a in made_authorizers(service).values()]
    if (
        not (REST_API_LOGICAL_ID in names or set(authorizers) & set(names))
        or service.rest_api_ids is not None
        or change.address.kind != "rest api"
    ):
        return step
    named = REST_API_LOGICAL_ID if REST_API_LOGICAL_ID in names else "an authorizer of it"
    reason = f"made before the stack (resources: names {named}), its methods after"
    return replace(step, change=replace(change, reasons=(reason, *change.reasons)))


def _root_resource_id(found: Found) -> str:
    """The id of the API's `/` resource: GetRestApis' rootResourceId, else GetResources'."""
    if found.get("rootResourceId"):
        return str(found["rootResourceId"])
    root = next(r for r in found.get("Resources") or [] if r.get("path") == "/")
    return str(root["id"])


def _with_first(changes: list[Change], firsts: list[Change]) -> list[Change]:
    """What the deploy did to the APIs it made before the stack: made them (then perhaps gave
    them their methods or routes)."""
    made = {first.address for first in firsts}
    return [
        replace(c, action="create") if c.address in made and c.action != "create" else c
        for c in changes
    ]


def _run(
    plan: Plan, target: DeployTarget, record: Record, dry_run: bool, on_change: OnChange | None
) -> list[Change]:
    if dry_run:
        return DisplayExecutor().run(plan)
    return ApplyingExecutor(target, record, on_change=on_change).run(plan)


def _outputs(found: Found | None) -> dict[str, str]:
    """DescribeStacks' Outputs as OutputKey -> OutputValue."""
    outputs = (found or {}).get("Outputs") or []
    return {str(o["OutputKey"]): str(o.get("OutputValue", "")) for o in outputs}


def _changing(step: Step) -> frozenset[str]:
    """The logical ids an update of the stack adds or changes: their values may change."""
    changed = ("resources added", "resources changed")
    reasons = [r for r in step.change.reasons if r.startswith(changed)]
    return frozenset(
        name.strip() for reason in reasons for name in reason.split(":", 1)[1].split(",")
    )


def _say_pending(step: Step, verb: str) -> Step:
    """A change whose model holds a placeholder says which values it waits for."""
    if step.resource is None:
        return step
    pending = pending_in(_plain(step.resource))
    if not pending:
        return step
    reason = PENDING_REASON.format(verb=verb, values=", ".join(pending))
    change = step.change
    action = "update" if change.action == "unchanged" else change.action
    return replace(step, change=replace(change, action=action, reasons=(*change.reasons, reason)))


def _plain(value: Any) -> Any:
    """A model's values as dicts and lists (dataclasses opened), for `pending_in`."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value
