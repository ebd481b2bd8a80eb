"""The fast neural turn: numba kernels that evaluate a whole population in one call.

Layout (built by ``packing.py``, kept by ``brain.py``): organism ``i``'s neurons are numbered
densely from ``neu_lo[i]`` in the flat ``bias`` array -- its inter neurons (in id order), then
its action neurons; ``inter_act[i, j]`` is the activation of its j-th inter neuron, carried
from turn to turn. Its synapses are ``syn_lo[i] .. syn_hi[i]`` of the flat ``pre``/``post``/
``weight`` arrays (CSR by organism): first those into inter neurons (up to ``syn_mid[i]``),
then those into action neurons, each group in canonical (pre, post) order. ``pre`` is a
sensor index (< number of sensors) or the number of sensors plus an inter index; ``post`` is
a local neuron index. So every neuron's input is summed in the order ``reference.py`` sums it,
and the results agree bit for bit (tests check).

An action neuron's activation only matters through its action value, and for an on/off action
that is the sign of its input (this tanh is odd and increasing, and zero only at zero), so the
kernel keeps each action neuron's input in ``action_in`` and takes tanh only for actions with
more than two levels; ``NeuralBrain.activations`` applies it for views. That saves three of the
five tanh calls of a hex-world net.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .reference import action_value, confidence_value
from .tanh import tanh_nb

action_value_nb = njit(cache=True, nogil=True)(action_value)
confidence_value_nb = njit(cache=True, nogil=True)(confidence_value)

PARALLEL_MIN = 256
"""Organisms in a call below which the brain does not spread a step over threads."""


@njit(cache=True, nogil=True)
def step_span(lo, hi, slots, sensors, actions, conf_col, act_cols, act_levels, neu_lo, n_inter,
              syn_lo, syn_mid, syn_hi, bias, pre, post, weight, inter_act, action_in,
              last_in):
    """One turn for organisms ``slots[lo:hi]`` (see the module for the layout): read
    ``sensors[i]``, update ``inter_act[i]``, write ``actions[i]`` and the action neurons'
    inputs ``action_in[i]``. Sums go to a small scratch row reused by every net (it stays
    in the L1 cache). Returns the synapse contributions summed."""
    ns = sensors.shape[1]
    na = act_cols.shape[0]
    scratch = np.empty(inter_act.shape[1] + na)   # inter_act is as wide as the widest net
    ops = 0
    for j in range(lo, hi):
        i = slots[j]
        nb = neu_lo[i]
        ni = n_inter[i]
        conf = 0.0
        if ni > 0:
            conf = inter_act[i, 0]
            for q in range(1, ni):
                if inter_act[i, q] > conf:
                    conf = inter_act[i, q]
        for q in range(ns):
            last_in[i, q] = sensors[i, q]
        for q in range(ni + na):
            scratch[q] = bias[nb + q]
        for e in range(syn_lo[i], syn_mid[i]):          # into inter: previous activations
            p = pre[e]
            v = np.float64(sensors[i, p]) if p < ns else inter_act[i, p - ns]
            scratch[post[e]] += v * weight[e]
        for q in range(ni):
            inter_act[i, q] = tanh_nb(scratch[q])
        for e in range(syn_mid[i], syn_hi[i]):          # into actions: the new activations
            p = pre[e]
            v = np.float64(sensors[i, p]) if p < ns else inter_act[i, p - ns]
            scratch[post[e]] += v * weight[e]
        for m in range(na):
            x = scratch[ni + m]
            action_in[i, m] = x
            if act_levels[m] == 2:                      # tanh(x) > 0 exactly when x > 0
                actions[i, act_cols[m]] = 1 if x > 0.0 else 0
            else:
                actions[i, act_cols[m]] = action_value_nb(tanh_nb(x), act_levels[m])
        if conf_col >= 0:
            actions[i, conf_col] = confidence_value_nb(conf)
        ops += syn_hi[i] - syn_lo[i]
    return ops


@njit(cache=True, nogil=True)
def step_serial(slots, sensors, actions, conf_col, act_cols, act_levels, neu_lo, n_inter,
                syn_lo, syn_mid, syn_hi, bias, pre, post, weight, inter_act, action_in,
                last_in):
    """One turn for every organism in ``slots``, on one thread; returns the synapse ops."""
    return step_span(0, slots.shape[0], slots, sensors, actions, conf_col, act_cols,
                     act_levels, neu_lo, n_inter, syn_lo, syn_mid, syn_hi, bias, pre, post,
                     weight, inter_act, action_in, last_in)


@njit(cache=True, nogil=True, parallel=True)
def step_parallel(spans, slots, sensors, actions, conf_col, act_cols, act_levels, neu_lo,
                  n_inter, syn_lo, syn_mid, syn_hi, bias, pre, post, weight, inter_act,
                  action_in, last_in):
    """``step_serial`` in ``spans`` slices over numba's threads. The results are the same:
    each organism touches only its own rows and neuron range (slots must not repeat), and the
    op counts are added up afterwards in slice order."""
    n = slots.shape[0]
    spans = max(1, min(n, spans))
    size = (n + spans - 1) // spans
    counts = np.zeros(spans, dtype=np.int64)
    for s in prange(spans):
        counts[s] = step_span(s * size, min(n, (s + 1) * size), slots, sensors, actions,
                              conf_col, act_cols, act_levels, neu_lo, n_inter, syn_lo,
                              syn_mid, syn_hi, bias, pre, post, weight, inter_act,
                              action_in, last_in)
    return counts.sum()
