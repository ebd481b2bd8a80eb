"""Evaluate many Mycos networks on many episodes in one kernel call.

``pack`` lays a population out as arrays (bits in the spec's global numbering, genes as a CSR
keyed by bit and trigger); ``evaluate`` runs every network through every episode and returns
the observed outputs after each tick and the per-episode metrics -- the same numbers as
``reference.run_episode``, which the tests hold it to.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from operator import attrgetter
from typing import Sequence

import numba
import numpy as np

from . import kernels as k
from .genome import INPUT, INTERNAL, OUTPUT, MycosGenome
from .reference import Guards

METRIC_NAMES = ("rounds", "effects_applied", "oscillator", "period", "policy_applied")


_CHUNK = attrgetter("ni", "nn", "no")
_MASKS = attrgetter("inputs_init", "internals_init", "outputs_init")   # section order
_CONNS = attrgetter("conns")
_CONN = attrgetter("from_section", "from_index", "order_tag", "to_section", "to_index",
                   "trigger", "action")
_LINK = attrgetter("from_chunk", "from_out_idx", "order_tag", "to_chunk", "to_in_idx",
                   "trigger", "action")


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
    first_chunk: np.ndarray    # int64[G]: the network's first chunk among all chunks
    n_chunks: np.ndarray       # int64[G]
    sizes: np.ndarray          # int64[chunks, 3]: bits per section
    section_start: np.ndarray  # int64[chunks, 3]: first bit of each section (global)


def _ints(rows, width: int) -> np.ndarray:
    """Tuples of ``width`` ints as an int64[len, width] array (a flat list first: numpy reads
    a list faster than a chain of tuples)."""
    flat = list(chain.from_iterable(rows))
    return np.fromiter(flat, dtype=np.int64, count=len(flat)).reshape(-1, width)


def _init_bits(n_bits: int, masks: list[tuple[int, int, int]]) -> np.ndarray:
    """The initial bit values from (first bit, section size, mask) of every non-zero mask."""
    init = np.zeros(n_bits, dtype=np.uint8)
    small = [m for m in masks if m[1] <= 64]
    if small:
        pos = np.array([m[0] for m in small], dtype=np.int64)
        size = np.array([m[1] for m in small], dtype=np.int64)
        mask = np.array([m[2] for m in small], dtype=np.uint64)
        i = np.arange(64, dtype=np.uint64)
        bits = ((mask[:, None] >> i) & np.uint64(1)).astype(np.uint8)
        inside = i[None, :].astype(np.int64) < size[:, None]
        init[(pos[:, None] + i.astype(np.int64))[inside]] = bits[inside]
    for pos, size, mask in masks:
        if size > 64:
            raw = np.frombuffer(mask.to_bytes((size + 7) // 8, "little"), dtype=np.uint8)
            init[pos:pos + size] = np.unpackbits(raw, bitorder="little")[:size]
    return init


def pack(genomes: Sequence[MycosGenome]) -> Packed:
    """Lay out the networks (validated genomes) for the kernels. Python only gathers each
    chunk's and gene's fields (attrgetter, no per-gene arithmetic); numpy places them and
    sorts the genes into the CSR."""
    n_chunks = np.fromiter((len(g.chunks) for g in genomes), dtype=np.int64,
                           count=len(genomes))
    chunks = [ch for g in genomes for ch in g.chunks]
    sizes = _ints(map(_CHUNK, chunks), 3)
    chunk_first = np.zeros(len(chunks) + 1, dtype=np.int64)
    np.cumsum(sizes.sum(axis=1), out=chunk_first[1:])
    section_start = chunk_first[:-1, None] + np.concatenate(
        [np.zeros((len(chunks), 1), dtype=np.int64), np.cumsum(sizes[:, :2], axis=1)], axis=1)
    first_chunk = np.zeros(len(genomes), dtype=np.int64)
    np.cumsum(n_chunks[:-1], out=first_chunk[1:])
    bit_start = chunk_first[np.append(first_chunk, len(chunks))]
    n_bits = int(chunk_first[-1])

    masks = [(c, section, mask) for c, ch_masks in enumerate(map(_MASKS, chunks))
             for section, mask in enumerate(ch_masks) if mask]
    if masks:
        at, size = section_start.tolist(), sizes.tolist()
        masks = [(at[c][s], size[c][s], mask) for c, s, mask in masks]

    per_chunk = np.fromiter(map(len, map(_CONNS, chunks)), dtype=np.int64, count=len(chunks))
    conns = _ints(chain.from_iterable(map(_CONN, ch.conns) for ch in chunks), 7)
    cid = np.repeat(np.arange(len(chunks)), per_chunk)
    links = _ints(chain.from_iterable(map(_LINK, g.links) for g in genomes), 7)
    gid = np.repeat(np.arange(len(genomes)), [len(g.links) for g in genomes])
    from_chunk = first_chunk[gid] + links[:, 0]
    to_chunk = first_chunk[gid] + links[:, 3]
    rows = np.concatenate([3 * (section_start[cid, conns[:, 0]] + conns[:, 1]) + conns[:, 5],
                           3 * (section_start[from_chunk, OUTPUT] + links[:, 1]) + links[:, 5]])
    targets = np.concatenate([section_start[cid, conns[:, 3]] + conns[:, 4]
                              - bit_start[np.repeat(np.arange(len(genomes)),
                                                    n_chunks)][cid],
                              section_start[to_chunk, INPUT] + links[:, 4] - bit_start[gid]])
    tags = np.concatenate([conns[:, 2], links[:, 2]])
    actions = np.concatenate([conns[:, 6], links[:, 6]]).astype(np.uint8)
    order = np.lexsort((tags, rows))                      # by row, then tag
    per_row = np.bincount(rows, minlength=3 * n_bits)
    fan_end = np.cumsum(per_row)
    return Packed(bit_start, np.repeat(np.tile(np.array([INPUT, INTERNAL, OUTPUT], np.uint8),
                                               len(chunks)), sizes.ravel()),
                  _init_bits(n_bits, masks), 3 * bit_start[:-1], fan_end - per_row, fan_end,
                  tags[order], targets[order], actions[order], first_chunk, n_chunks, sizes,
                  section_start)


def _bit_map(packed: Packed, pairs: Sequence[tuple[int, int]], sec: int) -> np.ndarray:
    """Per network, the bit of each (chunk, index) of section ``sec``, or -1 where it lacks
    it."""
    out = np.full((len(packed.n_chunks), len(pairs)), -1, dtype=np.int64)
    for j, (c, i) in enumerate(pairs):
        has = packed.n_chunks > c
        chunk = packed.first_chunk[has] + c
        has[has] = packed.sizes[chunk, sec] > i
        chunk = packed.first_chunk[has] + c
        out[has, j] = packed.section_start[chunk, sec] + i - packed.bit_start[:-1][has]
    return out


def _overrides(internals: Sequence[Sequence[tuple[int, int, int]]] | None, episodes: int
               ) -> tuple[list[tuple[int, int]], np.ndarray]:
    """The distinct (chunk, internal bit) pairs any episode sets, and per episode the value of
    each (the last one given wins, as in the reference) or 255 where it sets none."""
    if not internals:
        return [], np.zeros((episodes, 0), dtype=np.uint8)
    if len(internals) != episodes:
        raise ValueError(f"internals: {len(internals)} lists for {episodes} episodes")
    pairs = sorted({(c, i) for sets in internals for c, i, _ in sets})
    column = {p: k for k, p in enumerate(pairs)}
    out = np.full((episodes, len(pairs)), 255, dtype=np.uint8)
    for e, sets in enumerate(internals):
        for c, i, v in sets:
            out[e, column[c, i]] = 1 if v else 0
    return pairs, out


def evaluate(genomes: Sequence[MycosGenome], inputs: Sequence[tuple[int, int]],
             outputs: Sequence[tuple[int, int]], values: np.ndarray, guards: Guards = Guards(),
             threads: int = 1, internals: Sequence[Sequence[tuple[int, int, int]]] | None = None
             ) -> tuple[np.ndarray, np.ndarray]:
    """Run each network through each episode. ``values[e, t, k]`` is the value written to
    input ``inputs[k]`` ((chunk, bit)) at tick t of episode e; ``internals[e]`` lists
    (chunk, bit, value) overrides of initial internal bits for episode e (bits a network
    lacks are ignored). Returns ``seen[g, e, t, j]``, output ``outputs[j]`` after tick t, and
    ``metrics[g, e]`` (``METRIC_NAMES``)."""
    values = np.ascontiguousarray(values, dtype=np.uint8)
    if values.ndim != 3 or values.shape[2] != len(inputs):
        raise ValueError(f"values must be [episodes, ticks, {len(inputs)}]; got {values.shape}")
    if values.size and values.max() > 1:
        raise ValueError("values must be bits (0 or 1)")
    named = [*inputs, *outputs, *((c, i) for sets in internals or () for c, i, _ in sets)]
    if any(c < 0 or i < 0 for c, i in named):
        raise ValueError("chunks and bits are counted from 0; a negative one names nothing")
    set_pairs, set_values = _overrides(internals, values.shape[0])
    packed = pack(genomes)
    in_map = _bit_map(packed, inputs, INPUT)
    out_map = _bit_map(packed, outputs, OUTPUT)
    set_map = _bit_map(packed, set_pairs, INTERNAL)
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
        packed.fan_end, packed.tag, packed.target, packed.action, in_map, out_map, values,
        set_map, set_values, guards.max_rounds, guards.max_effects, guards.window,
        guards.policy, seen, metrics)
    return seen, metrics
