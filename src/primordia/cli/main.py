"""The ``primordia`` command: a thin typer app; each command group lives in its own module."""

from __future__ import annotations

import sys

import typer

from primordia import __version__
from primordia.core.errors import PrimordiaError

from . import demo, evolve, islands, mycos, psil, run, serve, wasm

app = typer.Typer(
    name="primordia",
    help="Primordia: a laboratory for digital evolution.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(evolve.app, name="evolve")
app.add_typer(islands.app, name="islands")
app.add_typer(mycos.app, name="mycos")
app.add_typer(psil.app, name="psil")
app.add_typer(run.app, name="run")
app.add_typer(wasm.app, name="wasm")
app.command(name="demo")(demo.demo)
app.command(name="serve")(serve.serve)
app.command(name="coordinator")(islands.coordinator)
app.command(name="worker")(islands.worker)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"primordia {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Primordia: a laboratory for digital evolution."""


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one line on stderr and exit code 2."""
    try:
        code = app(args=argv, standalone_mode=False)
    except PrimordiaError as e:
        print(f"error: {e}", file=sys.stderr)
        raise SystemExit(2) from None
    except typer.Exit as e:
        raise SystemExit(e.exit_code) from None
    except typer.Abort as e:
        if isinstance(e.__cause__, EOFError):
            # click turns an EOFError raised anywhere in a command into Abort, as if the
            # user had closed stdin at a prompt; Primordia never prompts, so it was a file
            # that ended early, which some reader failed to report
            print(f"error: a file ended unexpectedly ({e.__cause__})", file=sys.stderr)
            raise SystemExit(2) from None
        print("aborted", file=sys.stderr)
        raise SystemExit(130) from None
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except typer.TyperException as e:
        # usage errors (unknown command, bad option value) from typer's command parser
        if type(e).__name__ == "NoArgsIsHelpError":
            print(e.format_message())
            raise SystemExit(0) from None
        message = " ".join(e.format_message().split())
        print(f"error: {message}", file=sys.stderr)
        raise SystemExit(2) from None
    except BrokenPipeError:
        raise SystemExit(0) from None
    raise SystemExit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
