"""``primordia serve``: the live simulation server (REST + WebSocket) on this machine, or --
with a token -- on any address."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from primordia.core.errors import ConfigError
from primordia.http.options import host_option, port_option, token_option

WS_MAX_BYTES = 64 * 1024
"""Largest stream message a client may send (commands are a few dozen bytes)."""


def serve(
    host: str = host_option(),
    port: int = port_option(8000),
    token: Optional[str] = token_option("Bearer token that routes changing sessions and "
                                        "the stream require (or PRIMORDIA_TOKEN)."),
    max_sessions: int = typer.Option(8, "--max-sessions", help="Sessions held at once."),
    max_body_bytes: int = typer.Option(64 * 1024, "--max-body-bytes",
                                       help="Largest request body accepted."),
    runs: Optional[Path] = typer.Option(None, "--runs", help="Folder of run directories "
                                        "(primordia run ... --out) to replay, read-only."),
    idle_timeout: float = typer.Option(1800, "--idle-timeout", help="Seconds after which a "
                                       "session nobody uses or watches is deleted."),
) -> None:
    """Serve live sessions of every world: REST, a WebSocket stream and the dashboard."""
    from primordia.http.listening import check_address, listening_socket

    check_address(host, port, token, "clients then send 'Authorization: Bearer T'")
    if not 1 <= max_sessions <= 1024:
        raise ConfigError("--max-sessions must be in 1..1024")
    if max_body_bytes < 1024:
        raise ConfigError("--max-body-bytes must be at least 1024")
    if not 1 <= idle_timeout <= 30 * 86400:
        raise ConfigError("--idle-timeout must be in 1..2592000 seconds")
    if runs is not None and not runs.is_dir():
        raise ConfigError(f"--runs {runs}: not a folder")
    import uvicorn

    from primordia.web.app import create_app

    sock = listening_socket(host, port)
    app = create_app(token=token, max_sessions=max_sessions, max_body_bytes=max_body_bytes,
                     runs=runs, idle_seconds=idle_timeout)
    typer.echo(f"primordia serve: http://{host}:{sock.getsockname()[1]} (Ctrl-C stops)")
    config = uvicorn.Config(app, ws="websockets-sansio", ws_max_size=WS_MAX_BYTES,
                            log_level="warning")
    uvicorn.Server(config).run(sockets=[sock])
