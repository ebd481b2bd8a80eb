"""The coordinator's HTTP API (FastAPI): workers register for a token, long-poll for jobs,
renew their leases, and post results; ``/v1/status`` shows experiments, jobs and trust.
Waiting claims wait on the event loop, woken when jobs may have come free; database work
runs in threads on PostgreSQL and on the loop on SQLite (``run`` says why); a background
task expires leases past their deadline (``sweeper``)."""

from __future__ import annotations

import asyncio
from dataclasses import asdict
from contextlib import asynccontextmanager
from typing import Any, Union

import orjson
from fastapi import FastAPI, Header, Path, Request
from pydantic import ValidationError
from starlette.responses import Response

from primordia import __version__
from primordia.http.body_limit import BodyLimit
from primordia.http.errors import ApiError, install_error_handlers, invalid_field, refusal
from primordia.http.openapi import bearer as bearer_scheme
from primordia.http.openapi import install_openapi
from primordia.http.tokens import bearer, require_token

from .coordinator import Coordinator
from .protocol import (PROTOCOL_VERSION, BatchReply, ClaimReply, ClaimRequest, ErrorReply,
                       Health, HeartbeatReply, HeartbeatRequest, RegisterReply,
                       RegisterRequest, Released, ResultBatch, ResultBatchReply,
                       ResultSubmission, Status, SubmitReply)
from .replies import Refused
from .sweeper import LeaseSweeper

MAX_BODY_BYTES = 8 << 20
"""A result with its sampled genomes stays far below this."""
SWEEP_SECONDS = 1.0
RECHECK_SECONDS = 1.0
"""A waiting claim looks again at least this often (leases expire without a signal)."""


def reply(model: Any, status: int = 200) -> Response:
    data = model.model_dump(mode="json") if hasattr(model, "model_dump") else model
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


refuse = refusal(PROTOCOL_VERSION)


def _body(model, required: bool = True) -> dict[str, Any]:
    """The OpenAPI description of a body a route reads itself."""
    return {"requestBody": {"required": required, "content": {"application/json": {
        "schema": model.model_json_schema(ref_template="#/components/schemas/{model}")}}}}


async def body_of(request: Request, model, empty_ok: bool = False):
    """The request's JSON body as ``model``; a 422 naming the first wrong field (or the body,
    sent as another media type than JSON, as the framework's own body parsing has it)."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip()
    if kind != "application/json" and not kind.endswith("+json"):
        raise ApiError(422, "invalid_request", f"body: JSON expected, not {kind!r}", "body")
    raw = await request.body()
    if empty_ok and not raw.strip():
        return model()
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        field, message = invalid_field(exc.errors()[0], None)
        raise ApiError(422, "invalid_request", f"{field}: {message}", field) from None


WORKER_ROUTES = {"claim", "result", "results", "release", "heartbeat"}
"""Routes (by function name) that need a worker's token."""
ADMITTED = {"register", "status"}
"""Routes that need the admission token when the coordinator has one."""
DESCRIPTION = """The coordinator of island evolution (docs/distributed.md). Answers are the
bodies below as they are; a refusal is `{"protocol_version": 1, "error": {"code", "message",
"field"}}`."""
ERRORS = {
    401: "No token, or not one this coordinator knows (unauthorized).",
    403: "The worker is quarantined: other workers contradicted its results (quarantined).",
    404: "Not one of the worker's leases (no_such_lease).",
    409: "The lease no longer takes this result: another was submitted (already_submitted), "
         "the fence is not the lease's (stale_fence), or the lease ended (lease_expired, "
         "lease_released, ...).",
    413: "A body over the coordinator's limit (body_too_large).",
    422: "A request that is not what the schema says (invalid_request, naming the field).",
}
LEASE_LINKS = {
    name: {"operationId": op, "parameters": {"lease_id": "$response.body#/jobs/0/lease_id"},
           **extra}
    for name, op, extra in (
        ("Release", "release", {}),
        ("Submit", "submitResult", {"requestBody": {
            "fence": "$response.body#/jobs/0/fence", "seconds": 1.0,
            "outcome": {"world": "$response.body#/jobs/0/spec/world",
                        "length": "$response.body#/jobs/0/spec/length", "lineages": [],
                        "sample": [], "population": 0, "state_hash": "0" * 64}}}))}
