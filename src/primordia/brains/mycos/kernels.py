"""The Mycos tick in numba: many networks x episodes per call, bit for bit as ``reference.py``.

Each network's bits lie in one row in the spec's global numbering: per chunk its inputs, then
internals, then outputs. Its genes form a CSR keyed by (bit, trigger kind), in tag order.
Networks are independent of each other, so the parallel kernel spreads them over threads; a
network runs its episodes one after another in scratch space allocated once.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange
from numba.cpython.unsafe.numbers import trailing_zeros

from .genome import DISABLE, ENABLE, FLIP, OUTPUT as OUT_SECTION
from .reference import CLAMP, FREEZE, QUENCH

M_ROUNDS, M_EFFECTS, M_OSCILLATOR, M_PERIOD, M_POLICY = range(5)
ONE = np.uint64(1)
BLOCK = 16
"""Networks per task of the parallel kernel (each task allocates its scratch once)."""


@njit(cache=True, nogil=True, inline="always")
def _put(words, b, v):
    """Set bit ``b`` of a packed state to ``v`` (0 or 1)."""
    w, s = b >> 6, np.uint64(b & 63)
    words[w] = (words[w] & ~(ONE << s)) | (np.uint64(v) << s)


@njit(cache=True, nogil=True)
def _pack(bits, words):
    """Bytes (0/1) to 64-bit words, bit b in word b // 64 at position b % 64."""
    words[:] = 0
    for b in range(bits.shape[0]):
        words[b >> 6] |= np.uint64(bits[b]) << np.uint64(b & 63)


@njit(cache=True, nogil=True)
def scratch(n, window):
    """Working arrays for networks of up to ``n`` bits, allocated once and reused: every
    round leaves ``best_tag`` at -1 again and everything else is written before it is read."""
    words = (n + 63) >> 6
    size = max(window, 1)
    return (np.empty(n, dtype=np.uint8), np.empty(words, dtype=np.uint64),
            np.empty(words, dtype=np.uint64), np.empty(words, dtype=np.uint64),
            np.empty(words, dtype=np.uint64), np.empty(words, dtype=np.uint64),
            np.full(n, -1, dtype=np.int64), np.zeros(n, dtype=np.uint8),
            np.zeros((n, 3), dtype=np.int64), np.zeros(n, dtype=np.int64),
            np.zeros(n, dtype=np.int64), np.zeros((size, words), dtype=np.uint64),
            np.zeros((size, words), dtype=np.uint64))


@njit(cache=True, nogil=True)
def run_network(n, section, init, fan_start, fan_end, tag, target, action, in_map, out_map,
                values, set_map, set_values, max_rounds, max_effects, window, policy, seen,
                metrics, space):
    """One network (``n`` bits starting as ``init``, ``section`` of each, CSR rows
    ``fan_start/fan_end[3 * bit + kind]`` into ``tag/target/action``) through every episode
    e: tick t writes ``values[e, t, k]`` to bit ``in_map[k]`` (-1: absent) and leaves bit
    ``out_map[j]`` in ``seen[e, t, j]``. Episode e starts with bit ``set_map[k]`` at
    ``set_values[e, k]`` where that is not 255 (the task's overrides of initial internal
    bits). ``space`` is ``scratch`` of at least ``n`` bits.

    The state lives twice: as bytes, which the rounds read and write, and packed into 64-bit
    words kept in step with them, which make a round's changed bits (an XOR and a bit scan),
    the round's key and the ring's exact comparisons a few word operations each."""
    words = (n + 63) >> 6
    (cur, start_w, init_w, cur_w, last_w, before_w, best_tag, best_act, counts, touched,
     changed, ring_cur, ring_before) = space
    init_w = init_w[:words]
    _pack(init, init_w)
    cur_w, last_w, before_w = cur_w[:words], last_w[:words], before_w[:words]
    start_w = start_w[:words]
    ring_cur, ring_before = ring_cur[:, :words], ring_before[:, :words]
    for e in range(values.shape[0]):
        cur[:n] = init
        cur_w[:] = init_w
        for k in range(set_map.shape[0]):
            if set_map[k] >= 0 and set_values[e, k] != 255:
                cur[set_map[k]] = set_values[e, k]
                _put(cur_w, set_map[k], set_values[e, k])
        last_w[:] = cur_w
        _episode(n, section, fan_start, fan_end, tag, target, action, in_map, out_map,
                 values[e], max_rounds, max_effects, window, policy, seen[e], metrics[e], cur,
                 start_w, cur_w, last_w, before_w, best_tag, best_act, counts, touched, changed,
                 ring_cur, ring_before)


