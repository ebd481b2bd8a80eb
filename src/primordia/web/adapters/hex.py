"""The hex world (NeuroGenesis) as the server sees it: its own TickDelta and Snapshot, with the
grid described and each organism's lineage root added."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
from pydantic import Field

from primordia.brains.base import BrainIO
from primordia.runs.hex_run import HexRun
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.grid import FACING_NAMES
from primordia.worlds.hex.world import HEX_IO, HexWorld, organism_dicts, organism_rows

from ..fitness import histogram
from ..lineage import Ancestry, LineageRoots
from ..shapes import Reply
from .base import WorldAdapter


class HexOrganism(Reply):
    id: int
    q: int
    r: int
    facing: Literal[FACING_NAMES]
    turns_since_last_meal: int
    meals_eaten: int
    generation: int
    parent: int = Field(description="-1 for a founder.")
    born: int
    lineage: int = Field(description="The founder it descends from.")


class HexCell(Reply):
    q: int
    r: int
    organism_ids: list[int]


class HexAdapter(WorldAdapter):
    NAME = "hex"
    GRID = "hex"
    COORDS = ("q", "r")
    CONFIG = HexConfig
    RUN = HexRun
    HIDDEN = ("turns",)
    CAPS = {"world_width": 512, "num_organisms": 65_536, "max_genome": 4096}
    """What one request may ask of this machine: a few hundred MB at most per session (the
    world's own limits are for runs someone chose to pay for)."""
    ORGANISM, CELL, TERRAIN = HexOrganism, HexCell, None
    TILES = "Always empty: the hex world has no tiles."
    RULES = ("num_organisms at most world_width squared",
             "brain.num_neurons at most brain.max_num_neurons",
             "center_spawn_min_fraction below center_spawn_max_fraction")

    def __init__(self, config: HexConfig, brain: str) -> None:
        self.config, self.brain_name = config, brain
        self.world = HexWorld(config, HexRun.substrate(config))
        self.lineage = LineageRoots()
        founders = self.world.state.oid[self.world.alive_slots()].tolist()
        self.lineage.born(founders, [-1] * len(founders))
        self.ancestry = Ancestry()
        self.ancestry.born(self.world.turn, founders, [-1] * len(founders))

    @property
    def planned_population(self) -> int:
        return self.config.num_organisms

    @property
    def turn(self) -> int:
        return self.world.turn

    def tick(self) -> dict[str, Any]:
        d = self.world.tick().to_dict()
        spawned = d["spawned"]
        self.lineage.born([o["id"] for o in spawned], [o["parent"] for o in spawned])
        self.lineage.died(d["removed"])
        self.ancestry.born(d["turn"], [o["id"] for o in spawned], [o["parent"] for o in spawned])
        self.ancestry.died(d["turn"], d["removed"])
        for o in spawned:
            o["lineage"] = self.lineage.root(o["id"])
        d["tiles"] = []
        m = d["metrics"]
        m["deaths_last_turn"] = m["meals_last_turn"] + m["starvations_last_turn"]
        d["fitness"] = self.fitness()
        return d

    def fitness(self) -> dict[str, Any]:
        s = self.world.state
        return histogram("meals_eaten", s.meals[s.alive != 0])

    def snapshot(self) -> dict[str, Any]:
        v = self.world.snapshot_view()
        for o in v["organisms"]:
            o["lineage"] = self.lineage.root(o["id"])
        w = self.config.world_width
        return {"world": self.NAME, "brain": self.brain_name, "turn": v["turn"],
                "rng_seed": v["rng_seed"], "config": v["config"], "grid": self.grid(w, w),
                "terrain": None, "organisms": v["organisms"], "occupancy": v["occupancy"],
                "metrics": self.metrics(), "fitness": self.fitness()}

    def metrics(self) -> dict[str, Any]:
        m = self.world.metrics()
        m["deaths_last_turn"] = m["meals_last_turn"] + m["starvations_last_turn"]
        return m

    def organism(self, slot: int) -> dict[str, Any]:
        o = organism_dicts(organism_rows(self.world.state, np.array([slot])))[0]
        o["lineage"] = self.lineage.root(o["id"])
        return o

    def genome(self, slot: int) -> Any:
        return self.world.genome(slot)

    @property
    def io(self) -> BrainIO:
        return HEX_IO
