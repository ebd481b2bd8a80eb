"""What ``primordia serve`` answers, as pydantic models: the payload of every route per
world, the envelope around it, and the error envelope with the statuses each route gives.
They are the OpenAPI document's response schemas (the routes build their JSON directly, for
speed; tests/web/test_openapi.py checks with schemathesis that every answer matches)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from primordia.brains.registry import SUBSTRATES

from .adapters import ADAPTERS
from .adapters.base import WorldAdapter
from .protocol import MAX_COUNT, PROTOCOL_VERSION
from .shapes import Reply

Pair = tuple[int, int]


# ---- errors ----------------------------------------------------------------------------------

class ErrorBody(Reply):
    code: str = Field(description="Machine-readable: invalid_request, unknown_session, ...")
    message: str = Field(description="One line, starting with the field when there is one.")
    field: str | None = Field(description="The request field that was wrong, as a dotted "
                              "path (config.world_width, count, body, authorization).")


class ErrorReply(Reply):
    """A refusal: a 4xx whose body names the wrong field."""

    protocol_version: Literal[PROTOCOL_VERSION]
    error: ErrorBody


# ---- pieces ----------------------------------------------------------------------------------

class Metrics(BaseModel):
    """The world's counters after a turn: these four in every world, the world's own besides
    (numbers; null in a replayed frame that did not record them)."""

    model_config = ConfigDict(extra="allow")
    __pydantic_extra__: dict[str, float | None] = Field(init=False)

    turns: int
    organisms: int
    births_last_turn: int | None
    deaths_last_turn: int | None


class Fitness(Reply):
    """A histogram of the world's fitness measure over the living: bin i counts values in
    [lo + i*width, lo + (i+1)*width) (the last bin includes the top value)."""

    measure: str
    lo: float
    width: float
    counts: list[int]


class Grid(Reply):
    kind: Literal["hex", "square"]
    width: int
    height: int
    coords: tuple[str, str] = Field(description="The names of an organism's two position "
                                    "fields: q, r (axial) or x, y.")


class Move(Reply):
    id: int
    from_: Pair = Field(alias="from")
    to: Pair


def _snapshot(world: str, brain: Any, config: type, organism: type, cell: type,
              terrain: Any) -> type[Reply]:
    return create_model(
        f"{world.capitalize()}Snapshot", __base__=Reply,
        __doc__=f"The {world} world as it is.",
        world=(Literal[world], ...), brain=(brain, ...), turn=(int, ...), rng_seed=(int, ...),
        config=(config, ...), grid=(Grid, ...), terrain=(terrain, ...),
        organisms=(list[organism], ...), occupancy=(list[cell], ...),
        metrics=(Metrics, ...), fitness=(Fitness, ...))


def _delta(world: str, organism: type, tiles_doc: str) -> type[Reply]:
    return create_model(
        f"{world.capitalize()}TickDelta", __base__=Reply,
        __doc__=f"What one turn of the {world} world changed; apply moves, removals, births, "
                "then tiles.",
        turn=(int, ...), moves=(list[Move], ...), removed=(list[int], ...),
        spawned=(list[organism], ...),
        tiles=(list[tuple[int, int, int]], Field(description=tiles_doc)),
        metrics=(Metrics, ...), fitness=(Fitness, ...))


def _metadata(world: str, brain: Any, config: type) -> type[Reply]:
    return create_model(
        f"{world.capitalize()}SessionMetadata", __base__=Reply,
        id=(str, ...), created_at_unix_ms=(int, ...), world=(Literal[world], ...),
        brain=(brain, ...), config=(config, ...),
        max_step=(int, Field(ge=1, le=MAX_COUNT, description="Turns one step may take in "
                             "this world now (more is a 409 step_too_large).")))


# ---- brains and focus ------------------------------------------------------------------------

class TextView(Reply):
    """A brain shown as its substrate's text form."""

    kind: str
    text: str


def brain_views() -> Any:
    """The published models of every registered substrate's view, told apart by ``kind``."""
    views = []
    for name in SUBSTRATES.names():
        model = getattr(type(SUBSTRATES.get(name)), "VIEW", None)
        if model is not None and model not in views:
            views.append(model)
    return Annotated[Union[tuple(views)], Field(discriminator="kind")] if views else TextView


class Ancestor(Reply):
    id: int
    born: int
    died: int | None = Field(description="None while it lives.")
    alive: bool


def _focus(world: str, organism: type) -> type[Reply]:
    return create_model(
        f"{world.capitalize()}Focus", __base__=Reply,
        __doc__="A living organism: its numbers, its brain, and its line, parent first.",
        organism_id=(int, ...), alive=(Literal[True], ...), turn=(int, ...),
        world=(Literal[world], ...), organism=(organism, ...),
        brain=(brain_views(), ...),
        ancestors=(list[Ancestor], Field(max_length=32)), older_ancestors=(bool, ...))


# ---- payloads per route ----------------------------------------------------------------------

class Health(Reply):
    status: Literal["ok"]
    version: str
    sessions: int = Field(ge=0)


class Knob(Reply):
    name: str
    default: Any
    description: str
    type: Literal["integer", "number", "boolean", "string", "choice"]
    choices: list[Any] | None = None
    minimum: float | None = None
    maximum: float | None = None


def _world_info(names: tuple[str, ...]) -> type[Reply]:
    return create_model("WorldInfo", __base__=Reply, name=(Literal[names], ...),
                        grid=(Literal["hex", "square"], ...), coords=(tuple[str, str], ...),
                        brains=(list[str], ...), default_brain=(str, ...), doc=(str, ...),
                        knobs=(list[Knob], ...),
                        brain_knobs=(dict[str, list[Knob]], Field(
                            description="Each brain's settings (a session's config.brain).")))


