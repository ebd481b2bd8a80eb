"""The batched kernel equals the reference bit for bit -- inter and action activations, action
values and synapse ops -- on thousands of generated nets, and on one thread or two."""

from __future__ import annotations

import struct

import numba
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primordia.brains.base import BrainIO
from primordia.brains.neural import kernels as k
from primordia.brains.neural import reference as ref
from primordia.brains.neural.genome import action_ids_for, confidence_slot
from primordia.brains.neural.packing import FlatStore, pack
from primordia.brains.neural.tanh import tanh_py
from primordia.brains.neural.variation import mutate, random_genome
from primordia.core.rng import DrawStream, Rng

from .conftest import LAYOUTS, genomes, sensor_values


def run_kernel(nets, io: BrainIO, turns: np.ndarray, spans: int = 0):
    """Run ``nets`` (slot j = net j) through ``turns[t, j, :]``; per turn, copies of the inter
    activations and the action neurons' inputs, the actions and the op count. ``spans`` > 0: the parallel kernel."""
    n = len(nets)
    store = FlatStore(n)
    store.append(np.arange(n), [pack(g, io.n_sensors) for g in nets])
    cols = [a - 2000 for a in action_ids_for(io)]
    act_cols = np.array(cols, dtype=np.int64)
    levels = np.array([io.levels(c) for c in cols], dtype=np.int64)
    inter = np.zeros((n, max([len(g.inter) for g in nets] + [1])))
    action_in = np.zeros((n, len(cols)))
    last_in = np.zeros((n, io.n_sensors), dtype=np.int32)
    slots = np.arange(n, dtype=np.int64)
    out = []
    for sensors in turns:
        actions = np.zeros((n, io.n_actions), dtype=np.int32)
        args = (slots, np.ascontiguousarray(sensors, dtype=np.int32), actions,
                confidence_slot(io), act_cols, levels, store.neu_lo, store.n_inter,
                store.syn_lo, store.syn_mid, store.syn_hi, store.bias, store.pre, store.post,
                store.weight, inter, action_in, last_in)
        ops = k.step_parallel(spans, *args) if spans else k.step_serial(*args)
        out.append((inter.copy(), action_in.copy(), actions, int(ops)))
    return out


def bits(values) -> list[bytes]:
    return [struct.pack("<d", float(v)) for v in values]


def assert_kernel_equals_reference(nets, io: BrainIO, turns: np.ndarray) -> None:
    got = run_kernel(nets, io, turns)
    for j, g in enumerate(nets):
        want = ref.run(g, io, turns[:, j, :].tolist())
        ni, na = len(g.inter), len(g.actions)
        for t, r in enumerate(want):
            inter, action_in, actions, _ = got[t]
            assert bits(inter[j, :ni]) == bits(r.inter), (j, t)
            assert bits(tanh_py(x) for x in action_in[j, :na]) == bits(r.actions), (j, t)
            assert tuple(actions[j].tolist()) == r.values, (j, t)
    for t in range(len(turns)):
        assert got[t][3] == sum(len(g.synapses) for g in nets)


def bulk_nets(io: BrainIO, count: int, seed: int) -> list:
    """Random nets of many sizes, half of them mutated a few times (gaps in the inter ids)."""
    rng, nets = Rng(seed), []
    for i in range(count):
        d = DrawStream(rng, 1, 0, i)
        g = random_genome(d, io.n_sensors, action_ids_for(io), d.integer(0, 9),
                          d.integer(0, 41))
        for _ in range(d.integer(0, 2) * d.integer(1, 6)):
            g = mutate(g, d, magnitude=d.random() * 4.0, max_inter=12)
        nets.append(g)
    return nets


def bulk_sensors(io: BrainIO, turns: int, n: int, seed: int) -> np.ndarray:
    """Small values mostly, some extremes: int32 sensors as the worlds write them."""
    gen = np.random.default_rng(seed)
    small = gen.integers(-4, 5, size=(turns, n, io.n_sensors))
    wide = gen.integers(-2**31, 2**31, size=(turns, n, io.n_sensors))
    return np.where(gen.random((turns, n, io.n_sensors)) < 0.1, wide, small).astype(np.int32)


def test_kernel_equals_reference_on_thousands_of_generated_nets():
    for seed, io in enumerate(LAYOUTS):
        nets = bulk_nets(io, 1200, seed)
        assert_kernel_equals_reference(nets, io, bulk_sensors(io, 4, len(nets), seed))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(LAYOUTS).flatmap(lambda io: st.tuples(
    st.just(io), st.lists(genomes(io), min_size=1, max_size=4),
    st.integers(1, 4))), st.data())
def test_kernel_equals_reference_on_hypothesis_nets(case, data):
    io, nets, n_turns = case
    turns = np.array([[data.draw(sensor_values(io.n_sensors)) for _ in nets]
                      for _ in range(n_turns)], dtype=np.int64).reshape(
                          n_turns, len(nets), io.n_sensors)
    assert_kernel_equals_reference(nets, io, turns.astype(np.int32))


def test_parallel_kernel_equals_serial_with_one_and_two_threads():
    io = LAYOUTS[1]
    nets = bulk_nets(io, 700, 11)
    turns = bulk_sensors(io, 3, len(nets), 11)
    serial = run_kernel(nets, io, turns)
    saved = numba.get_num_threads()
    try:
        for threads in (1, min(2, numba.config.NUMBA_NUM_THREADS)):
            numba.set_num_threads(threads)
            for spans in (1, 3, 8, 5000):
                par = run_kernel(nets, io, turns, spans=spans)
                for (a, b, c, d), (e, f, g, h) in zip(serial, par):
                    assert a.tobytes() == e.tobytes() and b.tobytes() == f.tobytes()
                    assert (c == g).all() and d == h
    finally:
        numba.set_num_threads(saved)
