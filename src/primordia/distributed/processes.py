"""Several coordinator server processes on one port, over one PostgreSQL database
(``primordia coordinator --processes N``). Every decision is a database transaction, so
the processes need nothing from each other; each opens its own connections and binds its
own listening socket with ``SO_REUSEPORT``, so that the kernel spreads new connections
over them by hash. (With one socket shared by all, as uvicorn's ``workers`` do, whichever
process was idle first takes the kept-alive connections of most workers: measured, the
second process then often added nothing.) A claim waiting in one process is not woken
by a result another process took; it looks again within ``server.RECHECK_SECONDS``."""

from __future__ import annotations

import multiprocessing
import socket
import signal
from typing import Callable

import uvicorn

from primordia.core.errors import ConfigError
from primordia.http.listening import listening_socket

from .children import end_with_parent
from .coordinator import Coordinator
from .db import open_engine
from .server import create_app


def serve_processes(db_url: str, token: str | None, host: str, port: int, processes: int,
                    on_ready: Callable[[], None] = lambda: None) -> None:
    """Serve the coordinator's API from this process and ``processes - 1`` more, until
    interrupted; the others end with this one. This one answers (and calls
    ``on_ready``) only once the others listen, so that the first workers to connect are
    spread over all of them."""
    first = listening_socket(host, port, reuse_port=True)
    port = first.getsockname()[1]                  # port 0: the one the first got
    ctx = multiprocessing.get_context("spawn")
    pipes = [ctx.Pipe(duplex=False) for _ in range(processes - 1)]   # "listening" comes back
    others = [ctx.Process(target=_serve_child, args=(db_url, token, host, port, send),
                          name=f"coordinator-{k + 1}", daemon=True)
              for k, (_, send) in enumerate(pipes)]
    for proc in others:
        proc.start()
    try:
        for proc, (listening, _) in zip(others, pipes):
            while not listening.poll(0.1):
                if not proc.is_alive():
                    raise ConfigError(f"--processes: server process {proc.name} did not "
                                      f"start (exit code {proc.exitcode})")
        on_ready()
        _serve(db_url, token, first)
    except KeyboardInterrupt:                      # Ctrl-C before serving began
        pass
    finally:
        for proc in others:
            proc.terminate()
        for proc in others:
            proc.join(timeout=10)


def _serve(db_url: str, token: str | None, sock: socket.socket) -> None:
    engine = open_engine(db_url)                   # migrated by the first process
    try:
        app = create_app(Coordinator(engine), admission_token=token)
        uvicorn.Server(uvicorn.Config(app, log_level="warning")).run(sockets=[sock])
    except KeyboardInterrupt:                      # Ctrl-C: uvicorn has shut down
        pass
    finally:
        engine.dispose()


def _serve_child(db_url: str, token: str | None, host: str, port: int, ready) -> None:
    try:
        _end_with_parent()
        sock = listening_socket(host, port, reuse_port=True)
        ready.send(True)
        _serve(db_url, token, sock)
    except KeyboardInterrupt:                      # Ctrl-C reaches the whole group
        pass


def _end_with_parent() -> None:
    """Get SIGTERM when the process that started this one dies, even by SIGKILL, so
    that no server process keeps serving the port alone (see children.py). On
    SIGTERM uvicorn closes the socket at once and ends after the requests under way (a
    long-polling claim: at most protocol.MAX_WAIT seconds)."""
    end_with_parent(multiprocessing.parent_process().pid, signal.SIGTERM)
