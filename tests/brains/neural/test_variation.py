"""Random nets, mutation and crossover: always valid, as NeuroGenesis describes them, and a pure
function of the draw stream."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primordia.brains.neural.genome import NeuralGenome, action_ids_for, check_fits, validate
from primordia.brains.neural.variation import (crossover, mutate, random_genome,
                                               round_half_up)
from primordia.core.rng import DrawStream, Rng

from .conftest import HEX_LIKE_IO, LEVELS_IO, genomes

RNG = Rng(2024)


def draws(entity: int, tick: int = 0) -> DrawStream:
    return DrawStream(RNG, 7, tick, entity)


def hex_net(entity: int, neurons: int = 2, synapses: int = 4) -> NeuralGenome:
    return random_genome(draws(entity), 1, action_ids_for(HEX_LIKE_IO), neurons, synapses)


def test_random_nets_have_the_asked_size_and_ranges():
    for e in range(200):
        g = hex_net(e)
        validate(g)
        check_fits(g, HEX_LIKE_IO)
        assert g.inter_ids == (1000, 1001) and len(g.synapses) == 4
        assert all(-1.0 <= b < 1.0 for _, b in g.inter + g.actions)
        assert all(-8.0 <= w < 8.0 for *_, w in g.synapses)
    assert hex_net(3) == hex_net(3) != hex_net(4)


def test_random_nets_stop_at_the_pairs_there_are():
    # 1 sensor, no inter neurons, 3 actions: only 3 synapses are possible
    g = random_genome(draws(0), 1, (2000, 2001, 2002), 0, 10)
    assert [(p, q) for p, q, _ in g.synapses] == [(0, 2000), (0, 2001), (0, 2002)]
    full = random_genome(draws(1), 2, (2000,), 3, 1000)
    assert len(full.synapses) == (2 + 3) * (3 + 1) - 3       # every pair but self-loops


def test_round_half_up_rounds_halves_away_from_zero():
    assert [round_half_up(x) for x in (1.0, 1.49, 1.5, 2.5, 3.7)] == [1, 1, 2, 3, 4]


def classify(before: NeuralGenome, after: NeuralGenome) -> str:
    """Which single operation turned ``before`` into ``after``."""
    if len(after.inter) > len(before.inter):
        return "add_neuron"
    if len(after.inter) < len(before.inter):
        return "remove_neuron"
    if after.actions != before.actions:
        return "action_bias"
    if after.inter != before.inter:
        return "inter_bias"
    if len(after.synapses) > len(before.synapses):
        return "add_synapse"
    if len(after.synapses) < len(before.synapses):
        return "remove_synapse"
    return "perturb" if after != before else "none"


def test_one_operation_per_mutation_with_the_seed_shares():
    counts = Counter(classify(g, mutate(g, draws(e, 1))) for e in range(6000)
                     for g in [hex_net(e)])
    n = 6000
    # topology 1/2 x (add, remove, bias) 1/3; bias: action 1/2, inter 1/2; synapse ops 1/6
    for kind, share in (("add_neuron", 1 / 6), ("remove_neuron", 1 / 6),
                        ("action_bias", 1 / 12), ("inter_bias", 1 / 12),
                        ("add_synapse", 1 / 6), ("remove_synapse", 1 / 6), ("perturb", 1 / 6)):
        sd = (n * share * (1 - share)) ** 0.5
        assert abs(counts[kind] - n * share) < 5 * sd, (kind, counts)
    assert counts["none"] == 0


def test_magnitude_sets_the_number_of_operations_and_the_weight_step():
    g = hex_net(1, neurons=0, synapses=3)
    # only synapse perturbations change nothing else: count how far weights can move
    for e in range(300):
        child = mutate(g, draws(e, 2), magnitude=0.25)
        if classify(g, child) == "perturb":
            moved = [abs(a[2] - b[2]) for a, b in zip(g.synapses, child.synapses)]
            assert max(moved) <= 0.25 and sorted(moved)[-2] == 0.0
    ops = Counter(len(set(g.synapses) ^ set(mutate(g, draws(e, 3), magnitude=3.0).synapses))
                  for e in range(300))
    assert max(ops) > 2                                       # several operations at once


def test_added_inter_neurons_take_the_next_id_and_are_wired_in():
    g = NeuralGenome(1, ((1000, 0.0), (1004, 0.0)), ((2000, 0.0), (2001, 0.0), (2002, 0.0)))
    seen = 0
    for e in range(400):
        child = mutate(g, draws(e, 4))
        if classify(g, child) == "add_neuron":
            seen += 1
            assert child.inter_ids == (1000, 1004, 1005)
            assert [s for s in child.synapses if 1005 in s[:2]] == list(child.synapses)
            assert len(child.synapses) == 1
    assert seen > 20


def test_inter_neurons_never_exceed_max_num_neurons():
    g = hex_net(5)
    for e in range(400):
        g = mutate(g, draws(e, 5), magnitude=3.0, max_inter=4)
        assert len(g.inter) <= 4
        validate(g)


def test_removing_an_inter_neuron_removes_its_synapses():
    g = NeuralGenome(1, ((1000, 0.0),), ((2000, 0.0), (2001, 0.0), (2002, 0.0)),
                     ((0, 1000, 1.0), (1000, 2000, 1.0), (0, 2001, 1.0)))
    for e in range(200):
        child = mutate(g, draws(e, 6))
        if classify(g, child) == "remove_neuron":
            assert child.synapses == ((0, 2001, 1.0),)
            return
    pytest.fail("no neuron removal in 200 mutations")


def test_crossover_takes_a_structure_and_shared_values_from_either():
    a = NeuralGenome(1, ((1000, 0.5), (1001, 0.5)), ((2000, 0.5),),
                     ((0, 1000, 1.0), (1000, 2000, 1.0), (1001, 2000, 1.0)))
    b = NeuralGenome(1, ((1000, -0.5), (1002, -0.5)), ((2000, -0.5),),
                     ((0, 1000, -1.0), (1002, 2000, -1.0)))
    children = [crossover(a, b, draws(e, 7)) for e in range(400)]
    for c in children:
        validate(c)
        assert c.inter_ids == a.inter_ids and [s[:2] for s in c.synapses] == \
            [s[:2] for s in a.synapses]
        assert c.inter[1] == (1001, 0.5) and c.synapses[1:] == a.synapses[1:]
    from_b = Counter(c.synapses[0][2] for c in children)
    assert 150 < from_b[-1.0] < 250 and from_b[1.0] + from_b[-1.0] == 400
    assert 150 < sum(c.actions[0][1] == -0.5 for c in children) < 250
    assert crossover(a, a, draws(0, 8)) == a


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genomes(LEVELS_IO), genomes(LEVELS_IO),
       st.lists(st.tuples(st.sampled_from(["mutate", "cross"]), st.floats(0.0, 5.0)),
                min_size=1, max_size=12),
       st.integers(0, 2**32))
def test_any_sequence_of_mutations_and_crossovers_is_valid(a, b, steps, entity):
    g = a
    for j, (op, magnitude) in enumerate(steps):
        d = DrawStream(RNG, 9, j, entity)
        if op == "mutate":
            g = mutate(g, d, magnitude=magnitude, max_inter=10)
        else:
            g, b = crossover(g, b, d), g
        validate(g)
        check_fits(g, LEVELS_IO)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genomes(HEX_LIKE_IO, max_inter=3, max_synapses=15), st.integers(0, 1000))
def test_mutation_is_a_pure_function_of_the_stream(g, entity):
    assert mutate(g, draws(entity, 10)) == mutate(g, draws(entity, 10))
