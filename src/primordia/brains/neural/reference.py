"""One neural organism's turn in plain Python: the readable oracle for ``kernels.py``.

The rules (NeuroGenesis's brain; docs/brains/neural.md, "One turn"), for each turn:

    confidence = max of the inter activations at the start of the turn (0.0 with none)
    inter_i    = tanh(b_i + sum sensory * w + sum previous-turn inter * w)
    action_k   = tanh(b_k + sum sensory * w + sum this turn's inter * w),  on when > 0

A sensory neuron's value is its sensor as a float. Each neuron's input is its bias plus its
incoming synapses' contributions added one at a time in increasing order of the presynaptic id
(the canonical synapse order), so the sum, and every bit of the result, is fixed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

from primordia.brains.base import BrainIO

from .genome import ACTION_BASE, INTER_BASE, NeuralGenome, confidence_slot
from .tanh import tanh_py


def action_value(a: float, levels: int) -> int:
    """The value an action neuron of activation ``a`` writes to a slot with ``levels`` values:
    on/off (a > 0) for two, else min(levels - 1, floor((a + 1) / 2 * levels))."""
    if levels == 2:
        return 1 if a > 0.0 else 0
    v = int((a + 1.0) * 0.5 * float(levels))     # a >= -1, so truncation is floor
    return levels - 1 if v > levels - 1 else v


def confidence_value(c: float) -> int:
    """A confidence in [-1, 1] as 16.16 fixed point, rounded half up."""
    x = c * 65536.0 + 0.5
    v = int(x)
    if float(v) > x:                              # int() truncates; floor for negatives
        v -= 1
    return v


@dataclass(frozen=True)
class TurnResult:
    """What one turn of one organism produced."""

    inter: tuple[float, ...]       # new inter activations, in inter id order
    actions: tuple[float, ...]     # action activations, in action id order
    values: tuple[int, ...]        # the action slots as the world reads them
    confidence: float
    synapse_ops: int


def turn(genome: NeuralGenome, io: BrainIO, sensors: Sequence[int],
         inter_before: Sequence[float]) -> TurnResult:
    """Evaluate one turn of ``genome`` (which fits ``io``) from its inter activations at the
    start of the turn (in inter id order)."""
    before = dict(zip(genome.inter_ids, inter_before))
    confidence = max(inter_before) if genome.inter else 0.0

    def value(pre: int, inter: dict[int, float]) -> float:
        return float(sensors[pre]) if pre < INTER_BASE else inter[pre]

    acc = dict(genome.inter)
    for pre, post, w in genome.synapses:
        if post in acc:
            acc[post] = acc[post] + value(pre, before) * w
    after = {n: tanh_py(x) for n, x in acc.items()}

    acc = dict(genome.actions)
    for pre, post, w in genome.synapses:
        if post in acc:
            acc[post] = acc[post] + value(pre, after) * w
    actions = {n: tanh_py(x) for n, x in acc.items()}

    values = [0] * io.n_actions
    for n, a in actions.items():
        k = n - ACTION_BASE
        values[k] = action_value(a, io.levels(k))
    slot = confidence_slot(io)
    if slot >= 0:
        values[slot] = confidence_value(confidence)
    return TurnResult(tuple(after[n] for n in genome.inter_ids),
                      tuple(actions[n] for n in genome.action_ids), tuple(values), confidence,
                      len(genome.synapses))


def run(genome: NeuralGenome, io: BrainIO, sensor_rows: Sequence[Sequence[int]]
        ) -> list[TurnResult]:
    """Turns from a fresh organism (inter activations 0.0), one per row of sensors."""
    inter: Sequence[float] = (0.0,) * len(genome.inter)
    out = []
    for row in sensor_rows:
        r = turn(genome, io, row, inter)
        inter = r.inter
        out.append(r)
    return out
