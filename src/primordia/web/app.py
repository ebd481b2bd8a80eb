"""The FastAPI app of ``primordia serve``: the session routes of NeuroGenesis's server
(docs/web.md, "The API") for every world, GET /v1/worlds for start pages, the stream, and the
dashboard's static files when they are there. Every refusal is a 4xx whose body names the wrong
field."""

from __future__ import annotations

import asyncio
import inspect
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, Callable

import orjson
from fastapi import FastAPI, Header, Query, WebSocket
from starlette.responses import Response
from starlette.staticfiles import StaticFiles

from primordia import __version__
from primordia.http.body_limit import BodyLimit
from primordia.http.errors import ApiError, install_error_handlers, refusal
from primordia.http.openapi import bearer, install_openapi, takes_authorization
from primordia.http.tokens import require_token

from .manager import IDLE_SECONDS, Live, SessionManager
from .protocol import (PROTOCOL_VERSION, FocusRequest, ResetRequest, SessionId,
                       StepRequest, create_session_body, envelope)
from .replay import RunLibrary
from .replies import Deleted, Health, RecordingPage, Runs, answers, world_replies
from .sessions import describe_worlds
from .stream import stream

STATIC = Path(__file__).parent / "static"
MAX_BODY_BYTES = 64 * 1024


def reply(payload: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(envelope(payload), option=orjson.OPT_SERIALIZE_NUMPY),
                    status_code=status, media_type="application/json")


refuse = refusal(PROTOCOL_VERSION)


