"""The `tool` command. `main` is the single error boundary: our errors become one line on
stderr and an exit code (0 ok, 1 failed execution or operation, 2 bad input)."""

from __future__ import annotations

import sys
import traceback

from tooling.errors import ToolError


def main(argv: list[str] | None = None) -> int:
    from tooling.cli.commands import app

    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    if debug:  # accepted anywhere on the line, not only before the command
        args = ["--debug", *(arg for arg in args if arg != "--debug")]
    args = _params_first(args)
    try:
        # Standalone mode lets Typer report usage errors itself (exit 2) and turns typer.Exit
        # into SystemExit; every other exception reaches the handlers below.
        app(args=args, prog_name="tool", standalone_mode=True)
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    except ToolError as exc:
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"error: {exc.render()}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130
    except Exception as exc:
        if debug:
            traceback.print_exc()
        sys.stderr.write(
            f"internal error: {type(exc).__name__}: {exc}"
            " (run again with --debug for the traceback)\n"
        )
        return 1
    return 0


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


def entry_point() -> None:
    from tooling.processes import hide_from_other_processes

    hide_from_other_processes()  # the caller's credentials stay out of handlers' reach
    sys.exit(main())
