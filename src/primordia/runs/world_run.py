"""What every world's run shares: config -> run directory, the loop over ticks (or turns) with
timeline samples, recording and checkpoints, and resuming from the last checkpoint.
A world's run (``sandbox_run.SandboxRun``, ``hex_run.HexRun``) says how to build, advance,
record and save its world; observers hang off ``Reporter``; the runner does not know who
listens.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, ClassVar, Mapping, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

import numpy as np

from primordia.brains.base import BrainIO, Substrate
from primordia.brains.registry import SUBSTRATES
from primordia.brains.settings import make_substrate
from primordia.core.checks import ArraySpec
from primordia.core.config import describe, merged, read_toml
from primordia.core.errors import ConfigError

from primordia.worlds.config import WorldConfig

from .checkpoint import CheckpointFile, save_checkpoint
from .founders import FOUNDERS_FILE
from .recorder import Recorder, check_header
from .rundir import RunDirectory
from .timeline import sample_every

CHECKPOINT = "checkpoint.npz"


class LineageView(NamedTuple):
    """One look at every slot of a world, for following lineages (runs/island.py)."""

    alive: np.ndarray          # nonzero where an organism lives
    ids: np.ndarray            # its organism id
    cells: np.ndarray          # the cell it stands on, 0 .. n_cells - 1
    values: np.ndarray         # int64 [N, 2]: the world's net energy and interactions
    n_cells: int


class RunMeta(BaseModel):
    """The metadata of every world's checkpoint (a world's run adds its own keys: its
    position, ``tick`` or ``turn``, and its brain). Checked before a run is rebuilt."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    world: str
    samples: list[dict[str, int | float]]
    timeline: int = Field(ge=0)
    record_every: int = Field(ge=1)
    checkpoint_every: int = Field(ge=0)
    record: str | None
    record_bytes: int | None = Field(ge=1)
    """The recording's length when the checkpoint sealed it (never 0: a sealed recording
    holds at least one gzip member); a resumed run cuts the file back to it."""
    wall_seconds: float = Field(ge=0, allow_inf_nan=False)
    brain: str = Field(max_length=64)
    evolver: dict[str, Any] | None = None
    """The state of the run's evolver (``WorldRun.evolver_state``), if it has one."""

    @model_validator(mode="before")
    @classmethod
    def _older_names(cls, data: Any) -> Any:
        """Sandbox checkpoints written before worlds shared one vocabulary name the brain
        ``substrate``."""
        if isinstance(data, dict) and "substrate" in data and "brain" not in data:
            data = {**data, "brain": data["substrate"]}
            del data["substrate"]
        return data


@dataclass(frozen=True)
class Flag:
    """A command-line option of ``primordia run WORLD`` that sets one config key."""

    option: str                           # "--npcs"
    key: str                              # the config key it sets
    type: type                            # int, float or str
    help: str


@dataclass(frozen=True)
class Highlight:
    """The organisms a run's report shows: a table of the most notable, and the readable
    genome of the first (``note`` introduces it)."""

    title: str
    columns: tuple[str, ...]
    rows: list[tuple[str, ...]]
    note: str
    text: str


def speed_row(work: int, unit: str, run: "WorldRun") -> tuple[str, str]:
    """The report's speed line: ``work`` units of ``unit`` per wall second, the wall time
    and the compile time."""
    rate = round(work / run.wall_seconds) if run.wall_seconds > 0 else 0
    if not rate:
        return "speed", f"{run.wall_seconds:.2f} s"
    return "speed", (f"{rate:,} {unit}/s, {run.wall_seconds:.2f} s "
                     f"(+{run.jit_seconds:.1f} s JIT)")


class Reporter:
    """Hooks a run calls; override what you need. ``delta`` is what the world's last tick
    (turn) returned: its change record."""

    def started(self, run: "WorldRun") -> None: ...

    def ticked(self, run: "WorldRun", delta: Any = None) -> None: ...

    def sampled(self, run: "WorldRun", metrics: dict[str, Any]) -> None: ...

    def finished(self, run: "WorldRun") -> None: ...


