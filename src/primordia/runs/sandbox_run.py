"""A sandbox run from config to run directory: warm-up, ticks, timeline, phylogeny, summary.

Observers (the CLI's progress bar and printouts) hang off ``Reporter``; the runner does not
know who listens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from primordia.brains.registry import SUBSTRATES
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.worlds.sandbox.world import SandboxWorld

from .phylogeny import PHYLOGENY_HEADER, phylogeny_rows
from .rundir import RunDirectory
from .timeline import sample_every


class Reporter:
    """Hooks a run calls; override what you need."""

    def started(self, run: "SandboxRun") -> None: ...

    def ticked(self, run: "SandboxRun") -> None: ...

    def sampled(self, run: "SandboxRun", metrics: dict[str, Any]) -> None: ...

    def finished(self, run: "SandboxRun") -> None: ...


def warm_up(substrate: str = "psil") -> float:
    """Compile (or load from cache) every kernel of the sandbox on a tiny world; seconds."""
    t0 = time.perf_counter()
    w = SandboxWorld(SandboxConfig(npcs=8, ticks=3, evolve_every=2), SUBSTRATES.get(substrate))
    w.run(3)
    w.state_hash()
    return time.perf_counter() - t0


@dataclass
class SandboxRun:
    """One run of the sandbox, optionally writing a run directory."""

    config: SandboxConfig
    out: Path | None = None
    threads: int = 1
    timeline: int = 0
    substrate: str = "psil"
    reporters: list[Reporter] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    jit_seconds: float = 0.0
    wall_seconds: float = 0.0

    def execute(self) -> SandboxWorld:
        self.jit_seconds = warm_up(self.substrate)
        rundir = RunDirectory(self.out) if self.out is not None else None
        if rundir:
            rundir.write_text("config.toml", self.config.to_toml())
        t0 = time.perf_counter()
        self.world = world = SandboxWorld(self.config, SUBSTRATES.get(self.substrate),
                                          threads=self.threads)
        every = sample_every(self.config.ticks, self.timeline)
        for r in self.reporters:
            r.started(self)
        self._sample()
        while world.tick_no < self.config.ticks:
            world.tick()
            for r in self.reporters:
                r.ticked(self)
            if world.tick_no % every == 0 or world.tick_no == self.config.ticks:
                self._sample()
        self.wall_seconds = time.perf_counter() - t0
        if rundir:
            self.write(rundir)
        for r in self.reporters:
            r.finished(self)
        return world

    def _sample(self) -> None:
        m = self.world.metrics()
        if self.samples and self.samples[-1]["tick"] == m["tick"]:
            return
        self.samples.append(m)
        for r in self.reporters:
            r.sampled(self, m)

    def summary(self) -> dict[str, Any]:
        w = self.world
        last = w.metrics()
        best = w.best_slot()
        return {
            "world": "sandbox", "brain": self.substrate, "seed": self.config.seed,
            "ticks": w.tick_no, "live_npc_ticks": w.live_npc_ticks,
            "state_hash": w.state_hash(), "wall_seconds": round(self.wall_seconds, 3),
            "jit_seconds": round(self.jit_seconds, 3),
            "npc_ticks_per_second": round(w.live_npc_ticks / self.wall_seconds)
            if self.wall_seconds > 0 else None,
            "final": last,
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