def _brain_info(brains: tuple[str, ...]) -> type[Reply]:
    return create_model("BrainInfo", __base__=Reply, name=(Literal[brains], ...),
                        worlds=(list[str], ...))


@dataclass(frozen=True)
class WorldReplies:
    """The replies whose shape depends on the world: one model per registered world (its
    organisms, cells and terrain come from its adapter), and their unions."""

    session: Any
    stepped: Any
    focus: Any
    status: Any
    snapshot: Any
    sessions: Any
    worlds: Any


def _world_models(adapter: type[WorldAdapter]) -> dict[str, type[Reply]]:
    world = adapter.NAME
    brain = Literal[adapter.brains()]
    metadata = _metadata(world, brain, adapter.CONFIG)
    snapshot = _snapshot(world, brain, adapter.CONFIG, adapter.ORGANISM, adapter.CELL,
                         adapter.TERRAIN)
    delta = _delta(world, adapter.ORGANISM, adapter.TILES)
    title = world.capitalize()

    def model(name: str, doc: str, **fields: Any) -> type[Reply]:
        return create_model(f"{title}{name}", __base__=Reply, __doc__=doc,
                            **{k: (v, ...) for k, v in fields.items()})

    return {
        "session": model("Session", "A session with its world's snapshot.",
                         metadata=metadata, snapshot=snapshot),
        "stepped": model("Steps", "The turns taken, in order, and the world after them.",
                         deltas=list[delta], snapshot=snapshot),
        "focus": _focus(world, adapter.ORGANISM),
        "status": model("SessionStatus", "A session and how it is being served.",
                        metadata=metadata, turn=int, playing=bool, ticks_per_second=int,
                        clients=int),
        "snapshot": snapshot}


def world_replies() -> WorldReplies:
    """The world-dependent replies for the worlds and brains registered now."""
    return _world_replies(tuple(ADAPTERS), tuple(SUBSTRATES.names()))


@functools.cache
def _world_replies(names: tuple[str, ...], brains: tuple[str, ...]) -> WorldReplies:
    per_world = [_world_models(ADAPTERS[name]) for name in names]

    def union(key: str) -> Any:
        return Union[tuple(m[key] for m in per_world)]

    status = union("status")
    sessions = create_model("Sessions", __base__=Reply, sessions=(list[status], ...))
    worlds = create_model("Worlds", __base__=Reply, worlds=(list[_world_info(names)], ...),
                          brains=(list[_brain_info(brains)], ...))
    return WorldReplies(session=union("session"), stepped=union("stepped"),
                        focus=union("focus"), status=status, snapshot=union("snapshot"),
                        sessions=sessions, worlds=worlds)


class Deleted(Reply):
    id: str
    deleted: Literal[True]


class Run(Reply):
    name: str = Field(description="The run directory, relative to the runs folder.")
    world: str | None = Field(description="What its header names; None when it has none.")
    recording_bytes: int
    modified_unix_ms: int


class Runs(Reply):
    enabled: bool = Field(description="Whether the server was started with --runs DIR.")
    runs: list[Run]


class RecordingPage(Reply):
    """A page of a recorded run: the nearest snapshot at or before ``from``, then the deltas
    after it up to ``to`` (at most 500). Snapshots and deltas have the live shapes; a
    sandbox recording's frames leave what they did not record null."""

    header: dict[str, Any]
    first_turn: int
    last_turn: int
    snapshot: dict[str, Any]
    deltas: list[dict[str, Any]]
    to: int
    more: bool = Field(description="Whether the page was cut short of ``to``.")
    next_snapshot: int | None
    steps_by: Literal["delta", "snapshot"]


# ---- routes ----------------------------------------------------------------------------------

ERRORS = {
    400: "A run name that leads outside the runs folder (bad_run_name).",
    401: "The server has a token and the request did not send it as 'Authorization: Bearer "
         "<token>' (unauthorized).",
    404: "No such session (unknown_session), living organism (unknown_organism), or run "
         "(unknown_run, no_runs).",
    413: "A body over the server's limit (body_too_large), or a recording over 64 MB "
         "(recording_too_large).",
    422: "A request that is not what the schema says (invalid_request, naming the field), or "
         "that the world refuses: a config whose keys disagree (see the config's "
         "description), a recording that cannot be replayed (not_replayable).",
    409: "A step of more turns than the session's max_step allows now (step_too_large): "
         "the limit follows its population.",
    429: "The server holds its most sessions, none idle long enough to give way "
         "(too_many_sessions).",
}

_ENVELOPES: dict[str, type[BaseModel]] = {}


def enveloped(payload: Any, name: str) -> type[BaseModel]:
    """``{"protocol_version": 2, "payload": <payload>}`` as a model named ``name``."""
    if name not in _ENVELOPES:
        _ENVELOPES[name] = create_model(name, __base__=Reply,
                                        protocol_version=(Literal[PROTOCOL_VERSION], ...),
                                        payload=(payload, ...))
    return _ENVELOPES[name]


def answers(payload: Any, name: str, *errors: int, status: int = 200,
            links: dict[str, Any] | None = None) -> dict[str, Any]:
    """A route's ``responses``: ``payload`` in the envelope at ``status`` (with ``links`` to
    the operations its answer leads to), and the error envelope at each of ``errors``."""
    ok: dict[str, Any] = {"model": enveloped(payload, name), "description": "OK"}
    if links:
        ok["links"] = links
    out: dict[int | str, dict[str, Any]] = {status: ok}
    for code in errors:
        out[code] = {"model": ErrorReply, "description": ERRORS[code]}
    return {"status_code": status, "responses": out}
