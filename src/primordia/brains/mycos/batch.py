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
    """Lay out the networks (validated genomes) for the kernels. Python touches each chunk
    and gene once; the CSR is built by sorting."""
    sections, init, bit_start, chunk_base = [], [], [0], []
    rows, tags, targets, actions = [], [], [], []
    for g in genomes:
        base, pos, starts = [], bit_start[-1], []
        for ch in g.chunks:
            base.append(pos - bit_start[-1])
            starts.append((pos, pos + ch.ni, pos + ch.ni + ch.nn))   # input, internal, output
            sections += [INPUT] * ch.ni + [INTERNAL] * ch.nn + [OUTPUT] * ch.no
            for bits, size in ((ch.inputs_init, ch.ni), (ch.internals_init, ch.nn),
                               (ch.outputs_init, ch.no)):
                init += [bits >> i & 1 for i in range(size)] if bits else [0] * size
            pos += ch.ni + ch.nn + ch.no
        chunk_base.append(base)
        first = bit_start[-1]
        for c, ch in enumerate(g.chunks):
            at = starts[c]
            for cn in ch.conns:
                rows.append(3 * (at[cn.from_section] + cn.from_index) + cn.trigger)
                tags.append(cn.order_tag)
                targets.append(at[cn.to_section] + cn.to_index - first)
                actions.append(cn.action)
        for ln in g.links:
            rows.append(3 * (starts[ln.from_chunk][OUTPUT] + ln.from_out_idx) + ln.trigger)
            tags.append(ln.order_tag)
            targets.append(starts[ln.to_chunk][INPUT] + ln.to_in_idx - first)
            actions.append(ln.action)
        bit_start.append(pos)
    n_bits = bit_start[-1]
    rows_a, tags_a = np.array(rows, dtype=np.int64), np.array(tags, dtype=np.int64)
    order = np.lexsort((tags_a, rows_a))                  # by row, then tag
    rows_a = rows_a[order]
    all_rows = np.arange(3 * n_bits, dtype=np.int64)
    return Packed(np.array(bit_start, dtype=np.int64), np.array(sections, dtype=np.uint8),
                  np.array(init, dtype=np.uint8),
                  3 * np.array(bit_start[:-1], dtype=np.int64),
                  np.searchsorted(rows_a, all_rows, side="left"),
                  np.searchsorted(rows_a, all_rows, side="right"),
                  tags_a[order], np.array(targets, dtype=np.int64)[order],
                  np.array(actions, dtype=np.uint8)[order], chunk_base)


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
