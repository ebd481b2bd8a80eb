"""The neural Brain: a population of recurrent nets in slots, one decision per tick.

Genomes are packed into flat arrays (``packing.FlatStore``); the genome objects stay the
source of truth. Inter activations are the organism's own state: they start at 0.0 when it is
added, carry over from turn to turn, and go into ``state_arrays`` (checkpoints and state
hashes). A step evaluates every active organism once (``kernels.step_*``) and writes its
action slots; a net never asks for a second round in a tick.
"""

from __future__ import annotations

from typing import Sequence

import numba
import numpy as np

from primordia.brains.base import BrainIO, slots_for, step_slots
from primordia.brains.threads import spans
from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError, GenomeError

from . import breed
from . import kernels as k
from .genome import (ACTION_BASE, MAX_INTER, PACKED_BYTES, NeuralGenome, action_ids_for,
                     check_fits, check_layout, confidence_slot, validate)
from .packing import FlatStore, pack
from .tanh import tanh_py

SPANS_PER_THREAD = 4
"""Work slices per thread in a parallel step (nets of different sizes take different time)."""


class NeuralBrain:
    """Neural organisms in slots 0 .. capacity - 1, stepped together by the numba kernel."""

    def __init__(self, genomes: Sequence[NeuralGenome], io: BrainIO, threads: int = 1,
                 capacity: int | None = None,
                 breeding: tuple[int, int, float, int] = (2, 4, 1.0, 20)) -> None:
        try:
            check_layout(io)
        except GenomeError as exc:
            raise ConfigError(str(exc)) from None
        self.io = io
        self.threads = threads
        self.breeding = breeding
        self.action_ids = np.array(action_ids_for(io), dtype=np.int64)
        """(num_neurons, num_synapses, mutation_magnitude, max_num_neurons) of ``spawn``."""
        cols = [a - ACTION_BASE for a in action_ids_for(io)]
        self.act_cols = np.array(cols, dtype=np.int64)
        self.act_levels = np.array([io.levels(c) for c in cols], dtype=np.int64)
        self.conf_col = confidence_slot(io)
        n = max(capacity or 0, len(genomes), 1)
        self.store = FlatStore(n)
        self.alive = np.zeros(n, dtype=bool)
        self.genomes = np.full(n, None, dtype=object)   # NeuralGenome by slot, or None
        self.inter_act = np.zeros((n, 1), dtype=np.float64)
        self.action_in = np.zeros((n, len(cols)), dtype=np.float64)
        self.last_in = np.zeros((n, io.n_sensors), dtype=np.int32)
        self.synapse_ops_last_step = 0
        self.add(list(genomes))

    @property
    def capacity(self) -> int:
        return self.alive.shape[0]

    # --- population ----------------------------------------------------------------------------
    def _grow(self, need: int) -> None:
        old, new = self.capacity, max(need, 2 * self.capacity)

        def widen(a: np.ndarray) -> np.ndarray:
            b = np.full((new,) + a.shape[1:], None if a.dtype == object else 0, dtype=a.dtype)
            b[:old] = a
            return b

        self.alive = widen(self.alive)
        self.inter_act = widen(self.inter_act)
        self.action_in = widen(self.action_in)
        self.last_in = widen(self.last_in)
        self.store.grow_slots(new)
        self.genomes = widen(self.genomes)

    def add(self, genomes: Sequence[NeuralGenome],
            slots: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """Place new organisms (fresh activations) in the given free slots, or the lowest free
        ones; returns their slots. GenomeError if a genome is invalid or does not fit the
        world's layout."""
        genomes = list(genomes)
        for g in genomes:
            validate(g)
            check_fits(g, self.io)
        slots = slots_for(self, len(genomes), slots, self._grow)
        if not genomes:
            return slots
        packs = [pack(g, self.io.n_sensors) for g in genomes]
        width = max(p.n_inter for p in packs)
        if width > self.inter_act.shape[1]:
            wider = np.zeros((self.capacity, width), dtype=np.float64)
            wider[:, :self.inter_act.shape[1]] = self.inter_act
            self.inter_act = wider
        self.store.append(slots, packs)
        for slot, g in zip(slots.tolist(), genomes):
            self.genomes[slot] = g
        self.alive[slots] = True
        self.inter_act[slots] = 0.0
        self.action_in[slots] = 0.0
        self.last_in[slots] = 0
        return slots

    def spawn(self, slots: np.ndarray, parents: np.ndarray, new_ids: np.ndarray, seed: int,
              random_stream: int, mutate_stream: int, tick: int, chance: float,
              rounds: np.ndarray | None = None) -> None:
        """Births without genome objects: slot ``slots[r]`` gets a new random net
        (``parents[r]`` < 0) or the net of living slot ``parents[r]``, mutated once when the
        first draw of its stream is <= ``chance``, or, if ``chance`` < 0, ``rounds[r]`` times
        -- the same nets as ``add`` of ``variation.random_genome`` / ``mutate`` with
        DrawStreams keyed (seed word, stream, tick, new id), made and packed in one numba
        call. The genome objects are built only if someone asks (``genome``)."""
        slots = np.asarray(slots, dtype=np.int64)
        parents = np.asarray(parents, dtype=np.int64)
        rounds = np.zeros(slots.size, dtype=np.int64) if rounds is None \
            else np.asarray(rounds, dtype=np.int64)
        if slots.size == 0:
            return
        if rounds.shape != slots.shape or (rounds < 0).any():
            raise ConfigError("spawn: one number of rounds (>= 0) per slot")
        if self.alive[slots].any() or not self.alive[parents[parents >= 0]].all():
            raise ConfigError("spawn: slots must be free and parents alive")
        neurons, synapses, magnitude, max_inter = self.breeding
        s = self.store
        acts = self.action_ids
        out = breed.spawn_batch(parents, np.asarray(new_ids, dtype=np.int64), seed,
                                random_stream, mutate_stream, tick, float(chance), rounds,
                                self.io.n_sensors,
                                acts, neurons, synapses, magnitude, max_inter, s.neu_lo,
                                s.n_neu, s.n_inter, s.syn_lo, s.syn_mid, s.syn_hi, s.bias,
                                s.ids, s.pre, s.post, s.weight)
        width = int(out[6].max())
        if width > self.inter_act.shape[1]:
            wider = np.zeros((self.capacity, width), dtype=np.float64)
            wider[:, :self.inter_act.shape[1]] = self.inter_act
            self.inter_act = wider
        s.append_flat(slots, *out)     # a free slot's genome is None and its rows are zero
        self.alive[slots] = True

    def genome_sizes(self, slots: np.ndarray) -> np.ndarray:
        """``packed_size`` of the nets in ``slots`` (int64), read from the packed store, so
        spawned organisms need no genome object for it."""
        slots = np.asarray(slots, dtype=np.int64)
        s = self.store
        return PACKED_BYTES * (s.n_neu[slots] + s.syn_hi[slots] - s.syn_lo[slots]).astype(
            np.int64)

    def genome(self, slot: int) -> NeuralGenome:
        """The genome of a living organism (built from the packed net for spawned ones)."""
        if not (0 <= slot < self.capacity and self.alive[slot]):
            raise ConfigError(f"genome: slot {slot} holds no organism")
        g = self.genomes[slot]
        if g is None:
            s = self.store
            ids, ib, ab, pre, post, w = breed._read(
                slot, self.io.n_sensors, s.neu_lo, s.n_neu, s.n_inter, s.syn_lo, s.syn_hi,
                s.bias, s.ids, s.pre, s.post, s.weight)
            g = NeuralGenome(self.io.n_sensors, tuple(zip(ids.tolist(), ib.tolist())),
                             tuple(zip(action_ids_for(self.io), ab.tolist())),
                             tuple(zip(pre.tolist(), post.tolist(), w.tolist())))
            self.genomes[slot] = g
        return g

    def remove(self, slots: Sequence[int] | np.ndarray) -> None:
        """Free the slots of organisms that died (their room is reclaimed in bulk, later).
        Their rows are cleared here, so a free slot's rows are always zero (``spawn`` relies
        on it)."""
        slots = _forget(np.asarray(slots, dtype=np.int64).reshape(-1), self.alive,
                        self.inter_act, self.action_in, self.last_in)
        self.store.release(slots)
        self.genomes[slots] = None
        if self.store.wasteful():
            self.store.compact(np.flatnonzero(self.alive))

    # --- running -------------------------------------------------------------------------------
    def begin_tick(self, budget: np.ndarray, active: np.ndarray | None = None) -> None:
        """Nothing to prepare: a net's turn costs what its synapses cost, not a budget."""

    def step(self, sensors: np.ndarray, actions: np.ndarray,
             active: np.ndarray | None = None) -> np.ndarray:
        """One turn for the active organisms: read ``sensors[N, S]``, write ``actions[N, A]``.
        Returns all False: every net decides once per tick."""
        n = self.capacity
        sensors, slots = step_slots(self, sensors, actions, active)
        s = self.store
        args = (slots, sensors, actions, self.conf_col, self.act_cols, self.act_levels,
                s.neu_lo, s.n_inter, s.syn_lo, s.syn_mid, s.syn_hi, s.bias, s.pre, s.post,
                s.weight, self.inter_act, self.action_in, self.last_in)
        parts = spans(self.threads, SPANS_PER_THREAD)
        if parts > 1 and slots.shape[0] >= k.PARALLEL_MIN:
            ops = k.step_parallel(parts, *args)
        else:
            ops = k.step_serial(*args)
        self.synapse_ops_last_step = int(ops)
        return np.zeros(n, dtype=bool)

    # --- state ---------------------------------------------------------------------------------
    def state_arrays(self) -> dict[str, np.ndarray]:
        """What an organism carries from turn to turn: its inter activations, one row per slot
        (zero in free slots and beyond an organism's own inter neurons), as wide as the living
        organism with the most inter neurons."""
        width = int(self.store.n_inter[self.alive].max()) if self.alive.any() else 0
        return {"inter_activation": self.inter_act[:, :width].copy()}

    def state_layout(self) -> dict[str, ArraySpec]:
        """The arrays ``state_arrays`` gives, at their largest (what a checkpoint may hold
        for this brain): a row per slot, up to one column per possible inter neuron."""
        return {"inter_activation": ArraySpec.upto(np.float64, self.capacity, MAX_INTER,
                                                   least=(self.capacity, 0))}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore ``state_arrays`` (from a checkpoint) into the living slots."""
        if "inter_activation" not in arrays:
            raise ConfigError("brain state: missing inter_activation")
        a = np.asarray(arrays["inter_activation"])
        need = int(self.store.n_inter[self.alive].max()) if self.alive.any() else 0
        if a.ndim != 2 or a.shape[0] != self.capacity or a.shape[1] < need \
                or a.dtype.kind not in "fiu":
            raise ConfigError(f"brain inter_activation: shape {a.shape} and dtype {a.dtype} "
                              f"do not fit {self.capacity} slots of up to {need} inter neurons")
        a = a.astype(np.float64)
        if not (np.isfinite(a).all() and (np.abs(a) <= 1.0).all()):
            raise ConfigError("brain inter_activation: values must lie in [-1, 1]")
        width = self.inter_act.shape[1]
        b = np.zeros((self.capacity, width), dtype=np.float64)
        cols = min(width, a.shape[1])
        b[:, :cols] = a[:, :cols]
        keep = self.alive[:, None] & (np.arange(width)[None, :] < self.store.n_inter[:, None])
        self.inter_act[:] = np.where(keep, b, 0.0)

    def activations(self, slot: int) -> dict[int, float]:
        """Neuron id -> activation of a living organism, for live views: sensory neurons hold
        the sensors of its last turn, inter neurons their current activation, action neurons
        their activation in the last turn (all 0.0 before its first turn)."""
        if not (0 <= slot < self.capacity and self.alive[slot]):
            raise ConfigError(f"activations: slot {slot} holds no organism")
        g = self.genome(slot)
        out = {q: float(self.last_in[slot, q]) for q in range(g.sensors)}
        out.update({nid: float(self.inter_act[slot, j]) for j, nid in enumerate(g.inter_ids)})
        out.update({nid: tanh_py(float(self.action_in[slot, m]))
                    for m, nid in enumerate(g.action_ids)})
        return out


@numba.njit(cache=True, nogil=True)
def _forget(slots, alive, inter_act, action_in, last_in):
    """Mark the living among ``slots`` dead (each once) and clear their rows; returns them."""
    out = np.empty(slots.shape[0], dtype=np.int64)
    n = 0
    for j in range(slots.shape[0]):
        i = slots[j]
        if not alive[i]:
            continue
        alive[i] = False
        inter_act[i, :] = 0.0
        action_in[i, :] = 0.0
        last_in[i, :] = 0
        out[n] = i
        n += 1
    return out[:n]
