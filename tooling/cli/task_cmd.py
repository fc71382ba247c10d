"""task success, task failure, task heartbeat: answer the task token of a callback Task
(`.waitForTaskToken`), as SendTaskSuccess, SendTaskFailure and SendTaskHeartbeat do."""

from typing import TYPE_CHECKING, Annotated

import typer

from tooling import render
from tooling.cli.app import AwsProfileOpt, JsonOpt, RegionOpt, StageOpt, TargetOpt, app, open_target
from tooling.errors import InputError

if TYPE_CHECKING:
    from tooling.backends.base import Backend

# SendTaskFailure's limits (API reference): error up to 256 characters, cause up to 32,768.
MAX_ERROR_CHARS = 256
MAX_CAUSE_CHARS = 32_768

task_app = typer.Typer(
    help="Answer a callback Task's token (.waitForTaskToken): success, failure or heartbeat."
)
app.add_typer(task_app, name="task")

TokenArg = Annotated[str, typer.Argument(help="The task token, as the task received it.")]


def _done(backend: "Backend", action: str, token: str, json_out: bool) -> None:
    if json_out:
        render.json_document({"action": action, "taskToken": token, "target": backend.target})
    else:
        render.info(f"{action}: done")


def _check_length(value: str | None, option: str, limit: int) -> None:
    if value is not None and len(value) > limit:
        raise InputError(
            f"{option} is {len(value)} characters long; SendTaskFailure takes at most {limit}"
        )


@task_app.command("success")
def success(
    token: TokenArg,
    output: Annotated[
        str,
        typer.Option("--output", help="The task's result: a JSON file, or - for stdin."),
    ],
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Complete the task with OUTPUT as its result (SendTaskSuccess)."""
    from tooling.inputs import parse_json, read_bounded_text

    read = read_bounded_text(output, "--output")
    parse_json(read.text, read.source, what="JSON output")
    text = read.text
    _, backend = open_target(stage, region, target, aws_profile)
    backend.send_task_success(token, text)
    _done(backend, "SendTaskSuccess", token, json_out)


@task_app.command("failure")
def failure(
    token: TokenArg,
    error: Annotated[str | None, typer.Option("--error", help="The error name.")] = None,
    cause: Annotated[str | None, typer.Option("--cause", help="What went wrong.")] = None,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Fail the task with ERROR and CAUSE (SendTaskFailure); Retry and Catch see them."""
    _check_length(error, "--error", MAX_ERROR_CHARS)
    _check_length(cause, "--cause", MAX_CAUSE_CHARS)
    _, backend = open_target(stage, region, target, aws_profile)
    backend.send_task_failure(token, error, cause)
    _done(backend, "SendTaskFailure", token, json_out)


@task_app.command("heartbeat")
def heartbeat(
    token: TokenArg,
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Report that the task is still at work: restarts its HeartbeatSeconds (SendTaskHeartbeat)."""
    _, backend = open_target(stage, region, target, aws_profile)
    backend.send_task_heartbeat(token)
    _done(backend, "SendTaskHeartbeat", token, json_out)
