"""The functions' `url` as resources: a function URL per function, and for one taking no
authorization the permission Serverless gives it (`lambda:InvokeFunctionUrl` for `*`, with
FunctionUrlAuthType NONE); how a found URL configuration compares with the model."""

from __future__ import annotations

from typing import Any

from tooling.deploy.function_alias_resources import target_needs
from tooling.deploy.models import Address, FunctionUrl, Permission, Resource
from tooling.deploy.providers import Diff, Found

URL_PERMISSION = "function url"  # the permission's name: "<function ARN> function url"


def function_urls(context: Any) -> tuple[list[Resource], list[str]]:
    """Per function with `url:`, its URL, and its public permission when AuthType is NONE."""
    resources: list[Resource] = []
    for fn in context.service.functions.values():
        if fn.url is None:
            continue
        # on the alias its events invoke, where the target has versions (locally: the function)
        aliased = context.platform.publishes_versions and fn.settings.target_alias is not None
        target, needs = (fn.target_arn, target_needs(fn)) if aliased else (fn.arn, ())
        url = FunctionUrl(
            function_name=fn.name,
            function_arn=fn.arn,
            settings=fn.url.settings(),
            needs=needs or (Address("function", fn.name),),
            qualifier=fn.settings.target_alias if aliased else None,
        )
        resources.append(url)
        if fn.url.auth_type == "NONE":
            resources.append(
                Permission(
                    name=f"{target} {URL_PERMISSION}",
                    target=target,
                    source_arn="",
                    needs=needs or (Address("function", fn.name),),
                    principal="*",
                    function_url_auth_type="NONE",
                )
            )
    return resources, []


def _cors(cors: dict[str, Any] | None) -> dict[str, Any] | None:
    if not cors:
        return None
    shape = {k: sorted(v) if isinstance(v, list) else v for k, v in cors.items()}
    return {k: v for k, v in shape.items() if v not in (None, [], False)} or None


def function_url_diff(url: FunctionUrl, found: Found) -> Diff:
    """`found`: GetFunctionUrlConfig's answer."""
    parts: list[tuple[str, tuple[str, ...]]] = []
    wanted = url.settings
    if found.get("AuthType") != wanted["AuthType"]:
        parts.append((f"auth type {found.get('AuthType')} -> {wanted['AuthType']}", ("AuthType",)))
    if (found.get("InvokeMode") or "BUFFERED") != wanted["InvokeMode"]:
        parts.append(("invoke mode changed", ("InvokeMode",)))
    if _cors(found.get("Cors")) != _cors(wanted.get("Cors")):
        parts.append(("CORS changed", ("Cors",)))
    if found.get("Qualifier") != url.qualifier:  # an alias came or went
        have, want = found.get("Qualifier") or "$LATEST", url.qualifier or "$LATEST"
        parts.append((f"on {have} -> on {want}", ("Qualifier",)))
    return Diff.of(*parts)
