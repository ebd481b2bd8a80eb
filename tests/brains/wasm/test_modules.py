"""Hand-written organisms under hard budgets: a module that keeps the ABI runs, and whatever
a hostile one does (loops, recursion, traps, growth) costs only itself
(docs/brains/wasm.md, "Hand-written modules")."""

from __future__ import annotations

import gc
import struct
import time
from pathlib import Path

import pytest

from primordia.brains.wasm import modules
from primordia.brains.wasm.layout import (
    F_ATTACK, F_EAT, F_MOVE, F_REPRODUCE, F_SIGNAL, H_AGE, H_ENERGY, H_NEIGHBORS, R_ATTACK_AMOUNT,
    R_ATTACK_SLOT, R_FLAGS, R_MOVE_DX, R_MOVE_DY, R_REPRO_LEN, R_REPRO_PTR, R_SIGNAL_CHANNEL,
    R_SIGNAL_VALUE, Layout,
)
from primordia.brains.wasm.modules import (
    IMPORT_FUEL, INIT_FUEL, ModuleGenome, ModuleOrganism, StepResult, decode, encode, parse,
)
from primordia.core.errors import ConfigError, GenomeError

LAYOUT = Layout(sensors=3, actions=2, radius=1)
SENSOR = 4 * LAYOUT.sensor_at
"""Byte offset of sensor 0 in the context (64)."""
ACTION = 4 * LAYOUT.action_at

FORAGER = (Path(__file__).resolve().parents[3] / "src" / "primordia" / "examples"
           / "forager.wat").read_text()
"""The shipped example module (src/primordia/examples/forager.wat)."""


def hostile(step_body: str, *, init_body: str = "", extra: str = "", imports: str = "") -> str:
    """A module that keeps the ABI's shape; ``step_body`` returns an i32 when it returns.
    Sensor 0 (``$s0``) lets a test choose, per step, whether the hostile part runs."""
    return f"""(module
      (import "env" "eat" (func $eat (result i32)))
      {imports}
      (memory (export "memory") 1 4)
      {extra}
      (func (export "init") (param $seed i64) {init_body})
      (func (export "step") (param $ctx i32) (result i32) (local $s0 i32)
        (local.set $s0 (i32.load offset={SENSOR} (local.get $ctx)))
        {step_body}))"""


def ctx(sensors=(0, 0, 0), *, view=None, neighbors=(), energy=0, age=0, count=None) -> bytes:
    """A context for LAYOUT: sensors, a 3x3 view (row by row from (-1, -1)) and neighbour
    records; actions and the record zeroed, as the host writes them."""
    words = [0] * LAYOUT.words
    words[H_ENERGY], words[H_AGE] = energy, age
    words[H_NEIGHBORS] = len(neighbors) if count is None else count
    words[LAYOUT.sensor_at:LAYOUT.sensor_at + 3] = sensors
    if view is not None:
        words[LAYOUT.view_at:LAYOUT.view_at + 9] = view
    for i, rec in enumerate(neighbors):
        words[LAYOUT.neighbor_at + 4 * i:LAYOUT.neighbor_at + 4 * i + 4] = rec
    return struct.pack(f"<{len(words)}i", *words)


def word(data: bytes, index: int) -> int:
    return struct.unpack_from("<i", data, 4 * index)[0]


def record(org: ModuleOrganism, field: int) -> int:
    return word(org.context(), LAYOUT.record_at + field)


def organism(text: str, seed: int = 1) -> ModuleOrganism:
    return ModuleOrganism(parse(text), LAYOUT, seed)


def unchecked(text: str) -> ModuleGenome:
    """A genome that skipped the check, as a bug or a hand-edited checkpoint might make."""
    genome = object.__new__(ModuleGenome)
    object.__setattr__(genome, "wasm", modules.load_module_bytes(text))
    return genome


# ---- the genome --------------------------------------------------------------------------------

def test_the_genome_is_the_wasm_bytes_and_round_trips():
    genome = parse(FORAGER)
    assert encode(genome)[:4] == b"\0asm"
    assert decode(encode(genome)) == genome


def test_a_genome_that_breaks_the_abi_names_the_first_problem_and_counts_the_rest():
    with pytest.raises(GenomeError, match=r"does not export `init`.*\(and 1 more\)"):
        parse('(module (memory (export "memory") 1))')


def test_a_genome_is_binary_wasm_wat_goes_through_parse():
    with pytest.raises(GenomeError, match="parse"):
        decode(FORAGER.encode())


# ---- a module that keeps the ABI ---------------------------------------------------------------

def test_forager_eats_where_there_is_food_and_records_it():
    org = organism(FORAGER)
    assert not org.broken
    result = org.step(ctx((5, 0, 0)), 1000)
    assert result.code == 2 and result.fault is None and 0 < result.fuel_used < 1000
    assert record(org, R_FLAGS) == F_EAT


