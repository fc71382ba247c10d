"""The `tool` command. `main` is the single error boundary: our errors and Typer's usage errors
become one line on stderr and an exit code (0 ok, 1 failed execution or operation, 2 bad input,
130 interrupted)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from tooling.errors import ToolError

if TYPE_CHECKING:
    from typer import Abort
    from typer._click.exceptions import ClickException, UsageError

_interrupt_explained = False


def explain_interrupt(message: str) -> Exception:
    """Say what Ctrl-C did to the run; the command raises what this returns (exit 130)."""
    import typer

    from tooling import render

    global _interrupt_explained
    _interrupt_explained = True
    render.info(message)
    return typer.Exit(130)


def _usage_error_types() -> tuple[type[UsageError], type[ClickException], type[Abort]]:
    """(UsageError, ClickException, Abort) of the Click that Typer vendors (0.26 and later)."""
    from typer import Abort
    from typer._click.exceptions import ClickException, UsageError

    return UsageError, ClickException, Abort


def _usage_line(exc: UsageError) -> str:
    """A usage error as one line: what is wrong, and where the command's help is."""
    message = " ".join(str(exc.format_message()).split()).rstrip(".")
    if message[:1].isupper() and message[1:2].islower():
        message = message[0].lower() + message[1:]
    ctx = getattr(exc, "ctx", None)
    command = ctx.command_path if ctx is not None else "tool"
    return f"error: {message} (see `{command} --help`)"


def _command_named(args: list[str]) -> str | None:
    """The command the arguments name, when a command can be loaded alone (not for shell
    completion, which needs them all)."""
    import os

    if any(key.startswith("_TOOL_COMPLETE") for key in os.environ):
        return None
    values = {i + 1 for i, arg in enumerate(args) if arg in ("--param", "--config")}
    return next(
        (arg for i, arg in enumerate(args) if not arg.startswith("-") and i not in values), None
    )


def _load_app(name: str | None) -> Any:
    """The app with the command `name`'s module loaded (every module for no or an unknown name:
    `tool`, `tool --help`, a typo)."""
    import importlib

    from tooling.cli.registry import COMMAND_HOMES

    home = COMMAND_HOMES.get(name or "")
    if home is None:
        from tooling.cli.commands import app

        return app
    from tooling.cli.app import app

    importlib.import_module(f"tooling.cli.{home}")
    return app


def _only_the_command_used(app: Any, name: str | None) -> None:
    """Keep on the app only the command (or command group) named: Typer builds every
    registered command's options before it parses anything, which the others would cost for
    nothing."""
    if name is None:
        return
    commands = [
        info
        for info in app.registered_commands
        if (info.name or info.callback.__name__).lower().replace("_", "-") == name
    ]
    groups = [info for info in app.registered_groups if info.name == name]
    if commands or groups:
        app.registered_commands = commands
        app.registered_groups = groups


def main(argv: list[str] | None = None) -> int:
    global _interrupt_explained
    _interrupt_explained = False
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:  # accepted anywhere on the line, not only before the command
        args = ["--debug", *(arg for arg in args if arg != "--debug")]
    args = _params_first(args)
    usage_error, click_error, abort = _usage_error_types()
    name = _command_named(args)
    app = _load_app(name)
    all_commands, all_groups = list(app.registered_commands), list(app.registered_groups)
    _only_the_command_used(app, name)
    try:
        # Not standalone: usage errors reach the handlers below instead of Typer's boxes;
        # typer.Exit and a Ctrl-C Typer caught come back as the exit code.
        code = app(args=args, prog_name="tool", standalone_mode=False)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except ToolError as exc:
        if debug:
            _print_traceback()
        sys.stderr.write(f"error: {exc.render()}\n")
        return exc.exit_code
    except usage_error as exc:
        if debug:
            _print_traceback()
        if type(exc).__name__ == "NoArgsIsHelpError":  # `tool` or `tool task` alone: the help
            sys.stderr.write(str(exc.format_message()).rstrip() + "\n")
        else:
            sys.stderr.write(_usage_line(exc) + "\n")
        return 2
    except click_error as exc:
        sys.stderr.write(f"error: {' '.join(str(exc.format_message()).split())}\n")
        return int(getattr(exc, "exit_code", 1))
    except abort:
        sys.stderr.write("aborted\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:
        if debug:
            _print_traceback()
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc}"
            " (run again with --debug for the traceback)\n"
        )
        return 1
    finally:
        app.registered_commands, app.registered_groups = all_commands, all_groups
    if code == 130 and not _interrupt_explained:
        sys.stderr.write("interrupted\n")
    return code if isinstance(code, int) else 0


def _params_first(args: list[str]) -> list[str]:
    """`--param KEY=VALUE` and `--config NAME` are accepted anywhere (Serverless: `sls deploy
    --param="k=v" --config serverless.api.yml`); the app reads them before the command."""
    params: list[str] = []
    rest: list[str] = []
    index = 0
    while index < len(args):
        arg = args[index]
        if arg in ("--param", "--config") and index + 1 < len(args):
            params += [arg, args[index + 1]]
            index += 2
            continue
        if arg.startswith(("--param=", "--config=")):
            params.append(arg)
        else:
            rest.append(arg)
        index += 1
    return params + rest if params else args


def _print_traceback() -> None:
    import traceback  # --debug only

    traceback.print_exc()


def entry_point() -> None:
    from tooling.processes import hide_from_other_processes

    hide_from_other_processes()  # the caller's credentials stay out of handlers' reach
    code = main()
    _exit(code)


def _exit(code: int) -> None:
    """Exit without the interpreter's clean-up when nothing needs it: that clean-up collects
    every object of the loaded modules, several times, tens of milliseconds spent on memory the
    process gives back anyway. With exit handlers or threads left (a finalizer to run, an
    asynchronous invocation to wait for), the clean-up runs, minus those collections."""
    import atexit
    import gc
    import os
    import threading

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: the normal exit reports it as it would
            sys.exit(code)
    handlers = getattr(atexit, "_ncallbacks", lambda: 1)()
    if handlers == 0 and threading.active_count() == 1:
        os._exit(code)
    gc.freeze()  # frozen objects are left out of the collections (finalizers still run)
    sys.exit(code)
