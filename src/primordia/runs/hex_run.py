"""A hex-world run from config to run directory: turns, timeline, a recording of every turn's
delta, checkpoints, phylogeny, summary -- and resuming from the last checkpoint. The same
layout as a sandbox run (``sandbox_run.py``); observers hang off ``Reporter``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from primordia.brains.base import Substrate
from primordia.brains.registry import SUBSTRATES
from primordia.core.config import read_toml
from primordia.core.errors import ConfigError
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.world import HEX_IO, HexWorld, TickDelta

from .checkpoint import load_checkpoint, save_checkpoint
from .phylogeny import PHYLOGENY_HEADER, phylogeny_rows
from .recorder import Recorder
from .rundir import RunDirectory
from .timeline import sample_every

CHECKPOINT = "checkpoint.npz"
BRAINS = ("neural", "psil")


def hex_substrate(brain: str, config: HexConfig) -> Substrate:
    """The substrate for ``brain``, with the config's brain settings where it takes them."""
    if brain == "neural":
        return SUBSTRATES.get("neural", io=HEX_IO, num_neurons=config.num_neurons,
                              max_num_neurons=config.max_num_neurons,
                              num_synapses=config.num_synapses,
                              mutation_magnitude=config.mutation_magnitude)
    return SUBSTRATES.get(brain)


class Reporter:
    """Hooks a run calls; override what you need."""

    def started(self, run: "HexRun") -> None: ...

    def ticked(self, run: "HexRun", delta: TickDelta) -> None: ...

    def sampled(self, run: "HexRun", metrics: dict[str, Any]) -> None: ...

    def finished(self, run: "HexRun") -> None: ...


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


@dataclass
class Lineage:
    """Every organism that ever lived: parent, birth and death turns (for phylogeny.csv)."""

    parent: dict[int, int] = field(default_factory=dict)
    origin: dict[int, int] = field(default_factory=dict)
    destruction: dict[int, int] = field(default_factory=dict)

    def saw(self, delta: TickDelta) -> None:
        rows = delta.spawned_rows
        for oid, parent in zip(rows[:, 0].tolist(), rows[:, 7].tolist()):
            self.parent[oid], self.origin[oid] = parent, delta.turn
        for oid in delta.removed_ids.tolist():
            self.destruction[oid] = delta.turn

    def arrays(self) -> dict[str, np.ndarray]:
        ids = sorted(self.origin)
        return {"lineage.id": np.array(ids, dtype=np.int64),
                "lineage.parent": np.array([self.parent[i] for i in ids], dtype=np.int64),
                "lineage.origin": np.array([self.origin[i] for i in ids], dtype=np.int64),
                "lineage.destruction": np.array([self.destruction.get(i, -1) for i in ids],
                                                dtype=np.int64)}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> "Lineage":
        out = cls()
        for i, p, o, d in zip(*(np.asarray(arrays[f"lineage.{k}"]).tolist()
                                for k in ("id", "parent", "origin", "destruction"))):
            out.parent[i], out.origin[i] = p, o
            if d >= 0:
                out.destruction[i] = d
        return out

    def rows(self) -> list[tuple]:
        ancestors = {i: ((p,) if p >= 0 else ()) for i, p in self.parent.items()}
        return phylogeny_rows(ancestors, self.origin, self.destruction)


