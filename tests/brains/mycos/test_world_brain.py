"""The Mycos world brain: its kernel decides as the plain-Python organisms of ``worldio`` do,
bit for bit, through births, deaths and reclaimed pools; its bits are its state between ticks
(checkpoints resume them); and worlds run it deterministically, from the command line too."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.base import BrainIO, CountsWork, KeepsState, offers
from primordia.brains.mycos import brain as brain_module
from primordia.brains.mycos.genome import (INPUT, INTERNAL, OUTPUT, ChunkGene, ConnGene,
                                           MycosGenome)
from primordia.brains.mycos.reference import Guards
from primordia.brains.mycos.settings import MycosSettings
from primordia.brains.mycos.substrate import MycosSubstrate
from primordia.brains.mycos.worldio import Organism, action_values, input_bits, threshold
from primordia.cli.main import main
from primordia.core.errors import ConfigError
from primordia.core.rng import DrawStream, Rng
from primordia.worlds.registry import WORLDS

from .conftest import genomes

IO = BrainIO(sensors=("near", "far", "energy"), actions=("move", "act", "confidence"),
             action_levels=(5, 3, 2))


def oracle(g: MycosGenome, s: MycosSettings) -> Organism:
    return Organism(g, Guards(max_rounds=s.rounds, policy=s.policy_code))


def test_the_coding_of_sensors_and_actions():
    assert [threshold(k) for k in range(8)] == [1, 2, 3, 4, 8, 16, 32, 64]
    # input i: sensor i mod 3 at threshold (i div 3) mod 2
    assert input_bits([0, 1, 9], 8, 2, False, [0] * 8) == [0, 1, 1, 0, 0, 1, 0, 1]
    assert input_bits([], 3, 4, False, [1, 1, 1]) == [0, 0, 0]
    # with the clock: channel i mod 4, the fourth inverting the last decision's input
    assert input_bits([0, 1, 9], 8, 2, True, [0, 0, 0, 1, 0, 0, 0, 0]) == \
        [0, 1, 1, 0, 0, 0, 1, 1]
    assert input_bits([], 3, 4, True, [1, 0, 1]) == [0, 1, 0]
    # output j: action j mod 3, code bit (j div 3) mod 2; confidence as a fraction of 1
    assert action_values([1, 1, 1, 1, 1, 0], IO, 2) == [3 % 5, 3 % 3, 1 << 14]
    assert action_values([1, 0, 0, 1, 0, 0, 1], IO, 2) == [1 ^ 2 ^ 1, 0, 0]
    assert action_values([0, 0, 1, 0, 0, 1], IO, 2) == [0, 0, 3 << 14]


def run_both(gs, s: MycosSettings, sensors: np.ndarray):
    """Each tick's actions and bits from the brain's kernel and from the oracle."""
    brain = MycosSubstrate(settings=s).compile(gs, IO, capacity=len(gs) + 2)
    organisms = [oracle(g, s) for g in gs]
    n = brain.capacity
    for t in range(sensors.shape[0]):
        rows = np.zeros((n, IO.n_sensors), np.int32)
        rows[:len(gs)] = sensors[t]
        actions = np.full((n, IO.n_actions), -7, np.int32)
        brain.step(rows, actions, None)
        before = sum(o.metrics.effects_applied for o in organisms)
        expected = [o.decide(sensors[t, k].tolist(), IO, s.sensor_bits, s.action_bits,
                             s.clock)
                    for k, o in enumerate(organisms)]
        effects = sum(o.metrics.effects_applied for o in organisms) - before
        assert actions[:len(gs)].tolist() == expected, t
        assert (actions[len(gs):] == -7).all()                 # free slots are not touched
        bits = brain.state_arrays()["bits"]
        for k, o in enumerate(organisms):
            mine = o.bits()
            assert bits[k, :len(mine)].tolist() == mine and not bits[k, len(mine):].any()
        assert brain.synapse_ops_last_step == effects


SETTINGS = st.builds(MycosSettings, sensor_bits=st.integers(1, 6), action_bits=st.integers(1, 5),
                     clock=st.booleans(),
                     rounds=st.integers(1, 40), policy=st.sampled_from(
                         ["freeze_last_stable", "clamp_commutative", "parity_quench"]))


@settings(max_examples=60, deadline=None)
@given(st.lists(genomes(), min_size=1, max_size=5), SETTINGS, st.data())
def test_the_kernel_decides_as_the_reference_does(gs, s, data):
    ticks = data.draw(st.integers(1, 6))
    sensors = np.array(data.draw(st.lists(
        st.lists(st.lists(st.integers(-3, 70), min_size=3, max_size=3), min_size=len(gs),
                 max_size=len(gs)), min_size=ticks, max_size=ticks)), dtype=np.int32)
    run_both(gs, s, sensors)


def test_random_world_networks_decide_as_the_reference_does():
    sub = MycosSubstrate(io=IO, connections=40, internal_bits=12)
    rng = Rng(8)
    gs = [sub.random(DrawStream(rng, 1, 0, k)) for k in range(30)]
    gs = [sub.mutate(g, DrawStream(rng, 2, 0, k)) for k, g in enumerate(gs)]
    sensors = np.array([[[(t * 7 + k * 3 + q) % 11 for q in range(3)] for k in range(30)]
                        for t in range(12)], np.int32)
    run_both(gs, sub.settings, sensors)


def test_births_deaths_and_reclaimed_pools_keep_every_organism_its_own(monkeypatch):
    monkeypatch.setattr(brain_module, "COMPACT_MIN", 1)        # reclaim at every chance
    sub = MycosSubstrate(io=IO)
    s = sub.settings
    rng = Rng(2)
    brain = sub.compile([], IO, capacity=6)
    alive: dict[int, Organism] = {}
    for t in range(40):
        d = DrawStream(rng, 3, t, 0)
        dead = [slot for slot in sorted(alive) if d.chance(0.3)]
        brain.remove(dead)
        brain.remove(dead)                                     # twice is harmless
        for slot in dead:
            del alive[slot]
        born = [sub.random(DrawStream(rng, 4, t, k)) for k in range(d.integer(0, 4))]
        slots = brain.add(born)
        for slot, g in zip(slots.tolist(), born):
            alive[slot] = oracle(g, s)
        n = brain.capacity
        sensors = np.array([[d.integer(0, 9) for _ in range(3)] for _ in range(n)], np.int32)
        actions = np.zeros((n, 3), np.int32)
        brain.step(sensors, actions, None)
        for slot, o in alive.items():
            assert actions[slot].tolist() == o.decide(sensors[slot].tolist(), IO,
                                                      s.sensor_bits, s.action_bits, s.clock), \
                (t, slot)
        assert brain.used_bits - brain.dead_bits == int(brain.n_bits[brain.alive].sum())


def test_the_state_is_the_bits_and_a_checkpoint_resumes_them():
    sub = MycosSubstrate(io=IO)
    gs = [sub.random(DrawStream(Rng(4), 1, 0, k)) for k in range(5)]
    first = sub.compile(gs, IO, capacity=8)
    assert offers(first, KeepsState) and offers(first, CountsWork)
    rng = np.random.default_rng(0)
    for _ in range(5):
        first.step(rng.integers(0, 9, (8, 3)).astype(np.int32), np.zeros((8, 3), np.int32),
                   None)
    saved = first.state_arrays()
    assert first.state_layout()["bits"].fits(saved["bits"].shape)
    second = sub.compile(gs, IO, capacity=8)
    second.load_state_arrays(saved)
    for _ in range(5):
        sensors = rng.integers(0, 9, (8, 3)).astype(np.int32)
        a, b = np.zeros((8, 3), np.int32), np.zeros((8, 3), np.int32)
        first.step(sensors, a, None)
        second.step(sensors, b, None)
        assert (a == b).all()
    assert all((x == y).all() for x, y in zip(first.state_arrays().values(),
                                              second.state_arrays().values()))
    bad = saved["bits"].copy()
    bad[0, 0] = 2
    for arrays in ({}, {"bits": bad}, {"bits": saved["bits"][:3]},
                   {"bits": saved["bits"].astype(np.float64)}):
        with pytest.raises(ConfigError):
            second.load_state_arrays(arrays)


def test_a_decision_stops_at_the_rounds_setting():
    # Int0 toggles Int1 and Int1 toggles Int0 back: without a guard this never settles
    g = MycosGenome(chunks=(ChunkGene(ni=1, no=1, nn=2, conns=(
        ConnGene(from_section=INPUT, from_index=0, order_tag=1, to_section=INTERNAL,
                 to_index=0, trigger=2, action=2),
        ConnGene(from_section=INTERNAL, from_index=0, order_tag=1, to_section=INTERNAL,
                 to_index=1, trigger=2, action=2),
        ConnGene(from_section=INTERNAL, from_index=1, order_tag=1, to_section=INTERNAL,
                 to_index=0, trigger=2, action=2),
        ConnGene(from_section=INTERNAL, from_index=1, order_tag=2, to_section=OUTPUT,
                 to_index=0, trigger=2, action=2))),))
    for rounds in (1, 5, 64):
        s = MycosSettings(rounds=rounds, policy="clamp_commutative")
        brain = MycosSubstrate(settings=s).compile([g], IO)
        actions = np.zeros((1, 3), np.int32)
        brain.step(np.ones((1, 3), np.int32), actions, None)
        o = oracle(g, s)
        assert actions[0].tolist() == o.decide([1, 1, 1], IO, s.sensor_bits, s.action_bits,
                                                 s.clock)
        assert o.metrics.rounds <= rounds


def small_config(world: str, seed: int = 5):
    kind = WORLDS.get(world)
    return kind.config_class.build({**kind.run_class.SMALL, "seed": seed,
                                    kind.length_key: 40})


@pytest.mark.parametrize("world", ["hex", "sandbox"])
def test_a_world_with_mycos_brains_gives_the_same_state_hash_twice(world):
    run_class = WORLDS.get(world).run_class
    runs = [run_class(small_config(world), brain="mycos").execute() for _ in range(2)]
    assert runs[0].state_hash() == runs[1].state_hash()
    assert run_class(small_config(world, seed=6), brain="mycos").execute().state_hash() \
        != runs[0].state_hash()


def test_primordia_run_hex_with_mycos_brains(tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as done:
        main(["run", "hex", "--brain", "mycos", "--turns", "20", "--out", str(out)])
    assert done.value.code in (0, None)
    printed = capsys.readouterr().out
    assert "mycos" in printed and "state hash" in printed
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world"] == "hex" and summary["turns"] == 20
    assert (out / "checkpoint.npz").is_file()


def test_a_damaged_checkpoint_of_mycos_brains_is_refused_in_one_line():
    from primordia.core.errors import GenomeError
    from primordia.runs.hex_run import HexRun
    from primordia.worlds.hex.world import HexWorld

    config = small_config("hex").replace(brain={"kind": "mycos"})
    sub = HexRun.substrate(config)
    world = HexWorld(config, sub)
    world.run(5)
    arrays = world.arrays()
    assert HexWorld.restore(config, sub, arrays).state_hash() == world.state_hash()
    bits = {**arrays, "brain.bits": arrays["brain.bits"].copy()}
    bits["brain.bits"][np.flatnonzero(world.state.alive)[0], 0] = 2
    genomes = {**arrays, "genome_bytes": arrays["genome_bytes"].copy()}
    genomes["genome_bytes"][3] = ord("}")
    for damaged, error in ((bits, ConfigError), (genomes, GenomeError)):
        with pytest.raises(error) as exc:
            HexWorld.restore(config, sub, damaged, source="run/checkpoint.npz")
        assert str(exc.value).startswith("run/checkpoint.npz") and "\n" not in str(exc.value)
