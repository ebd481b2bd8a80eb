"""The world brain's decision in numba: every active organism's network through one tick in
one call, bit for bit as ``worldio.Organism.decide``.

Layout (kept by ``brain.MycosBrain``): organism ``i``'s bits are ``bits[bit_lo[i]:][:n_bits[i]]``
in the spec's global numbering (chunk 0's inputs first, then its internals, then its
outputs), with their sections in ``section``; its CSR rows are ``fan_start/fan_end[3 *
bit_lo[i]:]`` and point into the shared gene arrays ``tag/target/action`` (targets count
from the organism's first bit). The tick itself is the task evaluator's (``kernels._episode``);
this module adds the sensor coding before it and the action decoding after it.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .kernels import M_EFFECTS, _episode, _pack, scratch

N_METRICS = 5


@njit(cache=True, nogil=True)
def decide_span(lo, hi, slots, sensors, actions, bit_lo, n_bits, ni0, nn0, no0, section, bits,
                fan_start, fan_end, tag, target, action, thresholds, clock, action_bits,
                act_levels, conf_col, max_rounds, max_effects, window, policy):
    """One decision for organisms ``slots[lo:hi]`` (see the module): code ``sensors[i]``
    (and the clock, if ``clock``) into chunk 0's inputs, run the tick on the organism's bits
    in place, decode chunk 0's outputs into ``actions[i]``. Returns the effects applied."""
    most = 1
    wide = 1
    for j in range(lo, hi):
        i = slots[j]
        most = max(most, n_bits[i])
        wide = max(wide, ni0[i], no0[i])
    space = scratch(most, window)
    (cur, start_w, init_w, cur_w, last_w, before_w, best_tag, best_act, counts, touched,
     changed, ring_cur, ring_before) = space
    in_map = np.empty(wide, dtype=np.int64)
    out_map = np.empty(wide, dtype=np.int64)
    values = np.zeros((1, wide), dtype=np.uint8)
    seen = np.zeros((1, wide), dtype=np.uint8)
    metrics = np.zeros(N_METRICS, dtype=np.int64)
    n_sensors = sensors.shape[1]
    channels = n_sensors + (1 if clock else 0)
    n_actions = act_levels.shape[0]
    codes = np.zeros(max(n_actions, 1), dtype=np.int64)
    levels = thresholds.shape[0]
    effects = 0
    for j in range(lo, hi):
        i = slots[j]
        n = n_bits[i]
        b0 = bit_lo[i]
        ni, no = ni0[i], no0[i]
        words = (n + 63) >> 6
        for b in range(n):
            cur[b] = bits[b0 + b]
        _pack(cur[:n], cur_w[:words])
        last_w[:words] = cur_w[:words]
        for k in range(ni):                 # chunk 0's inputs are its first bits
            in_map[k] = k
            v = 0
            if channels > 0:
                ch = k % channels
                if ch == n_sensors:
                    v = 1 - cur[k]
                elif sensors[i, ch] >= thresholds[(k // channels) % levels]:
                    v = 1
            values[0, k] = v
        first_out = ni + nn0[i]
        for k in range(no):
            out_map[k] = first_out + k
        metrics[:] = 0
        _episode(n, section[b0:b0 + n], fan_start[3 * b0:3 * (b0 + n)],
                 fan_end[3 * b0:3 * (b0 + n)], tag, target, action, in_map[:ni],
                 out_map[:no], values[:, :ni], max_rounds, max_effects, window, policy,
                 seen[:, :no], metrics, cur, start_w[:words], cur_w[:words], last_w[:words],
                 before_w[:words], best_tag, best_act, counts, touched, changed,
                 ring_cur[:, :words], ring_before[:, :words])
        effects += metrics[M_EFFECTS]
        for b in range(n):
            bits[b0 + b] = cur[b]
        if n_actions > 0:
            codes[:] = 0
            for k in range(no):
                if seen[0, k] != 0:
                    codes[k % n_actions] ^= np.int64(1) << ((k // n_actions) % action_bits)
            for a in range(n_actions):
                if a == conf_col:
                    actions[i, a] = (codes[a] << 16) >> action_bits
                else:
                    actions[i, a] = codes[a] % act_levels[a]
    return effects


@njit(cache=True, nogil=True)
def decide_serial(slots, sensors, actions, bit_lo, n_bits, ni0, nn0, no0, section, bits,
                  fan_start, fan_end, tag, target, action, thresholds, clock, action_bits,
                  act_levels, conf_col, max_rounds, max_effects, window, policy):
    """One decision for every organism in ``slots``, on one thread; returns the effects."""
    return decide_span(0, slots.shape[0], slots, sensors, actions, bit_lo, n_bits, ni0, nn0,
                       no0, section, bits, fan_start, fan_end, tag, target, action,
                       thresholds, clock, action_bits, act_levels, conf_col, max_rounds,
                       max_effects, window, policy)


@njit(cache=True, nogil=True, parallel=True)
def decide_parallel(spans, slots, sensors, actions, bit_lo, n_bits, ni0, nn0, no0, section,
                    bits, fan_start, fan_end, tag, target, action, thresholds, clock,
                    action_bits, act_levels, conf_col, max_rounds, max_effects, window,
                    policy):
    """``decide_serial`` in ``spans`` slices over numba's threads: the same results, since
    each organism touches only its own bits and rows (slots must not repeat)."""
    n = slots.shape[0]
    spans = max(1, min(n, spans))
    size = (n + spans - 1) // spans
    counts = np.zeros(spans, dtype=np.int64)
    for s in prange(spans):
        counts[s] = decide_span(s * size, min(n, (s + 1) * size), slots, sensors, actions,
                                bit_lo, n_bits, ni0, nn0, no0, section, bits, fan_start,
                                fan_end, tag, target, action, thresholds, clock,
                                action_bits, act_levels, conf_col, max_rounds, max_effects,
                                window, policy)
    return counts.sum()
