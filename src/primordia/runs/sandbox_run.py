"""A sandbox run from config to run directory: warm-up, ticks, timeline, recording,
checkpoints, phylogeny, summary -- and resuming from the last checkpoint.

Observers (the CLI's progress bar and printouts) hang off ``Reporter``; the runner does not
know who listens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from primordia.brains.registry import SUBSTRATES
from primordia.core.config import read_toml
from primordia.core.errors import ConfigError
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.worlds.sandbox.world import SandboxWorld

from .checkpoint import load_checkpoint, save_checkpoint
from .phylogeny import PHYLOGENY_HEADER, phylogeny_rows
from .recorder import Recorder
from .rundir import RunDirectory
from .timeline import sample_every

CHECKPOINT = "checkpoint.npz"


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
    SandboxWorld.restore(w.config, w.substrate, w.snapshot()).state_hash()
    return time.perf_counter() - t0


@dataclass
class SandboxRun:
    """One run of the sandbox into a run directory (``out``), or in memory (``out=None``)."""

    config: SandboxConfig
    out: Path | None = None
    threads: int = 1
    timeline: int = 0
    substrate: str = "psil"
    record: Path | None = None          # default: out/record.jsonl.gz
    record_every: int = 100
    checkpoint_every: int = 0           # 0: only at the end
    reporters: list[Reporter] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    jit_seconds: float = 0.0
    wall_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.record_every < 1 or self.checkpoint_every < 0 or self.timeline < 0:
            raise ConfigError("record-every must be >= 1; checkpoint-every and timeline >= 0")
        self.world: SandboxWorld | None = None
        self._recorder: Recorder | None = None
        self._resume_record_at: int | None = None

    # ---- running -------------------------------------------------------------------------------
    def execute(self) -> SandboxWorld:
        """Run to ``config.ticks`` (from the start, or from a restored world)."""
        self.jit_seconds = warm_up(self.substrate)
        rundir = RunDirectory(self.out) if self.out is not None else None
        if rundir and self.world is None:
            rundir.write_text("config.toml", self.config.to_toml())
        t0 = time.perf_counter()
        if self.world is None:
            self.world = SandboxWorld(self.config, SUBSTRATES.get(self.substrate),
                                      threads=self.threads)
        world = self.world
        record_path = self.record or (rundir.file("record.jsonl.gz") if rundir else None)
        if record_path is not None:
            self._recorder = Recorder(record_path, self.record_every, self._resume_record_at)
            if self._resume_record_at is None:
                self._recorder.header(world)
                self._recorder.maybe_record(world)
        every = sample_every(self.config.ticks, self.timeline)
        for r in self.reporters:
            r.started(self)
        self._sample()
        try:
            while world.tick_no < self.config.ticks:
                world.tick()
                if self._recorder:
                    self._recorder.maybe_record(world)
                for r in self.reporters:
                    r.ticked(self)
                if world.tick_no % every == 0 or world.tick_no == self.config.ticks:
                    self._sample()
                if rundir and self.checkpoint_every and \
                        world.tick_no % self.checkpoint_every == 0:
                    self.checkpoint(rundir, time.perf_counter() - t0)
            self.wall_seconds += time.perf_counter() - t0
            if rundir:
                self.checkpoint(rundir, 0.0)
                self.write(rundir)
        finally:
            if self._recorder:
                self._recorder.close()
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

    # ---- checkpoints -----------------------------------------------------------------------------
    def checkpoint(self, rundir: RunDirectory, wall_so_far: float) -> None:
        """Save everything needed to resume (atomically), after sealing the recording."""
        meta = {"world": "sandbox", "substrate": self.substrate, "tick": self.world.tick_no,
                "samples": self.samples, "timeline": self.timeline,
                "record_every": self.record_every, "checkpoint_every": self.checkpoint_every,
                "record": str(self.record) if self.record else None,
                "record_bytes": self._recorder.seal() if self._recorder else None,
                "wall_seconds": self.wall_seconds + wall_so_far}
        save_checkpoint(rundir.file(CHECKPOINT), self.world.snapshot(), meta)

    @classmethod
    def resume(cls, run_dir: Path, ticks: int | None = None, threads: int = 1,
               reporters: list[Reporter] | None = None) -> "SandboxRun":
        """The run saved in ``run_dir``, restored at its last checkpoint, to continue up to
        ``ticks`` in total (default: the configured number)."""
        rundir = RunDirectory(run_dir)
        arrays, meta = load_checkpoint(rundir.file(CHECKPOINT))
        if meta.get("world") != "sandbox":
            raise ConfigError(f"{run_dir}: checkpoint of world {meta.get('world')!r}")
        values = read_toml(rundir.file("config.toml"))
        if ticks is not None:
            values["ticks"] = ticks
        config = SandboxConfig.build(values, source=str(rundir.file("config.toml")))
        if config.ticks < int(meta["tick"]):
            raise ConfigError(f"--ticks {config.ticks} is before the checkpoint "
                              f"(tick {meta['tick']})")
        substrate = str(meta.get("substrate", "psil"))
        run = cls(config, out=Path(run_dir), threads=threads,
                  timeline=int(meta.get("timeline", 0)), substrate=substrate,
                  record=Path(meta["record"]) if meta.get("record") else None,
                  record_every=int(meta.get("record_every", 100)),
                  checkpoint_every=int(meta.get("checkpoint_every", 0)),
                  reporters=reporters or [])
        run.world = SandboxWorld.restore(config, SUBSTRATES.get(substrate), arrays,
                                         threads=threads)
        run.samples = list(meta.get("samples", []))
        run.wall_seconds = float(meta.get("wall_seconds", 0.0))
        run._resume_record_at = meta.get("record_bytes")
        if values.get("ticks") != config.ticks or ticks is not None:
            rundir.write_text("config.toml", config.to_toml())
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
