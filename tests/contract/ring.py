"""A world that exists only in the tests: organisms on a ring of cells that look for food
left and right, step, eat, starve and split. It is registered from here (``register``) with
every part the rest of the system asks of a world -- its run, recording format, live adapter
and replay reader -- and no file under src/ names it: the contract tests then run it
everywhere the built-in worlds run. Written for reading, not speed (a loop per birth)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, StrictInt, TypeAdapter

from primordia.brains.base import BrainIO, Substrate, genome_limit, load_state, state_layout
from primordia.brains.registry import SUBSTRATES
from primordia.core.checks import ArraySpec
from primordia.core.config import Config
from primordia.core.errors import ConfigError
from primordia.core.hashing import state_digest
from primordia.core.rng import DrawStream, Rng, random_floats_for, stream_id
from primordia.runs.recorder import Recorder
from primordia.runs.recording_schema import RecordingFormat
from primordia.runs.world_run import Flag, LineageView, RunMeta, WorldRun
from primordia.web.adapters.base import WorldAdapter
from primordia.web.fitness import histogram
from primordia.web.lineage import Ancestry, LineageRoots
from primordia.web.replay import Recording
from primordia.web.shapes import Reply
from primordia.worlds.registry import WORLDS, WorldKind

NAME = "ring"
RING_IO = BrainIO(sensors=("food_left", "food_right", "energy"), actions=("move",),
                  action_levels=(3,))
"""Distances to the nearest food each way (0: none within SIGHT), and energy / 10; the move
is 0 stay, 1 left, 2 right."""
SIGHT, MEAL, SPLIT_AT, START_ENERGY, GROW_CHANCE = 8, 12, 40, 20, 0.05
FOOD, BIRTH, MUTATE = stream_id("ring.food"), stream_id("ring.birth"), stream_id("ring.mutate")


class RingConfig(Config):
    """A ring of cells with food that regrows; organisms split when well fed."""

    seed: int = Field(42, ge=0, lt=2**63)
    ticks: int = Field(200, ge=0, le=10**6)
    cells: int = Field(64, ge=4, le=4096, description="Cells around the ring.")
    organisms: int = Field(12, ge=1, le=4096, description="Organisms at the start.")
    capacity: int = Field(48, ge=1, le=4096, description="Organisms alive at once, at most.")
    max_genome: int = Field(256, ge=16, le=4096, description="Bytes of a bytecode genome.")


class RingWorld:
    """State by slot as numpy arrays; one brain call per tick."""

    def __init__(self, config: RingConfig, substrate: Substrate, threads: int = 1,
                 founders: list[Any] | None = None) -> None:
        self.config, self.substrate, self.rng = config, substrate, Rng(config.seed)
        n = config.capacity
        self.alive = np.zeros(n, np.int8)
        self.oid = np.full(n, -1, np.int64)
        self.parent = np.full(n, -1, np.int64)
        self.pos = np.zeros(n, np.int64)
        self.energy = np.zeros(n, np.int64)
        self.born = np.zeros(n, np.int64)
        self.food = np.zeros(config.cells, np.int8)
        self.tick_no = self.next_id = 0
        self.genomes: list[Any] = [None] * n
        self.brain = substrate.compile([], RING_IO, threads=threads, capacity=n)
        self.food[::3] = 1
        count = min(config.organisms, n)
        founders = list(founders or [])
        for k in range(count):
            g = founders[k] if k < len(founders) else substrate.random(
                DrawStream(self.rng, BIRTH, 0, k), config.max_genome)
            self._place(k, g, (k * config.cells) // count, -1, START_ENERGY)

    def _place(self, slot: int, genome: Any, pos: int, parent: int, energy: int) -> None:
        self.brain.add([genome], np.array([slot]))
        self.genomes[slot] = genome
        self.alive[slot], self.oid[slot], self.parent[slot] = 1, self.next_id, parent
        self.pos[slot], self.energy[slot], self.born[slot] = pos, energy, self.tick_no
        self.next_id += 1

    def alive_slots(self) -> np.ndarray:
        return np.flatnonzero(self.alive)

    @property
    def population(self) -> int:
        return int(self.alive.sum())

    def sensors(self) -> np.ndarray:
        cells = self.config.cells
        out = np.zeros((self.alive.size, RING_IO.n_sensors), np.int32)
        for d in range(SIGHT, 0, -1):            # the nearest food wins: written last
            out[:, 0] = np.where(self.food[(self.pos - d) % cells] != 0, d, out[:, 0])
            out[:, 1] = np.where(self.food[(self.pos + d) % cells] != 0, d, out[:, 1])
        out[:, 2] = self.energy // 10
        return out

    def tick(self) -> dict[str, Any]:
        """One tick; returns what changed (ids moved, removed and born)."""
        live = self.alive != 0
        before = self.pos.copy()
        actions = np.zeros((self.alive.size, RING_IO.n_actions), np.int32)
        self.brain.begin_tick(np.full(self.alive.size, 200, np.int32), live)
        self.brain.step(self.sensors(), actions, live)
        step = np.array([0, -1, 1])[np.abs(actions[:, 0]) % 3]
        self.pos = np.where(live, (self.pos + step) % self.config.cells, self.pos)
        self.tick_no += 1
        removed, born = [], []
        for slot in self.alive_slots().tolist():            # stable order: slots ascending
            if self.food[self.pos[slot]]:
                self.food[self.pos[slot]] = 0
                self.energy[slot] += MEAL
            self.energy[slot] -= 1
            if self.energy[slot] <= 0:
                removed.append(int(self.oid[slot]))
                self.alive[slot] = 0
                self.brain.remove([slot])
                self.genomes[slot] = None
        for slot in self.alive_slots().tolist():
            free = np.flatnonzero(self.alive == 0)
            if self.energy[slot] < SPLIT_AT or free.size == 0:
                continue
            draws = DrawStream(self.rng, MUTATE, self.tick_no, int(self.oid[slot]))
            child = self.substrate.mutate(self.genomes[slot], draws, self.config.max_genome)
            half = int(self.energy[slot]) // 2
            self.energy[slot] -= half
            self._place(int(free[0]), child, int(self.pos[slot]), int(self.oid[slot]), half)
            born.append(int(free[0]))
        grow = random_floats_for(self.config.seed, FOOD, self.tick_no,
                                 np.arange(self.config.cells, dtype=np.int64), 0)
        self.food[grow < GROW_CHANCE] = 1
        moved = [int(s) for s in np.flatnonzero(live & (self.alive != 0) & (before != self.pos))
                 if s not in born]
        return {"moved": [(int(self.oid[s]), int(before[s]), int(self.pos[s])) for s in moved],
                "removed": removed, "born": born}

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.tick()

    def metrics(self) -> dict[str, Any]:
        return {"tick": self.tick_no, "organisms": self.population,
                "food": int(self.food.sum()), "energy": int(self.energy[self.alive != 0].sum())}

    # ---- state ------------------------------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        codes = [self.substrate.encode(g) if g is not None else b"" for g in self.genomes]
        return {"state.alive": self.alive, "state.oid": self.oid, "state.parent": self.parent,
                "state.pos": self.pos, "state.energy": self.energy, "state.born": self.born,
                "state.food": self.food,
                "scalars": np.array([self.tick_no, self.next_id], np.int64),
                "genome.lengths": np.array([len(c) for c in codes], np.int64),
                "genome.bytes": np.frombuffer(b"".join(codes), np.uint8),
                **{f"brain.{k}": v for k, v in getattr(self.brain, "state_arrays",
                                                        dict)().items()}}

    def state_hash(self) -> str:
        return state_digest(self.arrays())

    @classmethod
    def layout(cls, config: RingConfig, substrate: Substrate) -> dict[str, ArraySpec]:
        n = config.capacity
        brain = substrate.compile([], RING_IO, capacity=n)
        return {**{f"state.{k}": ArraySpec.exact(t, n) for k, t in (
                    ("alive", np.int8), ("oid", np.int64), ("parent", np.int64),
                    ("pos", np.int64), ("energy", np.int64), ("born", np.int64))},
                "state.food": ArraySpec.exact(np.int8, config.cells),
                "scalars": ArraySpec.exact(np.int64, 2),
                "genome.lengths": ArraySpec.exact(np.int64, n),
                "genome.bytes": ArraySpec.upto(np.uint8, n * genome_limit(substrate)),
                **{f"brain.{k}": v for k, v in state_layout(brain).items()}}

    @classmethod
    def restore(cls, config: RingConfig, substrate: Substrate, a: dict[str, np.ndarray],
                threads: int = 1, source: str = "checkpoint") -> "RingWorld":
        """The world a checkpoint holds (a test world: checked only as far as the tests
        need -- positions, lengths and genomes)."""
        w = cls(config, substrate, threads, founders=[])
        for slot in w.alive_slots().tolist():
            w.brain.remove([slot])
        w.alive[:] = 0
        w.genomes = [None] * config.capacity
        if (a["state.pos"] >= config.cells).any() or (a["state.pos"] < 0).any():
            raise ConfigError(f"{source}: state.pos off the ring")
        w.tick_no, w.next_id = (int(v) for v in a["scalars"])
        ends = np.cumsum(a["genome.lengths"])
        raw = a["genome.bytes"].tobytes()
        for slot in np.flatnonzero(a["state.alive"]).tolist():
            g = substrate.decode(raw[ends[slot] - a["genome.lengths"][slot]:ends[slot]])
            w.brain.add([g], np.array([slot]))
            w.genomes[slot] = g
        for k in ("alive", "oid", "parent", "pos", "energy", "born", "food"):
            setattr(w, k, a[f"state.{k}"].copy())
        load_state(w.brain, a, source)
        return w


# ---- its run -------------------------------------------------------------------------------

class RingMeta(RunMeta):
    tick: int = Field(ge=0)


class RingRecorder(Recorder):
    """A header, then every organism's id and cell every ``every`` ticks."""

    def header(self, world: RingWorld) -> None:
        self._line({"type": "header", "world": NAME, "seed": world.config.seed,
                    "cells": world.config.cells, "every_n": self.every})

    def maybe_record(self, world: RingWorld) -> None:
        if world.tick_no % self.every == 0:
            live = world.alive_slots()
            self._line({"type": "frame", "t": world.tick_no,
                        "ids": world.oid[live].tolist(), "cells": world.pos[live].tolist(),
                        "food": world.food.tolist()})


