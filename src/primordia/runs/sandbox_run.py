"""A sandbox run from config to run directory: warm-up, ticks, timeline, recording,
checkpoints, phylogeny, summary -- and resuming from the last checkpoint (the loop and the
checkpoints are ``world_run.WorldRun``'s).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import Field

from primordia.brains.base import Substrate
from primordia.core.checks import ArraySpec
from primordia.evolve.evolver import Evolver, ReplaceWorst, Tournament, Variation
from primordia.worlds.sandbox import constants as c
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.worlds.sandbox.world import SANDBOX_IO, SandboxWorld, TickDelta

from .phylogeny import PHYLOGENY_HEADER, phylogeny_rows
from .sandbox_recorder import SandboxRecorder
from .rundir import RunDirectory
from .world_run import (CHECKPOINT, Flag, Highlight, LineageView, Reporter, RunMeta, WorldRun,
                        speed_row)

__all__ = ["CHECKPOINT", "Reporter", "SandboxRun", "warm_up"]

MEAL_ENERGY = 30
"""Energy a meal gives (``worlds/sandbox/actions.try_eat``)."""


def warm_up(brain: str = "psil") -> float:
    """Compile (or load from cache) every kernel of the sandbox on a tiny world; seconds."""
    t0 = time.perf_counter()
    config = SandboxConfig(npcs=8, ticks=3, evolve_every=2, brain={"kind": brain})
    w = SandboxRun.build(config, SandboxRun.substrate(config))
    w.run(3)
    SandboxRun.rebuild(w.config, w.substrate, w.snapshot()).state_hash()
    return time.perf_counter() - t0


class SandboxMeta(RunMeta):
    """A sandbox checkpoint's metadata: the common keys and the tick."""

    tick: int = Field(ge=0)


