"""The hex world over many turns: its settings are validated, any config and seed keeps the
invariants every turn, a micro-PSIL population lives there, checkpoints resume exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.registry import SUBSTRATES
from primordia.core.errors import ConfigError
from primordia.runs.hex_run import HexRun
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.world import HexWorld

from .conftest import check_invariants


@pytest.mark.parametrize("values,words", [
    ({"world_width": 0}, "world_width"),
    ({"num_organisms": 0}, "num_organisms"),
    ({"turns_to_starve": 0}, "turns_to_starve"),
    ({"mutation_chance": 1.5}, "mutation_chance"),
    ({"center_spawn_min_fraction": -0.1}, "center_spawn_min_fraction"),
    ({"center_spawn_max_fraction": 2}, "center_spawn_max_fraction"),
    ({"center_spawn_min_fraction": 0.6, "center_spawn_max_fraction": 0.5}, "below"),
    ({"world_width": 3, "num_organisms": 10}, "do not fit"),
    ({"wrold_width": 3}, "wrold_width"),
])
def test_bad_settings_are_one_line_errors_naming_the_field(values, words):
    with pytest.raises(ConfigError, match=words) as info:
        HexConfig.build(values)
    assert "\n" not in str(info.value)


def test_the_defaults_are_the_seeds():
    cfg = HexConfig()
    brain = cfg.brain
    assert (cfg.world_width, cfg.steps_per_second, cfg.num_organisms, brain.num_neurons,
            brain.max_num_neurons, brain.num_synapses, cfg.turns_to_starve) == (
                20, 5, 200, 2, 20, 4, 20)
    assert brain.kind == "neural"
    assert (cfg.mutation_chance, brain.mutation_magnitude, cfg.center_spawn_min_fraction,
            cfg.center_spawn_max_fraction) == (0.04, 1.0, 0.25, 0.75)
    assert cfg.spawn_sigma == 5.0 and cfg.spawn_attempts == 1600


@settings(max_examples=16, deadline=None)
@given(st.integers(1, 16), st.floats(0.05, 1.0), st.integers(1, 12), st.integers(0, 2**32),
       st.floats(0, 1), st.sampled_from(["neural", "psil"]), st.integers(0, 6))
def test_any_config_and_seed_keeps_the_invariants_every_turn(width, fill, starve, seed,
                                                             chance, brain, neurons):
    n = max(1, int(width * width * fill))
    table = {"kind": brain}
    if brain == "neural":
        table.update(num_neurons=neurons, max_num_neurons=neurons + 2)
    cfg = HexConfig(world_width=width, num_organisms=n, turns_to_starve=starve, seed=seed,
                    mutation_chance=chance, brain=table)
    w = HexWorld(cfg, HexRun.substrate(cfg))
    check_invariants(w)
    for _ in range(25):
        d = w.tick()
        check_invariants(w)
        assert len(d.spawned) + int(w.state.totals[5]) >= len(d.removed)      # refilled
        assert d.metrics["organisms"] == int(w.state.alive.sum())


def test_a_neural_population_evolves_and_keeps_the_invariants():
    cfg = HexConfig(seed=11)
    w = HexWorld(cfg, HexRun.substrate(cfg))
    for _ in range(300):
        w.tick()
    check_invariants(w)
    m = w.metrics()
    assert m["organisms"] == 200 and m["total_synapse_ops"] > 0 and m["max_generation"] >= 5


def test_a_micro_psil_population_lives_a_thousand_turns():
    w = HexWorld(HexConfig(seed=3), SUBSTRATES.get("psil"))
    for t in range(1000):
        w.tick()
        if t % 50 == 0:
            check_invariants(w)
    check_invariants(w)
    m = w.metrics()
    assert m["organisms"] == 200 and m["total_moves"] > 10_000 and m["total_meals"] > 100
    assert m["max_generation"] >= 5                  # lineages do persist through eating


def test_the_same_seed_gives_the_same_run_and_another_seed_another():
    a = HexWorld(HexConfig(seed=5), SUBSTRATES.get("psil"))
    b = HexWorld(HexConfig(seed=5), SUBSTRATES.get("psil"))
    a.run(40)
    b.run(40)
    assert a.state_hash() == b.state_hash()
    c = HexWorld(HexConfig(seed=6), SUBSTRATES.get("psil"))
    c.run(40)
    assert c.state_hash() != a.state_hash()


def test_a_restored_world_continues_bit_identically():
    cfg = HexConfig(seed=9, world_width=10, num_organisms=40)
    straight = HexWorld(cfg, SUBSTRATES.get("psil"))
    straight.run(60)
    half = HexWorld(cfg, SUBSTRATES.get("psil"))
    half.run(25)
    arrays = {k: v.copy() for k, v in half.arrays().items()}
    resumed = HexWorld.restore(cfg, SUBSTRATES.get("psil"), arrays)
    assert resumed.state_hash() == half.state_hash()
    resumed.run(35)
    assert resumed.state_hash() == straight.state_hash()
    check_invariants(resumed)


def test_restoring_arrays_that_do_not_fit_is_a_config_error():
    w = HexWorld(HexConfig(seed=1, world_width=6, num_organisms=10), SUBSTRATES.get("psil"))
    arrays = w.arrays()
    with pytest.raises(ConfigError, match="state.alive has shape"):
        HexWorld.restore(HexConfig(seed=1, world_width=7, num_organisms=10),
                         SUBSTRATES.get("psil"), arrays)
    broken = dict(arrays)
    del broken["scalars"]
    with pytest.raises(ConfigError, match="missing"):
        HexWorld.restore(w.config, SUBSTRATES.get("psil"), broken)
    bad = dict(arrays)
    bad["state.alive"] = np.zeros_like(arrays["state.alive"])
    with pytest.raises(ConfigError, match="not a living organism"):
        HexWorld.restore(w.config, SUBSTRATES.get("psil"), bad)
