"""The wasm brain as worlds see it: sensors into contexts, actions out of them, IR organisms
and hand-written modules side by side, state that survives a checkpoint, and the substrate's
encodings."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from primordia.brains.base import BrainIO, KeepsState
from primordia.brains.registry import SUBSTRATES
from primordia.brains.wasm.asm import assemble
from primordia.brains.wasm.modules import ModuleGenome, parse
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream, Rng, stream_id

IO = BrainIO(sensors=("food", "energy", "age"), actions=("move", "action", "target"))

ECHO = assemble("""
func step params=0 results=1 locals=3
  sense r0 0          ; food
  act 2 r0            ; target = food
  const r1 1
  add r2 r0 r1
  return r2           ; move = food + 1
""")

COUNTER = assemble("""
func step params=0 results=1 locals=2
  const r0 1024
  load r1 r0 0
  const r0 1
  add r1 r1 r0
  const r0 1024
  store r0 r1 0       ; my own step count, kept in memory
  return r1
""")

SPIN = assemble("func step\n  loop\n    br 0\n  end\n  return r0\n")

MODULE = """
(module
  (import "env" "get_energy" (func $energy (result i32)))
  (memory (export "memory") 1)
  (func (export "init") (param i64))
  (func (export "step") (param $ctx i32) (result i32)
    (i32.store offset=84 (local.get $ctx) (i32.const 7))   ;; word 16+3+2: action 2 = 7
    (call $energy)))
"""

SPIN_MODULE = """
(module
  (memory (export "memory") 1)
  (func (export "init") (param i64))
  (func (export "step") (param i32) (result i32) (loop (br 0)) (i32.const 1)))
