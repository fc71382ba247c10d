"""tool local status|start|stop|reset|env: the service folder's local AWS services (the moto
server the local target runs integrations and handlers against; docs/engine.md)."""

import shlex
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from tooling import render
from tooling.cli.app import JsonOpt, app

if TYPE_CHECKING:  # loaded by the commands themselves: `tool --help` stays fast
    from tooling.localaws.manager import LocalAwsServices, RunningServer

local_app = typer.Typer(
    help="The local AWS services of this folder: status, start, stop, reset, env.",
    no_args_is_help=True,
)
app.add_typer(local_app, name="local")


def _services() -> "LocalAwsServices":
    from tooling.localaws.manager import LocalAwsServices
    from tooling.statedir import state_dir

    return LocalAwsServices(state_dir(Path.cwd()))


def _describe(services: "LocalAwsServices", running: "RunningServer | None") -> dict[str, Any]:
    journal = services.journal_path
    return {
        "running": running is not None,
        "endpoint": running.url if running else None,
        "pid": running.pid if running else None,
        "startedAt": datetime.fromtimestamp(running.started_at, UTC).isoformat()
        if running
        else None,
        "dataDir": str(services.data_dir),
        "journalEntries": services.journal_entries(),
        "journalBytes": journal.stat().st_size if journal.is_file() else 0,
    }


def _show(description: dict[str, Any], json_out: bool) -> None:
    if json_out:
        render.json_document(description)
        return
    if description["running"]:
        render.data(
            f"running: {description['endpoint']} (pid {description['pid']}, "
            f"since {description['startedAt']})"
        )
    else:
        render.data("not running")
    render.data(
        f"data: {description['dataDir']} ({description['journalEntries']} journaled "
        f"changes, {description['journalBytes']} bytes)"
    )


@local_app.command("status")
def status(json_out: JsonOpt = False) -> None:
    """Whether the local AWS services run, where, and how much they hold."""
    services = _services()
    _show(_describe(services, services.running()), json_out)


@local_app.command("start")
def start(json_out: JsonOpt = False) -> None:
    """Start them (commands that need them start them anyway); prints the endpoint."""
    services = _services()
    url = services.endpoint()
    if json_out:
        _show(_describe(services, services.running()), json_out)
    else:
        render.data(url)


@local_app.command("stop")
def stop(json_out: JsonOpt = False) -> None:
    """Stop them; what they hold stays in .tool/aws and comes back at the next start."""
    services = _services()
    stopped = services.stop()
    if json_out:
        render.json_document({"stopped": stopped is not None, "pid": stopped and stopped.pid})
    else:
        render.data(f"stopped (pid {stopped.pid})" if stopped else "not running")


@local_app.command("reset")
def reset(json_out: JsonOpt = False) -> None:
    """Stop them and forget everything they hold for this folder."""
    services = _services()
    stopped = services.reset()
    if json_out:
        render.json_document({"stopped": stopped is not None, "forgotten": True})
    else:
        render.data("stopped; their data is forgotten" if stopped else "data forgotten")


@local_app.command("env")
def env(json_out: JsonOpt = False) -> None:
    """Start them and print `export` lines for AWS_ENDPOINT_URL and credentials they accept (the
    folder's local credentials): `eval "$(tool local env)"` before the aws CLI or a script
    (the region stays yours to give: the services' resources are per region, as on AWS)."""
    services = _services()
    variables = {"AWS_ENDPOINT_URL": services.endpoint(), **services.credentials().environment()}
    if json_out:
        render.json_document(variables)
        return
    for name, value in variables.items():
        render.data(f"export {name}={shlex.quote(value)}")
