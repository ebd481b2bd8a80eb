"""The NPC sandbox as the server sees it. The world keeps no change record, so a tick's delta
is the difference of two views: organism ids and positions before and after (numpy set
operations), and the tiles that changed. A recorded frame of a sandbox run becomes a snapshot
of the same shape here too, for replay."""

from __future__ import annotations

import base64
from typing import Any, Literal

import numpy as np
from pydantic import Field

from primordia.brains.base import BrainIO
from primordia.runs.sandbox_recorder import STAT_KEYS
from primordia.runs.sandbox_run import SandboxRun
from primordia.worlds.sandbox import constants as c
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.worlds.sandbox.world import SANDBOX_IO

from ..fitness import histogram
from ..lineage import Ancestry, LineageRoots
from ..shapes import Reply
from .base import WorldAdapter, cell_string, moves_between, one_per_cell

BIOME_NAMES = ("clearing", "forest", "mountain", "swamp", "village", "river", "bridge")
ORGANISM_FIELDS = ("id", "x", "y", "heading", "health", "energy", "age", "hunger",
                   "food_eaten", "gold", "item", "stress", "fitness", "crafts", "teaches",
                   "taught", "birth")
_STATE_FIELDS = ("npc_id",) + ORGANISM_FIELDS[1:]


class SandboxOrganism(Reply):
    id: int
    x: int
    y: int
    heading: int
    health: int
    energy: int
    age: int
    hunger: int
    food_eaten: int
    gold: int
    item: Literal[c.ITEM_NAMES]
    stress: int
    fitness: int
    crafts: int
    teaches: int
    taught: int
    birth: int
    parents: list[int]
    parent: int = Field(description="The first parent, -1 for a founder.")
    lineage: int = Field(description="The founder it descends from.")


class SandboxCell(Reply):
    x: int
    y: int
    organism_ids: list[int]


class SandboxTerrain(Reply):
    """Each grid a string of one character per cell, row-major: value = character code - 48."""

    tiles: str
    tile_names: list[str]
    biomes: str
    biome_names: list[str]