"""


def substrate(**settings):
    return SUBSTRATES.get("wasm", io=IO, **settings)


def step(brain, sensors, budget=100):
    n = brain.capacity
    full = np.zeros((n, IO.n_sensors), dtype=np.int32)
    full[:len(sensors)] = sensors
    actions = np.zeros((n, IO.n_actions), dtype=np.int32)
    brain.begin_tick(np.full(n, budget))
    again = brain.step(full, actions, None)
    assert not again.any()
    return actions


def test_sensors_go_in_and_actions_come_out():
    brain = substrate().compile([ECHO, ECHO], IO)
    actions = step(brain, [[5, 0, 0], [-2, 0, 0]])
    assert actions[:2].tolist() == [[6, 0, 5], [-1, 0, -2]]
    assert brain.gas_used[:2].tolist() == [5, 5] and not brain.halted[:2].any()


def test_memory_is_kept_from_tick_to_tick_and_is_the_state():
    brain = substrate().compile([COUNTER], IO)
    assert [step(brain, [[0, 0, 0]])[0, 0] for _ in range(3)] == [1, 2, 3]
    assert isinstance(brain, KeepsState)
    saved = brain.state_arrays()
    again = substrate().compile([COUNTER], IO)
    again.load_state_arrays(saved)
    assert step(again, [[0, 0, 0]])[0, 0] == 4


def test_a_spinning_organism_loses_only_its_own_step():
    brain = substrate().compile([SPIN, ECHO], IO)
    actions = step(brain, [[0, 0, 0], [3, 0, 0]], budget=50)
    assert actions[0].tolist() == [0, 0, 0] and brain.halted[0]
    assert actions[1].tolist() == [4, 0, 3] and not brain.halted[1]


def test_hand_written_modules_live_beside_ir_organisms():
    module = parse(MODULE)
    brain = substrate().compile([ECHO, module, parse(SPIN_MODULE)], IO)
    actions = step(brain, [[1, 0, 0], [0, 42, 0], [0, 0, 0]], budget=1000)
    assert actions[0].tolist() == [2, 0, 1]
    assert actions[1].tolist() == [42, 0, 7]   # get_energy read the world's energy sensor
    assert actions[2].tolist() == [0, 0, 0] and brain.halted[2] and not brain.halted[1]
    assert brain.genome(1) is module and brain.genome(0) is ECHO


def test_module_memory_is_part_of_the_state():
    counter = parse("""
    (module
      (memory (export "memory") 1)
      (func (export "init") (param i64))
      (func (export "step") (param i32) (result i32)
        (i32.store (i32.const 8192) (i32.add (i32.load (i32.const 8192)) (i32.const 1)))
        (i32.load (i32.const 8192))))""")
    brain = substrate().compile([counter], IO)
    step(brain, [[0, 0, 0]])
    step(brain, [[0, 0, 0]])
    saved = brain.state_arrays()
    assert saved["module_slots"].tolist() == [0] and saved["module_memory"].shape == (1, 65536)
    again = substrate().compile([counter], IO)
    again.load_state_arrays(saved)
    assert step(again, [[0, 0, 0]])[0, 0] == 3


def test_a_brain_grows_past_its_capacity_keeping_what_it_holds():
    brain = substrate().compile([COUNTER], IO, capacity=1)
    step(brain, [[0, 0, 0]])
    slots = brain.add([ECHO, ECHO])
    assert brain.capacity >= 3 and slots.tolist() == [1, 2]
    actions = step(brain, [[0, 0, 0], [1, 0, 0], [2, 0, 0]])
    assert actions[:3, 0].tolist() == [2, 2, 3]


def test_removed_slots_are_freed_and_zeroed():
    brain = substrate().compile([COUNTER, COUNTER], IO)
    step(brain, [[0, 0, 0]] * 2)
    brain.remove([0])
    assert not brain.population.memory[0].any() and brain.population.memory[1].any()
    assert brain.add([ECHO]).tolist() == [0]


def test_the_substrate_encodes_ir_and_modules_and_refuses_the_rest():
    sub = substrate()
    module = parse(MODULE)
    for genome in (ECHO, module):
        assert sub.decode(sub.encode(genome)) == genome
        sub.validate(genome)
    with pytest.raises(GenomeError):
        sub.decode(b"PWIR\x01\x00")
    with pytest.raises(GenomeError):
        sub.decode(b"\0asm\x01\x00\x00\x00")  # a module without the ABI's exports
    with pytest.raises(GenomeError):
        sub.validate(b"not a genome")


def test_modules_are_not_varied_and_ir_is():
    sub = substrate()
    draws = DrawStream(Rng(1), stream_id("test.wasm.brain"), 0, 0)
    module = parse(MODULE)
    assert sub.mutate(module, draws) is module
    assert sub.crossover(ECHO, module, draws) is ECHO
    child = sub.mutate(sub.random(draws), draws)
    sub.validate(child)
    assert len(child) <= sub.settings.max_instrs


def test_settings_are_checked():
    with pytest.raises(Exception, match="should be 1024, 2048"):
        substrate(memory=3000)
    assert substrate(memory=1024).compile([ECHO], IO).layout.memory == 1024
    assert isinstance(parse(MODULE), ModuleGenome)


def test_the_contexts_random_bits_follow_the_worlds_seed():
    """Worlds give the brain their seed (brains.base.seed_brain): the same seed gives the
    same bits, another seed others, as a replicate run should."""
    from primordia.brains.base import Seeded, seed_brain
    from primordia.brains.wasm.layout import H_RAND

    def bits(seed):
        brain = substrate().compile([ECHO, ECHO], IO)
        assert isinstance(brain, Seeded)
        seed_brain(brain, seed)
        step(brain, [[0, 0, 0]] * 2)
        return brain.population.memory[:2].view("<i4")[:, H_RAND].tolist()

    assert bits(1) == bits(1) and bits(1) != bits(2)


FORAGER_WAT = (Path(__file__).resolve().parents[3] / "src" / "primordia" / "examples"
               / "forager.wat").read_text()


def test_modules_placed_before_the_first_step_take_the_worlds_seed():
    """A world gives its seed after compiling its founders: they start again with it."""
    from primordia.brains.base import seed_brain

    def init_seed(seed):
        brain = substrate().compile([parse(FORAGER_WAT)], IO)
        seed_brain(brain, seed)
        return brain.modules[0].seed

    assert init_seed(1) == init_seed(1) and init_seed(1) != init_seed(2)


def test_a_restored_module_runs_init_with_its_birth_seed():
    brain = substrate().compile([ECHO], IO)
    step(brain, [[0, 0, 0]])
    brain.add([parse(FORAGER_WAT)])          # born at step 1
    step(brain, [[0, 0, 0]] * 2)
    saved = brain.state_arrays()
    again = substrate().compile([ECHO, parse(FORAGER_WAT)], IO)   # made again at step 0
    again.load_state_arrays(saved)
    assert again.modules[1].seed == brain.modules[1].seed
    assert again.state_arrays()["module_memory"].tobytes() == saved["module_memory"].tobytes()


def test_a_budget_of_the_wrong_shape_is_a_config_error():
    from primordia.core.errors import ConfigError

    brain = substrate().compile([ECHO], IO)
    with pytest.raises(ConfigError, match="budget"):
        brain.begin_tick(np.zeros(brain.capacity + 1, dtype=np.int64))


# ---- worlds that give a view and neighbours, and read the ABI's action calls ------------------

AROUND = BrainIO(sensors=("energy", "age", "neighbors", *(f"view_{k}" for k in range(9)),
                          "nb0_dx", "nb0_dy", "nb0_energy", "nb0_kin"),
                 actions=("code", "nb_dx", "nb_kin"))

ASKER = assemble("""
func step params=0 results=1 locals=8
  const r1 1
  const r2 -1
  env_read r0 r1 r2       ; the tile at dx 1, dy -1
  move_dir r3 r1 r2       ; ask to step there
  eat r3
  const r4 0
  const r5 30
  attack r3 r4 r5         ; neighbour record 0, amount 30
  const r6 2048
  const r7 5
  store8 r6 r7 0          ; the payload's first byte: 5 mutation rounds
  const r7 1
  try_reproduce r3 r6 r7
  const r4 6
  const r5 77
  emit_signal r4 r5
  const r4 0
  const r6 3000
  sense_neighbor r3 r4 r6 ; record 0 to byte 3000
  load r5 r6 0
  act 1 r5                ; nb_dx
  load r5 r6 12
  act 2 r5                ; nb_kin
  return r0