@dataclass
class RingRun(WorldRun):
    WORLD = NAME
    UNIT = "tick"
    SAMPLE_KEY = "tick"
    CONFIG = RingConfig
    META = RingMeta
    BRAINS = ("psil", "neural", "mycos")
    SMALL = {"cells": 48, "organisms": 10, "capacity": 40}
    FLAGS = (Flag("--cells", "cells", int, "Cells around the ring (64)."),)
    SPARKS = ("organisms", "food")

    @classmethod
    def substrate(cls, brain: str, config: RingConfig) -> Substrate:
        return SUBSTRATES.get(brain, io=RING_IO) if brain == "neural" else SUBSTRATES.get(brain)

    def new_world(self) -> RingWorld:
        return RingWorld(self.config, self.substrate(self.brain, self.config), self.threads,
                         self.founders)

    def position(self) -> int:
        return self.world.tick_no

    def open_recorder(self, path: Path, resume_at: int | None) -> RingRecorder:
        recorder = RingRecorder(path, self.record_every, resume_at)
        if resume_at is None:
            recorder.header(self.world)
            recorder.maybe_record(self.world)
        return recorder

    def advance(self) -> dict[str, Any]:
        delta = self.world.tick()
        if self._recorder:
            self._recorder.maybe_record(self.world)
        return delta

    def checkpoint_arrays(self) -> dict[str, Any]:
        return self.world.arrays()

    def checkpoint_layout(self) -> dict[str, ArraySpec]:
        return RingWorld.layout(self.config, self.substrate(self.brain, self.config))

    @classmethod
    def resume(cls, run_dir: Path, ticks: int | None = None, threads: int = 1,
               reporters: list | None = None) -> "RingRun":
        run, arrays, _ = cls.reopen(run_dir, ticks, threads, reporters)
        run.world = RingWorld.restore(run.config, run.substrate(run.brain, run.config), arrays,
                                      threads, str(run_dir))
        return run

    def write(self, rundir: Any) -> None:
        rundir.write_metrics(self.samples)
        rundir.write_json("summary.json", {"world": NAME, "brain": self.brain,
                                           "state_hash": self.world.state_hash()})

    # what islands ask
    @classmethod
    def population(cls, config: RingConfig) -> int:
        return min(config.organisms, config.capacity)

    @classmethod
    def bounds(cls, config: RingConfig) -> tuple[int, int]:
        return config.cells, config.capacity

    def lineage_view(self) -> LineageView:
        w = self.world
        return LineageView(w.alive, w.oid, w.pos, np.stack([w.energy, np.zeros_like(w.energy)],
                                                           axis=1), w.config.cells)

    def parents(self, slots: np.ndarray) -> np.ndarray:
        return self.world.parent[slots]

    def birth_times(self) -> np.ndarray:
        return self.world.born

    def genome_bytes(self, slot: int) -> bytes:
        return self.world.substrate.encode(self.world.genomes[slot])

    def living(self) -> int:
        return self.world.population