class SandboxAdapter(WorldAdapter):
    NAME = "sandbox"
    GRID = "square"
    COORDS = ("x", "y")
    CONFIG = SandboxConfig
    RUN = SandboxRun
    ID_FIELD = "npc_id"
    HIDDEN = ("ticks",)
    CAPS = {"npcs": 20_000, "world": 1024, "max_genome": 4096, "genome_grow": 1024}
    """What one request may ask of this machine (see HexAdapter.CAPS)."""
    ORGANISM, CELL, TERRAIN = SandboxOrganism, SandboxCell, SandboxTerrain
    TILES = "Changed tiles as [x, y, tile]."
    RULES = ("npcs at most world squared when world is not 0",)

    def __init__(self, config: SandboxConfig, brain: str) -> None:
        self.config, self.brain_name = config, brain
        self.world = SandboxRun.build(config, SandboxRun.substrate(config))
        self.lineage = LineageRoots()
        self._births = self._deaths = 0
        self._remember()
        self.lineage.born(self._ids.tolist(), [-1] * self._ids.size)
        self.ancestry = Ancestry()
        self.ancestry.born(self.world.tick_no, self._ids.tolist(), [-1] * self._ids.size)

    def _remember(self) -> None:
        """The view the next tick's delta is taken against."""
        s, order = self.world.state, self.world.alive_slots()
        self._ids = s.npc_id[order].copy()
        self._x, self._y = s.x[order].copy(), s.y[order].copy()
        self._tile = s.tile.copy()

    @property
    def planned_population(self) -> int:
        return self.config.npcs

    @property
    def turn(self) -> int:
        return self.world.tick_no

    def tick(self) -> dict[str, Any]:
        w = self.world
        delta = w.tick()
        s, order = w.state, w.alive_slots()
        ids, x, y = s.npc_id[order], s.x[order], s.y[order]
        removed = self._ids[np.isin(self._ids, np.array(delta.removed_ids, dtype=np.int64))]
        born = np.sort(np.array(delta.spawned_slots, dtype=np.int64))
        moves = moves_between((self._ids, self._x, self._y), (ids, x, y))
        cells = np.flatnonzero(self._tile != s.tile)
        size = s.tile.shape[1]
        tiles = np.stack([cells % size, cells // size, s.tile.ravel()[cells]], axis=1).tolist()
        new_ids = s.npc_id[born].tolist()
        parents = [self._first_parent(i) for i in new_ids]
        self.lineage.born(new_ids, parents)
        self.lineage.died(removed.tolist())
        self.ancestry.born(w.tick_no, new_ids, parents)
        self.ancestry.died(w.tick_no, removed.tolist())
        self._births, self._deaths = len(new_ids), int(removed.size)
        self._remember()
        return {"turn": w.tick_no, "moves": moves, "removed": removed.tolist(),
                "spawned": self._organisms(born), "tiles": tiles, "metrics": self.metrics(),
                "fitness": self.fitness()}

    def fitness(self) -> dict[str, Any]:
        s = self.world.state
        return histogram("fitness", s.fitness[self.world.alive_slots()])

    def _first_parent(self, organism_id: int) -> int:
        parents = self.world.lineage.ancestors.get(organism_id, ())
        return parents[0] if parents else -1

    def _organisms(self, slots: np.ndarray) -> list[dict[str, Any]]:
        s = self.world.state
        rows = np.stack([getattr(s, f)[slots].astype(np.int64) for f in _STATE_FIELDS],
                        axis=1).tolist() if len(slots) else []
        ancestors = self.world.lineage.ancestors
        out = []
        for row in rows:
            o = dict(zip(ORGANISM_FIELDS, row))
            o["item"] = c.ITEM_NAMES[o["item"]]
            parents = list(ancestors.get(o["id"], ()))
            o["parents"] = parents
            o["parent"] = parents[0] if parents else -1
            o["lineage"] = self.lineage.root(o["id"])
            out.append(o)
        return out

    def snapshot(self) -> dict[str, Any]:
        w = self.world
        s, order = w.state, w.alive_slots()
        size = s.tile.shape[1]
        xs, ys, ids = s.x[order].tolist(), s.y[order].tolist(), s.npc_id[order].tolist()
        return {"world": self.NAME, "brain": self.brain_name, "turn": w.tick_no,
                "rng_seed": self.config.seed, "config": self.config.model_dump(),
                "grid": self.grid(size, s.tile.shape[0]),
                "terrain": {"tiles": cell_string(s.tile), "tile_names": list(c.TILE_NAMES),
                            "biomes": cell_string(s.biome), "biome_names": list(BIOME_NAMES)},
                "organisms": self._organisms(order),
                "occupancy": one_per_cell(xs, ys, ids),
                "metrics": self.metrics(), "fitness": self.fitness()}

    def metrics(self) -> dict[str, Any]:
        m = self.world.metrics()
        return {"turns": m["tick"], "organisms": m["alive"], "births_last_turn": self._births,
                "deaths_last_turn": self._deaths, **m}

    def organism(self, slot: int) -> dict[str, Any]:
        return self._organisms(np.array([slot]))[0]

    def genome(self, slot: int) -> Any:
        return self.world.genomes[slot]

    @property
    def io(self) -> BrainIO:
        return SANDBOX_IO


_FRAME_FIELDS = {"id": "id", "x": "x", "y": "y", "health": "hp", "energy": "e", "age": "a",
                 "gold": "g", "stress": "s", "fitness": "f"}
"""Live snapshot field <- a recorded frame's NPC key (runs/recorder.py); the other fields of
a live organism are not recorded and replay as null."""


def frame_snapshot(header: dict[str, Any], frame: dict[str, Any]) -> dict[str, Any]:
    """A recorded frame (``primordia run sandbox``) as a live snapshot of the sandbox, so a
    replay shows it with the live code: unrecorded numbers (heading, hunger, parents, ...)
    are null, and without parents every NPC is its own lineage. ValueError names what is
    wrong with a frame."""
    width, height = int(header["width"]), int(header["height"])
    tiles = np.frombuffer(base64.b64decode(frame["grid"], validate=True), dtype=np.uint8)
    if tiles.size != width * height:
        raise ValueError(f"frame of tick {frame['t']}: {tiles.size} tiles, not {width} x "
                         f"{height}")
    organisms = []
    for npc in frame["npcs"]:
        o: dict[str, Any] = dict.fromkeys(ORGANISM_FIELDS)
        o.update({k: int(npc[key]) for k, key in _FRAME_FIELDS.items()})
        if not (0 <= o["x"] < width and 0 <= o["y"] < height):
            raise ValueError(f"frame of tick {frame['t']}: NPC {o['id']} is off the map")
        o["item"] = c.ITEM_NAMES[int(npc["it"])]
        o.update(parents=None, parent=None, lineage=o["id"], genome_bytes=npc.get("gl"))
        organisms.append(o)
    fit = np.array([o["fitness"] for o in organisms], dtype=np.int64)
    turn = int(frame["t"])
    stats = {c.STAT_NAMES[i]: int(frame["s"][key]) for key, i in STAT_KEYS.items()
             if key in frame.get("s", {})}
    return {"world": "sandbox", "brain": header.get("brain"), "turn": turn,
            "rng_seed": header.get("seed"), "config": header.get("config"),
            "grid": SandboxAdapter.grid(width, height),
            "terrain": {"tiles": cell_string(tiles), "tile_names": list(c.TILE_NAMES),
                        "biomes": None, "biome_names": list(BIOME_NAMES)},
            "organisms": organisms,
            "occupancy": one_per_cell([o["x"] for o in organisms], [o["y"] for o in organisms],
                                      [o["id"] for o in organisms]),
            "metrics": {"turns": turn, "organisms": len(organisms), "births_last_turn": None,
                        "deaths_last_turn": None, "tick": turn, "alive": len(organisms),
                        "food_rate": frame.get("fr"), **stats},
            "fitness": histogram("fitness", fit)}

