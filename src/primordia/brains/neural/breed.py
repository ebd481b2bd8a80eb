"""``variation.random_genome`` and ``variation.mutate`` in numba, draw for draw and bit for bit,
on a net held as sorted arrays -- so that a world can make and mutate thousands of nets a
turn without a Python object per net. ``variation.py`` stays the readable reference; tests
hold the two equal (the same nets and the same number of draws used).

A net here: ``inter_id``/``inter_b`` (sorted by id), ``act_id``/``act_b`` (sorted),
``pre``/``post``/``w`` (sorted by (pre, post)). Draws come from one key (seed, stream, tick,
entity words) like a ``DrawStream``: ``key`` holds its ``key_prefix`` (``key_of``), ``pos[0]``
is the index of the next draw.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from primordia.core.rng import float_from_u64, key_prefix, random_u64_at, scale_u64

from .genome import ACTION_BASE, BIAS_LIMIT, INTER_BASE, MAX_INTER, WEIGHT_LIMIT
from .variation import PAIR_TRIES


def key_of(seed: int, stream: int, tick: int, entity: int) -> np.ndarray:
    """The ``key`` argument of this module's functions for one (seed, stream, tick, entity)
    key, e.g. a ``DrawStream``'s ``key`` words."""
    return np.array([key_prefix(seed, stream, tick, entity)], dtype=np.uint64)


@njit(cache=True, nogil=True, inline="always")
def _u64(key, pos):
    u = random_u64_at(key[0], pos[0])
    pos[0] += 1
    return u


@njit(cache=True, nogil=True, inline="always")
def _integer(key, pos, lo, hi):
    return scale_u64(_u64(key, pos), lo, hi)


@njit(cache=True, nogil=True, inline="always")
def _uniform(key, pos, lo, hi):
    return lo + (hi - lo) * float_from_u64(_u64(key, pos))


@njit(cache=True, nogil=True, inline="always")
def _chance(key, pos, p):
    return float_from_u64(_u64(key, pos)) < p


@njit(cache=True, nogil=True, inline="always")
def _clamp(v, limit):
    return -limit if v < -limit else (limit if v > limit else v)


@njit(cache=True, nogil=True, inline="always")
def _find(pre, post, n, p, q):
    """Index of synapse (p, q) among the first n, or -1."""
    for k in range(n):
        if pre[k] == p and post[k] == q:
            return k
    return -1


@njit(cache=True, nogil=True, inline="always")
def _insert(pre, post, w, n, p, q, x):
    """Put (p, q, x) into the first n synapses in (pre, post) order; returns n + 1. The
    arrays must have room."""
    k = n
    while k > 0 and (pre[k - 1] > p or (pre[k - 1] == p and post[k - 1] > q)):
        pre[k], post[k], w[k] = pre[k - 1], post[k - 1], w[k - 1]
        k -= 1
    pre[k], post[k], w[k] = p, q, x
    return n + 1


@njit(cache=True, nogil=True, inline="always")
def _ends(sensors, inter_id, ni, act_id, pres, posts):
    """The possible synapse sources (sensors, then inter ids) and targets (inter ids, then
    action ids), as ``variation._Net.pres``/``posts`` list them. Returns their counts."""
    n_pre = 0
    for s in range(sensors):
        pres[n_pre] = s
        n_pre += 1
    for j in range(ni):
        pres[n_pre] = inter_id[j]
        n_pre += 1
    n_post = 0
    for j in range(ni):
        posts[n_post] = inter_id[j]
        n_post += 1
    for j in range(act_id.shape[0]):
        posts[n_post] = act_id[j]
        n_post += 1
    return n_pre, n_post