# ---- its recording ---------------------------------------------------------------------------

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class RingHeader(_Strict):
    type: Literal["header"]
    world: Literal["ring"]
    seed: StrictInt
    cells: int = Field(ge=4, le=4096)
    every_n: int = Field(ge=1)


class RingFrame(_Strict):
    type: Literal["frame"]
    t: int = Field(ge=0)
    ids: list[int]
    cells: list[int]
    food: list[int]


def _problem(header: RingHeader, frame: RingFrame) -> str | None:
    if len(frame.food) != header.cells or any(c >= header.cells for c in frame.cells):
        return "off the ring"
    return None if len(frame.ids) == len(frame.cells) else "ids and cells differ in length"


RING_RECORDING = RecordingFormat(TypeAdapter(RingHeader), TypeAdapter(RingFrame), _problem)


# ---- live and replayed -----------------------------------------------------------------------

class RingOrganism(Reply):
    id: int
    x: int
    y: int
    energy: int
    parent: int
    born: int
    lineage: int


class RingCell(Reply):
    x: int
    y: int
    organism_ids: list[int]


class RingAdapter(WorldAdapter):
    NAME = NAME
    GRID = "square"
    COORDS = ("x", "y")
    CONFIG = RingConfig
    BRAINS = RingRun.BRAINS
    HIDDEN = ("ticks",)
    CAPS = {"cells": 1024, "capacity": 1024}
    ORGANISM, CELL, TERRAIN = RingOrganism, RingCell, None
    TILES = "Always empty: food is not sent."

    def __init__(self, config: RingConfig, brain: str) -> None:
        self.config, self.brain_name = config, brain
        self.world = RingWorld(config, RingRun.substrate(brain, config))
        self.lineage, self.ancestry = LineageRoots(), Ancestry()
        ids = self.world.oid[self.world.alive_slots()].tolist()
        self.lineage.born(ids, [-1] * len(ids))
        self.ancestry.born(0, ids, [-1] * len(ids))

    @property
    def turn(self) -> int:
        return self.world.tick_no

    @property
    def planned_population(self) -> int:
        return self.config.capacity

    def tick(self) -> dict[str, Any]:
        d = self.world.tick()
        spawned = [self.organism(s) for s in d["born"]]
        self.lineage.born([o["id"] for o in spawned], [o["parent"] for o in spawned])
        self.lineage.died(d["removed"])
        self.ancestry.born(self.turn, [o["id"] for o in spawned],
                           [o["parent"] for o in spawned])
        self.ancestry.died(self.turn, d["removed"])
        for o in spawned:
            o["lineage"] = self.lineage.root(o["id"])
        return {"turn": self.turn, "removed": d["removed"], "spawned": spawned, "tiles": [],
                "moves": [{"id": i, "from": [a, 0], "to": [b, 0]} for i, a, b in d["moved"]],
                "metrics": self.metrics(), "fitness": self.fitness()}

    def fitness(self) -> dict[str, Any]:
        return histogram("energy", self.world.energy[self.world.alive != 0])

    def metrics(self) -> dict[str, Any]:
        m = self.world.metrics()
        return {"turns": m.pop("tick"), **m, "births_last_turn": None,
                "deaths_last_turn": None}

    def snapshot(self) -> dict[str, Any]:
        live = self.world.alive_slots().tolist()
        organisms = [self.organism(s) for s in live]
        cells: dict[int, list[int]] = {}
        for o in organisms:
            cells.setdefault(o["x"], []).append(o["id"])
        return {"world": NAME, "brain": self.brain_name, "turn": self.turn,
                "rng_seed": self.config.seed, "config": self.config.model_dump(),
                "grid": self.grid(self.config.cells, 1), "terrain": None,
                "organisms": organisms,
                "occupancy": [{"x": x, "y": 0, "organism_ids": ids} for x, ids in cells.items()
                              if len(ids) > 1],
                "metrics": self.metrics(), "fitness": self.fitness()}

    def slot_of(self, organism_id: int) -> int | None:
        hit = np.flatnonzero((self.world.oid == organism_id) & (self.world.alive != 0))
        return int(hit[0]) if hit.size else None

    def organism(self, slot: int) -> dict[str, Any]:
        w = self.world
        oid = int(w.oid[slot])
        return {"id": oid, "x": int(w.pos[slot]), "y": 0, "energy": int(w.energy[slot]),
                "parent": int(w.parent[slot]), "born": int(w.born[slot]),
                "lineage": self.lineage.root(oid)}

    def genome(self, slot: int) -> Any:
        return self.world.genomes[slot]

    @property
    def brain(self) -> Any:
        return self.world.brain

    @property
    def io(self) -> BrainIO:
        return RING_IO

    def state_hash(self) -> str:
        return self.world.state_hash()


def load_ring(header: dict[str, Any], lines: Iterator[dict[str, Any]]) -> Recording:
    """Each frame a snapshot in the live shape (what was not recorded is null)."""
    snapshots = {}
    for line in lines:
        t = int(line["t"])
        organisms = [{"id": i, "x": c, "y": 0, "energy": 0, "parent": -1, "born": 0,
                      "lineage": i} for i, c in zip(line["ids"], line["cells"])]
        snapshots[t] = {"world": NAME, "brain": None, "turn": t, "rng_seed": header["seed"],
                        "config": None, "grid": RingAdapter.grid(header["cells"], 1),
                        "terrain": None, "organisms": organisms, "occupancy": [],
                        "metrics": {"turns": t, "organisms": len(organisms),
                                    "births_last_turn": None, "deaths_last_turn": None},
                        "fitness": None}
    return Recording(header, snapshots, {}, min(snapshots), max(snapshots))


RING = WorldKind(name=NAME, title="a ring of cells (a world of the tests)", run=RingRun,
                 recording=RING_RECORDING, adapter=RingAdapter, replay=load_ring)


def register() -> None:
    """Add the ring world to the registry (once per process)."""
    if NAME not in WORLDS:
        WORLDS.register(RING)
