"""Shared pieces of the neural tests: world layouts and random valid genomes."""

from __future__ import annotations

from hypothesis import strategies as st

from primordia.brains.base import BrainIO
from primordia.brains.neural.genome import (INTER_BASE, WEIGHT_LIMIT, NeuralGenome,
                                            action_ids_for)

HEX_LIKE_IO = BrainIO(sensors=("look",),
                      actions=("move_forward", "turn_left", "turn_right", "confidence"),
                      action_levels=(2, 2, 2, 2))
"""The hex world's layout: one sensor, three on/off actions and the move confidence."""
LEVELS_IO = BrainIO(sensors=("a", "b", "c"), actions=("move", "confidence", "emotion", "flag"),
                    action_levels=(5, 2, 4, 2))
"""Actions with more than two levels, and the confidence in the middle of the actions."""
PLAIN_IO = BrainIO(sensors=("x", "y"), actions=("go",))
"""No confidence action and default levels."""
LAYOUTS = (HEX_LIKE_IO, LEVELS_IO, PLAIN_IO)

weights = st.floats(-WEIGHT_LIMIT, WEIGHT_LIMIT, allow_nan=False, allow_infinity=False)
biases = st.floats(-8.0, 8.0, allow_nan=False, allow_infinity=False)


@st.composite
def genomes(draw, io: BrainIO | None = None, max_inter: int = 8,
            max_synapses: int = 40) -> NeuralGenome:
    """A valid genome for ``io`` (a random layout if None): inter ids with gaps, any valid
    synapses, weights and biases anywhere in [-8, 8] (ends, zeros and -0.0 included)."""
    if io is None:
        io = draw(st.sampled_from(LAYOUTS))
    inter_ids = sorted(draw(st.sets(st.integers(INTER_BASE, INTER_BASE + 3 * max_inter),
                                    max_size=max_inter)))
    inter = tuple((n, draw(biases)) for n in inter_ids)
    actions = tuple((a, draw(biases)) for a in action_ids_for(io))
    pres = list(range(io.n_sensors)) + inter_ids
    posts = inter_ids + list(action_ids_for(io))
    pairs = [(p, q) for p in pres for q in posts if p != q]
    chosen = draw(st.sets(st.sampled_from(pairs), max_size=max_synapses)) if pairs else set()
    synapses = tuple((p, q, draw(weights)) for p, q in sorted(chosen))
    return NeuralGenome(io.n_sensors, inter, actions, synapses)


def sensor_values(n: int):
    """Rows of int32 sensors, small values and extremes alike."""
    value = st.one_of(st.integers(-3, 3), st.integers(-2**31, 2**31 - 1))
    return st.lists(value, min_size=n, max_size=n)