def create_app(token: str | None = None, max_sessions: int = 8,
               max_body_bytes: int = MAX_BODY_BYTES, snapshot_every: int = 100,
               static_dir: Path | None = STATIC, runs: Path | None = None,
               idle_seconds: float = IDLE_SECONDS) -> FastAPI:
    """The server. With ``token``, every /v1 route and the stream need
    ``Authorization: Bearer <token>`` (the stream also takes ``?token=``); /health does not. With ``runs``, the
    recorded runs under that folder can be replayed (read-only). Sessions idle for
    ``idle_seconds`` are deleted."""
    manager = SessionManager(max_sessions=max_sessions, snapshot_every=snapshot_every,
                             idle_seconds=idle_seconds)
    library = RunLibrary(runs)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        sweeper = asyncio.create_task(manager.expire_forever())
        yield
        sweeper.cancel()
        await manager.close()

    app = FastAPI(title="Primordia", version=__version__, lifespan=lifespan)
    app.state.manager = manager
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, render=refuse)

    def guard(authorization: str | None) -> None:
        require_token(token, authorization)

    install_error_handlers(app, refuse, max_body_bytes)
    install_openapi(app, {"bearer": bearer("The token the server was started with (--token)")},
                    lambda route: ["bearer"] if token and takes_authorization(route) else [],
                    DESCRIPTION)

    # ---- routes ----------------------------------------------------------------------------------
    # the worlds registered now: each has its models in the published schema
    per_world = world_replies()
    Session, Stepped, Focus = per_world.session, per_world.stepped, per_world.focus
    SessionStatus, Snapshot, Sessions = per_world.status, per_world.snapshot, per_world.sessions
    Worlds = per_world.worlds

    @app.get("/health", operation_id="health", **answers(Health, "HealthReply"))
    async def health() -> Response:
        return reply({"status": "ok", "version": __version__, "sessions": len(manager.all())})

    @app.get("/v1/worlds", operation_id="listWorlds", **answers(Worlds, "WorldsReply", 401))
    async def worlds(authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        return reply(describe_worlds())

    @app.get("/v1/sessions", operation_id="listSessions",
             **answers(Sessions, "SessionsReply", 401, links=_links("sessions/0/metadata")))
    async def list_sessions(authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        return reply({"sessions": [_info(live) for live in manager.all()]})

    async def create(body: Any, authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        live = await manager.create(body.world, body.config, body.seed, body.brain)
        snap = await manager.snapshot(live)
        return reply({"metadata": live.session.metadata(), "snapshot": snap}, 201)

    app.post("/v1/sessions", operation_id="createSession",
             **answers(Session, "SessionReply", 401, 413, 422, 429, status=201,
                       links=_links("metadata", focus=True)))(
        with_types(create, body=create_session_body()))

    @app.get("/v1/sessions/{session_id}", operation_id="getSession",
             **answers(SessionStatus, "SessionStatusReply", 401, 404))
    async def session_info(session_id: SessionId,
                           authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        return reply(_info(manager.get(session_id)))

    @app.get("/v1/sessions/{session_id}/state", operation_id="getSessionState",
             **answers(Snapshot, "SnapshotReply", 401, 404))
    async def state(session_id: SessionId,
                    authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        return reply(await manager.snapshot(manager.get(session_id)))

    @app.post("/v1/sessions/{session_id}/step", operation_id="stepSession",
              **answers(Stepped, "StepsReply", 401, 404, 409, 413, 422))
    async def step(session_id: SessionId, body: StepRequest,
                   authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        deltas, snap = await manager.advance(manager.get(session_id), body.count,
                                             snapshot=True)
        return reply({"deltas": deltas, "snapshot": snap})

    @app.post("/v1/sessions/{session_id}/reset", operation_id="resetSession",
              **answers(Session, "ResetReply", 401, 404, 413, 422))
    async def reset(session_id: SessionId, body: ResetRequest | None = None,
                    authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        live = manager.get(session_id)
        snap = await manager.reset(live, body.seed if body else None)
        return reply({"metadata": live.session.metadata(), "snapshot": snap})

    @app.post("/v1/sessions/{session_id}/focus", operation_id="focusOrganism",
              **answers(Focus, "FocusReply", 401, 404, 413, 422))
    async def focus(session_id: SessionId, body: FocusRequest,
                    authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        return reply(await manager.focus(manager.get(session_id), body.organism_id))

    @app.delete("/v1/sessions/{session_id}", operation_id="deleteSession",
                **answers(Deleted, "DeletedReply", 401, 404))
    async def delete(session_id: SessionId,
                     authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        await manager.delete(session_id)
        return reply({"id": session_id, "deleted": True})

    @app.get("/v1/runs", operation_id="listRuns",
             **answers(Runs, "RunsReply", 401, links={"GetRecording": {
                 "operationId": "getRecording",
                 "parameters": {"name": "$response.body#/payload/runs/0/name"}}}))
    async def list_runs(authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        found = await asyncio.to_thread(library.runs)
        return reply({"enabled": library.root is not None, "runs": found})

    @app.get("/v1/runs/{name:path}/recording", operation_id="getRecording",
             **answers(RecordingPage, "RecordingReply", 400, 401, 404, 413, 422))
    async def recording(name: str, start: int = Query(0, alias="from", ge=0),
                        end: int | None = Query(None, alias="to", ge=0),
                        authorization: str | None = Header(None)) -> Response:
        guard(authorization)
        rec = await asyncio.to_thread(library.recording, name)
        return reply(rec.page(start, start if end is None else end))

    @app.websocket("/v1/sessions/{session_id}/stream")
    async def session_stream(websocket: WebSocket, session_id: str) -> None:
        await stream(websocket, session_id, manager, token)

    if static_dir is not None and (Path(static_dir) / "index.html").is_file():
        app.mount("/", StaticFiles(directory=static_dir, html=True), name="dashboard")
    return app


DESCRIPTION = """Live sessions of every world (docs/web.md). Every answer is an envelope:
`{"protocol_version": 2, "payload": ...}`, or for a refusal `{"protocol_version": 2, "error":
{"code", "message", "field"}}` naming the field that was wrong. The stream
(`GET /v1/sessions/{session_id}/stream`, a WebSocket) is described in docs/web.md."""


def with_types(route: Callable[..., Any], **types: Any) -> Callable[..., Any]:
    """``route`` with these parameters' types set: FastAPI reads a route's signature, and a
    model made when the app is made (one per registered world) cannot be named in it."""
    sig = inspect.signature(route)
    route.__signature__ = sig.replace(parameters=[  # type: ignore[attr-defined]
        p.replace(annotation=types.get(p.name, p.annotation)) for p in sig.parameters.values()])
    return route


def _links(at: str, focus: bool = False) -> dict[str, Any]:
    """OpenAPI links from an answer holding a session's metadata at ``payload/<at>`` to the
    operations on that session (and, with ``focus``, to focusing its first organism)."""
    sid = {"session_id": f"$response.body#/payload/{at}/id"}
    links: dict[str, Any] = {
        name: {"operationId": op, "parameters": sid}
        for name, op in (("GetSession", "getSession"), ("GetState", "getSessionState"),
                         ("Step", "stepSession"), ("Reset", "resetSession"),
                         ("Delete", "deleteSession"))}
    if focus:
        links["Focus"] = {"operationId": "focusOrganism", "parameters": sid, "requestBody": {
            "organism_id": "$response.body#/payload/snapshot/organisms/0/id"}}
    return links


def _info(live: Live) -> dict[str, Any]:
    s = live.session
    return {"metadata": s.metadata(), "turn": s.turn, "playing": live.playing,
            "ticks_per_second": live.ticks_per_second, "clients": len(live.clients)}
