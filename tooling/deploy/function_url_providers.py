"""The AWS target's provider for functions' URLs: Lambda's function URL configuration (every
call through tooling.aws.client). A URL belongs to its function, which the toolkit owns (the
configuration takes no tags). Locally (tooling.deploy.local_http_api_providers) it is a record
whose URL `tool serve` answers: `local_function_url`."""

from __future__ import annotations

import contextlib
from typing import TYPE_CHECKING

from tooling.config.function_settings import PROVISIONED_ALIAS, SNAPSTART_ALIAS
from tooling.deploy.aws_context import AwsContext
from tooling.deploy.function_url_resources import function_url_diff
from tooling.deploy.models import Address, FunctionUrl
from tooling.deploy.providers import Description, Diff, Found
from tooling.errors import NotFound
from tooling.triggers.http_api import SERVE_PORT

if TYPE_CHECKING:
    pass

LOCAL_URL_PREFIX = "/lambda-url/"
QUALIFIERS = (None, PROVISIONED_ALIAS, SNAPSTART_ALIAS)  # where the toolkit puts a URL


def _qualifier(address: Address) -> str | None:
    """The alias a URL's address names (its ARN's qualifier), if any."""
    parts = (address.arn or "").split(":")
    return parts[7] if len(parts) > 7 else None


def _qualified(qualifier: str | None) -> dict[str, str]:
    return {"Qualifier": qualifier} if qualifier else {}


def local_function_url(function_name: str) -> str:
    """A function's URL on the local target (`tool serve` answers it)."""
    return f"http://127.0.0.1:{SERVE_PORT}{LOCAL_URL_PREFIX}{function_name}/"


class AwsFunctionUrls:
    def __init__(self, context: AwsContext) -> None:
        self.c = context

    def check(self, resource: FunctionUrl) -> None:
        pass

    def _find(self, name: str, qualifier: str | None) -> Found | None:
        found = self.c.aws.find(
            "lambda", "get_function_url_config", what=f"read the URL of {name}",
            FunctionName=name, **_qualified(qualifier),
        )  # fmt: skip
        return None if found is None else {**found, "Qualifier": qualifier}

    def find(self, address: Address) -> Found | None:
        """The URL on the address's alias, else on $LATEST or another of the aliases the
        toolkit makes (where it was before an alias came or went)."""
        for qualifier in dict.fromkeys((_qualifier(address), *QUALIFIERS)):
            found = self._find(address.name, qualifier)
            if found is not None:
                return found
        return None

    def owns(self, address: Address, found: Found) -> bool:
        return True  # its function's ownership is checked with the function

    def diff(self, resource: FunctionUrl, found: Found) -> Diff:
        return function_url_diff(resource, found)

    def create(self, resource: FunctionUrl) -> None:
        self.c.aws.call(
            "lambda", "create_function_url_config", what=f"give {resource.function_name} a URL",
            FunctionName=resource.function_name, **_qualified(resource.qualifier),
            **resource.settings,
        )  # fmt: skip

    def update(self, resource: FunctionUrl, found: Found, diff: Diff) -> None:
        if "Qualifier" in diff.attributes:  # moved to or from an alias: a URL of its own
            self._delete(resource.function_name, found.get("Qualifier"))
            self.create(resource)
            return
        settings = dict(resource.settings)
        if "Cors" not in settings and found.get("Cors"):
            settings["Cors"] = {}  # an empty Cors removes it
        self.c.aws.call(
            "lambda", "update_function_url_config",
            what=f"update the URL of {resource.function_name}",
            FunctionName=resource.function_name, **_qualified(resource.qualifier), **settings,
        )  # fmt: skip

    def _delete(self, name: str, qualifier: str | None) -> None:
        with contextlib.suppress(NotFound):
            self.c.aws.call(
                "lambda", "delete_function_url_config", what=f"delete the URL of {name}",
                FunctionName=name, **_qualified(qualifier),
            )  # fmt: skip

    def delete(self, address: Address) -> None:
        for qualifier in dict.fromkeys((_qualifier(address), *QUALIFIERS)):
            self._delete(address.name, qualifier)

    def describe(self, address: Address, found: Found) -> Description:
        return Description(str(found.get("FunctionUrl", "")), f"auth {found.get('AuthType')}")