@njit(cache=True, nogil=True, inline="always")
def _episode(n, section, fan_start, fan_end, tag, target, action, in_map, out_map, values,
             max_rounds, max_effects, window, policy, seen, metrics, cur, start_w, cur_w, last_w,
             before_w, best_tag, best_act, counts, touched, changed, ring_cur, ring_before):
    words = cur_w.shape[0]
    for t in range(values.shape[0]):
        for k in range(in_map.shape[0]):
            if in_map[k] >= 0:
                cur[in_map[k]] = values[t, k]
                _put(cur_w, in_map[k], values[t, k])
        start_w[:] = cur_w
        ring_len = 0                         # entries, oldest at ring_first
        ring_first = 0
        commutative = False
        effects = 0
        for _ in range(max_rounds):
            # K1: the bits that changed since the last round, in bit order
            n_changed = 0
            for w in range(words):
                x = cur_w[w] ^ last_w[w]
                last_w[w] = cur_w[w]
                while x != 0:
                    changed[n_changed] = (w << 6) + trailing_zeros(x)
                    n_changed += 1
                    x &= x - ONE
            # K2 + K3: proposals in emission order, resolution as they come
            m = 0
            for links in range(2):
                for kind in range(3):
                    for j in range(n_changed):
                        b = changed[j]
                        if (section[b] == OUT_SECTION) != (links == 1):
                            continue
                        if kind != 2 and (kind == 0) != (cur[b] == 1):
                            continue
                        for q in range(fan_start[3 * b + kind], fan_end[3 * b + kind]):
                            d = target[q]
                            if best_tag[d] < 0:
                                touched[m] = d
                                m += 1
                                best_tag[d] = 0
                                counts[d, 0] = counts[d, 1] = counts[d, 2] = 0
                                best_act[d] = action[q]
                                best_tag[d] = tag[q]
                            elif tag[q] >= best_tag[d]:
                                best_tag[d] = tag[q]
                                best_act[d] = action[q]
                            counts[d, action[q]] += 1
            if m == 0 or effects >= max_effects:
                for j in range(m):
                    best_tag[touched[j]] = -1
                break
            before_w[:] = cur_w
            applied = 0
            for j in range(m):               # K4: commit the winners
                d = touched[j]
                best_tag[d] = -1
                a = best_act[d]
                if commutative:
                    if counts[d, DISABLE] > 0:
                        a = DISABLE
                    elif counts[d, ENABLE] > 0:
                        a = ENABLE
                    elif counts[d, FLIP] % 2 == 1:
                        a = FLIP
                    else:
                        continue
                if a == ENABLE:
                    cur[d] = 1
                elif a == DISABLE:
                    cur[d] = 0
                else:
                    cur[d] ^= 1
                _put(cur_w, d, cur[d])
                applied += 1
            effects += applied
            metrics[M_ROUNDS] += 1
            metrics[M_EFFECTS] += applied
            # the state and its edges (the state before the round) against the last rounds'
            period = 0
            for age in range(ring_len):
                slot = (ring_first + ring_len - 1 - age) % window
                same = True
                for w in range(words):
                    if ring_cur[slot, w] != cur_w[w] or ring_before[slot, w] != before_w[w]:
                        same = False
                        break
                if same:
                    period = age + 1
                    break
            if period > 0:
                if metrics[M_OSCILLATOR] == 0:
                    metrics[M_OSCILLATOR] = 1
                    metrics[M_PERIOD] = period
                metrics[M_POLICY] = policy
                if policy == CLAMP and not commutative:
                    commutative = True
                    ring_len = 0
                    ring_first = 0
                elif policy == FREEZE:
                    for b in range(n):
                        if section[b] != 0:
                            cur[b] = (start_w[b >> 6] >> np.uint64(b & 63)) & ONE
                    _pack(cur[:n], cur_w)
                    break
                elif policy == QUENCH:
                    if period % 2 == 1:
                        for b in range(n):
                            if section[b] == 1:
                                cur[b] = (before_w[b >> 6] >> np.uint64(b & 63)) & ONE
                        _pack(cur[:n], cur_w)
                    break
                else:
                    break
            if window > 0:                   # remember this round (the oldest drops out)
                if ring_len == window:
                    slot = ring_first
                    ring_first = (ring_first + 1) % window
                else:
                    slot = (ring_first + ring_len) % window
                    ring_len += 1
                ring_cur[slot, :] = cur_w
                ring_before[slot, :] = before_w
        last_w[:] = cur_w
        for j in range(out_map.shape[0]):
            seen[t, j] = cur[out_map[j]] if out_map[j] >= 0 else 0


