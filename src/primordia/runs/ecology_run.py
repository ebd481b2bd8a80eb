"""An ecology-world run from config to run directory: ticks, timeline, a recording of frames,
checkpoints, phylogeny, summary -- and resuming from the last checkpoint. The same layout
and loop as the other worlds' runs (``world_run.WorldRun``).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from primordia.brains.base import Substrate
from primordia.brains.settings import make_substrate
from primordia.core.errors import ConfigError
from primordia.worlds.ecology.config import EcologyConfig
from primordia.worlds.ecology.io import io_of
from primordia.worlds.ecology.snapshot import most_ids
from primordia.worlds.ecology.world import EcologyWorld

from .lineage_run import LineageRun
from .phylogeny import PHYLOGENY_HEADER
from .recorder import Recorder
from .recording_schema import ECOLOGY_FIELDS
from .rundir import RunDirectory
from .world_run import Flag, Highlight, LineageView, RunMeta, speed_row

FRAME_FIELDS = ECOLOGY_FIELDS


def _b64(a: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(a, dtype=np.uint8).tobytes()).decode()


class FrameRecorder(Recorder):
    """Gzip'd JSON lines: a header with the map's kinds, then a frame every ``every`` ticks
    (and at the start): the living organisms, resource levels and corpses, and the metrics."""

    def header(self, world: EcologyWorld) -> None:
        cfg = world.config
        self._line({"type": "header", "world": "ecology", "seed": cfg.seed,
                    "width": cfg.width, "height": cfg.height, "ticks": cfg.ticks,
                    "every_n": self.every, "config": cfg.model_dump(),
                    "kinds": _b64(world.state.kind)})
        self.frame(world)

    def frame(self, world: EcologyWorld) -> None:
        s = world.state
        live = np.flatnonzero(s.alive)
        rows = np.stack([s.oid[live], s.x[live], s.y[live], s.energy[live], s.lineage[live],
                         s.generation[live]], axis=1) if live.size else np.zeros((0, 6))
        big_r = world.config.r_max * 256
        self._line({"type": "frame", "t": world.tick_count, "fields": list(FRAME_FIELDS),
                    "organisms": rows.astype(np.int64).tolist(),
                    "resource": _b64((s.resource * 255) // big_r),
                    "corpse": _b64(np.minimum(s.corpse, 255)),
                    "metrics": world.metrics()})
        self.frames += 1

    def tick(self, world: EcologyWorld) -> None:
        if world.tick_count % self.every == 0:
            self.frame(world)


class EcologyMeta(RunMeta):
    """An ecology checkpoint's metadata: the common keys, the tick and the organism-ticks."""

    tick: int = Field(ge=0)
    organism_ticks: int = Field(ge=0)