@dataclass
class SandboxRun(WorldRun):
    """One run of the sandbox into a run directory (``out``), or in memory (``out=None``)."""

    WORLD = "sandbox"
    UNIT = "tick"
    SAMPLE_KEY = "tick"
    CONFIG = SandboxConfig
    META = SandboxMeta
    IO = SANDBOX_IO

    @classmethod
    def evolver(cls, config: SandboxConfig) -> Evolver:
        """The sandbox's GA (the reference sandbox's): the bottom quarter by fitness is
        replaced by children of the top half, parents by tournaments of three, every child a
        crossover, mutated with the mutation rate."""
        return Evolver(ReplaceWorst(pool_share=0.5, replace_share=0.25), Tournament(k=3),
                       Variation(crossover_rate=None, mutation_rate=config.mutation_rate))

    @classmethod
    def build(cls, config: SandboxConfig, substrate: Substrate, threads: int = 1,
              founders: list[Any] | None = None) -> SandboxWorld:
        """A new sandbox world with its evolver: the one way runs, sessions, islands and
        tests make one."""
        return SandboxWorld(config, substrate, threads=threads, founders=founders,
                            evolver=cls.evolver(config))

    @classmethod
    def rebuild(cls, config: SandboxConfig, substrate: Substrate, arrays: dict[str, Any],
                threads: int = 1, source: str = "checkpoint",
                evolver_state: dict[str, Any] | None = None) -> SandboxWorld:
        """The world a snapshot describes, with its evolver (restored from
        ``evolver_state``, the checkpoint's ``evolver``; older checkpoints have none)."""
        evolver = cls.evolver(config)
        evolver.load_state(evolver_state or {})
        return SandboxWorld.restore(config, substrate, arrays, threads=threads, source=source,
                                    evolver=evolver)

    def warm_up(self) -> None:
        warm_up(self.brain)

    def new_world(self) -> SandboxWorld:
        return self.build(self.config, self.substrate(self.config),
                          threads=self.threads, founders=self.founders)

    def evolver_state(self) -> dict[str, Any]:
        return self.world.evolver.state()

    def position(self) -> int:
        return self.world.tick_no

    def open_recorder(self, path: Path, resume_at: int | None) -> SandboxRecorder:
        recorder = SandboxRecorder(path, self.record_every, resume_at)
        if resume_at is None:
            recorder.header(self.world)
            recorder.maybe_record(self.world)
        return recorder

    def advance(self) -> TickDelta:
        delta = self.world.tick()
        if self._recorder:
            self._recorder.maybe_record(self.world)
        return delta

    def checkpoint_arrays(self) -> dict[str, Any]:
        return self.world.snapshot()

    def checkpoint_layout(self) -> dict[str, ArraySpec]:
        return SandboxWorld.snapshot_layout(self.config, self.substrate(self.config))

    @classmethod
    def resume(cls, run_dir: Path, ticks: int | None = None, threads: int = 1,
               reporters: list[Reporter] | None = None) -> "SandboxRun":
        """The run saved in ``run_dir``, restored at its last checkpoint, to continue up to
        ``ticks`` in total (default: the configured number)."""
        run, arrays, meta = cls.reopen(run_dir, ticks, threads, reporters)
        run.world = cls.rebuild(run.config, run.substrate(run.config), arrays,
                                threads=threads, source=str(run.out / CHECKPOINT),
                                evolver_state=meta.evolver)
        run._check_metrics()
        return run

    # ---- what islands ask (runs/island.py) ------------------------------------------------------
    @classmethod
    def population(cls, config: SandboxConfig) -> int:
        return config.npcs

    @classmethod
    def bounds(cls, config: SandboxConfig) -> tuple[int, int]:
        return config.size * config.size, config.npcs

    def lineage_view(self) -> LineageView:
        """Net energy: 30 energy a meal eaten + energy now - the start energy; interactions:
        teachings given and received (the sandbox's only per-NPC record of contact)."""
        w = self.world
        s, size = w.state, w.config.size
        values = np.empty((s.alive.shape[0], 2), dtype=np.int64)
        np.add(MEAL_ENERGY * s.food_eaten.astype(np.int64) - c.START_ENERGY, s.energy,
               out=values[:, 0])
        np.add(s.teaches, s.taught, out=values[:, 1], dtype=np.int64)
        return LineageView(s.alive, s.npc_id, s.y.astype(np.int64) * size + s.x, values,
                           size * size)

    def parents(self, slots: np.ndarray) -> np.ndarray:
        anc = self.world.lineage.ancestors        # births are rare: a look-up each
        return np.array([(anc.get(i) or (-1,))[0]
                         for i in self.world.state.npc_id[slots].tolist()], dtype=np.int64)

    def birth_times(self) -> np.ndarray:
        return self.world.state.birth

    def genome_bytes(self, slot: int) -> bytes:
        return self.world.substrate.encode(self.world.genomes[slot])

    def living(self) -> int:
        return int(self.world.state.alive.astype(bool).sum())

    # ---- what the run shows (cli/run.py) -------------------------------------------------------
    SMALL = {"npcs": 16, "evolve_every": 5}
    FLAGS = (Flag("--npcs", "npcs", int, "Initial population (20)."),
             Flag("--world", "world", int, "World side; 0 = auto."),
             Flag("--gas", "gas", int, "Base gas per think (200)."),
             Flag("--evolve-every", "evolve_every", int, "GA every N (100)."),
             Flag("--crossover", "brain.crossover", str, "growth | classic."),
             Flag("--classic-rate", "brain.classic_rate", float, "(0.20)"),
             Flag("--max-genome", "max_genome", int, "Bytes (128)."),
             Flag("--genome-grow", "genome_grow", int, "Bytes (64)."),
             Flag("--genome-grow-every", "genome_grow_every", int, ""),
             Flag("--gas-grow", "gas_grow", int, "(10)"),
             Flag("--gas-grow-every", "gas_grow_every", int, ""))
    SPARKS = ("alive", "trades", "teaches", "attacks", "heals", "gold", "stress",
              "best_fitness", "mean_fitness", "genome_mean")
    CUMULATIVE = ("trades", "teaches", "attacks", "heals")

    def status(self) -> str:
        return f"{int(self.world.state.alive.sum())} alive"

    def sample_line(self, m: dict[str, Any]) -> str:
        return (f"t={m['tick']} alive={m['alive']} food={m['food']} trades={m['trades']} "
                f"best={m['best_fitness']} genome={m['genome_mean']}")

    def picture(self) -> str:
        return f"tick {self.world.tick_no}\n{self.world.ascii_map()}"

    def headline(self) -> str:
        return f"sandbox: {self.world.tick_no:,} ticks, seed {self.config.seed}"

    def report_rows(self) -> list[tuple[str, str]]:
        w = self.world
        m = w.metrics()
        rows = [(key, f"{m[key]:,}") for key in (
            "alive", "food", "trades", "teaches", "attacks", "kills", "heals", "harvests",
            "terraforms", "crafts", "gold")]
        return rows + [("live NPC-ticks", f"{w.live_npc_ticks:,}"),
                       speed_row(w.live_npc_ticks, "NPC-ticks", self),
                       ("state hash", w.state_hash()[:32])]

    def highlight(self) -> Highlight | None:
        w = self.world
        live = w.alive_slots()
        if not live.size:
            return None
        s = w.state
        top = live[np.lexsort((s.npc_id[live], -s.fitness[live]))][:5]
        rows = [(str(s.npc_id[i]), str(s.fitness[i]), str(s.age[i]), str(s.food_eaten[i]),
                 str(s.gold[i]), c.ITEM_NAMES[s.item[i]], str(s.crafts[i]), str(s.teaches[i]),
                 f"{len(w.substrate.encode(w.genomes[i]))} B") for i in top.tolist()]
        best = int(top[0])
        return Highlight("Top NPCs", ("id", "fitness", "age", "food", "gold", "item", "crafts",
                                      "teaches", "genome"), rows,
                         f"best NPC {s.npc_id[best]} (fitness {s.fitness[best]}), its genome:",
                         w.substrate.to_text(w.genomes[best]))

    # ---- results --------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        w = self.world
        best = w.best_slot()
        return {
            "world": "sandbox", "brain": self.brain, "seed": self.config.seed,
            "ticks": w.tick_no, "live_npc_ticks": w.live_npc_ticks,
            "state_hash": w.state_hash(), "wall_seconds": round(self.wall_seconds, 3),
            "jit_seconds": round(self.jit_seconds, 3),
            "npc_ticks_per_second": round(w.live_npc_ticks / self.wall_seconds)
            if self.wall_seconds > 0 else None,
            "final": w.metrics(),
            "best": None if best < 0 else {
                "id": int(w.state.npc_id[best]), "fitness": int(w.state.fitness[best]),
                "genome_hex": w.substrate.encode(w.genomes[best]).hex()},
        }

    def write(self, rundir: RunDirectory) -> None:
        lin = self.world.lineage
        rundir.write_metrics(self.samples)
        rundir.write_csv("phylogeny.csv", PHYLOGENY_HEADER,
                         phylogeny_rows(lin.ancestors, lin.origin, lin.destruction))
        rundir.write_json("summary.json", self.summary())
