"""provider.apiGateway.apiKeys and usagePlan, read as Serverless v3 compiles them
(lib/plugins/aws/package/compile/events/api-gateway/lib/api-keys.js, usage-plan.js,
usage-plan-keys.js): usage plans exist when either key is set; `usagePlan` a mapping (or absent)
is one plan `<service>-<stage>`, a list of `{<name>: {quota, throttle}}` one plan per name,
`<service>-<name>-<stage>`; each key goes into the default plan, or with named plans into the
plan its group names. Every plan's API stage is the service's REST API and stage.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from tooling.errors import BadInput, ConfigError, Where
from tooling.sourcemap import pointer_join

QUOTA_PERIODS = ("DAY", "WEEK", "MONTH")
KEY_FIELDS = ("name", "value", "description", "customerId", "enabled")
MIN_KEY_VALUE, MAX_KEY_VALUE = 20, 128  # CreateApiKey's value, in characters
DEFAULT_PLAN = ""  # the one plan of a mapping (or absent) usagePlan

Location = tuple[str | None, int | None, int | None]


@dataclass(frozen=True)
class ApiKeyConfig:
    """One AWS::ApiGateway::ApiKey Serverless makes; `value` None: API Gateway generates one."""

    name: str
    plan: str  # the full name of its usage plan
    value: str | None = None
    description: str | None = None
    customer_id: str | None = None
    enabled: bool = True
    declared_in: Location = (None, None, None)


@dataclass(frozen=True)
class UsagePlanConfig:
    """One AWS::ApiGateway::UsagePlan: quota and throttle in CreateUsagePlan's shape."""

    name: str
    description: str
    quota: tuple[tuple[str, Any], ...] = ()  # (limit|offset|period, value)
    throttle: tuple[tuple[str, Any], ...] = ()  # (burstLimit|rateLimit, value)
    keys: tuple[str, ...] = ()  # the names of its keys


@dataclass(frozen=True)
class ApiKeys:
    plans: tuple[UsagePlanConfig, ...] = ()
    keys: tuple[ApiKeyConfig, ...] = ()


