"""The fast VM equals the reference VM on every generated program, field by field."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primordia.brains.psil import generate
from primordia.brains.psil import kernels as k
from primordia.brains.psil import opcodes as op
from primordia.brains.psil.archetypes import ARCHETYPES
from primordia.brains.psil.brain import PsilBrain, think_batch
from primordia.brains.psil.genome import PsilGenome
from primordia.brains.psil.reference import Machine, think

GAS_MIX = (1, 2, 5, 20, 200, 500)


def assert_same(genomes, sensors, gas):
    """Run both VMs on every program; compare outputs, stack, memory, pc, gas, errors, yields."""
    fast = think_batch(genomes, sensors, gas)
    for i, g in enumerate(genomes):
        ref = think(g, list(sensors[i]), int(gas[i]))
        got = (fast.yields[i], fast.final[i].tolist(), bool(fast.halted[i]), int(fast.error[i]),
               int(fast.gas_left[i]), int(fast.pc[i]), fast.stacks[i], int(fast.steps[i]))
        want = (ref.yields, ref.final, ref.halted, ref.error, ref.gas_left, ref.pc, ref.stack,
                ref.steps)
        assert got == want, f"program {g.to_hex()} gas {gas[i]}: fast {got} != reference {want}"
        assert fast.memory[i].tolist() == ref.memory, f"memory differs for {g.to_hex()}"


def _corpus(start: int, n: int, seed: int = 20261122):
    items = [g for _, g in generate.corpus(seed, start + n)][start:]
    sensors = np.array([generate.random_sensors(seed, start + i) for i in range(n)])
    gas = np.array([GAS_MIX[(start + i) % len(GAS_MIX)] for i in range(n)])
    return items, sensors, gas


@pytest.mark.parametrize("part", range(4))
def test_fast_vm_equals_reference_on_100k_generated_programs(part):
    # four parts of 25,000 so xdist can spread them: random bytes, mutated archetypes and
    # structured programs with branches, counted loops, quotations and inline blocks
    genomes, sensors, gas = _corpus(part * 25_000, 25_000)
    assert_same(genomes, sensors, gas)


def test_archetypes_agree_under_varied_sensors():
    genomes, sensors, gas = [], [], []
    for a, name in enumerate(sorted(ARCHETYPES)):
        for i in range(300):
            genomes.append(PsilGenome(ARCHETYPES[name]))
            sensors.append(generate.random_sensors(99, a * 1000 + i))
            gas.append(GAS_MIX[i % len(GAS_MIX)])
    assert_same(genomes, np.array(sensors), np.array(gas))


def test_spec_cross_check_cases_in_the_fast_vm():
    r = think_batch([bytes.fromhex("8A05238C00218C01F1")], [0, 0, 0, 0, 0, 3] + [0] * 25)
    assert r.yields[0] == [[3, 1, 0, 0]]
    day = [0] * 31
    day[10] = 7
    r = think_batch([bytes.fromhex("8A0A240A21068C00218C01F1")], day)
    assert r.yields[0][0][0] == 4


# --- hypothesis: well-formed programs built from instructions ---------------------------------

_simple = st.one_of(
    st.integers(0x00, 0x1F).filter(lambda b: b not in (op.EXEC, op.IFTE, op.DIP, op.LOOP))
      .map(lambda b: bytes([b])),
    st.integers(0x20, 0x5F).map(lambda b: bytes([b])),
    st.tuples(st.sampled_from([op.R0_READ, op.R1_WRITE, op.R1_READ, op.PUSH_B, op.LOCAL,
                               op.LOCAL_SET, op.JZ, op.JNZ, op.JMP, op.CALL, op.GAS,
                               op.PICK_N, op.INSPECT]), st.integers(0, 40))
      .map(lambda t: bytes(t)),
    st.tuples(st.integers(op.ACT_MOVE, op.ACT_CRAFT), st.integers(0, 8)).map(bytes),
    st.integers(-32768, 32767).map(lambda v: bytes([op.PUSH_W, (v >> 8) & 0xFF, v & 0xFF])),
    st.sampled_from([bytes([op.YIELD]), bytes([op.HALT]), bytes([op.RET])]),
)


def _combinator(n_quots):
    ref = st.integers(0, n_quots).map(lambda i: bytes([op.QUOTE_BASE + i]))
    return st.one_of(
        ref.map(lambda q: q + bytes([op.EXEC])),
        st.tuples(ref, ref).map(lambda t: bytes([0x21]) + t[0] + t[1] + bytes([op.IFTE])),
        ref.map(lambda q: bytes([0x25]) + q + bytes([op.DIP])),
        st.tuples(st.integers(0, 4), ref).map(lambda t: bytes([0x20 + t[0]]) + t[1]
                                              + bytes([op.LOOP])),
        st.tuples(ref, st.integers(0, 3)).map(lambda t: t[0] + bytes([op.LOOP_N, t[1]])),
    )


@st.composite
def programs(draw):
    n_quots = draw(st.integers(0, 4))
    instr = st.one_of(_simple, _combinator(n_quots)) if n_quots else _simple
    body = st.lists(instr, min_size=0, max_size=8).map(b"".join)
    inline = body.filter(lambda b: len(b) < 256).map(lambda b: bytes([op.INLINE, len(b)]) + b)
    main = draw(st.lists(st.one_of(instr, inline), min_size=1, max_size=30).map(b"".join))
    quots = tuple((i, draw(body)) for i in range(n_quots))
    return PsilGenome(main, quots)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(genome=programs(), sensors=st.lists(st.integers(-40, 40), min_size=31, max_size=31),
       gas=st.sampled_from(GAS_MIX))
def test_fast_vm_equals_reference_on_hypothesis_programs(genome, sensors, gas):
    assert_same([genome], np.array([sensors]), np.array([gas]))


@settings(max_examples=300, deadline=None)
@given(code=st.binary(max_size=200), sensors=st.lists(st.integers(-32768, 32767),
                                                      min_size=31, max_size=31),
       gas=st.integers(1, op.GAS_CAP))
def test_any_bytes_any_sensors_any_gas_stay_within_budget(code, sensors, gas):
    fast = think_batch([code], np.array([sensors]), np.array([gas]))
    assert fast.steps[0] <= gas - 1
    ref = think(PsilGenome(code), sensors, gas)
    assert ref.steps == fast.steps[0] and ref.memory == fast.memory[0].tolist()


# --- the Brain as a world drives it -----------------------------------------------------------

def test_brain_rounds_match_reference_with_changing_sensors():
    genomes = [PsilGenome(ARCHETYPES[n]) for n in sorted(ARCHETYPES)] + \
              [generate.structured_program(5, i) for i in range(200)]
    n = len(genomes)
    brain = PsilBrain(genomes)
    machines = [Machine(g, gas=300) for g in genomes]
    brain.begin_think(300)
    actions = np.zeros((n, 4), dtype=np.int32)
    for rnd in range(12):
        sensors = np.array([generate.random_sensors(rnd, i) for i in range(n)])
        thinking = brain.thinking_or_yielded[:n].copy()
        brain.step(sensors, actions, None)
        for i, m in enumerate(machines):
            if m.done:
                assert not thinking[i]
                continue
            assert thinking[i]
            m.set_sensors(sensors[i])
            m.run()
            assert actions[i].tolist() == m.ring1, f"round {rnd}, organism {i}"
            assert brain.stack_of(i) == m.stack


def test_order_of_organisms_never_changes_a_result():
    genomes, sensors, gas = _corpus(0, 3000, seed=3)
    n = len(genomes)
    perm = np.argsort((np.arange(n) * 7919) % n)         # a fixed shuffle
    a = think_batch(genomes, sensors, gas)
    b = think_batch([genomes[i] for i in perm], sensors[perm], gas[perm])
    assert np.array_equal(a.memory[perm], b.memory)
    assert [a.yields[i] for i in perm] == b.yields


def test_add_and_remove_keep_other_organisms_intact():
    base = [PsilGenome(ARCHETYPES["trader"])] * 5
    brain = PsilBrain(base)
    brain.remove([1, 3])
    slots = brain.add([generate.structured_program(1, i) for i in range(3)])
    assert sorted(slots.tolist())[:2] == [1, 3]          # lowest free slots are reused
    brain.begin_think(200)
    sensors = np.zeros((brain.capacity, 31), dtype=np.int32)
    sensors[:, 15], sensors[:, 18], sensors[:, 12] = 2, 1, 7
    actions = np.zeros((brain.capacity, 4), dtype=np.int32)
    brain.step(sensors, actions, None)
    for i in (0, 2, 4):
        assert actions[i, :3].tolist() == [1, 4, 7]


def test_compaction_after_many_deaths_keeps_survivors_running():
    genomes = [generate.structured_program(11, i) for i in range(400)]
    brain = PsilBrain(genomes)
    survivors = np.arange(1, 400, 4)
    brain.remove(np.setdiff1d(np.arange(400), survivors))  # 3 in 4 die: compaction runs
    assert brain.code_used == brain.live_code
    brain.begin_think(200)
    mask = np.zeros(brain.capacity, dtype=bool)
    mask[survivors] = True
    brain.run_round(mask)
    alone = think_batch([genomes[i] for i in survivors], np.zeros(31, dtype=np.int64), 200)
    first = [y[0] if y else None for y in alone.yields]
    for j, i in enumerate(survivors):
        if first[j] is not None:
            assert brain.ring1[i].tolist() == first[j]


@pytest.mark.parametrize("threads", [1, 2])
def test_whole_thinks_in_one_call_equal_round_by_round(threads):
    # run_thinks loops the rounds inside numba; think_batch returns to Python after each one
    genomes, sensors, gas = _corpus(40_000, 4000, seed=5)
    rounds = think_batch(genomes, sensors, gas)
    brain = PsilBrain(genomes, threads=threads)
    brain.begin_think(gas)
    brain.mem[:, :31] = sensors
    some = np.arange(0, len(genomes), 1, dtype=np.int64)
    brain.run_thinks(some)
    assert np.array_equal(brain.mem.astype(np.int32), rounds.memory)
    assert np.array_equal(brain.steps, rounds.steps)
    assert np.array_equal(brain.regs[:, k.GAS], rounds.gas_left)
    assert brain.run_slots(some).size == 0               # nothing is left to resume
    assert some.tolist() == list(range(len(genomes)))    # the caller's slots are untouched


def test_population_rows_start_on_cache_lines():
    brain = PsilBrain([b"\x21"] * 3, capacity=5)
    brain.add([b"\x22"] * 4)                               # grows past the capacity
    for a in (brain.mem, brain.stack, brain.regs, brain.org, brain.pdec, brain.steps):
        assert a.ctypes.data % 64 == 0 and a.flags.c_contiguous
    assert (brain.regs[7:, k.STATUS] == k.HALTED).all()   # free slots stay halted


def test_gas_used_is_what_each_organism_spent_since_begin_tick():
    """``gas_used`` (the CountsGas a world charges for) is each organism's budget minus the
    gas the reference machine has left after the same round; 0 for slots not started."""
    genomes = [generate.structured_program(5, i) for i in range(60)]
    n = len(genomes)
    brain = PsilBrain(genomes)
    assert not brain.gas_used.any()
    active = np.ones(brain.capacity, dtype=bool)
    active[-5:] = False
    brain.begin_tick(np.full(brain.capacity, 300), active)
    sensors = np.array([generate.random_sensors(0, i) for i in range(n)], dtype=np.int32)
    brain.step(sensors, np.zeros((n, 4), dtype=np.int32), active)
    machines = [Machine(g, gas=300) for g in genomes]
    for m, row in zip(machines, sensors):
        m.set_sensors(row)
        m.run()
    expected = [300 - m.gas for m in machines[:-5]] + [0] * 5
    assert brain.gas_used.tolist() == expected and max(expected) > 0
