"""The reference turn follows NeuroGenesis's equations: previous-turn inter activations feed the
inter neurons, this turn's feed the actions, confidence is read before the update, and
activations become action values by the world's levels."""

from __future__ import annotations

import pytest

from primordia.brains.base import BrainIO
from primordia.brains.neural.genome import NeuralGenome
from primordia.brains.neural.reference import action_value, confidence_value, run, turn
from primordia.brains.neural.tanh import tanh_py as tanh

from .conftest import HEX_LIKE_IO, LEVELS_IO

ACTIONS = ((2000, 0.0), (2001, 0.0), (2002, 0.0))


def test_a_sensor_drives_an_action_through_one_synapse():
    g = NeuralGenome(1, (), ((2000, -0.5), (2001, 0.25), (2002, 0.0)), ((0, 2000, 1.5),))
    r = turn(g, HEX_LIKE_IO, [1], ())
    assert r.actions == (tanh(-0.5 + 1.0 * 1.5), tanh(0.25), tanh(0.0))
    assert r.values == (1, 1, 0, 0)            # tanh(0) = 0 is not > 0; no inter: confidence 0
    assert r.synapse_ops == 1
    assert turn(g, HEX_LIKE_IO, [0], ()).values[0] == 0


def test_inter_neurons_read_the_previous_turn_and_actions_the_new_one():
    g = NeuralGenome(1, ((1000, 0.1), (1001, -0.2)), ACTIONS,
                     ((0, 1000, 2.0), (1000, 1001, 3.0), (1001, 1000, -1.0), (1001, 2000, 4.0)))
    first, second = run(g, HEX_LIKE_IO, [[1], [1]])
    # turn 1: the inter->inter synapses read the starting activations, 0.0
    a0, a1 = tanh(0.1 + 1.0 * 2.0), tanh(-0.2)
    assert first.inter == (a0, a1)
    assert first.actions[0] == tanh(0.0 + a1 * 4.0)
    # turn 2: they read turn 1's activations; the action reads turn 2's
    b0 = tanh(0.1 + 1.0 * 2.0 + a1 * -1.0)
    b1 = tanh(-0.2 + a0 * 3.0)
    assert second.inter == (b0, b1)
    assert second.actions[0] == tanh(0.0 + b1 * 4.0)
    assert second.synapse_ops == 4


def test_confidence_is_the_largest_inter_activation_before_the_update():
    g = NeuralGenome(1, ((1000, 0.3), (1001, -0.7)), ACTIONS)
    first, second = run(g, HEX_LIKE_IO, [[0], [0]])
    assert first.confidence == 0.0 and first.values[3] == 0
    assert second.confidence == tanh(0.3)
    assert second.values[3] == confidence_value(tanh(0.3)) == round(tanh(0.3) * 65536)
    no_inter = NeuralGenome(1, (), ACTIONS)
    assert turn(no_inter, HEX_LIKE_IO, [5], ()).confidence == 0.0


def test_every_incoming_synapse_is_summed_in_presynaptic_order():
    g = NeuralGenome(3, ((1000, 0.0),), ((2000, 0.5), (2002, 0.0), (2003, 0.0)),
                     ((2, 1000, 0.75), (0, 2000, 0.5), (1, 2000, -0.25), (1000, 2000, 8.0)))
    r = turn(g, LEVELS_IO, [3, -7, 11], (0.0,))
    inter = tanh(0.0 + 11.0 * 0.75)
    assert r.inter == (inter,)
    assert r.actions[0] == tanh(((0.5 + 3.0 * 0.5) + -7.0 * -0.25) + inter * 8.0)


@pytest.mark.parametrize("a, levels, value", [
    (-1.0, 5, 0), (-0.6, 5, 1), (0.0, 5, 2), (0.3999, 5, 3), (0.4, 5, 3), (0.99, 5, 4),
    (1.0, 5, 4), (0.0, 4, 2), (-0.01, 4, 1), (0.0, 2, 0), (1e-300, 2, 1), (-0.5, 2, 0),
])
def test_action_values_map_activations_to_levels(a, levels, value):
    assert action_value(a, levels) == value


@pytest.mark.parametrize("c, fixed", [(0.0, 0), (1.0, 65536), (-1.0, -65536),
                                      (0.5 / 65536, 1), (-0.5 / 65536, 0),
                                      (-0.75 / 65536, -1), (0.25, 16384)])
def test_confidence_is_16_16_fixed_point_rounded_half_up(c, fixed):
    assert confidence_value(c) == fixed


def test_the_confidence_slot_gets_no_action_neuron_and_levels_apply():
    g = NeuralGenome(3, ((1000, 0.9),), ((2000, 0.0), (2002, -0.3), (2003, 0.2)))
    first, second = run(g, LEVELS_IO, [[0, 0, 0], [0, 0, 0]])
    assert first.values == (2, 0, action_value(tanh(-0.3), 4), 1)
    assert second.values[1] == confidence_value(tanh(0.9))


def test_a_world_without_confidence_gets_only_action_values():
    io = BrainIO(sensors=("x",), actions=("go",))
    g = NeuralGenome(1, ((1000, 0.5),), ((2000, -0.1),), ((0, 2000, 1.0),))
    assert turn(g, io, [1], (0.9,)).values == (1,)