@njit(cache=True, nogil=True, inline="always")
def _free_pair(key, pos, pres, n_pre, posts, n_post, pre, post, n, out):
    """``variation._free_pair``: random picks, then uniformly among the free pairs. Writes
    (pre, post) to ``out``; False if there is none."""
    if n_pre == 0 or n_post == 0:
        return False
    for _ in range(PAIR_TRIES):
        p = pres[_integer(key, pos, 0, n_pre)]
        q = posts[_integer(key, pos, 0, n_post)]
        if p != q and _find(pre, post, n, p, q) < 0:
            out[0], out[1] = p, q
            return True
    free = 0
    for a in range(n_pre):
        for b in range(n_post):
            if pres[a] != posts[b] and _find(pre, post, n, pres[a], posts[b]) < 0:
                free += 1
    if free == 0:
        return False
    pick = _integer(key, pos, 0, free)
    for a in range(n_pre):
        for b in range(n_post):
            if pres[a] != posts[b] and _find(pre, post, n, pres[a], posts[b]) < 0:
                if pick == 0:
                    out[0], out[1] = pres[a], posts[b]
                    return True
                pick -= 1
    return False


@njit(cache=True, nogil=True)
def random_net(key, pos, sensors, act_id, num_neurons, num_synapses):
    """``variation.random_genome``: returns (inter_id, inter_b, act_b, pre, post, w)."""
    inter_id = np.empty(num_neurons, dtype=np.int64)
    inter_b = np.empty(num_neurons)
    act_b = np.empty(act_id.shape[0])
    pres = np.empty(sensors + num_neurons, dtype=np.int64)
    posts = np.empty(num_neurons + act_id.shape[0], dtype=np.int64)
    pre = np.empty(num_synapses, dtype=np.int64)
    post = np.empty(num_synapses, dtype=np.int64)
    w = np.empty(num_synapses)
    pair = np.empty(2, dtype=np.int64)
    n = _random_into(key, pos, sensors, act_id, num_neurons, num_synapses, inter_id, inter_b,
                     act_b, pres, posts, pre, post, w, pair)
    return inter_id, inter_b, act_b, pre[:n].copy(), post[:n].copy(), w[:n].copy()


@njit(cache=True, nogil=True, inline="always")
def _random_into(key, pos, sensors, act_id, num_neurons, num_synapses, inter_id, inter_b,
                 act_b, pres, posts, pre, post, w, pair):
    """``random_net`` into caller's arrays (big enough); returns the number of synapses."""
    for j in range(num_neurons):
        inter_id[j] = INTER_BASE + j
        inter_b[j] = _uniform(key, pos, -1.0, 1.0)
    for j in range(act_id.shape[0]):
        act_b[j] = _uniform(key, pos, -1.0, 1.0)
    n_pre, n_post = _ends(sensors, inter_id, num_neurons, act_id, pres, posts)
    n = 0
    for _ in range(num_synapses):
        if not _free_pair(key, pos, pres, n_pre, posts, n_post, pre, post, n, pair):
            break
        x = _clamp(_uniform(key, pos, -WEIGHT_LIMIT, WEIGHT_LIMIT), WEIGHT_LIMIT)
        n = _insert(pre, post, w, n, pair[0], pair[1], x)
    return n


