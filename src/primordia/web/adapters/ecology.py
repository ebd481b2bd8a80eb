"""The ecology world as the server sees it. A tick's delta is the difference of two views
(organism ids and positions before and after), and the tiles whose shown state changed: the
map is drawn as a few tile states -- the fixed kinds, a fertile tile's resource in four
levels, and corpses -- so regrowth sends a tile only when it crosses a level. A recorded
frame of an ecology run becomes a snapshot of the same shape, for replay."""

from __future__ import annotations

import base64
from typing import Any

import numpy as np
from pydantic import Field

from primordia.brains.base import BrainIO
from primordia.runs.ecology_run import FRAME_FIELDS, EcologyRun
from primordia.worlds.ecology.config import EcologyConfig
from primordia.worlds.ecology.io import io_of
from primordia.worlds.ecology.state import FERTILE, OBSTACLE, EcologyState
from primordia.worlds.ecology.world import EcologyWorld

from ..fitness import histogram
from ..lineage import Ancestry
from ..shapes import Reply
from .base import WorldAdapter, cell_string, moves_between, one_per_cell

TILE_NAMES = ("open", "obstacle", "hazard", "radiation", "fertile", "resource_low",
              "resource_mid", "resource_high", "corpse")
"""The tile states a client draws, by code. A fertile tile shows its resource as a share of
``r_max``: below a quarter ``fertile``, then ``resource_low``, ``_mid`` and ``_high`` by
quarters; a tile with a corpse on it shows ``corpse``."""
_KIND_CODE = np.array([0, 4, 1, 2, 3], dtype=np.uint8)
"""Tile code of each map kind (state.KIND_NAMES order: open, fertile, obstacle, hazard,
radiation)."""
CORPSE = TILE_NAMES.index("corpse")
ORGANISM_FIELDS = ("id", "x", "y", "energy", "born", "parent", "generation", "lineage",
                   "offspring", "kills", "assists", "signals", "eaten", "moved",
                   "genome_bytes")


def tile_codes(kind: np.ndarray, level: np.ndarray, corpse: np.ndarray) -> np.ndarray:
    """Each tile's code in TILE_NAMES, from its kind (state.py), its resource level as
    0..255 of ``r_max`` and its corpse energy (the recording keeps both that way)."""
    codes = _KIND_CODE[kind.astype(np.int64)]
    fertile = kind == FERTILE
    codes[fertile] += (level[fertile].astype(np.int64) >> 6).astype(np.uint8)
    codes[(corpse > 0) & (kind != OBSTACLE)] = CORPSE
    return codes


def resource_level(state: EcologyState, r_max: int) -> np.ndarray:
    """Each tile's resource as 0..255 of ``r_max`` (what a recorded frame holds)."""
    return (state.resource * 255) // (r_max * 256)


class EcologyOrganism(Reply):
    id: int
    x: int
    y: int
    energy: int | None
    born: int | None
    parent: int | None = Field(description="The parent, -1 for a founder or a random "
                               "organism (null in a replayed frame).")
    generation: int
    lineage: int = Field(description="The founder or random organism it descends from.")
    offspring: int | None
    kills: int | None
    assists: int | None = Field(description="Victims it hurt that died in the same tick by "
                                "another's hit or otherwise.")
    signals: int | None = Field(description="Signals emitted.")
    eaten: int | None = Field(description="Energy eaten in its life.")
    moved: int | None = Field(description="Steps taken.")
    genome_bytes: int | None


class EcologyCell(Reply):
    x: int
    y: int
    organism_ids: list[int]


class EcologyTerrain(Reply):
    """The map as a string of one character per tile, row-major: code = character code - 48,
    an index into ``tile_names``."""

    tiles: str
    tile_names: list[str]


