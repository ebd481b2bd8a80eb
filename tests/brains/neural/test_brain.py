"""The neural Brain: slots that follow births and deaths, state that persists between turns and
survives checkpoints, one decision per tick, the same results on any thread count."""

from __future__ import annotations

import numpy as np
import pytest

from primordia.brains.base import Brain
from primordia.brains.neural import reference as ref
from primordia.brains.neural.brain import NeuralBrain
from primordia.brains.neural.genome import NeuralGenome, action_ids_for
from primordia.brains.neural.kernels import PARALLEL_MIN
from primordia.brains.neural.variation import mutate, random_genome
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream, Rng

from .conftest import HEX_LIKE_IO, LEVELS_IO

RNG = Rng(99)


def net(entity: int, io=LEVELS_IO, neurons: int = 3, synapses: int = 12) -> NeuralGenome:
    d = DrawStream(RNG, 3, 0, entity)
    g = random_genome(d, io.n_sensors, action_ids_for(io), neurons, synapses)
    return mutate(g, d, magnitude=2.0) if entity % 2 else g


def sensors_for(brain: NeuralBrain, turn: int) -> np.ndarray:
    gen = np.random.default_rng(turn)
    return gen.integers(-3, 4, size=(brain.capacity, brain.io.n_sensors)).astype(np.int32)


class Shadow:
    """Each slot's genome and inter activations, advanced by the reference."""

    def __init__(self) -> None:
        self.slots: dict[int, tuple[NeuralGenome, tuple[float, ...]]] = {}

    def add(self, slots, genomes) -> None:
        for s, g in zip(np.asarray(slots).tolist(), genomes):
            self.slots[s] = (g, (0.0,) * len(g.inter))

    def step(self, io, sensors, active=None) -> dict[int, ref.TurnResult]:
        out = {}
        for s, (g, inter) in self.slots.items():
            if active is None or active[s]:
                r = ref.turn(g, io, sensors[s].tolist(), inter)
                self.slots[s] = (g, r.inter)
                out[s] = r
        return out


def test_it_is_a_brain_and_decides_once_per_tick():
    b = NeuralBrain([net(0), net(1)], LEVELS_IO, capacity=4)
    assert isinstance(b, Brain) and b.capacity == 4
    b.begin_tick(np.ones(4, dtype=np.int32), b.alive.copy())
    actions = np.zeros((4, 4), dtype=np.int32)
    more = b.step(sensors_for(b, 0), actions, np.ones(4, dtype=bool))
    assert more.dtype == bool and more.shape == (4,) and not more.any()
    assert (actions[2:] == 0).all()                          # free slots are not written
    assert b.synapse_ops_last_step == len(net(0).synapses) + len(net(1).synapses)


def test_turns_births_and_deaths_match_the_reference_slot_by_slot():
    b = NeuralBrain([], LEVELS_IO, capacity=8)
    shadow = Shadow()
    births = 0
    for turn in range(60):
        gen = np.random.default_rng(1000 + turn)
        live = np.flatnonzero(b.alive)
        if live.size and gen.random() < 0.5:
            dead = gen.choice(live, size=gen.integers(1, live.size + 1), replace=False)
            b.remove(dead)
            for s in dead.tolist():
                del shadow.slots[s]
        newborn = [net(births + j) for j in range(int(gen.integers(0, 4)))]
        births += len(newborn)
        shadow.add(b.add(newborn), newborn)
        sensors = sensors_for(b, turn)
        active = gen.random(b.capacity) < 0.8
        actions = np.full((b.capacity, 4), -7, dtype=np.int32)
        b.step(sensors, actions, active)
        want = shadow.step(LEVELS_IO, sensors, active)
        assert b.synapse_ops_last_step == sum(r.synapse_ops for r in want.values())
        for s in range(b.capacity):
            if s in want:
                assert tuple(actions[s].tolist()) == want[s].values
                n = len(want[s].inter)
                assert b.inter_act[s, :n].tobytes() == np.array(want[s].inter).tobytes()
            else:
                assert (actions[s] == -7).all()              # inactive or free: untouched
    assert births > 60 and b.capacity > 8                   # it grew


def test_a_long_churn_compacts_the_store_and_keeps_results():
    g = [net(e, neurons=6, synapses=30) for e in range(40)]
    b = NeuralBrain(g, LEVELS_IO)
    shadow = Shadow()
    shadow.add(np.arange(40), g)
    compactions, used = 0, b.store.syn_used
    for turn in range(120):
        slot = turn % 40
        b.remove([slot])
        del shadow.slots[slot]
        child = net(100 + turn, neurons=6, synapses=30)
        shadow.add(b.add([child], slots=[slot]), [child])
        compactions += b.store.syn_used < used
        used = b.store.syn_used
        sensors = sensors_for(b, turn)
        actions = np.zeros((b.capacity, 4), dtype=np.int32)
        b.step(sensors, actions)
        want = shadow.step(LEVELS_IO, sensors)
        assert all(tuple(actions[s].tolist()) == r.values for s, r in want.items())
    assert compactions >= 1


