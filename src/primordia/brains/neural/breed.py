"""``variation.random_genome`` and ``variation.mutate`` in numba, draw for draw and bit for bit,
on a net held as sorted arrays -- so that a world can make and mutate thousands of nets a
turn without a Python object per net. ``variation.py`` stays the readable reference; tests
hold the two equal (the same nets and the same number of draws used).

A net here: ``inter_id``/``inter_b`` (sorted by id), ``act_id``/``act_b`` (sorted),
``pre``/``post``/``w`` (sorted by (pre, post)). Draws come from one key (seed, stream, tick,
entity words) like a ``DrawStream``; ``pos[0]`` is the index of the next draw.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from primordia.core.rng import float_from_u64, random_u64, scale_u64

from .genome import ACTION_BASE, BIAS_LIMIT, INTER_BASE, MAX_INTER, WEIGHT_LIMIT
from .variation import PAIR_TRIES


@njit(cache=True, nogil=True, inline="always")
def _u64(key, pos):
    u = random_u64(key[0], key[1], key[2], key[3], pos[0])
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


@njit(cache=True, nogil=True)
def _find(pre, post, n, p, q):
    """Index of synapse (p, q) among the first n, or -1."""
    for k in range(n):
        if pre[k] == p and post[k] == q:
            return k
    return -1


@njit(cache=True, nogil=True)
def _insert(pre, post, w, n, p, q, x):
    """Put (p, q, x) into the first n synapses in (pre, post) order; returns n + 1. The
    arrays must have room."""
    k = n
    while k > 0 and (pre[k - 1] > p or (pre[k - 1] == p and post[k - 1] > q)):
        pre[k], post[k], w[k] = pre[k - 1], post[k - 1], w[k - 1]
        k -= 1
    pre[k], post[k], w[k] = p, q, x
    return n + 1


@njit(cache=True, nogil=True)
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


@njit(cache=True, nogil=True)
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
    inter_id = np.arange(INTER_BASE, INTER_BASE + num_neurons).astype(np.int64)
    inter_b = np.empty(num_neurons)
    for j in range(num_neurons):
        inter_b[j] = _uniform(key, pos, -1.0, 1.0)
    act_b = np.empty(act_id.shape[0])
    for j in range(act_id.shape[0]):
        act_b[j] = _uniform(key, pos, -1.0, 1.0)
    pres = np.empty(sensors + num_neurons, dtype=np.int64)
    posts = np.empty(num_neurons + act_id.shape[0], dtype=np.int64)
    n_pre, n_post = _ends(sensors, inter_id, num_neurons, act_id, pres, posts)
    pre = np.empty(num_synapses, dtype=np.int64)
    post = np.empty(num_synapses, dtype=np.int64)
    w = np.empty(num_synapses)
    pair = np.empty(2, dtype=np.int64)
    n = 0
    for _ in range(num_synapses):
        if not _free_pair(key, pos, pres, n_pre, posts, n_post, pre, post, n, pair):
            break
        x = _clamp(_uniform(key, pos, -WEIGHT_LIMIT, WEIGHT_LIMIT), WEIGHT_LIMIT)
        n = _insert(pre, post, w, n, pair[0], pair[1], x)
    return inter_id, inter_b, act_b, pre[:n].copy(), post[:n].copy(), w[:n].copy()


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
            if _chance(key, pos, 0.5):
                m = n_pre - 1                            # every source but the new neuron
                if m > 0:
                    j = _integer(key, pos, 0, m)
                    src = -1
                    for a in range(n_pre):
                        if pres[a] != nid:
                            if j == 0:
                                src = pres[a]
                                break
                            j -= 1
                    n = _insert(sp, sq, sw, n, src, nid,
                                _uniform(key, pos, -WEIGHT_LIMIT, WEIGHT_LIMIT))
            else:
                m = n_post - 1
                if m > 0:
                    j = _integer(key, pos, 0, m)
                    dst = -1
                    for b in range(n_post):
                        if posts[b] != nid:
                            if j == 0:
                                dst = posts[b]
                                break
                            j -= 1
                    n = _insert(sp, sq, sw, n, nid, dst,
                                _uniform(key, pos, -WEIGHT_LIMIT, WEIGHT_LIMIT))
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
