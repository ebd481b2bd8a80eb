"""The wire: request bodies and stream commands as pydantic models with their limits, and the
envelope every response and stream message travels in (protocol_version 2; docs/web.md,
"The API")."""

from __future__ import annotations

import functools
from typing import Annotated, Any, Literal, Union

import orjson
from fastapi import Path
from pydantic import Discriminator, Field, Tag, TypeAdapter, ValidationError, create_model

from primordia.brains.registry import SUBSTRATES
from primordia.core.config import ClosedModel, integer

from .adapters import ADAPTERS, WorldAdapter

PROTOCOL_VERSION = 2
MAX_COUNT = 1000
MAX_TICKS_PER_SECOND = 1000
SEED = integer(ge=0, lt=2**63)
ORGANISM_ID = integer(ge=0, lt=2**63)
COUNT = integer(ge=1, le=MAX_COUNT)
"""Integers as JSON has them: 3.0 is 3, while 3.5, "3" and true are refused."""


SessionId = Annotated[str, Path(description="A session's id: 32 lowercase hex digits (from "
                                "POST /v1/sessions); any other is a 404.",
                                json_schema_extra={"pattern": "^[0-9a-f]{32}$"})]
"""A session id in a route's path. The pattern is published, not checked: an id that does not
match is refused like one that matches no session (404)."""


class Body(ClosedModel):
    """Strict request bodies: unknown keys are typos, not options."""


def session_request(adapter: type[WorldAdapter]) -> type[Body]:
    """POST /v1/sessions for one world: its brains, and its config as the server takes it
    (bounds tightened to the adapter's caps)."""
    world, brains = adapter.NAME, adapter.brains()
    return create_model(
        f"Create{world.capitalize()}Session", __base__=Body,
        __doc__=f"A {world} session: {' '.join((adapter.CONFIG.__doc__ or '').split())}",
        world=(Literal[world], Field(world, description="The world (GET /v1/worlds).")) if
        world == DEFAULT_WORLD else (Literal[world], Field(description="The world.")),
        brain=(Literal[brains] | None, Field(None, description=f"The brain (default: "
                                             f"{brains[0]}).")),
        config=(adapter.request_config(), Field(
            default_factory=adapter.request_config(),
            description="The world's knobs; those not given keep their defaults.")),
        seed=(SEED | None, Field(None, description="Overrides config.seed.")))


def _world_of(body: Any) -> Any:
    """The tag of a session request: its world, "hex" when it names none."""
    if isinstance(body, dict):
        return body.get("world", DEFAULT_WORLD)
    return getattr(body, "world", None)


_world_of.__name__ = _world_of.__qualname__ = "world"   # errors name the field, not this
DEFAULT_WORLD = "hex"


def create_session_body() -> Any:
    """POST /v1/sessions: one model per registered world, told apart by ``world`` (default
    "hex"), for the worlds and brains registered now."""
    return _create_session_body(tuple(ADAPTERS), tuple(SUBSTRATES.names()))


@functools.cache
def _create_session_body(names: tuple[str, ...], brains: tuple[str, ...]) -> Any:
    return Annotated[Union[tuple(Annotated[session_request(ADAPTERS[name]), Tag(name)]
                                 for name in names)], Discriminator(_world_of)]


class StepRequest(Body):
    count: COUNT = 1


class ResetRequest(Body):
    seed: SEED | None = None


class FocusRequest(Body):
    organism_id: ORGANISM_ID


# ---- stream commands: {"type", "data"}, bare or inside the envelope's payload -----------------

class StartData(Body):
    ticks_per_second: integer(ge=1, le=MAX_TICKS_PER_SECOND)


class StepData(Body):
    count: COUNT = 1


class FocusData(Body):
    organism_id: ORGANISM_ID | None = Field(None, description="None clears the focus.")


class Start(Body):
    type: Literal["Start"]
    data: StartData


class Pause(Body):
    type: Literal["Pause"]
    data: dict[str, Any] | None = None


class Step(Body):
    type: Literal["Step"]
    data: StepData = StepData()


class SetFocus(Body):
    type: Literal["SetFocus"]
    data: FocusData


Command = Annotated[Union[Start, Pause, Step, SetFocus], Field(discriminator="type")]
_COMMAND: TypeAdapter = TypeAdapter(Command)


class CommandError(Exception):
    """A stream command that cannot be carried out; becomes an Error message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


def parse_command(text: str | bytes) -> Start | Pause | Step | SetFocus:
    """One client message as a command; CommandError names what is wrong."""
    try:
        raw = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise CommandError("bad_json", f"not JSON: {exc}") from None
    if isinstance(raw, dict) and "payload" in raw:
        if raw.get("protocol_version") != PROTOCOL_VERSION:
            raise CommandError("bad_version", f"protocol_version: this server speaks "
                               f"{PROTOCOL_VERSION}, not {raw.get('protocol_version')!r}")
        raw = raw["payload"]
    try:
        return _COMMAND.validate_python(raw)
    except ValidationError as exc:
        err = exc.errors()[0]
        if err["type"] in ("union_tag_invalid", "union_tag_not_found"):
            got = raw.get("type") if isinstance(raw, dict) else None
            raise CommandError("unknown_command", f"type: {got!r} is not a command (known: "
                               f"{', '.join(COMMANDS)})") from None
        raise CommandError("bad_command", describe(exc, skip=1)) from None


COMMANDS = ("Start", "Pause", "Step", "SetFocus")


def describe(exc: ValidationError, skip: int = 0) -> str:
    """The first problem as one line: 'field.path: message' (``skip``: leading parts of the
    path to leave out, such as a command's tag)."""
    err = exc.errors()[0]
    loc = ".".join(str(p) for p in err["loc"][skip:])
    return f"{loc or '(message)'}: {err['msg']}"


def envelope(payload: Any) -> dict[str, Any]:
    return {"protocol_version": PROTOCOL_VERSION, "payload": payload}


def message(kind: str, data: Any) -> str:
    """A server -> client stream message, serialised once for every client."""
    return orjson.dumps(envelope({"type": kind, "data": data}),
                        option=orjson.OPT_SERIALIZE_NUMPY).decode()


def error_message(code: str, text: str) -> str:
    return message("Error", {"code": code, "message": text})
