"""`tool serve` for the functions' URLs: each at `http://127.0.0.1:PORT/lambda-url/<function
name>/` (what `Fn::GetAtt <Function>LambdaFunctionUrl.FunctionUrl` gives on the local target,
for serve's default port), answered as Lambda answers a function URL: the function gets the
event of payload format 2.0 (tooling.triggers.lambda_http_payload; `rawPath` is the path after
the function's prefix, `routeKey` `$default`) and its answer is mapped as for an HTTP API; a
failed function or an unreadable answer is 502 `Internal Server Error`; with `cors`,
preflights are answered and allowed origins get Access-Control-Allow-Origin. `AWS_IAM` auth is
not checked locally (said when the server starts)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from tooling.triggers.http_api import Functions, Request, Response
from tooling.triggers.lambda_http_payload import Context, event_v2
from tooling.triggers.local_http_api import cors_headers, invoke, preflight

URL_PREFIX = "/lambda-url/"


def _bad_gateway() -> Response:
    return Response(502, "Internal Server Error", {"Content-Type": "text/plain"})


class LocalFunctionUrls:
    """The deployed URLs (their local records, by function name)."""

    def __init__(
        self,
        records: Callable[[], dict[str, dict[str, Any]]],
        functions: Functions | None,
        *,
        account: str,
        region: str,
        new_request_id: Callable[[], str] = lambda: str(uuid.uuid4()),
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.records = records  # function name -> its URL's record, as deployed now
        self.functions = functions
        self.account = account
        self.region = region
        self.new_request_id = new_request_id
        self.now = now

    def notes(self) -> list[str]:
        return [
            f"the URL of {name}: AWS_IAM auth is not checked locally"
            for name, record in self.records().items()
            if record.get("AuthType") == "AWS_IAM"
        ]

    def handles(self, path: str) -> bool:
        return path.startswith(URL_PREFIX)

    def handle(self, request: Request) -> Response:
        name, _, rest = request.path.removeprefix(URL_PREFIX).partition("/")
        record = self.records().get(name)
        if record is None:
            return Response(
                404, json.dumps({"Message": None}), {"Content-Type": "application/json"}
            )
        cors = record.get("Cors")
        answer = preflight(cors, request)
        if answer is not None:
            return answer
        url_id = hashlib.sha256(str(record.get("FunctionArn")).encode()).hexdigest()[:32]
        context = Context(
            api_id=url_id,
            domain=f"{url_id}.lambda-url.{self.region}.on.aws",
            account=self.account,
            route_key="$default",
            request_id=self.new_request_id(),
            now=self.now(),
        )
        event = event_v2(request, "/" + rest, {}, context)
        response = invoke(
            self.functions, str(record["FunctionArn"]), event, "2.0",
            failed=_bad_gateway, late=_bad_gateway,
        )  # fmt: skip
        headers = {**response.headers, **cors_headers(cors, request),
                   "x-amzn-RequestId": context.request_id}  # fmt: skip
        return Response(response.status, response.body, headers, response.cookies, response.raw)
