"""What `tool serve` answers: the service's REST API (http events, under `/<stage>/`), its HTTP
API (httpApi events, at the root, as its `$default` stage is) and its function URLs (under
`/lambda-url/<function name>/`, tooling.triggers.function_urls), on one loopback port."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tooling.errors import BadInput
from tooling.triggers.function_urls import LocalFunctionUrls
from tooling.triggers.http_api import LocalApi, Request, Response
from tooling.triggers.local_http_api import LocalHttpApi


@dataclass
class ServedApis:
    rest: LocalApi | None = None
    http: LocalHttpApi | None = None
    urls: LocalFunctionUrls | None = None
    closers: list[Any] = field(default_factory=list)

    def handle(self, request: Request) -> Response:
        if self.urls is not None and self.urls.handles(request.path):
            return self.urls.handle(request)
        if self.rest is not None and (
            self.http is None
            or request.path == f"/{self.rest.stage}"
            or request.path.startswith(f"/{self.rest.stage}/")
        ):
            return self.rest.handle(request)
        if self.http is not None:
            return self.http.handle(request)
        raise AssertionError("open_served_apis gives at least one API")

    def notes(self) -> list[str]:
        return [
            *(self.rest.notes() if self.rest else []),
            *(self.http.notes() if self.http else []),
        ]

    def close(self) -> None:
        for closer in self.closers:
            closer()


def open_served_apis(service: Any) -> ServedApis:
    """The APIs the service deployed to the local target (BadInput when it has none)."""
    from tooling.backends.local import state_dir
    from tooling.localrt.event_store import EventStore
    from tooling.localrt.proxy_functions import LocalProxyFunctions
    from tooling.names import LOCAL_ACCOUNT_ID
    from tooling.triggers.http_api import open_local_api

    served = ServedApis()
    if service.api is not None:
        try:
            served.rest = open_local_api(service)
            served.closers.append(served.rest.close)
        except BadInput:
            if service.http_api is None and not any(
                fn.url is not None for fn in service.functions.values()
            ):
                raise
    settings = service.http_api
    database = state_dir(service.directory) / "local.db"
    if settings is not None and database.is_file():
        records = EventStore(database)
        name = settings.address_name

        def deployed() -> dict[str, Any] | None:
            found = records.get("http api", service.region, name)
            return found.document if found else None

        document = deployed()
        if document is not None:
            functions = LocalProxyFunctions(database, service.region)
            served.closers.append(functions.close)
            served.http = LocalHttpApi(
                document, functions, account=LOCAL_ACCOUNT_ID, region=service.region,
                reload=deployed,
            )  # fmt: skip
    with_urls = [fn.name for fn in service.functions.values() if fn.url is not None]
    if with_urls and database.is_file():
        store = EventStore(database)

        def url_records() -> dict[str, dict[str, Any]]:
            found = {}
            for name in with_urls:
                record = store.get("function url", service.region, name)
                if record is not None:
                    found[name] = dict(record.document)
            return found

        if url_records():
            functions = LocalProxyFunctions(database, service.region)
            served.closers.append(functions.close)
            served.urls = LocalFunctionUrls(
                url_records, functions, account=LOCAL_ACCOUNT_ID, region=service.region
            )
    if served.rest is None and served.http is None and served.urls is None:
        raise BadInput(
            f"no API is deployed for {service.service} ({service.stage}, {service.region}) on "
            "the local target",
            file=service.config_file.name,
            hint="run `tool deploy` first"
            if service.api is not None
            or service.http_api is not None
            or any(fn.url is not None for fn in service.functions.values())
            else "add `events: [{httpApi: 'GET /hello'}]` (or an http event, or `url: true`) to "
            "a function",
        )
    return served