@dataclass
class HexRun:
    """One run of the hex world into a run directory (``out``), or in memory (``out=None``)."""

    config: HexConfig
    out: Path | None = None
    brain: str = "neural"
    threads: int = 1
    timeline: int = 0
    record: Path | None = None          # default: out/record.jsonl.gz
    record_every: int = 100             # turns between full snapshots in the recording
    checkpoint_every: int = 0           # 0: only at the end
    reporters: list[Reporter] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    lineage: Lineage = field(default_factory=Lineage)
    wall_seconds: float = 0.0
    jit_seconds: float = 0.0
    organism_turns: int = 0

    def __post_init__(self) -> None:
        if self.brain not in BRAINS:
            raise ConfigError(f"--brain {self.brain!r}: choose one of {', '.join(BRAINS)}")
        if self.record_every < 1 or self.checkpoint_every < 0 or self.timeline < 0:
            raise ConfigError("record-every must be >= 1; checkpoint-every and timeline >= 0")
        self.world: HexWorld | None = None
        self._recorder: DeltaRecorder | None = None
        self._resume_record_at: int | None = None

    def execute(self) -> HexWorld:
        """Run to ``config.turns`` (from the start, or from a restored world)."""
        t0 = time.perf_counter()
        warm = HexWorld(HexConfig(world_width=4, num_organisms=6, seed=1),
                        hex_substrate(self.brain, self.config), threads=self.threads)
        warm.run(3)
        self.jit_seconds = time.perf_counter() - t0
        rundir = RunDirectory(self.out) if self.out is not None else None
        if rundir and self.world is None:
            rundir.write_text("config.toml", self.config.to_toml())
        t0 = time.perf_counter()
        if self.world is None:
            self.world = HexWorld(self.config, hex_substrate(self.brain, self.config),
                                  threads=self.threads)
            self.lineage.saw(self.world.last_delta)
        world = self.world
        record_path = self.record or (rundir.file("record.jsonl.gz") if rundir else None)
        if record_path is not None:
            self._recorder = DeltaRecorder(record_path, self.record_every,
                                           self._resume_record_at)
            if self._resume_record_at is None:
                self._recorder.header(world)
        every = sample_every(self.config.turns, self.timeline)
        for r in self.reporters:
            r.started(self)
        self._sample()
        try:
            while world.turn < self.config.turns:
                self.organism_turns += int(world.alive_slots().size)
                delta = world.tick()
                self.lineage.saw(delta)
                if self._recorder:
                    self._recorder.delta(world, delta)
                for r in self.reporters:
                    r.ticked(self, delta)
                if world.turn % every == 0 or world.turn == self.config.turns:
                    self._sample()
                if rundir and self.checkpoint_every and \
                        world.turn % self.checkpoint_every == 0:
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
        if self.samples and self.samples[-1]["turns"] == m["turns"]:
            return
        self.samples.append(m)
        for r in self.reporters:
            r.sampled(self, m)

    # ---- checkpoints -----------------------------------------------------------------------------
    def checkpoint(self, rundir: RunDirectory, wall_so_far: float) -> None:
        """Save everything needed to resume (atomically), after sealing the recording."""
        meta = {"world": "hex", "brain": self.brain, "turn": self.world.turn,
                "samples": self.samples, "timeline": self.timeline,
                "record_every": self.record_every, "checkpoint_every": self.checkpoint_every,
                "record": str(self.record) if self.record else None,
                "record_bytes": self._recorder.seal() if self._recorder else None,
                "organism_turns": self.organism_turns,
                "wall_seconds": self.wall_seconds + wall_so_far}
        save_checkpoint(rundir.file(CHECKPOINT), {**self.world.arrays(),
                                                  **self.lineage.arrays()}, meta)

    @classmethod
    def resume(cls, run_dir: Path, turns: int | None = None, threads: int = 1,
               reporters: list[Reporter] | None = None) -> "HexRun":
        """The run saved in ``run_dir``, restored at its last checkpoint, to continue up to
        ``turns`` in total (default: the configured number)."""
        rundir = RunDirectory(run_dir)
        arrays, meta = load_checkpoint(rundir.file(CHECKPOINT))
        if meta.get("world") != "hex":
            raise ConfigError(f"{run_dir}: checkpoint of world {meta.get('world')!r}")
        values = read_toml(rundir.file("config.toml"))
        if turns is not None:
            values["turns"] = turns
        config = HexConfig.build(values, source=str(rundir.file("config.toml")))
        if config.turns < int(meta["turn"]):
            raise ConfigError(f"--turns {config.turns} is before the checkpoint "
                              f"(turn {meta['turn']})")
        brain = str(meta.get("brain", "neural"))
        run = cls(config, out=Path(run_dir), brain=brain, threads=threads,
                  timeline=int(meta.get("timeline", 0)),
                  record=Path(meta["record"]) if meta.get("record") else None,
                  record_every=int(meta.get("record_every", 100)),
                  checkpoint_every=int(meta.get("checkpoint_every", 0)),
                  reporters=reporters or [])
        try:
            run.lineage = Lineage.from_arrays(arrays)
        except KeyError as exc:
            raise ConfigError(f"checkpoint: missing {exc.args[0]}") from None
        run.world = HexWorld.restore(config, hex_substrate(brain, config), arrays,
                                     threads=threads)
        run.samples = list(meta.get("samples", []))
        run.wall_seconds = float(meta.get("wall_seconds", 0.0))
        run.organism_turns = int(meta.get("organism_turns", 0))
        run._resume_record_at = meta.get("record_bytes")
        if values.get("turns") != config.turns or turns is not None:
            rundir.write_text("config.toml", config.to_toml())
        return run

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
