"""task success, task failure, task heartbeat: answer the task token of a callback Task
(`.waitForTaskToken`) or an activity Task, as SendTaskSuccess, SendTaskFailure and
SendTaskHeartbeat do; task activity: take an activity Task's work, as GetActivityTask does."""

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
    help="Answer a callback Task's token (.waitForTaskToken): success, failure or heartbeat; "
    "take an activity's work (activity)."
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
        raise InputError(f"{option} is {len(value)} characters long; the API takes at most {limit}")


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


# GetActivityTask's workerName: up to 80 characters (API reference).
MAX_WORKER_NAME_CHARS = 80


@task_app.command("activity")
def activity(
    name: Annotated[
        str, typer.Argument(help="The activity: its name (stepFunctions.activities) or ARN.")
    ],
    worker: Annotated[
        str, typer.Option("--worker", help="The workerName ActivityStarted records.")
    ] = "tool",
    stage: StageOpt = None,
    region: RegionOpt = None,
    target: TargetOpt = "local",
    aws_profile: AwsProfileOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Take the oldest waiting task of an activity (GetActivityTask, polling up to a minute):
    prints its taskToken and input, for `tool task success|failure|heartbeat`. Exit 1 when no
    task came."""
    from tooling.errors import OperationFailed
    from tooling.names import activity_arn

    _check_length(worker, "--worker", MAX_WORKER_NAME_CHARS)
    _, backend = open_target(stage, region, target, aws_profile)
    arn = (
        name if name.startswith("arn:") else activity_arn(backend.region, backend.account_id, name)
    )
    task = backend.get_activity_task(arn, worker)
    if not task:
        raise OperationFailed(
            f"no task of activity {arn} came within the poll",
            hint="start an execution that reaches the activity's Task, then ask again",
        )
    if json_out:
        render.json_document({"activityArn": arn, **task})
    else:
        render.data(f"taskToken: {task['taskToken']}")
        render.data(f"input: {task.get('input', '')}")