@dataclass
class EcologyRun(LineageRun):
    """One run of the ecology world into a run directory (``out``), or in memory."""

    WORLD = "ecology"
    UNIT = "tick"
    SAMPLE_KEY = "ticks"
    CONFIG = EcologyConfig
    META = EcologyMeta
    IO = io_of(EcologyConfig())
    """The default config's sensors and actions (a config's own come from ``io_of``)."""
    WORLD_CLASS = EcologyWorld
    WORK = "organism_ticks"

    organism_ticks: int = 0

    @classmethod
    def substrate(cls, config: EcologyConfig) -> Substrate:
        """The config's brain, made for the world's sensors at its radius (``io_of``)."""
        problem = cls.refusal(config.brain.kind)
        if problem:
            raise ConfigError(f"brain: {problem}")
        return make_substrate(config.brain, io_of(config))

    def warm_up(self) -> None:
        small = EcologyConfig(width=8, height=8, num_organisms=6, max_organisms=16, seed=1,
                              radius=1, neighbor_records=3, brain=self.config.brain)
        EcologyWorld(small, self.substrate(small), threads=self.threads).run(3)

    def new_world(self) -> EcologyWorld:
        world = EcologyWorld(self.config, self.substrate(self.config), threads=self.threads,
                             founders=self.founders)
        s = world.state
        live = np.flatnonzero(s.alive)
        self.lineage.born(s.oid[live].tolist(), [-1] * live.size, 0)
        return world

    def position(self) -> int:
        return self.world.tick_count

    def open_recorder(self, path: Path, resume_at: int | None) -> FrameRecorder:
        recorder = FrameRecorder(path, self.record_every, resume_at)
        if resume_at is None:
            recorder.header(self.world)
        return recorder

    def advance(self) -> Any:
        w = self.world
        self.organism_ticks += w.population
        out = w.tick()
        s, now = w.state, w.tick_count
        self.lineage.died(w.last_died_ids.tolist(), now)
        if len(out.births):
            self.lineage.born(s.oid[out.births[:, 1]].tolist(),
                              s.oid[out.births[:, 0]].tolist(), now)
        if len(out.placed):
            self.lineage.born(s.oid[out.placed].tolist(), [-1] * len(out.placed), now)
        if self._recorder:
            self._recorder.tick(w)
        return out

    @classmethod
    def most_ids(cls, config: EcologyConfig) -> int:
        return most_ids(config)

    # ---- what islands ask (runs/island.py) ------------------------------------------------------
    @classmethod
    def population(cls, config: EcologyConfig) -> int:
        return config.num_organisms

    @classmethod
    def bounds(cls, config: EcologyConfig) -> tuple[int, int]:
        return config.tiles, config.max_organisms

    def lineage_view(self) -> LineageView:
        """Net energy: energy eaten + energy held - energy at birth (summed over a lineage,
        what its members gained from the world less what they spent; a child's share moves
        energy within the lineage). Interactions: kills + assists + signals emitted."""
        s, cfg = self.world.state, self.world.config
        return LineageView(s.alive, s.oid, s.y * cfg.width + s.x,
                           np.stack([s.eaten + s.energy - s.birth_energy,
                                     s.kills + s.assists + s.signals], axis=1), cfg.tiles)

    def genome_bytes(self, slot: int) -> bytes:
        return self.world.substrate.encode(self.world.genome(slot))

    # ---- what the run shows (cli/run.py) -------------------------------------------------------
    SMALL = {"width": 24, "height": 24, "num_organisms": 60, "min_organisms": 20,
             "max_organisms": 400, "patch_size": 6, "radius": 1, "neighbor_records": 3,
             "start_energy": 30, "reproduce_min": 40, "reproduce_cost": 10}
    """Radius 1 with three neighbour records: 29 sensors, within micro-PSIL's 31 slots, so
    every brain runs it; founders that do not eat starve within 30 ticks, and a few meals
    make a parent."""
    FLAGS = (Flag("--width", "width", int, "Tiles across (256)."),
             Flag("--height", "height", int, "Tiles down (256)."),
             Flag("--organisms", "num_organisms", int, "Founders (2,000)."),
             Flag("--resource-density", "resource_density", float,
                  "Share of tiles that grow resources (0.5)."))
    SPARKS = ("organisms", "lineages", "max_generation", "energy", "resource", "total_births",
              "total_deaths", "total_kills")
    CUMULATIVE = ("total_births", "total_deaths", "total_kills")

    def status(self) -> str:
        return f"{self.world.population:,} organisms"

    def sample_line(self, m: dict[str, Any]) -> str:
        return (f"tick={m['ticks']} organisms={m['organisms']} lineages={m['lineages']} "
                f"births={m['total_births']} deaths={m['total_deaths']} "
                f"generation={m['max_generation']}")

    def report_rows(self) -> list[tuple[str, str]]:
        m = self.world.metrics()
        rows = [(key.removeprefix("total_"), f"{m[key]:,}") for key in (
            "organisms", "lineages", "max_generation", "total_births", "total_deaths",
            "total_kills", "total_assists", "total_moves", "total_meals", "total_signals",
            "total_placed")]
        return rows + [("organism-ticks", f"{self.organism_ticks:,}"),
                       speed_row(self.organism_ticks, "organism-ticks", self),
                       ("state hash", self.world.state_hash()[:32])]

    def highlight(self) -> Highlight | None:
        w = self.world
        s = w.state
        live = np.flatnonzero(s.alive)
        if not live.size:
            return None
        top = live[np.lexsort((s.oid[live], -s.offspring[live]))][:5]
        rows = [tuple(str(v) for v in (s.oid[i], s.offspring[i], s.energy[i], s.eaten[i],
                                       s.kills[i], s.generation[i], s.lineage[i]))
                for i in top.tolist()]
        return Highlight("Most offspring", ("id", "offspring", "energy", "eaten", "kills",
                                            "generation", "lineage"), rows,
                         f"organism {s.oid[top[0]]}'s brain:",
                         w.substrate.to_text(w.genome(int(top[0]))))

    # ---- results --------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        w = self.world
        return {"world": "ecology", "brain": self.brain, "seed": self.config.seed,
                "ticks": w.tick_count, "organism_ticks": self.organism_ticks,
                "state_hash": w.state_hash(), "wall_seconds": round(self.wall_seconds, 3),
                "jit_seconds": round(self.jit_seconds, 3),
                "organism_ticks_per_second": round(self.organism_ticks / self.wall_seconds)
                if self.wall_seconds > 0 else None,
                "final": w.metrics()}

    def write(self, rundir: RunDirectory) -> None:
        rundir.write_metrics(self.samples)
        rundir.write_csv("phylogeny.csv", PHYLOGENY_HEADER, self.lineage.rows())
        rundir.write_json("summary.json", self.summary())