def test_forager_moves_toward_food_it_reads_through_env_read():
    org = organism(FORAGER)
    east = [0, 0, 0, 0, 0, 9, 0, 0, 0]  # (1, 0) is row 1, column 2 of the 3x3 view
    assert org.step(ctx(view=east), 1000).code == 1
    assert record(org, R_FLAGS) == F_MOVE
    assert (record(org, R_MOVE_DX), record(org, R_MOVE_DY)) == (1, 0)
    org.step(ctx(), 1000)
    assert (record(org, R_MOVE_DX), record(org, R_MOVE_DY)) == (0, -1)


def test_memory_persists_between_steps_and_init_saw_the_seed():
    org = organism(FORAGER, seed=-12345)
    for _ in range(3):
        org.step(ctx(), 1000)
    mem = org.memory()
    assert len(mem) == 65536
    assert struct.unpack_from("<q", mem, 4096)[0] == -12345
    assert word(mem, 4104 // 4) == 3


def test_fuel_is_deterministic_and_import_calls_cost_fuel():
    a, b = organism(FORAGER), organism(FORAGER)
    ra, rb = a.step(ctx(), 1000), b.step(ctx(), 1000)
    assert ra == rb
    eats = organism(FORAGER).step(ctx((1, 0, 0)), 1000)  # one call instead of two
    assert ra.fuel_used > eats.fuel_used + IMPORT_FUEL


def test_a_checkpoint_is_the_same_seed_plus_the_memory_image():
    org = organism(FORAGER)
    org.step(ctx(), 1000)
    copy = organism(FORAGER)
    copy.load_memory(org.memory())
    assert copy.memory() == org.memory()
    assert copy.step(ctx(), 1000) == org.step(ctx(), 1000)
    with pytest.raises(ConfigError, match="65536"):
        copy.load_memory(bytes(100))


def test_a_context_of_the_wrong_size_is_the_hosts_bug():
    with pytest.raises(ValueError):
        organism(FORAGER).step(b"\0" * 8, 1000)


# ---- the ABI calls -----------------------------------------------------------------------------

PROBE = """
(module
  (import "env" "env_read" (func $env_read (param i32 i32) (result i32)))
  (import "env" "sense_neighbor" (func $sense_neighbor (param i32 i32) (result i32)))
  (import "env" "get_energy" (func $get_energy (result i32)))
  (import "env" "get_age" (func $get_age (result i32)))
  (import "env" "move_dir" (func $move_dir (param i32 i32) (result i32)))
  (import "env" "eat" (func $eat (result i32)))
  (import "env" "attack" (func $attack (param i32 i32) (result i32)))
  (import "env" "try_reproduce" (func $try_reproduce (param i32 i32) (result i32)))
  (import "env" "emit_signal" (func $emit_signal (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "init") (param i64))
  ;; sensor 0 picks the call, sensors 1 and 2 are its arguments; step returns its result
  (func (export "step") (param $c i32) (result i32) (local $a i32) (local $b i32)
    (local.set $a (i32.load offset=68 (local.get $c)))
    (local.set $b (i32.load offset=72 (local.get $c)))
    (block $emit (block $rep (block $att (block $eat (block $mov
    (block $age (block $en (block $sn (block $rd
      (br_table $rd $sn $en $age $mov $eat $att $rep $emit (i32.load offset=64 (local.get $c))))
      (return (call $env_read (local.get $a) (local.get $b))))
      (return (call $sense_neighbor (local.get $a) (local.get $b))))
      (return (call $get_energy)))
      (return (call $get_age)))
      (return (call $move_dir (local.get $a) (local.get $b))))
      (return (call $eat)))
      (return (call $attack (local.get $a) (local.get $b))))
      (return (call $try_reproduce (local.get $a) (local.get $b))))
    (call $emit_signal (local.get $a) (local.get $b))
    (i32.const 0)))
"""
READ, SENSE, ENERGY, AGE, MOVE, EAT, ATTACK, REPRODUCE, SIGNAL = range(9)


@pytest.fixture(scope="module")
def probe() -> ModuleOrganism:
    return organism(PROBE)


def call(org: ModuleOrganism, which: int, a: int = 0, b: int = 0, **kw) -> int:
    result = org.step(ctx((which, a, b), **kw), 10_000)
    assert result.fault is None
    return result.code


def test_env_read_reads_the_view_and_gives_minus_one_outside_the_radius(probe):
    view = list(range(10, 19))
    assert call(probe, READ, -1, -1, view=view) == 10
    assert call(probe, READ, 0, 0, view=view) == 14
    assert call(probe, READ, 1, 1, view=view) == 18
    assert call(probe, READ, 2, 0, view=view) == -1
    assert call(probe, READ, 0, -2, view=view) == -1


def test_get_energy_and_get_age_read_the_header(probe):
    assert call(probe, ENERGY, energy=77) == 77
    assert call(probe, AGE, age=12) == 12


def test_sense_neighbor_copies_four_words_masked_into_the_page(probe):
    recs = [(1, -1, 3, 200), (0, 1, 2, 10)]
    assert call(probe, SENSE, 1, 8192, neighbors=recs) == 1
    assert [word(probe.memory(), 2048 + i) for i in range(4)] == [0, 1, 2, 10]
    # a buffer past the page wraps, word by word, as the IR's memory accesses do
    assert call(probe, SENSE, 0, 65536 + 8192 + 4, neighbors=recs) == 1
    assert [word(probe.memory(), 2049 + i) for i in range(4)] == [1, -1, 3, 200]
    # a buffer over the record itself gets the record as it was before the copy
    over = LAYOUT.neighbor_at + 1
    assert call(probe, SENSE, 0, 4 * over, neighbors=recs) == 1
    assert [word(probe.context(), over + i) for i in range(4)] == [1, -1, 3, 200]
    # no neighbour in that slot: refused, nothing written
    assert call(probe, SENSE, 2, 8192, neighbors=recs) == 0
    assert call(probe, SENSE, -1, 8192, neighbors=recs) == 0
    # the count is read from the context, clamped to 0..8
    assert call(probe, SENSE, 7, 8192, count=1000) == 1
    assert call(probe, SENSE, 0, 8192, count=-3) == 0


def test_action_calls_check_their_arguments_and_fill_the_record(probe):
    assert call(probe, MOVE, -1, 1) == 1
    assert (record(probe, R_FLAGS), record(probe, R_MOVE_DX), record(probe, R_MOVE_DY)) == \
        (F_MOVE, -1, 1)
    assert call(probe, MOVE, 2, 0) == 0 and record(probe, R_FLAGS) == 0
    assert call(probe, EAT) == 1 and record(probe, R_FLAGS) == F_EAT
    one = [(1, 0, 1, 1)]
    assert call(probe, ATTACK, 0, 5, neighbors=one) == 1
    assert record(probe, R_FLAGS) == F_ATTACK
    assert (record(probe, R_ATTACK_SLOT), record(probe, R_ATTACK_AMOUNT)) == (0, 5)
    assert call(probe, ATTACK, 1, 5, neighbors=one) == 0  # no neighbour in slot 1
    assert call(probe, ATTACK, 0, 0, neighbors=one) == 0  # amount must be > 0
    assert call(probe, REPRODUCE, 70000, 64) == 1
    assert record(probe, R_FLAGS) == F_REPRODUCE
    assert (record(probe, R_REPRO_PTR), record(probe, R_REPRO_LEN)) == (70000 & 65535, 64)
    assert call(probe, REPRODUCE, 4096, 65) == 0
    assert call(probe, REPRODUCE, 4096, -1) == 0
    assert call(probe, SIGNAL, 3, -9) == 0
    assert (record(probe, R_FLAGS), record(probe, R_SIGNAL_CHANNEL),
            record(probe, R_SIGNAL_VALUE)) == (F_SIGNAL, 3, -9)


def test_flags_add_up_and_a_later_call_of_a_kind_replaces_the_earlier():
    org = organism(hostile("""
        (drop (call $move_dir (i32.const 1) (i32.const 1)))
        (drop (call $move_dir (i32.const -1) (i32.const 0)))
        (drop (call $eat)) (i32.const 0)""",
        imports='(import "env" "move_dir" (func $move_dir (param i32 i32) (result i32)))'))
    org.step(ctx(), 1000)
    assert record(org, R_FLAGS) == F_MOVE | F_EAT
    assert (record(org, R_MOVE_DX), record(org, R_MOVE_DY)) == (-1, 0)


# ---- hostile modules: each costs only itself ---------------------------------------------------

def test_an_endless_loop_in_step_loses_that_step_and_the_next_still_runs():
    org = organism(hostile("(if (local.get $s0) (then (loop $l (br $l)))) (i32.const 7)"))
    lost = org.step(ctx((1, 0, 0)), 5000)
    assert lost == StepResult(0, 5000, "out of fuel")
    assert org.step(ctx((0, 0, 0)), 5000).code == 7
    assert not org.broken


def test_what_a_lost_step_wrote_before_it_ran_out_stands():
    org = organism(hostile(f"""
        (i32.store offset={ACTION} (local.get $ctx) (i32.const 42))
        (drop (call $eat))
        (loop $l (br $l)) (i32.const 1)"""))
    result = org.step(ctx(), 2000)
    assert result.code == 0 and result.fault == "out of fuel"
    assert word(org.context(), LAYOUT.action_at) == 42
    assert record(org, R_FLAGS) == F_EAT


def test_an_endless_loop_of_abi_calls_is_bounded_by_the_same_fuel():
    org = organism(hostile("(loop $l (drop (call $eat)) (br $l)) (i32.const 1)"))
    start = time.perf_counter()
    result = org.step(ctx(), 1000)
    assert result == StepResult(0, 1000, "out of fuel")
    assert time.perf_counter() - start < 1.0  # at most 1000 / IMPORT_FUEL Python calls
    assert record(org, R_FLAGS) == F_EAT


def test_no_fuel_means_no_step():
    assert organism(FORAGER).step(ctx(), 0) == StepResult(0, 0, "out of fuel")


def test_an_endless_loop_in_init_breaks_the_organism_for_good():
    org = organism(hostile("(i32.const 7)", init_body="(loop $l (br $l))"))
    assert org.broken and org.fault == "init: out of fuel"
    given = ctx((1, 2, 3))
    assert org.step(given, 10_000) == StepResult(0, 0, "broken")
    assert org.context() == given  # nothing ran: the host reads back what it wrote


def test_a_trap_in_init_breaks_the_organism():
    org = organism(hostile("(i32.const 7)", init_body="(unreachable)"))
    assert org.broken and org.fault == "init: unreachable"


def test_a_start_function_that_slipped_past_the_check_cannot_hang_the_host():
    text = hostile("(i32.const 7)", extra="(func $boot (loop $l (br $l))) (start $boot)")
    with pytest.raises(GenomeError, match="start function"):
        parse(text)
    start = time.perf_counter()
    org = ModuleOrganism(unchecked(text), LAYOUT, 1)  # instantiation runs under fuel too
    assert org.broken and org.fault == "instantiation: out of fuel"
    assert time.perf_counter() - start < 2.0
    assert org.step(ctx(), 1000) == StepResult(0, 0, "broken")


def test_a_module_the_host_cannot_link_is_broken_not_an_exception():
    text = hostile("(i32.const 7)", imports='(import "env" "print" (func $p (param i32)))')
    org = ModuleOrganism(unchecked(text), LAYOUT, 1)
    assert org.broken and "env.print" in org.fault
    big = hostile("(i32.const 7)").replace('"memory") 1 4', '"memory") 64')
    org = ModuleOrganism(unchecked(big), LAYOUT, 1)  # the limiter refuses 64 pages
    assert org.broken and org.fault.startswith("instantiation")


def test_unbounded_recursion_traps_quickly_and_loses_the_step():
    org = organism(hostile(
        "(if (result i32) (local.get $s0) (then (call $down (i32.const 0))) (else (i32.const 7)))",
        extra="(func $down (param i32) (result i32) "
              "(call $down (i32.add (local.get 0) (i32.const 1))))"))
    start = time.perf_counter()
    result = org.step(ctx((1, 0, 0)), 10_000_000)
    assert result.code == 0 and result.fault == "stack overflow"
    assert result.fuel_used < 10_000_000
    assert time.perf_counter() - start < 1.0
    assert org.step(ctx(), 1000).code == 7


def test_an_out_of_bounds_store_traps_and_loses_the_step():
    org = organism(hostile(
        "(if (local.get $s0) (then (i32.store (i32.const 65534) (i32.const 1)))) (i32.const 7)"))
    result = org.step(ctx((1, 0, 0)), 1000)
    assert result.code == 0 and result.fault == "memory out of bounds"
    assert org.step(ctx(), 1000).code == 7


def test_memory_cannot_grow_past_one_page():
    org = organism(hostile("(memory.grow (i32.const 1))"))
    assert org.step(ctx(), 1000).code == -1
    assert len(org.memory()) == 65536


def test_division_by_zero_traps_and_loses_the_step():
    org = organism(hostile("(i32.div_s (i32.const 1) (i32.sub (i32.const 1) (local.get $s0)))"))
    assert org.step(ctx((1, 0, 0)), 1000).fault == "integer division by zero"
    assert org.step(ctx((0, 0, 0)), 1000).code == 1


def test_dead_organisms_free_their_stores():
    # the ABI callbacks must not hold their Store: wasmtime keeps them until it goes
    gc.collect()
    before = len(modules._HOST)
    orgs = [organism(FORAGER, seed=i) for i in range(50)]
    assert len(modules._HOST) == before + 50 * 3
    del orgs
    gc.collect()
    assert len(modules._HOST) == before


def test_init_fuel_is_generous_but_finite():
    assert 10_000 <= INIT_FUEL <= 10_000_000