def read_api_keys(
    gateway: Mapping[str, Any],
    *,
    service: str,
    stage: str,
    at: Callable[[str], Where],
    problems: list[BadInput],
) -> ApiKeys:
    """The usage plans and keys of provider.apiGateway; bad input is one problem at its line."""
    keys_value, plan_value = gateway.get("apiKeys"), gateway.get("usagePlan")
    if keys_value is None and plan_value is None:
        return ApiKeys()
    base = "/provider/apiGateway"

    def bad(pointer: str, message: str, hint: str | None = None) -> None:
        problems.append(ConfigError(message, hint=hint, **at(pointer)))

    plans: dict[str, tuple[str, UsagePlanConfig]] = {}  # short name -> (pointer, plan)
    if isinstance(plan_value, list):
        for index, entry in enumerate(plan_value):
            pointer = pointer_join(pointer_join(base, "usagePlan"), index)
            if not isinstance(entry, dict) or len(entry) != 1:
                bad(
                    pointer,
                    "each entry of provider.apiGateway.usagePlan must be a mapping of "
                    "one plan name to its settings ({<name>: {quota, throttle}})",
                )
                continue
            short, settings = next(iter(entry.items()))
            inner = pointer_join(pointer, str(short))
            if str(short) in plans:
                bad(inner, f"usage plan {short!r} is given twice in provider.apiGateway.usagePlan")
                continue
            quota, throttle = _plan_settings(settings, inner, bad)
            plans[str(short)] = (
                inner,
                UsagePlanConfig(
                    name=f"{service}-{short}-{stage}",
                    description=f'Usage plan "{short}" for {service} {stage} stage',
                    quota=quota,
                    throttle=throttle,
                ),
            )
    elif plan_value is None or isinstance(plan_value, dict):
        quota, throttle = _plan_settings(plan_value or {}, pointer_join(base, "usagePlan"), bad)
        plans[DEFAULT_PLAN] = (
            base,
            UsagePlanConfig(
                name=f"{service}-{stage}",
                description=f"Usage plan for {service} {stage} stage",
                quota=quota,
                throttle=throttle,
            ),
        )
    else:
        bad(
            pointer_join(base, "usagePlan"),
            "provider.apiGateway.usagePlan must be a mapping "
            "(quota, throttle) or a list of {<name>: {quota, throttle}}",
        )
        return ApiKeys()

    keys: list[ApiKeyConfig] = []
    if keys_value is not None and not isinstance(keys_value, list):
        bad(
            pointer_join(base, "apiKeys"),
            "provider.apiGateway.apiKeys must be a list of key "
            "names, {name, value, description, customerId, enabled} or {<usage plan>: [keys]}",
        )
        keys_value = []
    for index, entry in enumerate(keys_value or []):
        pointer = pointer_join(pointer_join(base, "apiKeys"), index)
        group = _group(entry)
        if group is not None:
            short, members = group
            inner = pointer_join(pointer, short)
            if short not in plans or short == DEFAULT_PLAN:
                named = ", ".join(repr(n) for n in plans if n != DEFAULT_PLAN)
                bad(
                    pointer,
                    f'API key "{short}" has no usage plan defined '
                    "(API_GATEWAY_KEY_WITHOUT_USAGE_PLAN, as Serverless says)",
                    hint=f"name one of the usage plans ({named})"
                    if named
                    else "define it under provider.apiGateway.usagePlan as a list entry "
                    f"{{{short}: {{quota, throttle}}}}",
                )
                continue
            for number, member in enumerate(members):
                key = _key(member, pointer_join(inner, str(number)), plans[short][1].name, at, bad)
                if key is not None:
                    keys.append(key)
            continue
        if DEFAULT_PLAN not in plans:
            bad(
                pointer,
                "this API key names no usage plan, and provider.apiGateway.usagePlan "
                "is a list of named plans: it would belong to no plan (Serverless' template "
                "names a default plan that it does not make)",
                hint="put it in a group naming its plan: - <plan>: [<key>]",
            )
            continue
        key = _key(entry, pointer, plans[DEFAULT_PLAN][1].name, at, bad)
        if key is not None:
            keys.append(key)

    seen: set[str] = set()
    for key in keys:
        if key.name in seen:
            file, line, column = key.declared_in
            problems.append(
                ConfigError(
                    f"API key {key.name!r} is given twice in provider.apiGateway.apiKeys; the "
                    "toolkit finds a key by its name",
                    hint="give each key its own name",
                    file=file,
                    line=line,
                    column=column,
                )
            )
        seen.add(key.name)
    values: dict[str, str] = {}
    for key in keys:
        if key.value is None:
            continue
        if key.value in values:
            file, line, column = key.declared_in
            problems.append(
                ConfigError(
                    f"API keys {values[key.value]!r} and {key.name!r} have the same value; API "
                    "Gateway keeps key values unique in an account (ConflictException)",
                    hint="give each key its own value",
                    file=file,
                    line=line,
                    column=column,
                )
            )
        values.setdefault(key.value, key.name)
    return ApiKeys(
        plans=tuple(
            UsagePlanConfig(
                plan.name,
                plan.description,
                plan.quota,
                plan.throttle,
                tuple(k.name for k in keys if k.plan == plan.name),
            )
            for _, plan in plans.values()
        ),
        keys=tuple(keys),
    )


def _group(entry: Any) -> tuple[str, list[Any]] | None:
    """A `{<plan>: [keys]}` entry: its plan and keys (Serverless' third form)."""
    if isinstance(entry, dict) and len(entry) == 1:
        name, members = next(iter(entry.items()))
        if isinstance(members, list):
            return str(name), members
    return None