@njit(cache=True, nogil=True)
def mutate_net(key, pos, sensors, inter_id, inter_b, act_id, act_b, pre, post, w, magnitude,
               max_inter):
    """``variation.mutate`` on copies of the arrays: returns (inter_id, inter_b, act_b, pre,
    post, w) of the child."""
    ops = np.int64(max(1.0, magnitude) + 0.5)
    cap_inter = min(max_inter, MAX_INTER)
    room_i = inter_id.shape[0] + ops
    ids = np.empty(room_i, dtype=np.int64)
    bias = np.empty(room_i)
    ni = inter_id.shape[0]
    ids[:ni] = inter_id
    bias[:ni] = inter_b
    ab = act_b.copy()
    room_s = pre.shape[0] + ops                          # each operation adds at most one
    sp = np.empty(room_s, dtype=np.int64)
    sq = np.empty(room_s, dtype=np.int64)
    sw = np.empty(room_s)
    n = pre.shape[0]
    sp[:n], sq[:n], sw[:n] = pre, post, w
    pres = np.empty(sensors + room_i, dtype=np.int64)
    posts = np.empty(room_i + act_id.shape[0], dtype=np.int64)
    pair = np.empty(2, dtype=np.int64)
    for _ in range(ops):
        topology = _chance(key, pos, 0.5)
        kind = _integer(key, pos, 0, 3)
        if topology and kind == 0:                       # add an inter neuron, wired in
            if ni >= cap_inter:
                continue
            nid = ids[ni - 1] + 1 if ni > 0 else INTER_BASE
            if nid >= ACTION_BASE:                       # the lowest free id instead
                nid = INTER_BASE
                for j in range(ni):
                    if ids[j] == nid:
                        nid += 1
            k = ni                                       # keep ids sorted
            while k > 0 and ids[k - 1] > nid:
                ids[k], bias[k] = ids[k - 1], bias[k - 1]
                k -= 1
            ids[k] = nid
            bias[k] = _uniform(key, pos, -1.0, 1.0)
            ni += 1
            n_pre, n_post = _ends(sensors, ids, ni, act_id, pres, posts)
            inward = _chance(key, pos, 0.5)              # into it, or out of it
            ends, n_ends = (pres, n_pre) if inward else (posts, n_post)
            if n_ends > 1:                               # every end but the new neuron
                j = _integer(key, pos, 0, n_ends - 1)
                other = -1
                for a in range(n_ends):
                    if ends[a] != nid:
                        if j == 0:
                            other = ends[a]
                            break
                        j -= 1
                x = _uniform(key, pos, -WEIGHT_LIMIT, WEIGHT_LIMIT)
                n = (_insert(sp, sq, sw, n, other, nid, x) if inward
                     else _insert(sp, sq, sw, n, nid, other, x))
        elif topology and kind == 1:                     # remove an inter neuron
            if ni == 0:
                continue
            j = _integer(key, pos, 0, ni)
            nid = ids[j]
            for k in range(j, ni - 1):
                ids[k], bias[k] = ids[k + 1], bias[k + 1]
            ni -= 1
            keep = 0
            for k in range(n):
                if sp[k] != nid and sq[k] != nid:
                    sp[keep], sq[keep], sw[keep] = sp[k], sq[k], sw[k]
                    keep += 1
            n = keep
        elif topology:                                   # nudge a bias
            if _chance(key, pos, 0.5):
                if ab.shape[0] == 0:
                    continue
                j = _integer(key, pos, 0, ab.shape[0])
                ab[j] = _clamp(ab[j] + _uniform(key, pos, -1.0, 1.0), BIAS_LIMIT)
            else:
                if ni == 0:
                    continue
                j = _integer(key, pos, 0, ni)
                bias[j] = _clamp(bias[j] + _uniform(key, pos, -1.0, 1.0), BIAS_LIMIT)
        elif kind == 0:                                  # add a synapse
            n_pre, n_post = _ends(sensors, ids, ni, act_id, pres, posts)
            if _free_pair(key, pos, pres, n_pre, posts, n_post, sp, sq, n, pair):
                n = _insert(sp, sq, sw, n, pair[0], pair[1],
                            _uniform(key, pos, -WEIGHT_LIMIT, WEIGHT_LIMIT))
        elif kind == 1:                                  # remove a synapse
            if n == 0:
                continue
            j = _integer(key, pos, 0, n)
            for k in range(j, n - 1):
                sp[k], sq[k], sw[k] = sp[k + 1], sq[k + 1], sw[k + 1]
            n -= 1
        else:                                            # perturb a weight
            if n == 0:
                continue
            j = _integer(key, pos, 0, n)
            sw[j] = _clamp(sw[j] + _uniform(key, pos, -magnitude, magnitude), WEIGHT_LIMIT)
    return ids[:ni].copy(), bias[:ni].copy(), ab, sp[:n].copy(), sq[:n].copy(), sw[:n].copy()


# ---- births straight into a brain's packed store ------------------------------------------------

@njit(cache=True, nogil=True, inline="always")
def _local(ids, n, nid):
    """Index of ``nid`` among the first n (sorted) ids."""
    lo, hi = 0, n
    while lo < hi:
        mid = (lo + hi) >> 1
        if ids[mid] < nid:
            lo = mid + 1
        else:
            hi = mid
    return lo


