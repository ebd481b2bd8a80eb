"""The Mycos tick in numba: many networks x episodes per call, bit for bit as ``reference.py``.

Each network's bits lie in one row in the spec's global numbering: per chunk its inputs, then
internals, then outputs. Its genes form a CSR keyed by (bit, trigger kind), in tag order.
Networks are independent of each other, so the parallel kernel spreads them over threads; a
network runs its episodes one after another in scratch space allocated once.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .genome import DISABLE, ENABLE, FLIP, OUTPUT as OUT_SECTION
from .reference import CLAMP, FREEZE, QUENCH

M_ROUNDS, M_EFFECTS, M_OSCILLATOR, M_PERIOD, M_POLICY = range(5)
FNV_PRIME = np.uint64(1099511628211)
FNV_START = np.uint64(14695981039346656037)


@njit(cache=True, nogil=True, inline="always")
def _key_hash(cur, before, n):
    h = FNV_START
    for b in range(n):
        h = (h ^ np.uint64(cur[b] | (before[b] << 1))) * FNV_PRIME
    return h


@njit(cache=True, nogil=True)
def run_network(n, section, init, fan_start, fan_end, tag, target, action, in_map, out_map,
                values, max_rounds, max_effects, window, policy, seen, metrics):
    """One network (``n`` bits starting as ``init``, ``section`` of each, CSR rows
    ``fan_start/fan_end[3 * bit + kind]`` into ``tag/target/action``) through every episode
    e: tick t writes ``values[e, t, k]`` to bit ``in_map[k]`` (-1: absent) and leaves bit
    ``out_map[j]`` in ``seen[e, t, j]``. Scratch space is allocated once per network."""
    cur = np.empty(n, dtype=np.uint8)
    last = np.empty(n, dtype=np.uint8)
    start = np.zeros(n, dtype=np.uint8)
    before = np.zeros(n, dtype=np.uint8)
    best_tag = np.full(n, -1, dtype=np.int64)
    best_act = np.zeros(n, dtype=np.uint8)
    counts = np.zeros((n, 3), dtype=np.int64)
    touched = np.zeros(n, dtype=np.int64)
    changed = np.zeros(n, dtype=np.int64)
    size = max(window, 1)
    ring_cur = np.zeros((size, n), dtype=np.uint8)
    ring_before = np.zeros((size, n), dtype=np.uint8)
    ring_hash = np.zeros(size, dtype=np.uint64)
    for e in range(values.shape[0]):
        cur[:] = init
        last[:] = init
        _episode(n, section, fan_start, fan_end, tag, target, action, in_map, out_map,
                 values[e], max_rounds, max_effects, window, policy, seen[e], metrics[e], cur,
                 last, start, before, best_tag, best_act, counts, touched, changed,
                 ring_cur, ring_before, ring_hash)


@njit(cache=True, nogil=True)
def _episode(n, section, fan_start, fan_end, tag, target, action, in_map, out_map, values,
             max_rounds, max_effects, window, policy, seen, metrics, cur, last, start, before,
             best_tag, best_act, counts, touched, changed, ring_cur, ring_before, ring_hash):
    for t in range(values.shape[0]):
        for k in range(in_map.shape[0]):
            if in_map[k] >= 0:
                cur[in_map[k]] = values[t, k]
        start[:] = cur
        ring_len = 0                         # entries, oldest at ring_first
        ring_first = 0
        commutative = False
        effects = 0
        for _ in range(max_rounds):
            # K1: the bits that changed since the last round, in bit order
            n_changed = 0
            for b in range(n):
                if cur[b] != last[b]:
                    changed[n_changed] = b
                    n_changed += 1
                    last[b] = cur[b]
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
            before[:] = cur
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
                applied += 1
            effects += applied
            metrics[M_ROUNDS] += 1
            metrics[M_EFFECTS] += applied
            # the state and its edges against the last rounds'
            h = _key_hash(cur, before, n)
            period = 0
            for age in range(ring_len):
                slot = (ring_first + ring_len - 1 - age) % window
                if ring_hash[slot] != h:
                    continue
                same = True
                for b in range(n):
                    if ring_cur[slot, b] != cur[b] or ring_before[slot, b] != before[b]:
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
                            cur[b] = start[b]
                    break
                elif policy == QUENCH:
                    if period % 2 == 1:
                        for b in range(n):
                            if section[b] == 1:
                                cur[b] = before[b]
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
                ring_hash[slot] = h
                ring_cur[slot, :] = cur
                ring_before[slot, :] = before
        last[:] = cur
        for j in range(out_map.shape[0]):
            seen[t, j] = cur[out_map[j]] if out_map[j] >= 0 else 0


@njit(cache=True, nogil=True)
def run_batch_serial(bit_start, section, init, fan_base, fan_start, fan_end, tag, target,
                     action, in_map, out_map, values, max_rounds, max_effects, window, policy,
                     seen, metrics):
    """Every network g (bits ``bit_start[g]:bit_start[g + 1]`` of ``section`` and ``init``,
    CSR rows from ``fan_base[g]``) through every episode e; results in ``seen[g, e]`` and
    ``metrics[g, e]``."""
    for g in range(seen.shape[0]):
        _network(g, bit_start, section, init, fan_base, fan_start, fan_end, tag, target,
                 action, in_map, out_map, values, max_rounds, max_effects, window, policy,
                 seen, metrics)


@njit(cache=True, nogil=True, parallel=True)
def run_batch_parallel(bit_start, section, init, fan_base, fan_start, fan_end, tag, target,
                       action, in_map, out_map, values, max_rounds, max_effects, window, policy,
                       seen, metrics):
    """``run_batch_serial`` with networks spread over numba's threads."""
    for g in prange(seen.shape[0]):
        _network(g, bit_start, section, init, fan_base, fan_start, fan_end, tag, target,
                 action, in_map, out_map, values, max_rounds, max_effects, window, policy,
                 seen, metrics)


@njit(cache=True, nogil=True)
def _network(g, bit_start, section, init, fan_base, fan_start, fan_end, tag, target, action,
             in_map, out_map, values, max_rounds, max_effects, window, policy, seen, metrics):
    lo, hi = bit_start[g], bit_start[g + 1]
    rows = fan_base[g]
    run_network(hi - lo, section[lo:hi], init[lo:hi], fan_start[rows:rows + 3 * (hi - lo)],
                fan_end[rows:rows + 3 * (hi - lo)], tag, target, action, in_map[g], out_map[g],
                values, max_rounds, max_effects, window, policy, seen[g], metrics[g])
