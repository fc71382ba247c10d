"""Running `tool ... --target aws` in a test against the moto server, and what it changed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tooling.aws.client import ApiCall, AwsClient, is_mutating, recording_calls
from tooling.aws.errors import AwsOperationFailed
from tooling.cli import main


def recorded(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str, list[ApiCall]]:
    """`tool ARGS`: its exit code, stdout, stderr and the AWS calls it made."""
    with recording_calls() as calls:
        code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err, calls


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str, list[ApiCall]]:
    """`tool ARGS --target aws`, as `recorded` gives it."""
    return recorded(capsys, *args, "--target", "aws")


def mutating(calls: list[ApiCall]) -> list[str]:
    """The operations among `calls` that change something."""
    return [call.operation for call in calls if is_mutating(call.operation)]


def service_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, files: dict[str, str], name: str = "shop"
) -> Path:
    """`tmp_path/<name>` holding `files` (name -> text), the tests' working folder from now on."""
    folder = tmp_path / name
    folder.mkdir()
    for file, text in files.items():
        (folder / file).write_text(text)
    monkeypatch.chdir(folder)
    return folder


@contextmanager
def stopped_at(operation: str) -> Iterator[None]:
    """Within it, the toolkit's AWS calls stop (as if the process were killed) when they come
    to `operation` (a boto3 method name, e.g. "put_method"): nothing from it on is done."""
    original = AwsClient.call

    def call(self: AwsClient, service: str, method: str, **params: Any) -> Any:
        if method == operation:
            raise AwsOperationFailed("stopped here", code="Killed")
        return original(self, service, method, **params)

    AwsClient.call = call  # type: ignore[method-assign]  # undone on the way out
    try:
        yield
    finally:
        AwsClient.call = original  # type: ignore[method-assign]  # as it was