"""Where a claimed job leads: releasing its lease, or answering it (here with an outcome
of the job's world and length that the coordinator's checks refuse: 422, accepted false)."""


def answers(model: Any, *errors: int, invalid: Any = None,
            links: dict[str, Any] | None = None) -> dict[str, Any]:
    """A route's ``responses``: ``model`` at 200 (with ``links``), the error envelope at each
    of ``errors`` (at 422 also ``invalid``: a result refused for its content)."""
    ok: dict[str, Any] = {"model": model, "description": "OK"}
    if links:
        ok["links"] = links
    out: dict[int, dict[str, Any]] = {200: ok}
    for code in errors:
        out[code] = {"model": ErrorReply if code != 422 or invalid is None
                     else Union[invalid, ErrorReply], "description": ERRORS[code]}
    if invalid is not None:
        out[422]["description"] += (" Or a result no run of the job could produce: "
                                    "accepted false, with the error.")
    return {"responses": out}


class Wakeup:
    """Wakes the claims waiting on the event loop when the coordinator (in any thread)
    says jobs may be free."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.event = asyncio.Event()

    def notify(self) -> None:
        if self.loop is not None and not self.loop.is_closed():
            self.loop.call_soon_threadsafe(self._fire)

    def _fire(self) -> None:
        self.event.set()
        self.event = asyncio.Event()

    async def wait(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.event.wait(), timeout)
        except asyncio.TimeoutError:
            pass


def create_app(coordinator: Coordinator, admission_token: str | None = None,
               max_body_bytes: int = MAX_BODY_BYTES) -> FastAPI:
    """The coordinator's API. With ``admission_token``, registering and reading the status
    need ``Authorization: Bearer <admission token>``; every worker route needs the token
    its registration returned."""
    wake = Wakeup()
    coordinator.subscribe(wake.notify)

    async def run(fn, *args):
        """A coordinator call. PostgreSQL's run in threads, so that transactions overlap
        their waits on the server. SQLite takes one writer at a time anyway: its calls run
        on the event loop itself, which spares a thread hand-off and the wait for the GIL
        behind it on every statement (a quarter of the throughput, measured)."""
        if coordinator.pg:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    async def sweep() -> None:
        await run(coordinator.sweep)
        await run(coordinator.close_ready)

    sweeper = LeaseSweeper(sweep, SWEEP_SECONDS)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        wake.loop = asyncio.get_running_loop()
        task = asyncio.create_task(sweeper.forever())
        yield
        task.cancel()

    app = FastAPI(title="Primordia coordinator", version=__version__, lifespan=lifespan)
    app.state.coordinator = coordinator
    app.state.sweeper = sweeper             # its failures count what it survived
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes, render=refuse)
    install_error_handlers(app, refuse, max_body_bytes)
    install_openapi(app, {
        "worker": bearer_scheme("The token POST /v1/workers gave the worker."),
        "admission": bearer_scheme("The admission token the coordinator was started with "
                                   "(--token)."),
    }, lambda route: (["worker"] if route.name in WORKER_ROUTES else
                      ["admission"] if admission_token and route.name in ADMITTED else []),
        DESCRIPTION)

    async def call(fn, *args):
        try:
            return await run(fn, *args)
        except Refused as exc:
            raise ApiError(exc.status, exc.code, str(exc), None) from None

    async def worker_id(authorization: str | None) -> int:
        token = bearer(authorization)
        known = coordinator.known_worker(token)
        return known if known is not None else await call(coordinator.authenticate, token)

    @app.get("/health", operation_id="health", **answers(Health))
    async def health() -> Response:
        return reply({"status": "ok", "version": __version__,
                      "protocol_version": PROTOCOL_VERSION})

    @app.post("/v1/workers", operation_id="register",
              **answers(RegisterReply, 401, 413, 422))
    async def register(body: RegisterRequest,
                       authorization: str | None = Header(None)) -> Response:
        require_token(admission_token, authorization)
        wid, token = await call(coordinator.register, body.name, body.procs)
        return reply(RegisterReply(worker_id=wid, token=token))

    async def offered(wid: int, want: ClaimRequest, offers: list | None = None) -> list:
        """``offers`` if any, else the jobs leased to the worker within ``want.wait``
        seconds (woken when jobs may have come free, and every RECHECK_SECONDS)."""
        loop = asyncio.get_running_loop()
        until = loop.time() + want.wait
        while True:
            if offers is None:
                offers = await call(coordinator.claim_many, wid, want.max_jobs,
                                    want.request, want.resent)
            left = until - loop.time()
            if offers or left <= 0:
                return offers
            await wake.wait(min(left, RECHECK_SECONDS))
            offers = None

    def jobs(offers: list) -> list[dict]:
        """Offers in JobOffer's shape, each spec sent as stored (validated when written)."""
        return [{**asdict(o), "spec": orjson.Fragment(o.spec)} for o in offers]

    # The three routes every job passes read their bodies with pydantic's JSON parser
    # directly (``body_of``): FastAPI's generic body handling cost as much as the database.
    @app.post("/v1/jobs/claim", operation_id="claim",
              openapi_extra=_body(ClaimRequest, required=False),
              **answers(ClaimReply, 401, 403, 413, 422, links=LEASE_LINKS))
    async def claim(request: Request) -> Response:
        wid = await worker_id(request.headers.get("authorization"))
        body = await body_of(request, ClaimRequest, empty_ok=True)
        return reply({"jobs": jobs(await offered(wid, body))})

    @app.post("/v1/leases/{lease_id}/result", operation_id="submitResult",
              openapi_extra=_body(ResultSubmission),
              **answers(SubmitReply, 401, 403, 404, 409, 413, 422, invalid=SubmitReply))
    async def result(request: Request, lease_id: int = Path(ge=1, lt=2**62)) -> Response:
        wid = await worker_id(request.headers.get("authorization"))
        body = await body_of(request, ResultSubmission)
        out = await call(coordinator.submit, wid, lease_id, body.fence, body.outcome,
                         body.seconds)
        return reply(SubmitReply(**out), status=200 if out["accepted"] else 422)

    @app.post("/v1/results", operation_id="submitResults", openapi_extra=_body(ResultBatch),
              **answers(ResultBatchReply, 401, 403, 413, 422))
    async def results(request: Request) -> Response:
        wid = await worker_id(request.headers.get("authorization"))
        body = await body_of(request, ResultBatch)
        replies, offers = await call(coordinator.report, wid, [
            (r.lease_id, r.fence, r.outcome, r.seconds) for r in body.results],
            *((body.claim.max_jobs, body.claim.request, body.claim.resent) if body.claim
              else (0,)))
        if body.claim:
            offers = await offered(wid, body.claim, offers)
        return reply({**ResultBatchReply(results=[
            BatchReply(lease_id=r.lease_id, accepted=out["accepted"],
                       duplicate=out.get("duplicate", False), error=out.get("error"),
                       code=out["refused"].code if "refused" in out else None)
            for r, out in zip(body.results, replies)]).model_dump(mode="json"),
            "jobs": jobs(offers)})

    @app.post("/v1/leases/{lease_id}/release", operation_id="release",
              **answers(Released, 401, 403, 404, 422))
    async def release(lease_id: int = Path(ge=1, lt=2**62),
                      authorization: str | None = Header(None)) -> Response:
        wid = await worker_id(authorization)
        return reply({"released": await call(coordinator.release, wid, lease_id)})

    @app.post("/v1/workers/heartbeat", operation_id="heartbeat",
              **answers(HeartbeatReply, 401, 403, 413, 422))
    async def heartbeat(body: HeartbeatRequest,
                        authorization: str | None = Header(None)) -> Response:
        wid = await worker_id(authorization)
        live, gone = await call(coordinator.heartbeat, wid, body.leases)
        return reply(HeartbeatReply(live=live, gone=gone))

    @app.get("/v1/status", operation_id="status", **answers(Status, 401))
    async def status(authorization: str | None = Header(None)) -> Response:
        require_token(admission_token, authorization)
        return reply(await call(coordinator.status))

    return app
