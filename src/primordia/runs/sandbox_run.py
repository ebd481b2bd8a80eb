"""A sandbox run from config to run directory: warm-up, ticks, timeline, recording,
checkpoints, phylogeny, summary -- and resuming from the last checkpoint (the loop and the
checkpoints are ``world_run.WorldRun``'s).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field
from primordia.brains.registry import SUBSTRATES
from primordia.core.checks import ArraySpec
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.worlds.sandbox.world import SandboxWorld

from .phylogeny import PHYLOGENY_HEADER, phylogeny_rows
from .recorder import Recorder
from .rundir import RunDirectory
from .world_run import CHECKPOINT, Reporter, RunMeta, WorldRun

__all__ = ["CHECKPOINT", "Reporter", "SandboxRun", "warm_up"]


def warm_up(substrate: str = "psil") -> float:
    """Compile (or load from cache) every kernel of the sandbox on a tiny world; seconds."""
    t0 = time.perf_counter()
    w = SandboxWorld(SandboxConfig(npcs=8, ticks=3, evolve_every=2), SUBSTRATES.get(substrate))
    w.run(3)
    SandboxWorld.restore(w.config, w.substrate, w.snapshot()).state_hash()
    return time.perf_counter() - t0


class SandboxMeta(RunMeta):
    """A sandbox checkpoint's metadata: the common keys, the tick and the substrate."""

    tick: int = Field(ge=0)
    substrate: str


@dataclass
class SandboxRun(WorldRun):
    """One run of the sandbox into a run directory (``out``), or in memory (``out=None``)."""

    WORLD = "sandbox"
    UNIT = "tick"
    SAMPLE_KEY = "tick"
    CONFIG = SandboxConfig
    META = SandboxMeta

    substrate: str = "psil"
    founders: list[Any] | None = None     # genomes for the first NPCs (an island's seeds)

    def warm_up(self) -> None:
        warm_up(self.substrate)

    def new_world(self) -> SandboxWorld:
        return SandboxWorld(self.config, SUBSTRATES.get(self.substrate), threads=self.threads,
                            founders=self.founders)

    def position(self) -> int:
        return self.world.tick_no

    def open_recorder(self, path: Path, resume_at: int | None) -> Recorder:
        recorder = Recorder(path, self.record_every, resume_at)
        if resume_at is None:
            recorder.header(self.world)
            recorder.maybe_record(self.world)
        return recorder

    def advance(self) -> None:
        self.world.tick()
        if self._recorder:
            self._recorder.maybe_record(self.world)

    def checkpoint_arrays(self) -> dict[str, Any]:
        return self.world.snapshot()

    def checkpoint_meta(self) -> dict[str, Any]:
        return {"substrate": self.substrate}

    def checkpoint_layout(self) -> dict[str, ArraySpec]:
        return SandboxWorld.snapshot_layout(self.config, SUBSTRATES.get(self.substrate))

    @classmethod
    def resume(cls, run_dir: Path, ticks: int | None = None, threads: int = 1,
               reporters: list[Reporter] | None = None) -> "SandboxRun":
        """The run saved in ``run_dir``, restored at its last checkpoint, to continue up to
        ``ticks`` in total (default: the configured number)."""
        run, arrays, _ = cls.reopen(run_dir, ticks, threads, reporters,
                                    lambda meta: {"substrate": meta.substrate})
        run.world = SandboxWorld.restore(run.config, SUBSTRATES.get(run.substrate), arrays,
                                         threads=threads, source=str(run.out / CHECKPOINT))
        run._check_metrics()
        return run

    # ---- results --------------------------------------------------------------------------------
    def summary(self) -> dict[str, Any]:
        w = self.world
        best = w.best_slot()
        return {
            "world": "sandbox", "brain": self.substrate, "seed": self.config.seed,
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