@njit(cache=True, nogil=True)
def _write(sensors, inter_id, inter_b, act_id, act_b, pre, post, w, o_bias, o_ids, o_pre,
           o_post, o_w, at_n, at_s):
    """Pack one net (id form) at ``o_*[at_n:]`` / ``o_*[at_s:]`` as ``packing.pack`` does:
    biases inter then action, synapses into inter neurons then into action neurons, each
    group in canonical order. Returns (neurons, inter, synapses, into-inter synapses)."""
    ni, na = inter_id.shape[0], act_id.shape[0]
    for j in range(ni):
        o_bias[at_n + j], o_ids[at_n + j] = inter_b[j], inter_id[j]
    for m in range(na):
        o_bias[at_n + ni + m], o_ids[at_n + ni + m] = act_b[m], act_id[m]
    k = at_s
    split = 0
    for group in range(2):
        for s in range(pre.shape[0]):
            into_inter = post[s] < ACTION_BASE
            if into_inter != (group == 0):
                continue
            p = pre[s]
            o_pre[k] = p if p < INTER_BASE else sensors + _local(inter_id, ni, p)
            o_post[k] = (_local(inter_id, ni, post[s]) if into_inter
                         else ni + _local(act_id, na, post[s]))
            o_w[k] = w[s]
            k += 1
        if group == 0:
            split = k - at_s
    return ni + na, ni, k - at_s, split


@njit(cache=True, nogil=True)
def _read(slot, sensors, neu_lo, n_neu, n_inter, syn_lo, syn_hi, bias, ids, pre, post,
          weight):
    """The net in ``slot`` of a packed store, back in id form (synapses sorted)."""
    lo, nn, ni = neu_lo[slot], n_neu[slot], n_inter[slot]
    inter_id = ids[lo:lo + ni].copy()
    inter_b = bias[lo:lo + ni].copy()
    act_b = bias[lo + ni:lo + nn].copy()
    n = syn_hi[slot] - syn_lo[slot]
    sp = np.empty(n, dtype=np.int64)
    sq = np.empty(n, dtype=np.int64)
    sw = np.empty(n)
    m = 0
    for s in range(syn_lo[slot], syn_hi[slot]):
        p = np.int64(pre[s])
        p = p if p < sensors else ids[lo + p - sensors]
        m = _insert(sp, sq, sw, m, p, ids[lo + post[s]], weight[s])
    return inter_id, inter_b, act_b, sp, sq, sw


