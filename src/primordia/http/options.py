"""The ``--host``, ``--port`` and ``--token`` options that ``primordia serve`` and
``primordia coordinator`` share, defined once so that both read and explain them alike."""

from __future__ import annotations

from typing import Any

import typer

TOKEN_ENV = "PRIMORDIA_TOKEN"
"""Where ``--token`` is read from when it is not given (keeps it out of process lists)."""


def host_option() -> Any:
    return typer.Option("127.0.0.1", "--host", help="Address to bind; anything but "
                        "loopback needs --token.")


def port_option(default: int) -> Any:
    return typer.Option(default, "--port", help="TCP port.")


def token_option(help: str) -> Any:
    """``--token``, or the PRIMORDIA_TOKEN environment variable; ``help`` says what for."""
    return typer.Option(None, "--token", envvar=TOKEN_ENV, help=help)
