"""The neural substrate as worlds find it in the registry: options, layout, codecs, compile."""

from __future__ import annotations

import pytest

from primordia.brains.base import BrainIO, Substrate
from primordia.brains.neural.brain import NeuralBrain
from primordia.brains.neural.genome import NeuralGenome
from primordia.brains.neural.substrate import NeuralSubstrate
from primordia.brains.registry import SUBSTRATES
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream, Rng

from .conftest import HEX_LIKE_IO, LEVELS_IO


def draws(entity: int) -> DrawStream:
    return DrawStream(Rng(5), 1, 0, entity)


def test_the_registry_builds_it_with_the_world_and_brain_settings():
    sub = SUBSTRATES.get("neural", io=HEX_LIKE_IO, num_neurons=5, max_num_neurons=9,
                         num_synapses=7, mutation_magnitude=2.0)
    assert isinstance(sub, NeuralSubstrate) and isinstance(sub, Substrate)
    assert sub.name == "neural" and sub.archetypes == {}
    g = sub.random(draws(0), 64)
    assert len(g.inter) == 5 and len(g.synapses) == 7 and g.sensors == 1
    sub.validate(g)
    for e in range(50):
        g = sub.mutate(g, draws(e), 64)
        assert len(g.inter) <= 9
    assert SUBSTRATES.get("neural").io is None


@pytest.mark.parametrize("options", [
    {"num_neurons": -1}, {"num_neurons": 21}, {"max_num_neurons": 1001},
    {"num_synapses": 100_001}, {"num_synapses": 2.5}, {"num_neurons": True},
    {"mutation_magnitude": float("nan")}, {"mutation_magnitude": -0.1},
    {"mutation_magnitude": 1e6}, {"io": BrainIO(tuple(f"s{i}" for i in range(1001)), ("a",))},
    {"brain_size": 3},
])
def test_bad_options_are_config_errors(options):
    with pytest.raises(ConfigError):
        SUBSTRATES.get("neural", **options)


def test_random_nets_need_the_world_layout():
    with pytest.raises(ConfigError, match="io="):
        NeuralSubstrate().random(draws(0), 64)


def test_codecs_round_trip_and_check_the_layout():
    sub = NeuralSubstrate(io=LEVELS_IO)
    g = sub.random(draws(1), 0)
    assert sub.decode(sub.encode(g)) == g
    other = NeuralSubstrate(io=HEX_LIKE_IO)
    with pytest.raises(GenomeError, match="sensors"):
        other.decode(sub.encode(g))
    assert NeuralSubstrate().decode(sub.encode(g)) == g       # no layout: any valid net
    assert "synapse" in sub.to_text(g)


def test_crossover_keeps_parent_a_and_compile_gives_a_brain():
    sub = NeuralSubstrate(io=LEVELS_IO)
    a, b = sub.random(draws(2), 0), sub.random(draws(3), 0)
    child = sub.crossover(a, b, draws(4), 128)
    assert isinstance(child, NeuralGenome) and child.inter_ids == a.inter_ids
    brain = sub.compile([a, b, child], LEVELS_IO, threads=1, capacity=5)
    assert isinstance(brain, NeuralBrain) and brain.capacity == 5
    assert brain.alive.tolist() == [True, True, True, False, False]
