"""Evaluate many Mycos networks on many episodes in one kernel call.

``pack`` lays a population out as arrays (bits in the spec's global numbering, genes as a CSR
keyed by bit and trigger); ``evaluate`` runs every network through every episode and returns
the observed outputs after each tick and the per-episode metrics -- the same numbers as
``reference.run_episode``, which the tests hold it to.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numba
import numpy as np

from . import kernels as k
from .genome import INPUT, INTERNAL, OUTPUT, MycosGenome
from .reference import Guards

METRIC_NAMES = ("rounds", "effects_applied", "oscillator", "period", "policy_applied")


@dataclass(frozen=True)
class Packed:
    """A population as arrays; see ``kernels.run_batch_serial``."""

    bit_start: np.ndarray      # int64[G + 1]
    section: np.ndarray        # uint8[bits]
    init: np.ndarray           # uint8[bits]: initial values
    fan_base: np.ndarray       # int64[G]: first CSR row of each network
    fan_start: np.ndarray      # int64[3 * bits]
    fan_end: np.ndarray
    tag: np.ndarray            # int64[genes]
    target: np.ndarray         # int64[genes]: bit within its network
    action: np.ndarray         # uint8[genes]
    chunk_base: list[list[int]]  # per network, per chunk: first bit


def pack(genomes: Sequence[MycosGenome]) -> Packed:
    """Lay out the networks (validated genomes) for the kernels."""
    sections, init, bit_start, chunk_base = [], [], [0], []
    rows_start, rows_end, tags, targets, actions, fan_base = [], [], [], [], [], []
    n_genes = 0
    for g in genomes:
        base, pos = [], 0
        for ch in g.chunks:
            base.append(pos)
            sections += [INPUT] * ch.ni + [INTERNAL] * ch.nn + [OUTPUT] * ch.no
            for bits, size in ((ch.inputs_init, ch.ni), (ch.internals_init, ch.nn),
                               (ch.outputs_init, ch.no)):
                init += [bits >> i & 1 for i in range(size)]
            pos += ch.ni + ch.nn + ch.no
        chunk_base.append(base)
        bit_start.append(bit_start[-1] + pos)

        def bit(c: int, sec: int, i: int) -> int:
            ch = g.chunks[c]
            return base[c] + (i if sec == INPUT else ch.ni + i if sec == INTERNAL
                              else ch.ni + ch.nn + i)

        genes: dict[int, list[tuple[int, int, int]]] = {}
        for c, ch in enumerate(g.chunks):
            for cn in ch.conns:
                genes.setdefault(3 * bit(c, cn.from_section, cn.from_index) + cn.trigger,
                                 []).append((cn.order_tag, bit(c, cn.to_section, cn.to_index),
                                             cn.action))
        for ln in g.links:
            genes.setdefault(3 * bit(ln.from_chunk, OUTPUT, ln.from_out_idx) + ln.trigger,
                             []).append((ln.order_tag, bit(ln.to_chunk, INPUT, ln.to_in_idx),
                                         ln.action))
        fan_base.append(len(rows_start))
        for row in range(3 * pos):
            rows_start.append(n_genes)
            for tag, target, action in sorted(genes.get(row, ())):
                tags.append(tag)
                targets.append(target)
                actions.append(action)
                n_genes += 1
            rows_end.append(n_genes)
    return Packed(np.array(bit_start, dtype=np.int64), np.array(sections, dtype=np.uint8),
                  np.array(init, dtype=np.uint8),
                  np.array(fan_base, dtype=np.int64), np.array(rows_start, dtype=np.int64),
                  np.array(rows_end, dtype=np.int64), np.array(tags, dtype=np.int64),
                  np.array(targets, dtype=np.int64), np.array(actions, dtype=np.uint8),
                  chunk_base)


def _bit_map(genomes: Sequence[MycosGenome], packed: Packed, pairs: Sequence[tuple[int, int]],
             sec: int) -> np.ndarray:
    """Per network, the bit of each (chunk, index) of a section, or -1 where it lacks it."""
    out = np.full((len(genomes), len(pairs)), -1, dtype=np.int64)
    for g, genome in enumerate(genomes):
        for j, (c, i) in enumerate(pairs):
            if c < len(genome.chunks):
                ch = genome.chunks[c]
                size, first = ((ch.ni, 0) if sec == INPUT else (ch.no, ch.ni + ch.nn))
                if i < size:
                    out[g, j] = packed.chunk_base[g][c] + first + i
    return out


def evaluate(genomes: Sequence[MycosGenome], inputs: Sequence[tuple[int, int]],
             outputs: Sequence[tuple[int, int]], values: np.ndarray, guards: Guards = Guards(),
             threads: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Run each network through each episode. ``values[e, t, k]`` is the value written to
    input ``inputs[k]`` ((chunk, bit)) at tick t of episode e. Returns ``seen[g, e, t, j]``,
    output ``outputs[j]`` after tick t, and ``metrics[g, e]`` (``METRIC_NAMES``)."""
    values = np.ascontiguousarray(values, dtype=np.uint8)
    if values.ndim != 3 or values.shape[2] != len(inputs):
        raise ValueError(f"values must be [episodes, ticks, {len(inputs)}]; got {values.shape}")
    packed = pack(genomes)
    in_map = _bit_map(genomes, packed, inputs, INPUT)
    out_map = _bit_map(genomes, packed, outputs, OUTPUT)
    n, episodes, ticks = len(genomes), values.shape[0], values.shape[1]
    seen = np.zeros((n, episodes, ticks, len(outputs)), dtype=np.uint8)
    metrics = np.zeros((n, episodes, len(METRIC_NAMES)), dtype=np.int64)
    if n == 0 or episodes == 0:
        return seen, metrics
    run = k.run_batch_serial
    if threads > 1:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        run = k.run_batch_parallel
    run(packed.bit_start, packed.section, packed.init, packed.fan_base, packed.fan_start,
        packed.fan_end,
        packed.tag, packed.target, packed.action, in_map, out_map, values, guards.max_rounds,
        guards.max_effects, guards.window, guards.policy, seen, metrics)
    return seen, metrics