""")


def test_a_worlds_view_and_neighbours_reach_the_abi_calls():
    brain = SUBSTRATES.get("wasm", io=AROUND).compile([ASKER, ASKER], AROUND)
    assert brain.layout.radius == 1
    sensors = np.zeros((brain.capacity, AROUND.n_sensors), dtype=np.int32)
    sensors[0, :2] = [500, 9]
    sensors[:, 3:12] = np.arange(9) * 10 + 100            # view_k = 100 + 10 k
    sensors[0, 2] = 1                                     # one neighbour record
    sensors[0, 12:16] = [-1, 1, 7, 250]
    actions = np.zeros((brain.capacity, AROUND.n_actions), dtype=np.int32)
    brain.begin_tick(np.full(brain.capacity, 1000))
    brain.step(sensors, actions, None)
    # env_read(1, -1) is view_2 (row dy = -1, column dx = 1); record 0 as the world gave it
    assert actions[:2].tolist() == [[120, -1, 250], [120, 0, 0]]
    acts = brain.abi_actions(np.array([0, 1]))
    assert acts.move.tolist() == [1, 1] and acts.dx.tolist() == [1, 1]
    assert acts.dy.tolist() == [-1, -1] and acts.eat.tolist() == [1, 1]
    assert acts.attack.tolist() == [1, 0]                 # no neighbour: refused
    assert acts.slot.tolist() == [0, 0] and acts.amount.tolist() == [30, 0]
    assert acts.reproduce.tolist() == [1, 1] and acts.payload.tolist() == [5, 5]
    assert acts.signal.tolist() == [1, 1] and acts.channel.tolist() == [6, 6]
    assert acts.value.tolist() == [77, 77]


def test_a_world_without_a_view_keeps_radius_zero_and_a_context_too_big_is_a_config_error():
    assert substrate().compile([ECHO], IO).layout.radius == 0
    wide = BrainIO(sensors=tuple(f"s{k}" for k in range(400)), actions=("a",))
    with pytest.raises(ConfigError, match="wasm: a context of 1848 bytes"):
        SUBSTRATES.get("wasm", io=wide, memory=1024).compile([], wide)
