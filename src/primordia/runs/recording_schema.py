"""The schema of a recording, one per world: every line of ``record.jsonl.gz`` as the run
wrote it, with the bounds and cross-references a reader relies on (coordinates inside the
header's grid, turns that fit 64 bits and follow each other, known item and facing names).
A recording is a file someone may have edited or crafted, so a replay checks every line
against its world's schema when it opens the file, and refuses it with the line's number.

The hex recording (``primordia run hex``, runs/hex_run.py): a header, then a ``snapshot``
every N turns and a ``delta`` for every turn. The sandbox recording (``primordia run
sandbox``, runs/recorder.py): a header, then a ``tick`` or ``full`` frame every N ticks."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Annotated, Any, Callable, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, \
    StrictStr, TypeAdapter, ValidationError

from primordia.core.config import describe
from primordia.core.errors import InputFileError
from primordia.worlds.hex.grid import FACING_NAMES
from primordia.worlds.registry import WORLDS
from primordia.worlds.sandbox import constants as c

from .sandbox_recorder import STAT_KEYS

MAX_SIDE = 4096
"""Largest grid side a recording may claim (the worlds' own limit)."""
Id = Annotated[StrictInt, Field(ge=0, lt=2**63)]
Parent = Annotated[StrictInt, Field(ge=-1, lt=2**63)]
Turn = Annotated[StrictInt, Field(ge=0, lt=2**53)]
"""Turns and ticks: non-negative, and exact as a JavaScript number (the dashboard's)."""
Count = Annotated[StrictInt, Field(ge=0, lt=2**53)]
Side = Annotated[StrictInt, Field(ge=1, le=MAX_SIDE)]
Coord = Annotated[StrictInt, Field(ge=0, lt=MAX_SIDE)]
Value = Annotated[StrictInt, Field(gt=-2**53, lt=2**53)]
"""A counter or level that may go negative, exact as a JavaScript number."""
Metrics = Annotated[dict[Annotated[StrictStr, Field(max_length=64)], Count],
                    Field(max_length=64)]


class Strict(BaseModel):
    """A part of a recording line: exactly these keys, each of exactly its JSON type (pydantic's
    strict mode: no "3" for 3), read by field name or alias."""

    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=True)


class Open(BaseModel):
    """A part whose other keys are the run's own business (its config), kept as they are."""

    model_config = ConfigDict(extra="allow", strict=True)


# ---- hex ---------------------------------------------------------------------------------------

class HexHeader(Strict):
    type: Literal["header"]
    world: Literal["hex"]
    seed: Annotated[StrictInt, Field(ge=0, lt=2**63)]
    width: Side
    height: Side
    turns: Turn
    every_n: Annotated[StrictInt, Field(ge=1, lt=2**31)]
    config: Open


class HexOrganism(Strict):
    id: Id
    q: Coord
    r: Coord
    facing: Literal[FACING_NAMES]  # type: ignore[valid-type]
    turns_since_last_meal: Count
    meals_eaten: Count
    generation: Count
    parent: Parent
    born: Turn


class HexCell(Strict):
    q: Coord
    r: Coord
    organism_ids: Annotated[list[Id], Field(max_length=1)]


class HexSnapshotData(Strict):
    turn: Turn
    rng_seed: Annotated[StrictInt, Field(ge=0, lt=2**63)]
    config: Open
    organisms: list[HexOrganism]
    occupancy: list[HexCell]
    metrics: Metrics


class HexSnapshot(Strict):
    type: Literal["snapshot"]
    t: Turn
    data: HexSnapshotData


Cell = Annotated[list[Coord], Field(min_length=2, max_length=2)]


class HexMove(Strict):
    id: Id
    from_: Cell = Field(alias="from")
    to: Cell


class HexDeltaData(Strict):
    turn: Turn
    moves: list[HexMove]
    removed: list[Id]
    spawned: list[HexOrganism]
    metrics: Metrics
    tiles: Annotated[list[Any], Field(max_length=0)] = []


class HexDelta(Strict):
    type: Literal["delta"]
    t: Turn
    data: HexDeltaData


HexLine = Annotated[Union[HexSnapshot, HexDelta], Field(discriminator="type")]


