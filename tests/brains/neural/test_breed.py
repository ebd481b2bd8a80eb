"""The numba twins of random_genome and mutate make the same nets from the same draws as the
plain-Python variation (the reference), and use the same number of draws."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.neural import breed
from primordia.brains.neural.genome import NeuralGenome, action_ids_for
from primordia.brains.neural.variation import mutate, random_genome
from primordia.core.errors import ConfigError
from primordia.core.rng import DrawStream, Rng

from .conftest import LAYOUTS, genomes


def key(d: DrawStream) -> np.ndarray:
    return breed.key_of(*d.key)


def arrays(g: NeuralGenome):
    return (np.array(g.inter_ids, dtype=np.int64), np.array([b for _, b in g.inter]),
            np.array(g.action_ids, dtype=np.int64), np.array([b for _, b in g.actions]),
            np.array([s[0] for s in g.synapses], dtype=np.int64),
            np.array([s[1] for s in g.synapses], dtype=np.int64),
            np.array([s[2] for s in g.synapses]))


def genome(sensors, act_id, out) -> NeuralGenome:
    ids, ib, ab, pre, post, w = out
    return NeuralGenome(sensors, tuple(zip(ids.tolist(), ib.tolist())),
                        tuple(zip(act_id.tolist(), ab.tolist())),
                        tuple(zip(pre.tolist(), post.tolist(), w.tolist())))


def test_random_nets_match_the_reference_draw_for_draw():
    for e in range(600):
        io = LAYOUTS[e % 3]
        acts = np.array(action_ids_for(io), dtype=np.int64)
        neurons, synapses = e % 6, (e * 7) % 15
        d = DrawStream(Rng(e % 5), 77, e, e)
        want = random_genome(d, io.n_sensors, tuple(acts.tolist()), neurons, synapses)
        pos = np.zeros(1, dtype=np.int64)
        got = breed.random_net(key(DrawStream(Rng(e % 5), 77, e, e)), pos, io.n_sensors, acts,
                               neurons, synapses)
        assert genome(io.n_sensors, acts, got) == want
        assert pos[0] == d.used


@settings(max_examples=300, deadline=None)
@given(genomes(), st.integers(0, 2**32), st.sampled_from([0.0, 1.0, 1.5, 2.5, 4.0]),
       st.integers(0, 10))
def test_mutations_match_the_reference_draw_for_draw(g, entity, magnitude, max_inter):
    d = DrawStream(Rng(3), 5, 1, entity)
    want = mutate(g, d, magnitude, max_inter)
    ids, ib, acts, ab, pre, post, w = arrays(g)
    pos = np.zeros(1, dtype=np.int64)
    got = breed.mutate_net(key(DrawStream(Rng(3), 5, 1, entity)), pos, g.sensors, ids, ib,
                           acts, ab, pre, post, w, magnitude, max_inter)
    assert genome(g.sensors, acts, got) == want
    assert pos[0] == d.used


def test_a_new_inter_neuron_past_id_1999_takes_the_lowest_free_id_in_both():
    top = NeuralGenome(1, ((1000, 0.1), (1001, 0.2), (1999, 0.3)), ((2000, 0.0),), ())
    for entity in range(400):
        d = DrawStream(Rng(9), 5, 2, entity)
        want = mutate(top, d, 1.0, 20)
        ids, ib, acts, ab, pre, post, w = arrays(top)
        got = breed.mutate_net(key(DrawStream(Rng(9), 5, 2, entity)), np.zeros(1, np.int64),
                               1, ids, ib, acts, ab, pre, post, w, 1.0, 20)
        assert genome(1, acts, got) == want
        if len(want.inter) == 4:
            assert want.inter_ids == (1000, 1001, 1002, 1999)


def test_a_brain_spawns_the_nets_the_substrate_would_make_and_steps_them_alike():
    """Slots filled by ``spawn`` hold the genomes the Python path makes from the same keys
    (random nets, plain copies, mutated copies), and behave the same in a step."""
    from primordia.brains.registry import SUBSTRATES

    from .conftest import HEX_LIKE_IO

    sub = SUBSTRATES.get("neural", io=HEX_LIKE_IO, num_neurons=3, num_synapses=6,
                         mutation_magnitude=2.0, max_num_neurons=5)
    rng = Rng(21)
    founders = [sub.random(DrawStream(rng, 1, 0, i), 0) for i in range(6)]
    fast = sub.compile(founders, HEX_LIKE_IO, capacity=40)
    slow = sub.compile(founders, HEX_LIKE_IO, capacity=40)
    parents = np.array([-1, 0, 1, -1, 2, 5, 5, -1, 3, 4], dtype=np.int64)
    slots = np.arange(10, 20, dtype=np.int64)
    ids = np.arange(100, 110, dtype=np.int64)
    for chance in (0.0, 0.5, 1.0):
        fast.spawn(slots, parents, ids, rng.seed_word, 7, 8, 3, chance)
        made = []
        for p, i in zip(parents.tolist(), ids.tolist()):
            if p < 0:
                made.append(sub.random(DrawStream(rng, 7, 3, i), 0))
            else:
                d = DrawStream(rng, 8, 3, i)
                g = founders[p]
                made.append(sub.mutate(g, d, 0) if d.random() <= chance else g)
        slow.add(made, slots=slots)
        assert [fast.genome(s) for s in slots.tolist()] == made
        sensors = np.zeros((40, 1), dtype=np.int32)
        sensors[::3] = 1
        a, b = np.zeros((40, 4), np.int32), np.zeros((40, 4), np.int32)
        for _ in range(3):
            fast.step(sensors, a)
            slow.step(sensors, b)
            assert np.array_equal(a, b)
            assert fast.synapse_ops_last_step == slow.synapse_ops_last_step
        fast.remove(slots)
        slow.remove(slots)


def test_spawned_children_take_their_rounds_of_mutation_from_one_stream():
    """With ``chance`` < 0 (the ecology world's rule) a child is its parent's net mutated
    ``rounds`` times in turn, every round drawing on from the same stream -- as the world's
    Python path, ``substrate.mutate`` in a loop over one DrawStream, does."""
    from primordia.brains.registry import SUBSTRATES

    from .conftest import HEX_LIKE_IO

    sub = SUBSTRATES.get("neural", io=HEX_LIKE_IO, num_neurons=3, num_synapses=6,
                         mutation_magnitude=2.0, max_num_neurons=6)
    rng = Rng(33)
    founders = [sub.random(DrawStream(rng, 1, 0, i), 0) for i in range(4)]
    fast = sub.compile(founders, HEX_LIKE_IO, capacity=30)
    parents = np.array([0, 1, 2, 3, 0, -1, 1, 2, 3, 0], dtype=np.int64)
    rounds = np.array([0, 1, 2, 3, 5, 4, 8, 1, 0, 2], dtype=np.int64)
    slots = np.arange(10, 20, dtype=np.int64)
    ids = np.arange(500, 510, dtype=np.int64)
    fast.spawn(slots, parents, ids, rng.seed_word, 7, 8, 4, -1.0, rounds)
    for slot, p, i, n in zip(slots.tolist(), parents.tolist(), ids.tolist(), rounds.tolist()):
        if p < 0:
            want = sub.random(DrawStream(rng, 7, 4, i), 0)     # random nets ignore rounds
        else:
            d, want = DrawStream(rng, 8, 4, i), founders[p]
            for _ in range(n):
                want = sub.mutate(want, d, 0)
        assert fast.genome(slot) == want
    assert fast.genome(10) == founders[0]       # no rounds: a plain copy
    with pytest.raises(ConfigError, match="rounds"):
        fast.spawn(np.array([25]), np.array([0]), np.array([600]), 1, 7, 8, 4, -1.0,
                   np.array([-1]))
