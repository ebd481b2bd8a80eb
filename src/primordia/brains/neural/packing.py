"""Genomes as the kernel's arrays: one organism's neurons and synapses in dense local numbers
(the layout ``kernels.py`` describes), and the population's flat CSR store that ``brain.py``
appends to when organisms are born and compacts when enough have died."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numba import njit

from .genome import INTER_BASE, NeuralGenome


@dataclass(frozen=True)
class Packed:
    """One organism: biases (inter neurons, then action neurons), its synapses into inter
    neurons then into action neurons (``split`` of them into inter), and how many inter
    neurons it has."""

    bias: np.ndarray       # float64
    ids: np.ndarray        # int64: the neurons' ids, in the order of ``bias``
    pre: np.ndarray        # int32: sensor index, or sensors + local inter index
    post: np.ndarray       # int32: local neuron index
    weight: np.ndarray     # float64
    n_inter: int
    split: int


def pack(genome: NeuralGenome, n_sensors: int) -> Packed:
    """The kernel's view of a (valid, fitting) genome; canonical order is kept within each of
    the two synapse groups, which is what makes the kernel's sums equal the reference's."""
    local = {nid: j for j, nid in enumerate(genome.inter_ids)}
    ni = len(local)
    local.update({nid: ni + m for m, nid in enumerate(genome.action_ids)})
    into_inter, into_action = [], []
    for p, q, w in genome.synapses:
        row = (p if p < INTER_BASE else n_sensors + local[p], local[q], w)
        (into_inter if local[q] < ni else into_action).append(row)
    rows = into_inter + into_action
    bias = [b for _, b in genome.inter] + [b for _, b in genome.actions]
    return Packed(np.array(bias, dtype=np.float64),
                  np.array(list(genome.inter_ids) + list(genome.action_ids), dtype=np.int64),
                  np.array([r[0] for r in rows], dtype=np.int32),
                  np.array([r[1] for r in rows], dtype=np.int32),
                  np.array([r[2] for r in rows], dtype=np.float64),
                  ni, len(into_inter))


class FlatStore:
    """The population's neurons and synapses, packed organism after organism. Births append
    (amortised growth), deaths leave holes, and ``compact`` closes them once the dead take more
    room than the living -- no repacking of the others on every birth or death."""

    def __init__(self, capacity: int) -> None:
        self.neu_lo = np.zeros(capacity, dtype=np.int64)
        self.n_neu = np.zeros(capacity, dtype=np.int64)
        self.n_inter = np.zeros(capacity, dtype=np.int64)
        self.syn_lo = np.zeros(capacity, dtype=np.int64)
        self.syn_mid = np.zeros(capacity, dtype=np.int64)
        self.syn_hi = np.zeros(capacity, dtype=np.int64)
        self.bias = np.zeros(64, dtype=np.float64)
        self.ids = np.zeros(64, dtype=np.int64)
        self.pre = np.zeros(64, dtype=np.int32)
        self.post = np.zeros(64, dtype=np.int32)
        self.weight = np.zeros(64, dtype=np.float64)
        self.neu_used = self.syn_used = 0
        self.neu_live = self.syn_live = 0
        self._spare: tuple[np.ndarray, ...] | None = None

    def grow_slots(self, capacity: int) -> None:
        old = self.neu_lo.shape[0]
        for name in ("neu_lo", "n_neu", "n_inter", "syn_lo", "syn_mid", "syn_hi"):
            a = np.zeros(capacity, dtype=np.int64)
            a[:old] = getattr(self, name)
            setattr(self, name, a)

    @staticmethod
    def _room(a: np.ndarray, used: int, need: int) -> np.ndarray:
        if need <= a.shape[0]:
            return a
        b = np.zeros(max(need, 2 * a.shape[0]), dtype=a.dtype)
        b[:used] = a[:used]
        return b

    def append(self, slots: np.ndarray, packs: list[Packed]) -> None:
        """Store ``packs`` for ``slots`` (free slots, one pack each) after the used part."""
        if not packs:
            return
        self.append_flat(slots, np.concatenate([p.bias for p in packs]),
                         np.concatenate([p.ids for p in packs]),
                         np.concatenate([p.pre for p in packs]),
                         np.concatenate([p.post for p in packs]),
                         np.concatenate([p.weight for p in packs]),
                         np.array([p.bias.shape[0] for p in packs], dtype=np.int64),
                         np.array([p.n_inter for p in packs], dtype=np.int64),
                         np.array([p.pre.shape[0] for p in packs], dtype=np.int64),
                         np.array([p.split for p in packs], dtype=np.int64))

    def append_flat(self, slots, bias, ids, pre, post, weight, n_neu, n_inter, n_syn,
                    split) -> None:
        """Store many packed organisms given back to back (``bias``/``ids`` per neuron,
        ``pre``/``post``/``weight`` per synapse; counts per organism) for ``slots``."""
        neu_end = self.neu_used + int(n_neu.sum())
        syn_end = self.syn_used + int(n_syn.sum())
        self.bias = self._room(self.bias, self.neu_used, neu_end)
        self.ids = self._room(self.ids, self.neu_used, neu_end)
        for name in ("pre", "post", "weight"):
            setattr(self, name, self._room(getattr(self, name), self.syn_used, syn_end))
        self.bias[self.neu_used:neu_end] = bias
        self.ids[self.neu_used:neu_end] = ids
        self.pre[self.syn_used:syn_end] = pre
        self.post[self.syn_used:syn_end] = post
        self.weight[self.syn_used:syn_end] = weight
        self.neu_lo[slots] = self.neu_used + np.concatenate([[0], np.cumsum(n_neu)[:-1]])
        self.n_neu[slots] = n_neu
        self.n_inter[slots] = n_inter
        syn_lo = self.syn_used + np.concatenate([[0], np.cumsum(n_syn)[:-1]])
        self.syn_lo[slots] = syn_lo
        self.syn_mid[slots] = syn_lo + split
        self.syn_hi[slots] = syn_lo + n_syn
        self.neu_used, self.syn_used = neu_end, syn_end
        self.neu_live += int(n_neu.sum())
        self.syn_live += int(n_syn.sum())

    def release(self, slots: np.ndarray) -> None:
        """Forget the organisms in ``slots`` (each stored, none twice); their room becomes a
        hole until the next compaction."""
        neu, syn = _release(np.asarray(slots, dtype=np.int64), self.neu_lo, self.n_neu,
                            self.n_inter, self.syn_lo, self.syn_mid, self.syn_hi)
        self.neu_live -= neu
        self.syn_live -= syn

    def wasteful(self) -> bool:
        """True when holes take half the living's room (and enough to be worth a copy):
        a compact store is read in slot order, which is what keeps a step fast."""
        holes = self.neu_used - self.neu_live + self.syn_used - self.syn_live
        return holes > 4096 and 2 * holes > self.neu_live + self.syn_live

    def compact(self, live: np.ndarray) -> None:
        """Repack the organisms in ``live`` (all stored ones) in slot order, without holes,
        into arrays with room for as much again (so the next births need no copy). The arrays
        left behind are kept for the next compaction, which then allocates nothing."""
        n_neu = int(self.n_neu[live].sum())
        n_syn = int((self.syn_hi[live] - self.syn_lo[live]).sum())
        room_n, room_s = max(2 * n_neu, 64), max(2 * n_syn, 64)
        spare = self._spare
        if spare is None or spare[0].shape[0] < n_neu or spare[2].shape[0] < n_syn:
            spare = (np.empty(room_n), np.empty(room_n, dtype=np.int64),
                     np.empty(room_s, dtype=np.int32), np.empty(room_s, dtype=np.int32),
                     np.empty(room_s))
        bias, ids, pre, post, weight = spare
        _repack(np.asarray(live, dtype=np.int64), self.neu_lo, self.n_neu, self.syn_lo,
                self.syn_mid, self.syn_hi, self.bias, self.ids, self.pre, self.post,
                self.weight, bias, ids, pre, post, weight)
        self._spare = (self.bias, self.ids, self.pre, self.post, self.weight)
        self.bias, self.ids, self.pre, self.post, self.weight = bias, ids, pre, post, weight
        self.neu_used = self.neu_live = n_neu
        self.syn_used = self.syn_live = n_syn


@njit(cache=True, nogil=True)
def _release(slots, neu_lo, n_neu, n_inter, syn_lo, syn_mid, syn_hi):
    """Clear the given slots' entries; returns the (neurons, synapses) they held."""
    neu, syn = 0, 0
    for j in range(slots.shape[0]):
        i = slots[j]
        neu += n_neu[i]
        syn += syn_hi[i] - syn_lo[i]
        neu_lo[i] = n_neu[i] = n_inter[i] = 0
        syn_lo[i] = syn_mid[i] = syn_hi[i] = 0
    return neu, syn


@njit(cache=True, nogil=True)
def _repack(live, neu_lo, n_neu, syn_lo, syn_mid, syn_hi, bias, ids, pre, post, weight,
            to_bias, to_ids, to_pre, to_post, to_weight):
    """Copy the nets of ``live`` (in that order) back to back into the ``to_*`` arrays and
    point their slots at the new places."""
    at_n, at_s = 0, 0
    for j in range(live.shape[0]):
        slot = live[j]
        lo, nn = neu_lo[slot], n_neu[slot]
        for e in range(nn):                  # element loops: slices cost more at this size
            to_bias[at_n + e] = bias[lo + e]
            to_ids[at_n + e] = ids[lo + e]
        neu_lo[slot] = at_n
        at_n += nn
        s0, s1 = syn_lo[slot], syn_hi[slot]
        for e in range(s1 - s0):
            to_pre[at_s + e] = pre[s0 + e]
            to_post[at_s + e] = post[s0 + e]
            to_weight[at_s + e] = weight[s0 + e]
        syn_mid[slot] = at_s + syn_mid[slot] - s0
        syn_lo[slot] = at_s
        syn_hi[slot] = at_s + s1 - s0
        at_s += s1 - s0
