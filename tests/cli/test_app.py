"""The command list of `tool --help`: one summary line per command."""

import inspect

import typer.main

from tooling.cli.commands import app


def test_each_command_summary_is_one_line():
    # Typer shows a docstring's first paragraph in the command list, line breaks included.
    group = typer.main.get_command(app)
    commands = group.commands  # type: ignore[attr-defined]  # the app is a group
    assert {"deploy", "invoke", "graph", "worker", "queue"} <= set(commands)
    for name, command in commands.items():
        summary = inspect.cleandoc(command.help or "").split("\n\n")[0]
        assert summary and "\n" not in summary, name
