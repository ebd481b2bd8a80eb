"""A task for bit networks (the Mycos design's Task schema): which input bits the task drives, which
output bits it reads, the episodes (inputs per tick and the expected outputs), and how the
outputs are scored. Tasks are JSON data files (``tasks/data``), validated on load.

Ticks: a ``level`` task writes its input vector at the start of each tick and leaves it
there. A ``pulse`` task raises the inputs its vector sets and lowers them again within the
tick (two evaluator ticks, outputs read after the second), so that a run of ones counts as
that many pulses -- as T03's pulse counter needs.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator

from primordia.brains.mycos.genome import DEFAULT_CAPS
from primordia.core.config import FrozenModel
from primordia.core.errors import ConfigError, InputFileError

DATA = Path(__file__).resolve().parent / "data"


class Scoring(FrozenModel):
    """How an episode's outputs score: ``hamming`` -- 1 minus the share of wrong output bits
    over all ticks; ``latency`` -- exp(-alpha x the first tick whose outputs are all right),
    0 if none is."""

    kind: Literal["hamming", "latency"] = "hamming"
    alpha: float = Field(0.5, gt=0, description="Decay per tick of the latency score.")


class Episode(FrozenModel):
    """Input values per tick (one per task input; a single row is held for every tick), the
    expected outputs after each tick (one per task output), and optional overrides of initial
    internal bits, (chunk, bit, value), for this episode (bits a network lacks are ignored;
    the last value given for a bit wins)."""

    inputs: list[list[Literal[0, 1]]] = Field(min_length=1)
    expected: list[list[Literal[0, 1]]] = Field(min_length=1)
    internals: list[tuple[int, int, Literal[0, 1]]] = Field(default_factory=list,
                                                             max_length=4096)

    @model_validator(mode="after")
    def _internal_bits_exist_in_some_network(self) -> "Episode":
        for c, b, _ in self.internals:
            if not (0 <= c < DEFAULT_CAPS.max_chunks and 0 <= b < DEFAULT_CAPS.max_nn_per_chunk):
                raise ValueError(f"internals: ({c}, {b}) is outside chunks 0.."
                                 f"{DEFAULT_CAPS.max_chunks - 1} and internal bits 0.."
                                 f"{DEFAULT_CAPS.max_nn_per_chunk - 1}")
        return self


class TaskIO(FrozenModel):
    """(chunk, bit) of each input the task drives and each output it reads."""

    inputs: list[tuple[int, int]] = Field(min_length=1)
    outputs: list[tuple[int, int]] = Field(min_length=1)

    @model_validator(mode="after")
    def _bits_are_distinct_and_natural(self) -> "TaskIO":
        for name, pairs in (("inputs", self.inputs), ("outputs", self.outputs)):
            if any(c < 0 or b < 0 for c, b in pairs):
                raise ValueError(f"{name}: chunks and bits are counted from 0")
            if any(c >= DEFAULT_CAPS.max_chunks or b >= DEFAULT_CAPS.max_io_per_chunk
                   for c, b in pairs):
                raise ValueError(f"{name}: chunks go up to {DEFAULT_CAPS.max_chunks - 1} and "
                                 f"bits up to {DEFAULT_CAPS.max_io_per_chunk - 1}")
            if len(set(pairs)) != len(pairs):
                raise ValueError(f"{name}: a (chunk, bit) is named twice")
        return self


class Task(FrozenModel):
    """One task: IO, ticks per episode, input mode, episodes and scoring."""

    name: str = Field(min_length=1)
    description: str = ""
    io: TaskIO
    tick_budget: int = Field(ge=1, le=4096, description="Ticks per episode.")
    input_mode: Literal["level", "pulse"] = "level"
    episodes: list[Episode] = Field(min_length=1, max_length=65536)
    scoring: Scoring = Scoring()

    @model_validator(mode="after")
    def _episodes_fit(self) -> "Task":
        n_in, n_out, ticks = len(self.io.inputs), len(self.io.outputs), self.tick_budget
        for e, ep in enumerate(self.episodes):
            if len(ep.inputs) not in (1, ticks):
                raise ValueError(f"episodes[{e}].inputs: {len(ep.inputs)} rows; give 1 (held) "
                                 f"or one per tick ({ticks})")
            if len(ep.expected) != ticks:
                raise ValueError(f"episodes[{e}].expected: {len(ep.expected)} rows; one per "
                                 f"tick ({ticks})")
            if any(len(row) != n_in for row in ep.inputs):
                raise ValueError(f"episodes[{e}].inputs: each row needs {n_in} values")
            if any(len(row) != n_out for row in ep.expected):
                raise ValueError(f"episodes[{e}].expected: each row needs {n_out} values")
        return self

    # ---- what the evaluator runs ----------------------------------------------------------
    @property
    def steps_per_tick(self) -> int:
        return 2 if self.input_mode == "pulse" else 1

    def input_values(self) -> np.ndarray:
        """uint8[episodes, evaluator ticks, inputs]: what each evaluator tick writes."""
        ticks, per = self.tick_budget, self.steps_per_tick
        out = np.zeros((len(self.episodes), ticks * per, len(self.io.inputs)), dtype=np.uint8)
        for e, ep in enumerate(self.episodes):
            rows = ep.inputs if len(ep.inputs) == ticks else ep.inputs * ticks
            out[e, ::per] = np.array(rows, dtype=np.uint8)     # pulses: zeros between
        return out

    def internals(self) -> list[list[tuple[int, int, int]]] | None:
        """Each episode's overrides of initial internal bits (None: no episode has any)."""
        if not any(ep.internals for ep in self.episodes):
            return None
        return [[tuple(x) for x in ep.internals] for ep in self.episodes]

    def expected(self) -> np.ndarray:
        """uint8[episodes, ticks, outputs]."""
        return np.array([ep.expected for ep in self.episodes], dtype=np.uint8)

    def observed(self, seen: np.ndarray) -> np.ndarray:
        """The evaluator's outputs after each evaluator tick -> after each task tick."""
        return seen[..., self.steps_per_tick - 1::self.steps_per_tick, :]


def task_from_json(text: str | bytes, source: str = "task") -> Task:
    """Parse and validate a task; ConfigError names the field."""
    try:
        data = json.loads(text)
    except (ValueError, RecursionError) as exc:        # bad UTF-8 and JSON, absurd numbers
        raise ConfigError(f"{source}: not JSON ({str(exc)[:120]})") from None
    try:
        return Task.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        message = err["msg"].removeprefix("Value error, ")
        where = ".".join(str(p) for p in err["loc"])
        raise ConfigError(f"{source}: {where}: {message}" if where else f"{source}: {message}") \
            from None


def builtin_tasks() -> list[str]:
    """Names of the tasks that ship with Primordia."""
    return sorted(p.stem for p in DATA.glob("*.json"))


def load_task(name_or_path: str) -> Task:
    """A shipped task by name (``T01_xor2``), or a task JSON file by path."""
    unknown = ConfigError(f"unknown task {name_or_path[:80]!r} (known: "
                          f"{', '.join(builtin_tasks())}; or give a .json file)")
    try:
        path = DATA / f"{name_or_path}.json"
        if not path.is_file():
            path = Path(name_or_path)
            if path.suffix.lower() != ".json" or not path.is_file():
                raise unknown
    except (OSError, ValueError):                      # a name too long, a NUL byte
        raise unknown from None
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InputFileError(f"{path}: {exc.strerror or exc}") from None
    return task_from_json(text, path.name)