def test_added_organisms_start_from_zero_and_removed_slots_are_cleared():
    b = NeuralBrain([net(1), net(2)], LEVELS_IO)
    b.step(sensors_for(b, 0), np.zeros((2, 4), dtype=np.int32))
    assert np.abs(b.inter_act[0]).sum() > 0
    b.remove([0])
    assert (b.inter_act[0] == 0).all() and not b.alive[0]
    assert b.add([net(3)]).tolist() == [0]                    # the lowest free slot
    assert (b.inter_act[0] == 0).all()
    with pytest.raises(ConfigError):
        b.add([net(4)], slots=[1])                          # taken
    with pytest.raises(GenomeError):
        b.add([net(5, io=HEX_LIKE_IO)])                     # made for another world


def test_state_arrays_restore_a_brain_bit_for_bit():
    genomes = [net(e) for e in range(10)]
    straight = NeuralBrain(genomes, LEVELS_IO, capacity=12)
    for turn in range(3):
        straight.step(sensors_for(straight, turn), np.zeros((12, 4), dtype=np.int32))
    saved = straight.state_arrays()
    assert saved["inter_activation"].shape == (12, max(len(g.inter) for g in genomes))
    restored = NeuralBrain([], LEVELS_IO, capacity=12)
    restored.add(genomes, slots=np.arange(10))
    restored.load_state_arrays(saved)
    for turn in range(3, 6):
        a = np.zeros((12, 4), dtype=np.int32)
        c = np.zeros((12, 4), dtype=np.int32)
        straight.step(sensors_for(straight, turn), a)
        restored.step(sensors_for(restored, turn), c)
        assert (a == c).all()
        assert straight.state_arrays()["inter_activation"].tobytes() == \
            restored.state_arrays()["inter_activation"].tobytes()


@pytest.mark.parametrize("arrays", [
    {}, {"inter_activation": np.zeros((12, 0))}, {"inter_activation": np.zeros((11, 8))},
    {"inter_activation": np.full((12, 8), np.nan)}, {"inter_activation": np.full((12, 8), 2.0)},
    {"inter_activation": np.zeros((12, 8), dtype=object)},
])
def test_load_state_arrays_refuses_what_does_not_fit(arrays):
    b = NeuralBrain([net(e) for e in range(10)], LEVELS_IO, capacity=12)
    with pytest.raises(ConfigError):
        b.load_state_arrays(arrays)


def test_two_threads_give_the_same_results_as_one():
    n = PARALLEL_MIN * 3
    genomes = [net(e, neurons=e % 5, synapses=e % 17) for e in range(n)]
    one, two = NeuralBrain(genomes, LEVELS_IO), NeuralBrain(genomes, LEVELS_IO, threads=2)
    for turn in range(4):
        a = np.zeros((n, 4), dtype=np.int32)
        c = np.zeros((n, 4), dtype=np.int32)
        one.step(sensors_for(one, turn), a)
        two.step(sensors_for(two, turn), c)
        assert (a == c).all() and one.synapse_ops_last_step == two.synapse_ops_last_step
    assert one.inter_act.tobytes() == two.inter_act.tobytes()


def test_activations_name_every_neuron_of_a_slot():
    g = NeuralGenome(1, ((1000, 0.5), (1007, -0.5)), ((2000, 0.1), (2001, 0.2), (2002, 0.3)),
                     ((0, 1007, 1.0),))
    b = NeuralBrain([g], HEX_LIKE_IO)
    sensors = np.array([[1]], dtype=np.int32)
    b.step(sensors, np.zeros((1, 4), dtype=np.int32))
    r = ref.turn(g, HEX_LIKE_IO, [1], (0.0, 0.0))
    assert b.activations(0) == {0: 1.0, 1000: r.inter[0], 1007: r.inter[1], 2000: r.actions[0],
                                2001: r.actions[1], 2002: r.actions[2]}
    with pytest.raises(ConfigError):
        b.activations(5)


def test_step_refuses_arrays_that_do_not_fit():
    b = NeuralBrain([net(0)], LEVELS_IO, capacity=2)
    with pytest.raises(ConfigError):
        b.step(np.zeros((2, 2), dtype=np.int32), np.zeros((2, 4), dtype=np.int32))
    with pytest.raises(ConfigError):
        b.step(np.zeros((2, 3), dtype=np.int32), np.zeros((2, 4), dtype=np.int64))
    with pytest.raises(ConfigError):
        b.step(np.zeros((2, 3), dtype=np.int32), np.zeros((2, 4), dtype=np.int32),
               np.ones(3, dtype=bool))
