"""Scores, penalties and objectives of bit networks on a task, as the Mycos design scores them
(docs/evolve.md).

- Episode scores: ``hamming`` (1 - wrong output bits / (outputs x ticks)) or ``latency``
  (exp(-alpha x first tick with every output right), 0 if never).
- Soft penalties per network: lambda_conn x connections + lambda_bits x internal bits +
  lambda_links x links + the mean over episodes of (lambda_osc x rounds, if the episode
  oscillated, + lambda_cycle x 1{a cycle was found}).
- Fitness: mean episode score minus the penalties. Objectives, for Pareto selection:
  (mean score, -connections, -internal bits, -oscillation penalty), all to be maximised.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from pydantic import Field

from primordia.brains.mycos.batch import evaluate
from primordia.brains.mycos.genome import MycosGenome
from primordia.brains.mycos.kernels import M_OSCILLATOR, M_PERIOD, M_ROUNDS
from primordia.brains.mycos.reference import Guards
from primordia.core.config import FrozenModel

from .task import Task


class Penalties(FrozenModel):
    """Weights of the soft penalties (the Mycos design's defaults)."""

    conn: float = Field(1e-4, ge=0, description="Per connection.")
    bits: float = Field(1e-4, ge=0, description="Per internal bit.")
    links: float = Field(1e-4, ge=0, description="Per link.")
    osc: float = Field(1e-3, ge=0, description="Per round of an oscillating episode.")
    cycle: float = Field(5e-4, ge=0, description="Per episode in which a cycle was found.")


def episode_scores(task: Task, seen: np.ndarray) -> np.ndarray:
    """float64[networks, episodes] from the evaluator's outputs ``seen[g, e, t, j]``."""
    got = task.observed(seen)
    want = task.expected()[None]
    if task.scoring.kind == "hamming":
        wrong = (got != want).sum(axis=(2, 3))
        return 1.0 - wrong / (want.shape[2] * want.shape[3])
    right = (got == want).all(axis=3)                       # [g, e, t]
    first = np.where(right.any(axis=2), right.argmax(axis=2), -1)
    return np.where(first >= 0, np.exp(-task.scoring.alpha * np.maximum(first, 0)), 0.0)


def size_of(genomes: Sequence[MycosGenome]) -> np.ndarray:
    """int64[networks, 3]: connections, internal bits, links."""
    return np.array([(g.n_connections, sum(ch.nn for ch in g.chunks), len(g.links))
                     for g in genomes], dtype=np.int64).reshape(len(genomes), 3)


def oscillation_penalty(metrics: np.ndarray, weights: Penalties) -> np.ndarray:
    """float64[networks]: mean over episodes of the oscillation and cycle terms."""
    osc = metrics[..., M_OSCILLATOR] > 0
    per = weights.osc * metrics[..., M_ROUNDS] * osc + weights.cycle * (metrics[..., M_PERIOD] > 0)
    return per.mean(axis=1)


@dataclass(frozen=True)
class TaskResult:
    """A population's results on one task."""

    seen: np.ndarray          # uint8[g, e, evaluator ticks, outputs]
    metrics: np.ndarray       # int64[g, e, 5] (batch.METRIC_NAMES)
    scores: np.ndarray        # float64[g, e]
    fitness: np.ndarray       # float64[g]
    objectives: np.ndarray    # float64[g, 4]


def evaluate_task(task: Task, genomes: Sequence[MycosGenome], guards: Guards = Guards(),
                  weights: Penalties = Penalties(), threads: int = 1) -> TaskResult:
    """Run every network on every episode of ``task`` and score it."""
    seen, metrics = evaluate(genomes, task.io.inputs, task.io.outputs, task.input_values(),
                             guards, threads=threads, internals=task.internals())
    scores = episode_scores(task, seen)
    sizes = size_of(genomes)
    osc = oscillation_penalty(metrics, weights)
    mean = scores.mean(axis=1)
    fitness = (mean - weights.conn * sizes[:, 0] - weights.bits * sizes[:, 1]
               - weights.links * sizes[:, 2] - osc)
    objectives = np.stack([mean, -sizes[:, 0], -sizes[:, 1], -osc], axis=1).astype(np.float64)
    return TaskResult(seen, metrics, scores, fitness, objectives)