@njit(cache=True, nogil=True)
def run_batch_serial(bit_start, section, init, fan_base, fan_start, fan_end, tag, target,
                     action, in_map, out_map, values, set_map, set_values, max_rounds,
                     max_effects, window, policy, seen, metrics):
    """Every network g (bits ``bit_start[g]:bit_start[g + 1]`` of ``section`` and ``init``,
    CSR rows from ``fan_base[g]``, bit maps ``in_map[g]``, ``out_map[g]``, ``set_map[g]``)
    through every episode e; results in ``seen[g, e]`` and ``metrics[g, e]``."""
    _networks(0, seen.shape[0], bit_start, section, init, fan_base, fan_start, fan_end, tag,
              target, action, in_map, out_map, values, set_map, set_values, max_rounds,
              max_effects, window, policy, seen, metrics)


@njit(cache=True, nogil=True, parallel=True)
def run_batch_parallel(bit_start, section, init, fan_base, fan_start, fan_end, tag, target,
                       action, in_map, out_map, values, set_map, set_values, max_rounds,
                       max_effects, window, policy, seen, metrics):
    """``run_batch_serial`` with blocks of networks spread over numba's threads."""
    n = seen.shape[0]
    for block in prange((n + BLOCK - 1) // BLOCK):
        _networks(block * BLOCK, min(n, (block + 1) * BLOCK), bit_start, section, init,
                  fan_base, fan_start, fan_end, tag, target, action, in_map, out_map, values,
                  set_map, set_values, max_rounds, max_effects, window, policy, seen, metrics)


@njit(cache=True, nogil=True)
def _networks(first, end, bit_start, section, init, fan_base, fan_start, fan_end, tag, target,
              action, in_map, out_map, values, set_map, set_values, max_rounds, max_effects,
              window, policy, seen, metrics):
    """Networks ``first`` to ``end - 1``, in one scratch space."""
    most = 0
    for g in range(first, end):
        most = max(most, bit_start[g + 1] - bit_start[g])
    space = scratch(most, window)
    for g in range(first, end):
        lo, hi = bit_start[g], bit_start[g + 1]
        rows = fan_base[g]
        run_network(hi - lo, section[lo:hi], init[lo:hi],
                    fan_start[rows:rows + 3 * (hi - lo)], fan_end[rows:rows + 3 * (hi - lo)],
                    tag, target, action, in_map[g], out_map[g], values, set_map[g],
                    set_values, max_rounds, max_effects, window, policy, seen[g], metrics[g],
                    space)
