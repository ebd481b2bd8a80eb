"""GET /v1/sessions/{id}/stream: the WebSocket protocol. The client sends Start, Pause, Step
and SetFocus; the server sends a StateSnapshot first, then TickDelta, FocusBrain, Metrics and
periodic StateSnapshots, and Error{code, message} for a command it cannot carry out -- the
connection stays open. One task reads commands, one writes the client's queue, so a slow
reader never holds up the session or other clients."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

from starlette.websockets import WebSocket, WebSocketDisconnect

from primordia.http.errors import ApiError
from primordia.http.tokens import bearer, token_matches

from .manager import Client, Live, SessionManager
from .outbox import RESYNC
from .protocol import CommandError, Pause, SetFocus, Start, Step, error_message, parse_command

MAX_COMMAND_BYTES = 4096
CLOSE_POLICY = 1008        # WebSocket close code: refused (bad token)
CLOSE_GONE = 4404          # the session does not exist or was deleted
CLOSE_BUSY = 1013          # try again later: the session streams to as many as it may


async def stream(websocket: WebSocket, session_id: str, manager: SessionManager,
                 token: str | None) -> None:
    """Serve one stream connection until the client leaves or the session is deleted."""
    given = bearer(websocket.headers.get("authorization")) or websocket.query_params.get("token")
    if not token_matches(token, given) or not same_origin(websocket):
        await websocket.close(code=CLOSE_POLICY)
        return
    await websocket.accept()
    try:
        live = manager.get(session_id)
    except ApiError as exc:
        await websocket.send_text(error_message(exc.code, exc.message))
        await websocket.close(code=CLOSE_GONE)
        return
    try:
        client = await manager.subscribe(live)
    except ApiError as exc:                  # too many clients, or deleted meanwhile
        await websocket.send_text(error_message(exc.code, exc.message))
        await websocket.close(code=CLOSE_BUSY if exc.status == 429 else CLOSE_GONE)
        return
    writer = asyncio.create_task(_write(websocket, live, client, manager))
    reader = asyncio.create_task(_read(websocket, live, client, manager))
    try:
        await asyncio.wait({reader, writer}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (reader, writer):
            task.cancel()
            with contextlib.suppress(BaseException):
                await task
        await manager.unsubscribe(live, client)


def same_origin(websocket: WebSocket) -> bool:
    """Browsers let any page open a WebSocket to any address, and send the page's Origin:
    refuse pages from elsewhere (programs send no Origin and are let through)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True
    return urlsplit(origin).netloc.lower() == websocket.headers.get("host", "").lower()


async def _write(websocket: WebSocket, live: Live, client: Client,
                 manager: SessionManager) -> None:
    while True:
        item = await client.outbox.get()
        if item is None:                                 # the session was deleted
            with contextlib.suppress(Exception):
                await websocket.close(code=CLOSE_GONE)
            return
        if item is RESYNC:
            await manager.resync(live, client)
            continue
        try:
            await websocket.send_text(item)
        except (WebSocketDisconnect, RuntimeError, OSError):
            return


async def _read(websocket: WebSocket, live: Live, client: Client,
                manager: SessionManager) -> None:
    while True:
        try:
            msg = await websocket.receive()
        except (WebSocketDisconnect, RuntimeError):
            return
        if msg["type"] == "websocket.disconnect":
            return
        data = msg.get("text")
        if data is None:
            data = msg.get("bytes") or b""
        try:
            if len(data) > MAX_COMMAND_BYTES:
                raise CommandError("too_large", f"a command is at most {MAX_COMMAND_BYTES} "
                                   "bytes")
            await _carry_out(parse_command(data), live, client, manager)
        except CommandError as exc:
            client.outbox.put(error_message(exc.code, exc.message), keep=True)
        except ApiError as exc:
            client.outbox.put(error_message(exc.code, exc.message), keep=True)
        except Exception as exc:      # a failing world ends the command, not the connection
            client.outbox.put(error_message("world_failed", f"{type(exc).__name__}: {exc}"),
                              keep=True)


async def _carry_out(command, live: Live, client: Client, manager: SessionManager) -> None:
    if isinstance(command, Start):
        manager.play(live, command.data.ticks_per_second)
    elif isinstance(command, Pause):
        await manager.pause(live)
    elif isinstance(command, Step):
        await manager.advance(live, command.data.count)
    elif isinstance(command, SetFocus):
        await manager.set_focus(live, client, command.data.organism_id)
