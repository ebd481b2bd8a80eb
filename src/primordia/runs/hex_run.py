"""A hex-world run from config to run directory: turns, timeline, a recording of every turn's
delta, checkpoints, phylogeny, summary -- and resuming from the last checkpoint. The same
layout and loop as a sandbox run (``world_run.WorldRun``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.snapshot import most_ids
from primordia.worlds.hex.world import HEX_IO, HexWorld, TickDelta

from .lineage_run import LineageRun
from .phylogeny import PHYLOGENY_HEADER
from .recorder import Recorder
from .rundir import RunDirectory
from .world_run import Flag, Highlight, LineageView, RunMeta, speed_row

class DeltaRecorder(Recorder):
    """Gzip'd JSON lines: a header, a full snapshot at the start and every ``every`` turns
    (to resynchronise), and every turn's delta in between -- what a live client receives,
    so a replay is the same stream."""

    def header(self, world: HexWorld) -> None:
        cfg = world.config
        self._line({"type": "header", "world": "hex", "seed": cfg.seed,
                    "width": cfg.world_width, "height": cfg.world_width,
                    "turns": cfg.turns, "every_n": self.every, "config": cfg.model_dump()})
        self.snapshot(world)

    def snapshot(self, world: HexWorld) -> None:
        self._line({"type": "snapshot", "t": world.turn, "data": world.snapshot_view()})

    def delta(self, world: HexWorld, delta: TickDelta) -> None:
        self._line({"type": "delta", "t": world.turn, "data": delta.to_dict()})
        if world.turn % self.every == 0:
            self.snapshot(world)


class HexMeta(RunMeta):
    """A hex checkpoint's metadata: the common keys, the turn, the brain and the
    organism-turns so far."""

    turn: int = Field(ge=0)
    organism_turns: int = Field(ge=0)


@dataclass
class HexRun(LineageRun):
    """One run of the hex world into a run directory (``out``), or in memory (``out=None``)."""

    WORLD = "hex"
    UNIT = "turn"
    SAMPLE_KEY = "turns"
    CONFIG = HexConfig
    META = HexMeta
    IO = HEX_IO
    WORLD_CLASS = HexWorld
    WORK = "organism_turns"

    organism_turns: int = 0


    def warm_up(self) -> None:
        small = HexConfig(world_width=4, num_organisms=6, seed=1)
        HexWorld(small, self.substrate(self.config), threads=self.threads).run(3)

    def new_world(self) -> HexWorld:
        world = HexWorld(self.config, self.substrate(self.config),
                         threads=self.threads, founders=self.founders)
        self._saw(world.last_delta)
        return world

    def _saw(self, delta: TickDelta) -> None:
        rows = delta.spawned_rows
        self.lineage.born(rows[:, 0].tolist(), rows[:, 7].tolist(), delta.turn)
        self.lineage.died(delta.removed_ids.tolist(), delta.turn)

    def position(self) -> int:
        return self.world.turn

    def open_recorder(self, path: Path, resume_at: int | None) -> DeltaRecorder:
        recorder = DeltaRecorder(path, self.record_every, resume_at)
        if resume_at is None:
            recorder.header(self.world)
        return recorder

    def advance(self) -> TickDelta:
        self.organism_turns += self.world.population
        delta = self.world.tick()
        self._saw(delta)
        if self._recorder:
            self._recorder.delta(self.world, delta)
        return delta

    @classmethod
    def most_ids(cls, config: HexConfig) -> int:
        return most_ids(config)

    # ---- what islands ask (runs/island.py) ------------------------------------------------------
    @classmethod
    def population(cls, config: HexConfig) -> int:
        return config.num_organisms

    @classmethod
    def bounds(cls, config: HexConfig) -> tuple[int, int]:
        return config.cells, config.cells

    def lineage_view(self) -> LineageView:
        """Net energy: meals eaten (minus one for starving, ``death_values``); interactions:
        organisms eaten (plus one for being eaten)."""
        s, width = self.world.state, self.world.config.world_width
        return LineageView(s.alive, s.oid, s.r * width + s.q, np.stack([s.meals, s.meals],
                                                                       axis=1), width * width)

    def death_values(self, delta: TickDelta | None, tracked_ids: np.ndarray
                     ) -> np.ndarray | None:
        """-1 net energy for a member that starved, +1 interaction for one eaten (the turn's
        removals list the eaten first)."""
        if delta is None or delta.removed_ids.size == 0:
            return None
        eaten = int(delta.metrics.get("meals_last_turn", 0))
        death = np.zeros((tracked_ids.shape[0], 2), dtype=np.int64)
        death[np.isin(tracked_ids, delta.removed_ids[eaten:]), 0] = -1
        death[np.isin(tracked_ids, delta.removed_ids[:eaten]), 1] = 1
        return death

    def genome_bytes(self, slot: int) -> bytes:
        return self.world.substrate.encode(self.world.genome(slot))

    # ---- what the run shows (cli/run.py) -------------------------------------------------------
    SMALL = {"world_width": 6, "num_organisms": 20, "turns_to_starve": 3}
    FLAGS = (Flag("--width", "world_width", int, "Cells per side (20)."),
             Flag("--organisms", "num_organisms", int, "Population (200)."))
    SPARKS = ("organisms", "actions_applied_last_turn", "meals_last_turn",
              "starvations_last_turn", "births_last_turn", "synapse_ops_last_turn",
              "max_generation")

    def status(self) -> str:
        return f"{self.world.population} organisms"

    def sample_line(self, m: dict[str, Any]) -> str:
        return (f"turn={m['turns']} organisms={m['organisms']} meals={m['meals_last_turn']} "
                f"starved={m['starvations_last_turn']} generation={m['max_generation']}")

    def headline(self) -> str:
        return (f"hex: {self.world.turn:,} turns, {self.brain} brains, seed "
                f"{self.config.seed}")

    def report_rows(self) -> list[tuple[str, str]]:
        m = self.world.metrics()
        rows = [(key.removeprefix("total_"), f"{m[key]:,}") for key in (
            "organisms", "total_moves", "total_meals", "total_starvations", "total_births",
            "total_replacements", "total_synapse_ops", "max_generation")]
        return rows + [("organism-turns", f"{self.organism_turns:,}"),
                       speed_row(self.organism_turns, "organism-turns", self),
                       ("state hash", self.world.state_hash()[:32])]

    def highlight(self) -> Highlight | None:
        w = self.world
        live = w.alive_slots()
        if not live.size:
            return None
        s = w.state
        top = live[np.lexsort((s.oid[live], -s.meals[live]))][:5]
        rows = [tuple(str(v) for v in (s.oid[i], s.meals[i], s.hunger[i], s.generation[i],
                                       s.born[i], s.q[i], s.r[i])) for i in top.tolist()]
        return Highlight("Most meals", ("id", "meals", "hunger", "generation", "born", "q",
                                        "r"), rows, f"organism {s.oid[top[0]]}'s brain:",
                         w.substrate.to_text(w.genome(int(top[0]))))

    # ---- results --------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        w = self.world
        return {"world": "hex", "brain": self.brain, "seed": self.config.seed,
                "turns": w.turn, "organism_turns": self.organism_turns,
                "state_hash": w.state_hash(), "wall_seconds": round(self.wall_seconds, 3),
                "jit_seconds": round(self.jit_seconds, 3),
                "organism_turns_per_second": round(self.organism_turns / self.wall_seconds)
                if self.wall_seconds > 0 else None,
                "final": w.metrics()}

    def write(self, rundir: RunDirectory) -> None:
        rundir.write_metrics(self.samples)
        rundir.write_csv("phylogeny.csv", PHYLOGENY_HEADER, self.lineage.rows())
        rundir.write_json("summary.json", self.summary())