# ---- sandbox -----------------------------------------------------------------------------------

class SandboxHeader(Strict):
    type: Literal["header"]
    world: Literal["sandbox"]
    seed: Annotated[StrictInt, Field(ge=0, lt=2**63)]
    npcs: Annotated[StrictInt, Field(ge=1, le=1_000_000)]
    world_size: Side
    width: Side
    height: Side
    ticks: Turn
    every_n: Annotated[StrictInt, Field(ge=1, lt=2**31)]
    biomes: StrictBool
    biome_grid: None


class SandboxNpc(Strict):
    id: Id
    x: Coord
    y: Coord
    hp: Value
    e: Value
    it: Annotated[StrictInt, Field(ge=0, lt=len(c.ITEM_NAMES))]
    g: Value
    a: Count
    f: Value
    s: Value
    gl: Annotated[StrictInt, Field(ge=0, le=65536)]
    gen: Annotated[StrictStr, Field(max_length=4 * 65536 // 3 + 4)] | None = None


class SandboxFrame(Strict):
    type: Literal["tick", "full"]
    t: Turn
    npcs: list[SandboxNpc]
    grid: StrictStr
    s: Annotated[dict[Literal[tuple(STAT_KEYS)], Count],  # type: ignore[misc]
                 Field(max_length=len(STAT_KEYS))] = {}
    fr: Annotated[StrictFloat | StrictInt, Field(ge=0, le=1)] | None = None


# ---- ecology -----------------------------------------------------------------------------------

class EcologyHeader(Strict):
    type: Literal["header"]
    world: Literal["ecology"]
    seed: Annotated[StrictInt, Field(ge=0, lt=2**63)]
    width: Side
    height: Side
    ticks: Turn
    every_n: Annotated[StrictInt, Field(ge=1, lt=2**31)]
    config: Open
    kinds: Annotated[StrictStr, Field(max_length=4 * MAX_SIDE * MAX_SIDE // 3 + 4)]


ECOLOGY_FIELDS = ("id", "x", "y", "energy", "lineage", "generation")
"""A frame's organism, in order (``ecology_run.FRAME_FIELDS``)."""
EcologyRow = Annotated[list[Value], Field(min_length=6, max_length=6)]


class EcologyFrame(Strict):
    type: Literal["frame"]
    t: Turn
    fields: Annotated[list[StrictStr], Field(min_length=6, max_length=6)]
    organisms: list[EcologyRow]
    resource: Annotated[StrictStr, Field(max_length=4 * MAX_SIDE * MAX_SIDE // 3 + 4)]
    corpse: Annotated[StrictStr, Field(max_length=4 * MAX_SIDE * MAX_SIDE // 3 + 4)]
    metrics: Metrics


# ---- checking a whole file ----------------------------------------------------------------------

@dataclass(frozen=True)
class RecordingFormat:
    """One world's recording lines: the header's model, every later line's model, and the
    rules between a line and the header (``problem(header, line)``: what is wrong, or None).
    A world names its format in the world registry."""

    header: TypeAdapter
    line: TypeAdapter
    problem: Callable[[Any, Any], str | None]
    header_problem: Callable[[Any], str | None] | None = None
    """What is wrong with the header itself beyond its model, or None."""


def _hex_problem(header: HexHeader, item: HexSnapshot | HexDelta) -> str | None:
    w, h = header.width, header.height
    if item.data.turn != item.t:
        return f"t {item.t} and data.turn {item.data.turn} differ"
    if isinstance(item, HexSnapshot):
        cells = [(o.q, o.r) for o in item.data.organisms] + \
            [(x.q, x.r) for x in item.data.occupancy]
    else:
        cells = [tuple(m.from_) for m in item.data.moves] + \
            [tuple(m.to) for m in item.data.moves] + \
            [(o.q, o.r) for o in item.data.spawned]
    off = next(((q, r) for q, r in cells if q >= w or r >= h), None)
    return None if off is None else f"cell {list(off)} is outside the {w} x {h} grid"


def _sandbox_problem(header: SandboxHeader, item: SandboxFrame) -> str | None:
    w, h = header.width, header.height
    off = next((npc for npc in item.npcs if npc.x >= w or npc.y >= h), None)
    if off is not None:
        return f"NPC {off.id} at ({off.x}, {off.y}) is off the {w} x {h} map"
    try:
        tiles = base64.b64decode(item.grid, validate=True)
    except (binascii.Error, ValueError):
        return "grid is not base64"
    if len(tiles) != w * h:
        return f"grid holds {len(tiles)} tiles, not {w} x {h}"
    if max(tiles, default=0) >= len(c.TILE_NAMES):
        return f"grid holds tile code {max(tiles)}, beyond the {len(c.TILE_NAMES)} tiles"
    return None


def _tiles(text: str, name: str, w: int, h: int, most: int) -> str | None:
    """What is wrong with a base64 grid of one byte per tile, or None."""
    try:
        tiles = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return f"{name} is not base64"
    if len(tiles) != w * h:
        return f"{name} holds {len(tiles)} tiles, not {w} x {h}"
    if max(tiles, default=0) > most:
        return f"{name} holds {max(tiles)}, beyond {most}"
    return None


def _ecology_problem(header: EcologyHeader, item: EcologyFrame) -> str | None:
    w, h = header.width, header.height
    if tuple(item.fields) != ECOLOGY_FIELDS:
        return f"fields are {item.fields}, not {list(ECOLOGY_FIELDS)}"
    off = next((row for row in item.organisms
                if not (0 <= row[1] < w and 0 <= row[2] < h)), None)
    if off is not None:
        return f"organism {off[0]} at ({off[1]}, {off[2]}) is off the {w} x {h} map"
    if any(min(row[0], row[4], row[5]) < 0 for row in item.organisms):
        return "an organism's id, lineage or generation is negative"
    ids = [row[0] for row in item.organisms]
    if len(set(ids)) != len(ids):
        return "two organisms share an id"
    return _tiles(item.resource, "resource", w, h, 255) or _tiles(item.corpse, "corpse", w, h,
                                                                  255)


def ecology_header_problem(header: EcologyHeader) -> str | None:
    """The header's map: one kind (0..4) per tile."""
    return _tiles(header.kinds, "kinds", header.width, header.height, 4)


HEX_RECORDING = RecordingFormat(TypeAdapter(HexHeader), TypeAdapter(HexLine), _hex_problem)
SANDBOX_RECORDING = RecordingFormat(TypeAdapter(SandboxHeader), TypeAdapter(SandboxFrame),
                                    _sandbox_problem)
ECOLOGY_RECORDING = RecordingFormat(TypeAdapter(EcologyHeader), TypeAdapter(EcologyFrame),
                                    _ecology_problem, ecology_header_problem)


class LineChecker:
    """Checks the lines of one recording in order against its world's format and its header;
    ``check(n, line)`` raises InputFileError naming line ``n`` and what is wrong."""

    def __init__(self, source: str, header: dict[str, Any]) -> None:
        self.source = source
        world = header.get("world") if isinstance(header, dict) else None
        if not isinstance(world, str) or world not in WORLDS:
            raise InputFileError(f"{source}: line 1 is not the header of a run of a world "
                                 f"Primordia knows ({', '.join(WORLDS.names())})")
        self.world = world
        self.format: RecordingFormat = WORLDS.get(world).recording_format
        self.header = self._validate(self.format.header, 1, header)
        bad = self.format.header_problem(self.header) if self.format.header_problem else None
        if bad:
            raise InputFileError(f"{source}: line 1: {bad}")
        self.last_t = -1

    def _validate(self, adapter: TypeAdapter, n: int, line: Any) -> Any:
        try:
            return adapter.validate_python(line)
        except ValidationError as exc:
            raise InputFileError(f"{self.source}: line {n}: {describe(exc)}") from None

    def check(self, n: int, line: Any) -> None:
        item = self._validate(self.format.line, n, line)
        bad = self.format.problem(self.header, item)
        if item.t < self.last_t or (item.t == self.last_t and item.type != "snapshot"):
            bad = bad or f"turn {item.t} comes after turn {self.last_t}"
        self.last_t = item.t
        if bad:
            raise InputFileError(f"{self.source}: line {n}: {bad}")