@njit(cache=True, nogil=True)
def spawn_batch(parents, new_ids, seed, random_stream, mutate_stream, tick, chance, rounds,
                sensors, act_id, num_neurons, num_synapses, magnitude, max_inter, neu_lo, n_neu,
                n_inter, syn_lo, syn_mid, syn_hi, bias, ids, pre, post, weight):
    """Births, packed for ``FlatStore.append_flat``: request r is a new random net
    (``parents[r]`` < 0; draws keyed (seed, random_stream, tick, new_ids[r])), or a copy of
    the net in slot ``parents[r]`` with draws keyed (seed, mutate_stream, tick, new_ids[r]),
    mutated -- as a hex world asks, with ``chance`` >= 0 -- once if the first draw is <=
    ``chance`` (the mutation goes on with draw 1), or -- with ``chance`` < 0, as the ecology
    world asks -- ``rounds[r]`` times in turn from draw 0. The same nets, from the same
    draws, as ``random_genome`` and ``mutate``. Returns (bias, ids, pre, post, weight,
    n_neu, n_inter, n_syn, split)."""
    k = parents.shape[0]
    ops = np.int64(max(1.0, magnitude) + 0.5)
    na = act_id.shape[0]
    neu_cap, syn_cap = 0, 0
    for r in range(k):
        p = parents[r]
        if p < 0:
            neu_cap += num_neurons + na
            syn_cap += num_synapses
        else:
            times = 1 if chance >= 0.0 else max(rounds[r], 1)
            neu_cap += n_neu[p] + ops * times
            syn_cap += syn_hi[p] - syn_lo[p] + ops * times
    o_bias = np.empty(neu_cap)
    o_ids = np.empty(neu_cap, dtype=np.int64)
    o_pre = np.empty(syn_cap, dtype=np.int32)
    o_post = np.empty(syn_cap, dtype=np.int32)
    o_w = np.empty(syn_cap)
    c_neu = np.zeros(k, dtype=np.int64)
    c_inter = np.zeros(k, dtype=np.int64)
    c_syn = np.zeros(k, dtype=np.int64)
    c_split = np.zeros(k, dtype=np.int64)
    key = np.empty(1, dtype=np.uint64)
    pos = np.zeros(1, dtype=np.int64)
    r_id = np.empty(num_neurons, dtype=np.int64)           # scratch for random nets
    r_b = np.empty(num_neurons)
    r_ab = np.empty(na)
    r_pres = np.empty(sensors + num_neurons, dtype=np.int64)
    r_posts = np.empty(num_neurons + na, dtype=np.int64)
    r_pre = np.empty(num_synapses, dtype=np.int64)
    r_post = np.empty(num_synapses, dtype=np.int64)
    r_w = np.empty(num_synapses)
    pair = np.empty(2, dtype=np.int64)
    at_n, at_s = 0, 0
    for r in range(k):
        p = parents[r]
        pos[0] = 0
        if p < 0:
            key[0] = key_prefix(seed, random_stream, tick, new_ids[r])
            n = _random_into(key, pos, sensors, act_id, num_neurons, num_synapses, r_id, r_b,
                             r_ab, r_pres, r_posts, r_pre, r_post, r_w, pair)
            c_neu[r], c_inter[r], c_syn[r], c_split[r] = _write(
                sensors, r_id, r_b, act_id, r_ab, r_pre[:n], r_post[:n], r_w[:n], o_bias,
                o_ids, o_pre, o_post, o_w, at_n, at_s)
        else:
            key[0] = key_prefix(seed, mutate_stream, tick, new_ids[r])
            times = rounds[r]
            if chance >= 0.0:
                times = 1 if float_from_u64(_u64(key, pos)) <= chance else 0
            if times > 0:
                pi, pb, pa, pp, pq, pw = _read(p, sensors, neu_lo, n_neu, n_inter, syn_lo,
                                               syn_hi, bias, ids, pre, post, weight)
                m = mutate_net(key, pos, sensors, pi, pb, act_id, pa, pp, pq, pw, magnitude,
                               max_inter)
                for _ in range(times - 1):
                    m = mutate_net(key, pos, sensors, m[0], m[1], act_id, m[2], m[3], m[4],
                                   m[5], magnitude, max_inter)
                c_neu[r], c_inter[r], c_syn[r], c_split[r] = _write(
                    sensors, m[0], m[1], act_id, m[2], m[3], m[4], m[5], o_bias, o_ids, o_pre,
                    o_post, o_w, at_n, at_s)
            else:                                        # a plain copy of the packed net
                lo, nn = neu_lo[p], n_neu[p]
                o_bias[at_n:at_n + nn] = bias[lo:lo + nn]
                o_ids[at_n:at_n + nn] = ids[lo:lo + nn]
                s0, s1 = syn_lo[p], syn_hi[p]
                o_pre[at_s:at_s + s1 - s0] = pre[s0:s1]
                o_post[at_s:at_s + s1 - s0] = post[s0:s1]
                o_w[at_s:at_s + s1 - s0] = weight[s0:s1]
                c_neu[r], c_inter[r], c_syn[r] = nn, n_inter[p], s1 - s0
                c_split[r] = syn_mid[p] - s0
        at_n += c_neu[r]
        at_s += c_syn[r]
    return (o_bias[:at_n], o_ids[:at_n], o_pre[:at_s], o_post[:at_s], o_w[:at_s], c_neu,
            c_inter, c_syn, c_split)
