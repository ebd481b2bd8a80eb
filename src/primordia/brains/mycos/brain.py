"""The Mycos Brain: a population of bit networks in slots, one decision (one tick of the
network) per world tick.

Networks are packed into flat pools (``batch.pack`` lays each batch out; ``add`` appends it):
per slot a range of bits with their sections and CSR rows, and a range of the shared gene
arrays. The bits are the organism's state: they start at the genome's initial bits, carry
over from tick to tick, and go into ``state_arrays`` (checkpoints and state hashes). Dead
organisms' ranges are reclaimed in bulk when they are half the pools.
"""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from primordia.brains.base import BrainIO, slots_for, step_slots
from primordia.brains.threads import spans
from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError, GenomeError

from . import brain_kernels as bk
from .batch import pack
from .genome import MycosGenome, validate
from .reference import MAX_EFFECTS, WINDOW
from .settings import MycosSettings
from .worldio import CONFIDENCE, threshold

SPANS_PER_THREAD = 4
"""Work slices per thread in a parallel step (networks differ in size)."""
PARALLEL_MIN = 256
"""Organisms in a step below which it stays on one thread."""
COMPACT_MIN = 4096
"""Pool bits below which dead ranges are not worth reclaiming."""


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The indices of the ranges ``[starts[k], starts[k] + lengths[k])``, one after another."""
    ends = np.cumsum(lengths)
    return np.repeat(starts - (ends - lengths), lengths) + np.arange(int(ends[-1]) if
                                                                     len(ends) else 0)


class MycosBrain:
    """Mycos organisms in slots 0 .. capacity - 1, decided together by the numba kernel."""

    def __init__(self, genomes: Sequence[MycosGenome], io: BrainIO,
                 settings: MycosSettings | None = None, threads: int = 1,
                 capacity: int | None = None) -> None:
        self.io = io
        self.settings = settings or MycosSettings()
        self.caps = self.settings.caps
        self.threads = threads
        self.thresholds = np.array([threshold(k) for k in range(self.settings.sensor_bits)],
                                   dtype=np.int64)
        self.act_levels = np.array([io.levels(a) for a in range(io.n_actions)],
                                   dtype=np.int64)
        self.conf_col = io.actions.index(CONFIDENCE) if CONFIDENCE in io.actions else -1
        n = max(capacity or 0, len(genomes), 1)
        self.alive = np.zeros(n, dtype=bool)
        self.genomes = np.full(n, None, dtype=object)
        # per slot: its bit range, gene range and chunk 0's sizes
        self.bit_lo = np.zeros(n, dtype=np.int64)
        self.n_bits = np.zeros(n, dtype=np.int64)
        self.gene_lo = np.zeros(n, dtype=np.int64)
        self.n_genes = np.zeros(n, dtype=np.int64)
        self.ni0 = np.zeros(n, dtype=np.int64)
        self.nn0 = np.zeros(n, dtype=np.int64)
        self.no0 = np.zeros(n, dtype=np.int64)
        # pools: bits (the state) and sections, 3 CSR rows per bit, and the genes
        self.bits = np.zeros(0, dtype=np.uint8)
        self.section = np.zeros(0, dtype=np.uint8)
        self.fan_start = np.zeros(0, dtype=np.int64)
        self.fan_end = np.zeros(0, dtype=np.int64)
        self.tag = np.zeros(0, dtype=np.int64)
        self.target = np.zeros(0, dtype=np.int64)
        self.action = np.zeros(0, dtype=np.uint8)
        self.used_bits = self.used_genes = 0
        self.dead_bits = 0
        self.synapse_ops_last_step = 0
        """Effects the last step applied (bits set, cleared or flipped), a world's metric."""
        self.add(list(genomes))

    @property
    def capacity(self) -> int:
        return self.alive.shape[0]

    # --- population ----------------------------------------------------------------------------
    def _grow_slots(self, need: int) -> None:
        old, new = self.capacity, max(need, 2 * self.capacity)
        for name in ("alive", "genomes", "bit_lo", "n_bits", "gene_lo", "n_genes", "ni0",
                     "nn0", "no0"):
            a = getattr(self, name)
            b = np.full(new, None, dtype=object) if a.dtype == object else \
                np.zeros(new, dtype=a.dtype)
            b[:old] = a
            setattr(self, name, b)

    def _room(self, bits: int, genes: int) -> None:
        """Pools with room for ``bits`` bits and ``genes`` genes (doubling)."""
        def widen(a: np.ndarray, size: int) -> np.ndarray:
            if a.shape[0] >= size:
                return a
            b = np.zeros(max(size, 2 * a.shape[0]), dtype=a.dtype)
            b[:a.shape[0]] = a
            return b

        self.bits, self.section = widen(self.bits, bits), widen(self.section, bits)
        self.fan_start = widen(self.fan_start, 3 * bits)
        self.fan_end = widen(self.fan_end, 3 * bits)
        self.tag, self.target = widen(self.tag, genes), widen(self.target, genes)
        self.action = widen(self.action, genes)

    def add(self, genomes: Sequence[MycosGenome],
            slots: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """Place new organisms (bits at their genomes' initial values) in the given free
        slots, or the lowest free ones; returns their slots. GenomeError if a genome is
        invalid or beyond the settings' caps."""
        genomes = list(genomes)
        for g in genomes:
            if not isinstance(g, MycosGenome):
                raise GenomeError(f"a Mycos genome is a MycosGenome, not {type(g).__name__}")
            validate(g, self.caps)
        slots = slots_for(self, len(genomes), slots, self._grow_slots)
        if not genomes:
            return slots
        p = pack(genomes)
        n_bits, n_genes = int(p.bit_start[-1]), int(p.tag.shape[0])
        b, e = self.used_bits, self.used_genes
        self._room(b + n_bits, e + n_genes)
        self.bits[b:b + n_bits] = p.init
        self.section[b:b + n_bits] = p.section
        self.fan_start[3 * b:3 * (b + n_bits)] = p.fan_start + e
        self.fan_end[3 * b:3 * (b + n_bits)] = p.fan_end + e
        self.tag[e:e + n_genes] = p.tag
        self.target[e:e + n_genes] = p.target
        self.action[e:e + n_genes] = p.action
        genes = np.array([g.n_connections + len(g.links) for g in genomes], dtype=np.int64)
        self.bit_lo[slots] = b + p.bit_start[:-1]
        self.n_bits[slots] = np.diff(p.bit_start)
        self.gene_lo[slots] = e + np.cumsum(genes) - genes
        self.n_genes[slots] = genes
        first = p.sizes[p.first_chunk]                  # chunk 0 of each: ni, nn, no
        self.ni0[slots], self.nn0[slots], self.no0[slots] = first[:, 0], first[:, 1], first[:, 2]
        self.used_bits, self.used_genes = b + n_bits, e + n_genes
        for slot, g in zip(slots.tolist(), genomes):
            self.genomes[slot] = g
        self.alive[slots] = True
        return slots

    def remove(self, slots: Sequence[int] | np.ndarray) -> None:
        """Free the slots of organisms that died (their pool ranges are reclaimed later)."""
        slots = np.unique(np.asarray(slots, dtype=np.int64).reshape(-1))
        slots = slots[(slots >= 0) & (slots < self.capacity)]
        slots = slots[self.alive[slots]]
        self.alive[slots] = False
        self.genomes[slots] = None
        self.dead_bits += int(self.n_bits[slots].sum())
        for a in (self.bit_lo, self.n_bits, self.gene_lo, self.n_genes, self.ni0, self.nn0,
                  self.no0):
            a[slots] = 0
        if self.used_bits >= COMPACT_MIN and 2 * self.dead_bits >= self.used_bits:
            self._compact()

    def _compact(self) -> None:
        """Move the living organisms' ranges together (in slot order)."""
        live = np.flatnonzero(self.alive)
        nb, ng = self.n_bits[live], self.n_genes[live]
        bit_idx = _ranges(self.bit_lo[live], nb)
        row_idx = _ranges(3 * self.bit_lo[live], 3 * nb)
        gene_idx = _ranges(self.gene_lo[live], ng)
        new_gene_lo = np.cumsum(ng) - ng
        shift = np.repeat(new_gene_lo - self.gene_lo[live], 3 * nb)
        self.bits = self.bits[bit_idx]
        self.section = self.section[bit_idx]
        self.fan_start = self.fan_start[row_idx] + shift
        self.fan_end = self.fan_end[row_idx] + shift
        self.tag, self.target = self.tag[gene_idx], self.target[gene_idx]
        self.action = self.action[gene_idx]
        self.bit_lo[live] = np.cumsum(nb) - nb
        self.gene_lo[live] = new_gene_lo
        self.used_bits, self.used_genes = int(nb.sum()), int(ng.sum())
        self.dead_bits = 0

    # --- running -------------------------------------------------------------------------------
    def begin_tick(self, budget: np.ndarray, active: np.ndarray | None = None) -> None:
        """Nothing to prepare: a decision is bounded by the rounds setting, not a budget."""

    def step(self, sensors: np.ndarray, actions: np.ndarray,
             active: np.ndarray | None = None) -> np.ndarray:
        """One decision for the active organisms: read ``sensors[N, S]``, write
        ``actions[N, A]``. Returns all False: a network decides once per tick."""
        n = self.capacity
        sensors, slots = step_slots(self, sensors, actions, active)
        s = self.settings
        args = (slots, sensors, actions, self.bit_lo, self.n_bits, self.ni0, self.nn0,
                self.no0, self.section, self.bits, self.fan_start, self.fan_end, self.tag,
                self.target, self.action, self.thresholds, s.clock, s.action_bits,
                self.act_levels,
                self.conf_col, s.rounds, MAX_EFFECTS, WINDOW, s.policy_code)
        parts = spans(self.threads, SPANS_PER_THREAD)
        if parts > 1 and slots.shape[0] >= PARALLEL_MIN:
            effects = bk.decide_parallel(parts, *args)
        else:
            effects = bk.decide_serial(*args)
        self.synapse_ops_last_step = int(effects)
        return np.zeros(n, dtype=bool)

    # --- state ---------------------------------------------------------------------------------
    def _width(self) -> int:
        return int(self.n_bits[self.alive].max()) if self.alive.any() else 0

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Every organism's bits (0 or 1) in the spec's global numbering, one row per slot,
        as wide as the largest living network (zero beyond a network and in free slots)."""
        out = np.zeros((self.capacity, self._width()), dtype=np.uint8)
        live = np.flatnonzero(self.alive)
        nb = self.n_bits[live]
        out[np.repeat(live, nb), _ranges(np.zeros_like(nb), nb)] = \
            self.bits[_ranges(self.bit_lo[live], nb)]
        return {"bits": out}

    def state_layout(self) -> dict[str, ArraySpec]:
        """``state_arrays`` at its largest: a row per slot, up to the bits a network within
        the caps can have."""
        c = self.caps
        most = c.max_chunks * (2 * c.max_io_per_chunk + c.max_nn_per_chunk)
        return {"bits": ArraySpec.upto(np.uint8, self.capacity, most,
                                       least=(self.capacity, 0))}

    def load_state_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        """Restore ``state_arrays`` (from a checkpoint) into the living slots."""
        if "bits" not in arrays:
            raise ConfigError("brain state: missing bits")
        a = np.asarray(arrays["bits"])
        need = self._width()
        if a.ndim != 2 or a.shape[0] != self.capacity or a.shape[1] < need \
                or a.dtype.kind not in "biu":
            raise ConfigError(f"brain bits: shape {a.shape} and dtype {a.dtype} do not fit "
                              f"{self.capacity} slots of networks of up to {need} bits")
        if a.size and not ((a == 0) | (a == 1)).all():
            raise ConfigError("brain bits: values must be 0 or 1")
        live = np.flatnonzero(self.alive)
        nb = self.n_bits[live]
        self.bits[_ranges(self.bit_lo[live], nb)] = \
            a[np.repeat(live, nb), _ranges(np.zeros_like(nb), nb)].astype(np.uint8)

    def bits_of(self, slot: int) -> np.ndarray:
        """A living organism's bits in the global numbering (for views)."""
        if not (0 <= slot < self.capacity and self.alive[slot]):
            raise ConfigError(f"bits_of: slot {slot} holds no organism")
        lo = int(self.bit_lo[slot])
        return self.bits[lo:lo + int(self.n_bits[slot])].copy()

    def __repr__(self) -> str:
        return f"MycosBrain({int(self.alive.sum())} of {self.capacity} slots)"