def _key(
    entry: Any,
    pointer: str,
    plan: str,
    at: Callable[[str], Where],
    bad: Callable[..., None],
) -> ApiKeyConfig | None:
    where = at(pointer)
    location = (where.get("file"), where.get("line"), where.get("column"))
    if isinstance(entry, str) and entry:
        return ApiKeyConfig(name=entry, plan=plan, declared_in=location)
    if not isinstance(entry, dict):
        bad(
            pointer,
            "an API key must be its name or a mapping {name, value, description, "
            "customerId, enabled}",
        )
        return None
    for field in entry:
        if field not in KEY_FIELDS:
            bad(
                pointer_join(pointer, str(field)),
                f"unknown key {field!r} in an API key (it takes {', '.join(KEY_FIELDS)})",
            )
            return None
    name = entry.get("name")
    if not isinstance(name, str) or not name:
        bad(pointer, "an API key needs a `name` (the toolkit finds the key by it)")
        return None
    for field in ("value", "description", "customerId"):
        if entry.get(field) is not None and not isinstance(entry[field], str):
            bad(pointer_join(pointer, field), f"an API key's {field} must be a string")
            return None
    value = entry.get("value") or None
    if value is not None and not MIN_KEY_VALUE <= len(value) <= MAX_KEY_VALUE:
        bad(
            pointer_join(pointer, "value"),
            f"API key {name!r}: API Gateway takes a key value "
            f"of {MIN_KEY_VALUE} to {MAX_KEY_VALUE} characters (this one has {len(value)})",
            hint="use a longer value, or leave `value` out to let API Gateway generate one",
        )
        return None
    enabled = entry.get("enabled", True)
    if not isinstance(enabled, bool):
        bad(pointer_join(pointer, "enabled"), "an API key's enabled must be true or false")
        return None
    return ApiKeyConfig(
        name=name,
        plan=plan,
        value=value,
        description=entry.get("description"),
        customer_id=entry.get("customerId"),
        enabled=enabled,
        declared_in=location,
    )


_QUOTA = {"limit": int, "offset": int, "period": str}
_THROTTLE = {"burstLimit": int, "rateLimit": float}


def _plan_settings(
    settings: Any, pointer: str, bad: Callable[..., None]
) -> tuple[tuple[tuple[str, Any], ...], tuple[tuple[str, Any], ...]]:
    """(quota, throttle) of one plan, as Serverless' schema takes them."""
    if settings is None:
        return (), ()
    if not isinstance(settings, dict):
        bad(pointer, "a usage plan's settings must be a mapping (quota, throttle)")
        return (), ()
    parts: dict[str, tuple[tuple[str, Any], ...]] = {"quota": (), "throttle": ()}
    for key, value in settings.items():
        inner = pointer_join(pointer, str(key))
        if key not in parts:
            bad(inner, f"unknown key {key!r} in a usage plan (it takes quota and throttle)")
            continue
        fields = _QUOTA if key == "quota" else _THROTTLE
        if not isinstance(value, dict):
            bad(inner, f"a usage plan's {key} must be a mapping ({', '.join(fields)})")
            continue
        read: list[tuple[str, Any]] = []
        for name, item in value.items():
            where = pointer_join(inner, str(name))
            if name not in fields:
                bad(
                    where,
                    f"unknown key {name!r} in a usage plan's {key} (it takes {', '.join(fields)})",
                )
            elif name == "period":
                if item not in QUOTA_PERIODS:
                    bad(
                        where,
                        f"a quota's period must be one of {', '.join(QUOTA_PERIODS)} "
                        f"(got {item!r})",
                    )
                else:
                    read.append((name, item))
            elif (
                isinstance(item, bool)
                or not isinstance(item, int | float)
                or (fields[name] is int and not isinstance(item, int))
                or item < 0
            ):
                kind = "an integer" if fields[name] is int else "a number"
                bad(
                    where, f"a usage plan's {key}.{name} must be {kind} of 0 or more (got {item!r})"
                )
            else:
                read.append((name, item))
        parts[key] = tuple(sorted(read))
    return parts["quota"], parts["throttle"]