@dataclass
class WorldRun:
    """One run of a world into a run directory (``out``), or in memory (``out=None``)."""

    WORLD: ClassVar[str] = ""
    UNIT: ClassVar[str] = "tick"          # the config counts UNIT + "s"; meta and metrics UNIT
    SAMPLE_KEY: ClassVar[str] = "tick"    # the metrics key that says when a sample was taken
    CONFIG: ClassVar[type[WorldConfig]] = WorldConfig
    META: ClassVar[type[RunMeta]] = RunMeta
    IO: ClassVar[BrainIO | None] = None
    """The world's sensor and action layout, which its substrates are made for."""

    config: Any
    out: Path | None = None
    brain: str = ""                       # a registered substrate; "": the config's
    founders: list[Any] | None = None     # genomes for the first organisms (an island's)
    founder_record: list[dict[str, Any]] | None = None
    """Where the founders came from (``founders.record``), written to the run directory as
    ``founders.json`` when the world is made."""
    threads: int = 1
    timeline: int = 0
    record: Path | None = None            # default: out/record.jsonl.gz
    record_every: int = 100
    checkpoint_every: int = 0             # 0: only at the end
    reporters: list[Reporter] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    jit_seconds: float = 0.0
    wall_seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.record_every < 1 or self.checkpoint_every < 0 or self.timeline < 0:
            raise ConfigError("record-every must be >= 1; checkpoint-every and timeline >= 0")
        if self.brain and self.brain != self.config.brain.kind:
            self.check_brain(self.brain)
            self.config = self.config.replace(brain={"kind": self.brain})
        self.brain = self.config.brain.kind
        self.check_brain(self.brain)
        self.world: Any = None
        self._recorder: Recorder | None = None
        self._resume_record_at: int | None = None
        self._started = False
        self._rundir: RunDirectory | None = None
        self._every = 1
        self._t0 = 0.0

    # ---- the world's brain -------------------------------------------------------------------
    @classmethod
    def brains(cls) -> tuple[str, ...]:
        """The brains this world runs, its default first: every registered brain that
        ``brain_problem`` does not refuse."""
        default = cls.CONFIG.DEFAULT_BRAIN
        return (default, *(b for b in SUBSTRATES.names()
                           if b != default and cls.refusal(b) is None))

    @classmethod
    def brain_problem(cls, brain: str) -> str | None:
        """Why ``brain`` cannot live in this world (one line), or None when it can."""
        return None

    @classmethod
    def refusal(cls, brain: Any) -> str | None:
        """Why this world will not run ``brain`` -- not a registered substrate, or
        ``brain_problem`` -- or None when it will."""
        if not isinstance(brain, str) or brain not in SUBSTRATES.names():
            return (f"{brain!r} is not a brain Primordia knows (known: "
                    f"{', '.join(SUBSTRATES.names())})")
        return cls.brain_problem(brain)

    @classmethod
    def check_brain(cls, brain: str) -> None:
        """ConfigError unless this world runs ``brain``."""
        problem = cls.refusal(brain)
        if problem:
            raise ConfigError(f"--brain: {problem}")

    @classmethod
    def substrate(cls, config: Any) -> Substrate:
        """The substrate of the config's ``[brain]``, with its settings, made for ``IO``."""
        problem = cls.refusal(config.brain.kind)
        if problem:
            raise ConfigError(f"brain: {problem}")
        return make_substrate(config.brain, cls.IO)

    @classmethod
    def genome_cap(cls, config: Any) -> int:
        """The bytes a genome may have in a world of ``config`` (the ``max_len`` its
        variation is given)."""
        return config.max_genome

    # ---- what islands ask of the world (runs/island.py) -------------------------------------
    @classmethod
    def population(cls, config: Any) -> int:
        """Organisms the world starts with (room for an island's founders)."""
        raise NotImplementedError

    @classmethod
    def bounds(cls, config: Any) -> tuple[int, int]:
        """(cells of the world, organisms alive at once at most): what an honest island
        result stays within."""
        raise NotImplementedError

    def lineage_view(self) -> LineageView:
        """Every slot's life, id, cell and the two values islands sum per lineage (see
        runs/island.py: net energy and interactions)."""
        raise NotImplementedError

    def parents(self, slots: np.ndarray) -> np.ndarray:
        """The (first) parent id of the organisms now in ``slots`` (-1: none)."""
        raise NotImplementedError

    def death_values(self, delta: Any, tracked_ids: np.ndarray) -> np.ndarray | None:
        """What members that died in the last tick add to their lineage's values, per slot
        of ``tracked_ids`` (the ids the island last saw there); None: nothing."""
        return None

    def birth_times(self) -> np.ndarray:
        """The tick (turn) each slot's organism was born in."""
        raise NotImplementedError

    def genome_bytes(self, slot: int) -> bytes:
        """The canonical bytes of the genome in ``slot``."""
        raise NotImplementedError

    def living(self) -> int:
        """Organisms alive now."""
        raise NotImplementedError

    # ---- what the run shows people (cli/run.py draws it) ---------------------------------------
    SMALL: ClassVar[Mapping[str, Any]] = {}
    """Config keys for a small world that is still busy -- organisms move, die and are born
    within a few ticks: what tests and examples start from."""
    FLAGS: ClassVar[tuple[Flag, ...]] = ()
    """The world's own options of ``primordia run WORLD`` (besides --config, --seed, the
    length, --brain and the run's options, which every world has)."""
    SPARKS: ClassVar[tuple[str, ...]] = ()
    """Metrics the report draws as sparklines over the timeline."""
    CUMULATIVE: ClassVar[tuple[str, ...]] = ()
    """Of those, running totals: drawn per sample (the change since the one before)."""

    def status(self) -> str:
        """A few words for the progress bar."""
        return f"{self.living():,} alive"

    def sample_line(self, metrics: dict[str, Any]) -> str:
        """One line for a timeline sample (``--verbose``)."""
        return " ".join(f"{k}={v}" for k, v in metrics.items())

    def picture(self) -> str | None:
        """The world as text, if it has a text form (``--snap-every``)."""
        return None

    def headline(self) -> str:
        """The report's title."""
        return (f"{self.WORLD}: {self.position():,} {self.UNIT}s, {self.brain} brains, "
                f"seed {self.config.seed}")

    def report_rows(self) -> list[tuple[str, str]]:
        """The report's (label, value) lines: totals, speed and state hash."""
        return [("state hash", self.world.state_hash()[:32])]

    def highlight(self) -> Highlight | None:
        """The organisms worth showing at the end, if any."""
        return None

    # ---- what a world's run says ---------------------------------------------------------------
    def warm_up(self) -> None:
        """Compile (or load from cache) the world's kernels on a tiny world."""

    def new_world(self) -> Any:
        raise NotImplementedError

    def position(self) -> int:
        """Ticks (turns) the world has run."""
        raise NotImplementedError

    def open_recorder(self, path: Path, resume_at: int | None) -> Recorder:
        raise NotImplementedError

    def advance(self) -> Any:
        """One tick (turn), recorded; returns the world's delta, if it makes one."""
        raise NotImplementedError

    def checkpoint_arrays(self) -> dict[str, Any]:
        raise NotImplementedError

    def checkpoint_meta(self) -> dict[str, Any]:
        """The world's own entries in the checkpoint's metadata."""
        return {}

    def evolver_state(self) -> dict[str, Any] | None:
        """The state of the evolver that runs the world's GA (``Evolver.state``: JSON data),
        saved in the checkpoint's metadata as ``evolver``; None: the world has none."""
        return None

    def checkpoint_layout(self) -> dict[str, ArraySpec]:
        """Every array a checkpoint of this run may hold, with the largest shape its config
        allows (a checkpoint is refused before larger arrays are read)."""
        raise NotImplementedError

    def write(self, rundir: RunDirectory) -> None:
        raise NotImplementedError

    # ---- the loop ------------------------------------------------------------------------------
    @property
    def limit(self) -> int:
        return getattr(self.config, self.UNIT + "s")

    def execute(self) -> Any:
        """Run to the configured number of ticks (from the start, or from a restored world)."""
        self.start()
        try:
            self.step(self.limit - self.position())
            return self.finish()
        finally:
            self.close()

    def start(self) -> None:
        """Warm up, make the world (unless it was restored), open the recording and tell the
        reporters; then ``step`` advances it and ``finish`` saves the run."""
        t0 = time.perf_counter()
        self.warm_up()
        self.jit_seconds = time.perf_counter() - t0
        self._rundir = RunDirectory(self.out) if self.out is not None else None
        if self._rundir and self.world is None:
            self._rundir.write_text("config.toml", self.config.to_toml())
            if self.founder_record:
                self._rundir.write_json(FOUNDERS_FILE, self.founder_record)
        self._t0 = time.perf_counter()
        if self.world is None:
            self.world = self.new_world()
        rundir = self._rundir
        record_path = self.record or (rundir.file("record.jsonl.gz") if rundir else None)
        if record_path is not None:
            if self._resume_record_at is not None:
                check_header(Path(record_path), self.WORLD, self.config.seed)
            self._recorder = self.open_recorder(record_path, self._resume_record_at)
        self._every = sample_every(self.limit, self.timeline)
        self._started = True
        for r in self.reporters:
            r.started(self)
        self._sample()

    def step(self, count: int = 1) -> Any:
        """Advance ``count`` ticks (turns), recording, sampling and checkpointing as the run
        is set up to; the last tick's delta. Starts the run
        first if ``start`` was not called."""
        if not self._started:
            self.start()
        delta = None
        for _ in range(count):
            delta = self.advance()
            for r in self.reporters:
                r.ticked(self, delta)
            at = self.position()
            if at % self._every == 0 or at == self.limit:
                self._sample()
            if self._rundir and self.checkpoint_every and at % self.checkpoint_every == 0:
                self.checkpoint(self._rundir, time.perf_counter() - self._t0)
        return delta

    def finish(self) -> Any:
        """Save the run -- a last checkpoint, metrics, phylogeny, summary -- close the
        recording and tell the reporters; the world."""
        if not self._started:
            self.start()
        now = time.perf_counter()
        self.wall_seconds += now - self._t0
        self._t0 = now
        if self._rundir:
            self.checkpoint(self._rundir, 0.0)
            self.write(self._rundir)
        self.close()
        for r in self.reporters:
            r.finished(self)
        return self.world

    def close(self) -> None:
        """Close the recording (its last gzip member), if one is open."""
        if self._recorder:
            self._recorder.close()
            self._recorder = None

    # ---- reading a run from Python (primordia.api) ---------------------------------------------
    def state(self) -> dict[str, np.ndarray]:
        """The world's state as named numpy arrays -- organisms by slot, the grid, genomes as
        bytes, the brain's own state: what a checkpoint holds and the state hash digests."""
        if self.world is None:
            self.start()
        return dict(self.checkpoint_arrays())

    def metrics(self) -> dict[str, Any]:
        """The world's counters now."""
        if self.world is None:
            self.start()
        return self.world.metrics()

    def table(self) -> Any:
        """The timeline's samples: a pandas DataFrame when pandas is installed, else a list
        of dicts (one per sample, the same columns as metrics.csv)."""
        try:
            import pandas
        except ImportError:
            return [dict(s) for s in self.samples]
        return pandas.DataFrame(self.samples)

    def save(self) -> Path:
        """Checkpoint the run now into its run directory (``out``); the checkpoint's path.
        ``resume`` continues from it."""
        if self.out is None:
            raise ConfigError("this run has no run directory: make it with out=...")
        if not self._started:
            self.start()
        self.checkpoint(RunDirectory(self.out), time.perf_counter() - self._t0)
        return self.out / CHECKPOINT

    def _sample(self) -> None:
        m = self.world.metrics()
        if self.samples and self.samples[-1][self.SAMPLE_KEY] == m[self.SAMPLE_KEY]:
            return
        self.samples.append(m)
        for r in self.reporters:
            r.sampled(self, m)

    # ---- checkpoints -----------------------------------------------------------------------------
    def checkpoint(self, rundir: RunDirectory, wall_so_far: float) -> None:
        """Save everything needed to resume (atomically), after sealing the recording."""
        meta = {"world": self.WORLD, self.UNIT: self.position(), "samples": self.samples,
                "timeline": self.timeline, "record_every": self.record_every,
                "checkpoint_every": self.checkpoint_every,
                "record": str(self.record) if self.record else None,
                "record_bytes": self._recorder.seal() if self._recorder else None,
                "wall_seconds": self.wall_seconds + wall_so_far, "brain": self.brain,
                **self.checkpoint_meta()}
        evolver = self.evolver_state()
        if evolver is not None:
            meta["evolver"] = evolver
        save_checkpoint(rundir.file(CHECKPOINT), self.checkpoint_arrays(), meta)

    @classmethod
    def reopen(cls, run_dir: Path, count: int | None, threads: int,
               reporters: list[Reporter] | None,
               settings: Callable[[Any], dict[str, Any]] = lambda meta: {}
               ) -> tuple["WorldRun", dict[str, Any], Any]:
        """The common part of resuming: the checkpoint's metadata (checked against
        ``META``), the config with ``count`` ticks (turns) in total if given, the run rebuilt
        around them, and the checkpoint's arrays -- bounded by ``checkpoint_layout`` before
        they are read, and checked against the digest (the world checks their values when
        it is restored from them). ``settings(meta)`` gives the subclass's own run fields
        (its brain, say) from the metadata."""
        rundir = RunDirectory(run_dir)
        path = rundir.file(CHECKPOINT)
        with CheckpointFile(path) as ckpt:
            if ckpt.meta.get("world") != cls.WORLD:
                raise ConfigError(f"{path}: checkpoint of world {ckpt.meta.get('world')!r}, "
                                  f"not {cls.WORLD!r}")
            try:
                meta = cls.META.model_validate(ckpt.meta)
            except ValidationError as exc:
                raise ConfigError(f"{path}: metadata: {describe(exc)}") from None
            problem = cls.refusal(meta.brain)
            if problem:
                raise ConfigError(f"{path}: metadata: brain: {problem}")
            key, at = cls.UNIT + "s", getattr(meta, cls.UNIT)
            values = merged(read_toml(rundir.file("config.toml")),
                            {"brain": {"kind": meta.brain}})
            if count is not None:
                values[key] = count
            config = cls.CONFIG.build(values, source=str(rundir.file("config.toml")))
            if getattr(config, key) < at:
                raise ConfigError(f"--{key} {getattr(config, key)} is before the checkpoint "
                                  f"({cls.UNIT} {at})")
            run = cls(config, out=Path(run_dir), threads=threads, timeline=meta.timeline,
                      record=Path(meta.record) if meta.record else None,
                      record_every=meta.record_every,
                      checkpoint_every=meta.checkpoint_every, brain=meta.brain,
                      reporters=reporters or [], **settings(meta))
            run.samples = cls._checked_samples(path, meta.samples, at)
            run.wall_seconds = meta.wall_seconds
            run._resume_record_at = meta.record_bytes
            arrays = ckpt.read(run.checkpoint_layout())
        if values.get(key) != getattr(config, key) or count is not None:
            rundir.write_text("config.toml", config.to_toml())
        return run, arrays, meta

    @classmethod
    def _checked_samples(cls, path: Path, samples: list[dict[str, Any]], at: int
                         ) -> list[dict[str, Any]]:
        """The timeline so far: samples with the same metrics, taken at increasing
        ticks (turns) up to the checkpoint's."""
        last = -1
        for k, sample in enumerate(samples):
            when = sample.get(cls.SAMPLE_KEY)
            if type(when) is not int or not last < when <= at:
                raise ConfigError(f"{path}: metadata: samples.{k}.{cls.SAMPLE_KEY} is "
                                  f"{when!r}; samples go up from {last + 1} to {at}")
            if sample.keys() != samples[0].keys():
                raise ConfigError(f"{path}: metadata: samples.{k} has other metrics than "
                                  "samples.0")
            last = when
        return [dict(s) for s in samples]

    def _check_metrics(self) -> None:
        """The timeline's samples hold the metrics this world reports (after a resume)."""
        names = set(self.world.metrics())
        if self.samples and set(self.samples[0]) != names:
            raise ConfigError(f"{self.out}/{CHECKPOINT}: metadata: samples hold metrics "
                              f"{sorted(self.samples[0])}, not the world's")
