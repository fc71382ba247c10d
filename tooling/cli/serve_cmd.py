"""serve: the service's REST API (functions' and state machines' http events) and HTTP API
(functions' httpApi events) on loopback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from tooling import render
from tooling.cli.app import RegionOpt, StageOpt, TargetOpt, app, open_target
from tooling.errors import BadInput

if TYPE_CHECKING:
    from tooling.triggers.http_api import Request, Response


@app.command()
def serve(
    port: Annotated[
        int, typer.Option("--port", "-p", min=0, max=65535, help="Port on 127.0.0.1 (0: any).")
    ] = 3000,  # tooling.triggers.http_api.SERVE_PORT (the local URLs deploy records)
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
) -> None:
    """Answer the http and httpApi events' paths on 127.0.0.1 as API Gateway does.

    A function's route invokes it with API Gateway's proxy event (payload format 1.0 for http
    events, 2.0 or 1.0 for httpApi events) and answers with its result; a state machine's
    starts an execution and gets Step Functions' answer (docs/aws.md, http events). Ctrl-C
    stops."""
    if target != "local":
        raise BadInput(
            "tool serve runs the local target's API; on AWS, API Gateway serves it",
            hint="`tool info --target aws` shows the API's URL",
        )
    from tooling.triggers.http_api import make_server
    from tooling.triggers.served_apis import open_served_apis

    service, _ = open_target(stage, region, target, None)
    api = open_served_apis(service)
    for note in api.notes():
        render.info(f"warning: {note}")
    server = make_server(api, port)
    root = f"http://127.0.0.1:{server.server_port}"  # make_server binds loopback
    if api.rest is not None:
        base = f"{root}/{api.rest.stage}"
        render.info(f"serving {api.rest.document.get('name')} on {base} (Ctrl-C stops)")
        for route in api.rest.routes:
            render.data(f"{route.method:<7} {base}/{route.path}")
    if api.http is not None:
        render.info(f"serving HTTP API {api.http.document.get('Name')} on {root} (Ctrl-C stops)")
        for method, path in api.http.route_lines():
            render.data(f"{method:<7} {root}{path}")
    if api.urls is not None:
        render.info(f"serving the function URLs on {root}/lambda-url/<function>/ (Ctrl-C stops)")
        for name in api.urls.records():
            render.data(f"{'URL':<7} {root}/lambda-url/{name}/")

    def said(request: Request, response: Response) -> None:
        render.info(f"{request.method} {request.path} -> {response.status}")

    server.on_request = said
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        render.info("stopped")
    finally:
        server.server_close()
        api.close()