class EcologyAdapter(WorldAdapter):
    NAME = "ecology"
    GRID = "square"
    COORDS = ("x", "y")
    CONFIG = EcologyConfig
    RUN = EcologyRun
    HIDDEN = ("ticks",)
    CAPS = {"width": 1024, "height": 1024, "num_organisms": 65_536, "min_organisms": 65_536,
            "max_organisms": 65_536, "max_genome": 16_384, "gas": 10_000}
    """What one request may ask of this machine (see HexAdapter.CAPS)."""
    ORGANISM, CELL, TERRAIN = EcologyOrganism, EcologyCell, EcologyTerrain
    TILES = "Changed tiles as [x, y, tile], tile an index into the terrain's tile_names."
    RULES = ("obstacle_share, hazard_share, radiation_share and resource_density add up to "
             "at most 1", "num_organisms and min_organisms at most max_organisms and at most "
             "width times height", "2 radius + 1 at most width and height",
             "reproduce_min at least reproduce_cost", "start_energy at most max_energy",
             "with a psil brain, 8 + (2 radius + 1) squared + 4 neighbor_records at most 31 "
             "(radius 1 and neighbor_records at most 3; micro-PSIL has 31 sensor slots)",
             "with a wasm brain, brain.memory at least 2 (288 + 8 (2 radius + 1) squared + "
             "16 neighbor_records) bytes (twice the context: radius 7 needs 8192)")

    def __init__(self, config: EcologyConfig, brain: str) -> None:
        self.config, self.brain_name = config, brain
        self.world = EcologyWorld(config, EcologyRun.substrate(config))
        self._births = self._deaths = 0
        self._remember()
        self.ancestry = Ancestry()
        self.ancestry.born(0, self._ids.tolist(), [-1] * self._ids.size)

    def _remember(self) -> None:
        """The view the next tick's delta is taken against."""
        s, order = self.world.state, self.world.alive_slots()
        self._ids = s.oid[order].copy()
        self._x, self._y = s.x[order].copy(), s.y[order].copy()
        self._tiles = self._tile_codes()

    def _tile_codes(self) -> np.ndarray:
        s = self.world.state
        return tile_codes(s.kind, resource_level(s, self.config.r_max), s.corpse)

    @property
    def planned_population(self) -> int:
        return max(self.config.num_organisms, self.config.min_organisms,
                   self.world.population)

    @property
    def turn(self) -> int:
        return self.world.tick_count

    def tick(self) -> dict[str, Any]:
        w = self.world
        w.tick()
        s, order = w.state, w.alive_slots()
        ids, x, y = s.oid[order], s.x[order], s.y[order]
        removed = np.setdiff1d(self._ids, ids, assume_unique=True)
        born = order[~np.isin(ids, self._ids, assume_unique=True)]
        moves = moves_between((self._ids, self._x, self._y), (ids, x, y))
        codes = self._tile_codes()
        cells = np.flatnonzero(codes != self._tiles)
        width = self.config.width
        tiles = np.stack([cells % width, cells // width, codes[cells]], axis=1).tolist()
        new_ids = s.oid[born].tolist()
        self.ancestry.born(w.tick_count, new_ids, s.parent[born].tolist())
        self.ancestry.died(w.tick_count, removed.tolist())
        self._births, self._deaths = len(new_ids), int(removed.size)
        self._remember()
        return {"turn": w.tick_count, "moves": moves, "removed": removed.tolist(),
                "spawned": self._organisms(born), "tiles": tiles, "metrics": self.metrics(),
                "fitness": self.fitness()}

    def fitness(self) -> dict[str, Any]:
        s = self.world.state
        return histogram("energy", s.energy[self.world.alive_slots()])

    def _organisms(self, slots: np.ndarray) -> list[dict[str, Any]]:
        s = self.world.state
        if not len(slots):
            return []
        rows = np.stack([getattr(s, "oid" if f == "id" else f)[slots].astype(np.int64)
                         for f in ORGANISM_FIELDS], axis=1).tolist()
        return [dict(zip(ORGANISM_FIELDS, row)) for row in rows]

    def snapshot(self) -> dict[str, Any]:
        w = self.world
        s, order = w.state, w.alive_slots()
        xs, ys, ids = s.x[order].tolist(), s.y[order].tolist(), s.oid[order].tolist()
        return {"world": self.NAME, "brain": self.brain_name, "turn": w.tick_count,
                "rng_seed": self.config.seed, "config": self.config.model_dump(),
                "grid": self.grid(self.config.width, self.config.height),
                "terrain": {"tiles": cell_string(self._tile_codes()),
                            "tile_names": list(TILE_NAMES)},
                "organisms": self._organisms(order),
                "occupancy": one_per_cell(xs, ys, ids),
                "metrics": self.metrics(), "fitness": self.fitness()}

    def metrics(self) -> dict[str, Any]:
        m = self.world.metrics()
        return {"turns": m["ticks"], "births_last_turn": self._births,
                "deaths_last_turn": self._deaths, **m}

    def organism(self, slot: int) -> dict[str, Any]:
        return self._organisms(np.array([slot]))[0]

    def genome(self, slot: int) -> Any:
        return self.world.genome(slot)

    @property
    def io(self) -> BrainIO:
        return io_of(self.config)


def _cells(text: str, size: int, what: str, t: int) -> np.ndarray:
    values = np.frombuffer(base64.b64decode(text, validate=True), dtype=np.uint8)
    if values.size != size:
        raise ValueError(f"frame of tick {t}: {what} has {values.size} tiles, not {size}")
    return values


def frame_snapshot(header: dict[str, Any], kinds: np.ndarray, frame: dict[str, Any]
                   ) -> dict[str, Any]:
    """A recorded frame (``primordia run ecology``) as a live snapshot of the ecology world,
    so a replay shows it with the live code: numbers a frame does not record are null.
    ``kinds`` is the header's map, decoded. ValueError names what is wrong with a frame."""
    width, height = int(header["width"]), int(header["height"])
    t = int(frame["t"])
    level = _cells(frame["resource"], width * height, "resource", t)
    corpse = _cells(frame["corpse"], width * height, "corpse", t)
    organisms = []
    for row in frame["organisms"]:
        o: dict[str, Any] = dict.fromkeys(ORGANISM_FIELDS)
        o.update(zip(FRAME_FIELDS, (int(v) for v in row)))
        organisms.append(o)
    metrics = dict(frame["metrics"])
    turns = int(metrics.get("ticks", t))
    energy = np.array([o["energy"] for o in organisms], dtype=np.int64)
    return {"world": "ecology", "brain": header.get("config", {}).get("brain", {}).get("kind"),
            "turn": t, "rng_seed": header.get("seed"), "config": header.get("config"),
            "grid": EcologyAdapter.grid(width, height),
            "terrain": {"tiles": cell_string(tile_codes(kinds, level, corpse)),
                        "tile_names": list(TILE_NAMES)},
            "organisms": organisms,
            "occupancy": one_per_cell([o["x"] for o in organisms], [o["y"] for o in organisms],
                                      [o["id"] for o in organisms]),
            "metrics": {**metrics, "turns": turns, "organisms": len(organisms),
                        "births_last_turn": None, "deaths_last_turn": None},
            "fitness": histogram("energy", energy)}
