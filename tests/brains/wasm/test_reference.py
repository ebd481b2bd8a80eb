"""The reference interpreter of the wasm IR: one test per rule of docs/brains/wasm.md."""

from __future__ import annotations

import pytest

from primordia.brains.wasm import ir
from primordia.brains.wasm.layout import (F_ATTACK, F_EAT, F_MOVE, F_REPRODUCE, F_SIGNAL,
                                          H_AGE, H_ENERGY, H_NEIGHBORS, R_ATTACK_AMOUNT,
                                          R_ATTACK_SLOT, R_FLAGS, R_MOVE_DX, R_MOVE_DY,
                                          R_REPRO_LEN, R_REPRO_PTR, R_SIGNAL_CHANNEL,
                                          R_SIGNAL_VALUE, RECORD_WORDS, Layout)
from primordia.brains.wasm.reference import StepOutcome, run_step

LAYOUT = Layout(sensors=4, actions=3, radius=1, memory=1024)
M = LAYOUT.memory
MIN = -(1 << 31)
MAX = (1 << 31) - 1


def I(name: str, a: int = 0, b: int = 0, c: int = 0) -> ir.Instr:  # noqa: E743
    return ir.Instr(ir.CODE[name], a, b, c)


def fn(*body: ir.Instr, params: int = 0, results: int = 1, locals: int = 8) -> ir.Function:
    return ir.Function(params, results, locals, body)


def genome(*body: ir.Instr, helpers: tuple[ir.Function, ...] = ()) -> ir.WasmGenome:
    """A checked genome whose step is ``body`` (8 locals), followed by ``helpers``."""
    return ir.make_genome([fn(*body), *helpers])


def run(g: ir.WasmGenome, budget: int = 10_000, memory: bytearray | None = None,
        layout: Layout = LAYOUT) -> StepOutcome:
    return run_step(g, bytearray(layout.memory) if memory is None else memory, layout, budget)


def word(memory: bytearray, index: int) -> int:
    return int.from_bytes(memory[4 * index:4 * index + 4], "little", signed=True)


def set_word(memory: bytearray, index: int, value: int) -> None:
    memory[4 * index:4 * index + 4] = (value & 0xFFFF_FFFF).to_bytes(4, "little")


def record(memory: bytearray, field: int) -> int:
    return word(memory, LAYOUT.record_at + field)


def returns(*body: ir.Instr, result: int = 0) -> ir.WasmGenome:
    """A step that runs ``body`` and then returns local ``result``."""
    return genome(*body, I("return", result))


def binary(name: str, x: int, y: int) -> int:
    return run(returns(I("const", 0, x), I("const", 1, y), I(name, 2, 0, 1), result=2)).code


def unary(name: str, x: int) -> int:
    return run(returns(I("const", 0, x), I(name, 1, 0), result=1)).code


# ---- arithmetic ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, x, y, expected", [
    ("add", MAX, 1, MIN), ("sub", MIN, 1, MAX), ("mul", 0x10000, 0x10000, 0),
    ("mul", MAX, 2, -2),
])
def test_arithmetic_wraps_to_i32(name, x, y, expected):
    assert binary(name, x, y) == expected


@pytest.mark.parametrize("name, x, y, expected", [
    ("div_s", -7, 2, -3), ("div_s", 7, -2, -3), ("rem_s", -7, 2, -1), ("rem_s", 7, -2, 1),
])
def test_signed_division_truncates_toward_zero(name, x, y, expected):
    assert binary(name, x, y) == expected


@pytest.mark.parametrize("name", ["div_s", "div_u", "rem_s", "rem_u"])
def test_division_by_zero_gives_zero(name):
    assert binary(name, 12345, 0) == 0


def test_div_s_of_min_by_minus_one_is_min_and_rem_s_is_zero():
    assert binary("div_s", MIN, -1) == MIN
    assert binary("rem_s", MIN, -1) == 0


def test_unsigned_division_reads_the_bits_as_unsigned():
    assert binary("div_u", -1, 2) == MAX
    assert binary("rem_u", -1, 10) == 5      # 4294967295 % 10
    assert binary("div_u", 7, -1) == 0


@pytest.mark.parametrize("name, x, y, expected", [
    ("shl", 1, 33, 2), ("shl", 1, 31, MIN), ("shl", 1, -1, MIN),
    ("shr_s", -8, 1, -4), ("shr_s", -8, 32, -8), ("shr_u", -8, 1, 0x7FFF_FFFC),
    ("shr_u", -1, 63, 1),
    ("rotl", MIN | 1, 1, 3), ("rotr", 3, 1, MIN | 1), ("rotl", 5, 32, 5), ("rotr", 5, 0, 5),
])
def test_shifts_and_rotations_take_the_count_mod_32(name, x, y, expected):
    assert binary(name, x, y) == expected


@pytest.mark.parametrize("name, x, y, expected", [
    ("and", 0b1100, 0b1010, 0b1000), ("or", 0b1100, 0b1010, 0b1110),
    ("xor", 0b1100, 0b1010, 0b0110), ("xor", -1, 0, -1),
])
def test_bit_operations(name, x, y, expected):
    assert binary(name, x, y) == expected


@pytest.mark.parametrize("name, expected", [
    ("eq", 0), ("ne", 1), ("lt_s", 1), ("lt_u", 0), ("gt_s", 0), ("gt_u", 1),
    ("le_s", 1), ("le_u", 0), ("ge_s", 0), ("ge_u", 1),
])
def test_comparisons_give_0_or_1_and_u_ones_compare_unsigned(name, expected):
    assert binary(name, -1, 1) == expected      # -1 is 0xFFFFFFFF unsigned


@pytest.mark.parametrize("name, expected", [("le_s", 1), ("le_u", 1), ("ge_s", 1),
                                            ("ge_u", 1), ("lt_s", 0), ("gt_u", 0)])
def test_comparisons_of_equal_values(name, expected):
    assert binary(name, MIN, MIN) == expected


def test_min_and_max_are_signed():
    assert binary("min_s", -1, 1) == -1
    assert binary("max_s", -1, 1) == 1
    assert binary("max_s", MIN, MAX) == MAX


@pytest.mark.parametrize("name, x, expected", [
    ("mov", -5, -5), ("eqz", 0, 1), ("eqz", -3, 0),
    ("clz", 0, 32), ("clz", 1, 31), ("clz", -1, 0),
    ("ctz", 0, 32), ("ctz", MIN, 31), ("ctz", 12, 2),
    ("popcnt", 0, 0), ("popcnt", -1, 32), ("popcnt", 0b1011, 3),
    ("neg", 5, -5), ("neg", MIN, MIN), ("not", 0, -1), ("not", MIN, MAX),
    ("abs", -7, 7), ("abs", 7, 7), ("abs", MIN, MIN),
])
def test_unary_operations(name, x, expected):
    assert unary(name, x) == expected


@pytest.mark.parametrize("value", [0, 1, -1, MIN, MAX])
def test_const_sets_any_i32(value):
    assert run(returns(I("const", 3, value), result=3)).code == value


# ---- memory ----------------------------------------------------------------------------------

def test_store_and_load_a_little_endian_word():
    memory = bytearray(M)
    g = returns(I("const", 0, 500), I("const", 1, 0x11223344), I("store", 0, 1, 8),
                I("load", 2, 0, 8), result=2)
    assert run(g, memory=memory).code == 0x11223344
    assert memory[508:512] == bytes([0x44, 0x33, 0x22, 0x11])


def test_word_access_is_aligned_down_and_masked_into_memory():
    memory = bytearray(M)
    g = returns(I("const", 0, M + 7), I("const", 1, -2), I("store", 0, 1, 0), result=0)
    run(g, memory=memory)
    assert word(memory, 1) == -2               # (M + 7) & (M - 4) = 4


def test_word_access_at_the_last_byte_touches_the_last_word():
    memory = bytearray(M)
    g = returns(I("const", 0, -1), I("const", 1, 9), I("store", 0, 1, 0), result=0)
    run(g, memory=memory)
    assert word(memory, M // 4 - 1) == 9       # -1 & (M - 4) = M - 4


def test_address_plus_offset_wraps_at_32_bits():
    memory = bytearray(M)
    g = returns(I("const", 0, -4), I("const", 1, 77), I("store", 0, 1, 12), result=0)
    run(g, memory=memory)
    assert word(memory, 2) == 77               # -4 + 12 = 8


def test_byte_access_is_masked_into_memory():
    memory = bytearray(M)
    g = returns(I("const", 0, 3 * M + 5), I("const", 1, 0x7A), I("store8", 0, 1, 0), result=0)
    run(g, memory=memory)
    assert memory[5] == 0x7A


def test_store8_stores_the_low_byte_only():
    memory = bytearray(M)
    memory[100:104] = b"\xaa\xaa\xaa\xaa"
    g = returns(I("const", 0, 100), I("const", 1, 0x12345678), I("store8", 0, 1, 1), result=0)
    run(g, memory=memory)
    assert memory[100:104] == b"\xaa\x78\xaa\xaa"


def test_load8_zero_extends():
    memory = bytearray(M)
    memory[M - 1] = 0xFF
    g = returns(I("const", 0, -1), I("load8", 1, 0, 0), result=1)
    assert run(g, memory=memory).code == 255


# ---- control ---------------------------------------------------------------------------------

def test_falling_off_the_end_returns_0():
    assert run(genome(I("const", 0, 5))).code == 0


def test_return_gives_the_local():
    assert run(returns(I("const", 4, 42), result=4)).code == 42


def test_br_0_leaves_the_block_past_its_end():
    g = returns(I("const", 0, 1), I("block"), I("br", 0), I("const", 0, 2), I("end"))
    assert run(g).code == 1


def test_br_1_leaves_the_outer_block():
    g = returns(I("block"), I("block"), I("br", 1), I("end"), I("const", 0, 2), I("end"))
    assert run(g).code == 0


def test_br_to_an_if_leaves_it():
    g = returns(I("const", 1, 1),
                I("if", 1), I("br", 0), I("const", 0, 9), I("else"), I("const", 0, 8),
                I("end"))
    assert run(g).code == 0


def test_br_to_a_loop_runs_it_again():
    # r0 counts to 5: loop { r0 += 1; br_if 0 (r0 < 5) }
    g = returns(I("const", 1, 1), I("const", 2, 5),
                I("loop"), I("add", 0, 0, 1), I("lt_s", 3, 0, 2), I("br_if", 0, 3), I("end"))
    assert run(g).code == 5


def test_br_from_inside_a_block_to_an_outer_loop():
    # loop { r0 += 1; block { br_if 1 (r0 < 3) }; }  -> the inner block closes on each pass
    g = returns(I("const", 1, 1), I("const", 2, 3),
                I("loop"), I("add", 0, 0, 1), I("lt_s", 3, 0, 2),
                I("block"), I("br_if", 1, 3), I("end"), I("end"))
    assert run(g).code == 3


def test_br_at_the_depth_of_the_open_blocks_leaves_the_function_with_0():
    g = genome(I("const", 0, 7), I("block"), I("loop"), I("br", 2), I("end"), I("end"),
               I("return", 0))
    assert run(g).code == 0


def test_br_with_no_open_block_leaves_the_function():
    assert run(genome(I("const", 0, 7), I("br", 0), I("return", 0))).code == 0


def test_br_if_falls_through_when_its_local_is_0():
    g = returns(I("block"), I("br_if", 0, 1), I("const", 0, 3), I("end"))
    assert run(g).code == 3


def test_br_if_branches_on_any_non_zero_value():
    g = returns(I("const", 1, MIN), I("block"), I("br_if", 0, 1), I("const", 0, 3), I("end"))
    assert run(g).code == 0


@pytest.mark.parametrize("condition, expected", [(1, 10), (-1, 10), (0, 20)])
def test_if_runs_the_then_part_or_the_else_part(condition, expected):
    g = returns(I("const", 1, condition),
                I("if", 1), I("const", 0, 10), I("else"), I("const", 0, 20), I("end"),
                I("add", 0, 0, 2))
    assert run(g).code == expected


def test_if_without_else_skips_past_its_end_when_0():
    g = returns(I("const", 0, 1), I("if", 1), I("const", 0, 10), I("end"), I("add", 0, 0, 0))
    assert run(g).code == 2


def test_a_loop_end_falls_through():
    g = returns(I("loop"), I("const", 0, 6), I("end"), I("add", 0, 0, 0))
    assert run(g).code == 12


def test_return_from_deep_inside_blocks():
    g = genome(I("const", 0, 4), I("block"), I("loop"), I("if", 0), I("return", 0), I("end"),
               I("end"), I("end"), I("const", 0, 0), I("return", 0))
    assert run(g).code == 4


# ---- gas -------------------------------------------------------------------------------------

def test_straight_line_code_costs_its_length():
    g = returns(I("const", 0, 1), I("const", 1, 2), I("add", 0, 0, 1))
    assert run(g, budget=100) == StepOutcome(3, 4, False)


def test_an_exact_budget_is_enough():
    g = returns(I("const", 0, 1), I("const", 1, 2), I("add", 0, 0, 1))
    assert run(g, budget=4) == StepOutcome(3, 4, False)


def test_a_segment_that_does_not_fit_is_not_started_nor_charged():
    # segments: [const, store, block] (3), [store, store, end] (3), [const, return] (2)
    memory = bytearray(M)
    g = genome(I("const", 0, 1), I("store", 1, 0, 100), I("block"),
               I("store", 1, 0, 104), I("store", 1, 0, 108), I("end"),
               I("const", 0, 5), I("return", 0))
    out = run(g, budget=5, memory=memory)
    assert out == StepOutcome(0, 3, True)
    assert word(memory, 25) == 1              # the first segment ran
    assert word(memory, 26) == 0              # the second did not start, though 2 gas were left
    assert run(g, budget=8) == StepOutcome(5, 8, False)


def test_the_control_instruction_ending_a_segment_belongs_to_it():
    # [block] 1, [const, br] 2, [end] never entered so never charged, [return] 1
    g = genome(I("block"), I("const", 0, 3), I("br", 0), I("end"), I("return", 0))
    assert run(g) == StepOutcome(3, 4, False)


def test_a_loop_pays_for_each_pass():
    # [const, const, loop] once (3), [add, lt_s, br_if] per pass (3 x 5), [end] once,
    # [return] once
    g = returns(I("const", 1, 1), I("const", 2, 5),
                I("loop"), I("add", 0, 0, 1), I("lt_s", 3, 0, 2), I("br_if", 0, 3), I("end"))
    assert run(g) == StepOutcome(5, 3 + 3 * 5 + 1 + 1, False)


def test_a_loop_halts_when_its_next_pass_does_not_fit():
    g = returns(I("const", 1, 1), I("const", 2, 5),
                I("loop"), I("add", 0, 0, 1), I("lt_s", 3, 0, 2), I("br_if", 0, 3), I("end"))
    assert run(g, budget=3 + 3 * 2 + 2) == StepOutcome(0, 9, True)


def test_a_skipped_then_part_is_not_charged():
    # [if] 1, [end] skipped, [const, return] 2 -- the then-part [const, end] is never entered
    g = genome(I("if", 1), I("const", 0, 9), I("end"), I("const", 0, 4), I("return", 0))
    assert run(g) == StepOutcome(4, 3, False)


def test_halting_keeps_what_the_step_did_and_returns_0():
    memory = bytearray(M)
    g = genome(I("const", 0, 9), I("act", 1, 0), I("block"), I("const", 1, 1), I("end"),
               I("return", 0))
    out = run(g, budget=3, memory=memory)
    assert out == StepOutcome(0, 3, True)
    assert word(memory, LAYOUT.action_at + 1) == 9


@pytest.mark.parametrize("budget", [0, -5])
def test_no_budget_halts_at_the_first_segment(budget):
    assert run(returns(), budget=budget) == StepOutcome(0, 0, True)


def test_an_empty_step_costs_nothing_and_returns_0():
    assert run(genome(), budget=0) == StepOutcome(0, 0, False)


# ---- calls -----------------------------------------------------------------------------------

def test_call_passes_arguments_and_returns_the_result():
    # f1(a, b) = a - b + r2 (r2 is a non-parameter local: 0)
    sub = fn(I("sub", 0, 0, 1), I("add", 0, 0, 2), I("return", 0), params=2, locals=3)
    g = genome(I("const", 3, 10), I("const", 4, 3), I("const", 2, 99), I("call", 1, 0, 3),
               I("return", 0), helpers=(sub,))
    assert run(g).code == 7


def test_a_callee_has_its_own_locals():
    inc = fn(I("const", 1, 5), I("add", 0, 0, 1), I("return", 0), params=1, locals=2)
    g = genome(I("const", 0, 1), I("const", 1, 100), I("call", 1, 2, 0), I("add", 2, 2, 1),
               I("return", 2), helpers=(inc,))
    assert run(g).code == 106                 # inc(1) = 6, and the caller's r1 is still 100


def test_a_callee_without_result_leaves_dst_alone():
    proc = fn(I("const", 0, 7), I("act", 2, 0), params=0, results=0, locals=1)
    memory = bytearray(M)
    g = genome(I("const", 0, 3), I("call", 1, 0, 0), I("return", 0), helpers=(proc,))
    assert run(g, memory=memory).code == 3
    assert word(memory, LAYOUT.action_at + 2) == 7


def test_return_in_a_function_without_result_returns_nothing():
    proc = fn(I("return", 0), I("const", 0, 5), I("act", 0, 0), params=0, results=0,
              locals=1)
    memory = bytearray(M)
    g = genome(I("const", 0, 3), I("call", 1, 0, 0), I("return", 0), helpers=(proc,))
    assert run(g, memory=memory).code == 3
    assert word(memory, LAYOUT.action_at) == 0


def test_a_callee_falling_off_its_end_returns_0():
    g = genome(I("const", 0, 3), I("call", 1, 0, 0), I("return", 0),
               helpers=(fn(I("const", 0, 8), locals=1),))
    assert run(g).code == 0


def test_br_out_of_a_callee_returns_0_to_the_caller():
    g = genome(I("const", 0, 3), I("call", 1, 0, 0), I("return", 0),
               helpers=(fn(I("const", 0, 8), I("block"), I("br", 1), I("end"),
                           I("return", 0), locals=1),))
    assert run(g).code == 0


def test_a_call_charges_its_segment_the_callee_and_the_rest():
    # step: [const, call] 2, then [return] 1; callee: [const, return] 2
    g = genome(I("const", 0, 3), I("call", 1, 0, 0), I("return", 0),
               helpers=(fn(I("const", 0, 8), I("return", 0), locals=1),))
    assert run(g) == StepOutcome(8, 5, False)
    assert run(g, budget=4) == StepOutcome(0, 4, True)   # the return after the call


def _countdown() -> ir.Function:
    """f1(n): if n { f1(n - 1) }; return n -- n + 1 calls active at the deepest. Segments:
    [if] 1, [const, sub, call] 3, [end] 1, [return] 1."""
    return fn(I("if", 0), I("const", 1, 1), I("sub", 2, 0, 1), I("call", 1, 2, 2), I("end"),
              I("return", 0), params=1, locals=3)


def test_32_active_calls_are_allowed():
    g = genome(I("const", 0, 31), I("call", 1, 0, 0), I("return", 0), helpers=(_countdown(),))
    # step's [const, call] and [return]; f1(31) .. f1(1) all four segments; f1(0) [if] and
    # [return]
    assert run(g) == StepOutcome(31, 2 + 31 * (4 + 2) + 2 + 1, False)


def test_a_33rd_active_call_ends_the_step_after_its_segment_is_charged():
    g = genome(I("const", 0, 32), I("call", 1, 0, 0), I("return", 0), helpers=(_countdown(),))
    # step's segment (2), then f1(32) .. f1(1) each pay [if] and [const, sub, call] (4);
    # f1(1)'s call is the 33rd
    assert run(g) == StepOutcome(0, 2 + 32 * 4, True)


def test_endless_recursion_halts():
    forever = fn(I("call", 1, 0, 0), params=0, results=0, locals=1)
    g = genome(I("call", 1, 0, 0), I("return", 0), helpers=(forever,))
    assert run(g).halted


# ---- sense and act ---------------------------------------------------------------------------

def test_sense_reads_the_sensor_word_with_k_mod_s():
    memory = bytearray(M)
    set_word(memory, LAYOUT.sensor_at + 2, -42)
    assert run(returns(I("sense", 0, 2)), memory=memory).code == -42
    assert run(returns(I("sense", 0, 6)), memory=memory).code == -42   # 6 mod 4


def test_sense_reads_memory_as_the_organism_left_it():
    g = returns(I("const", 1, 4 * LAYOUT.sensor_at), I("const", 2, 55), I("store", 1, 2, 0),
                I("sense", 0, 0))
    assert run(g).code == 55


def test_sense_without_sensors_gives_0():
    layout = Layout(sensors=0, actions=1)
    memory = bytearray(layout.memory)
    set_word(memory, layout.sensor_at, 99)     # the first action word; not a sensor
    g = returns(I("const", 0, 5), I("sense", 0, 3))
    assert run(g, memory=memory, layout=layout).code == 0


def test_act_writes_the_action_word_with_k_mod_a():
    memory = bytearray(M)
    run(returns(I("const", 1, -9), I("act", 4, 1)), memory=memory)
    assert word(memory, LAYOUT.action_at + 1) == -9                     # 4 mod 3


def test_act_without_actions_does_nothing():
    layout = Layout(sensors=2, actions=0)
    memory = bytearray(layout.memory)
    run(returns(I("const", 1, -9), I("act", 0, 1)), memory=memory, layout=layout)
    assert memory == bytearray(layout.memory)


# ---- the ABI ---------------------------------------------------------------------------------

def _view_memory() -> bytearray:
    """Tile (x, y) of the 3 x 3 view holds 10 * (y + 1) + (x + 1)."""
    memory = bytearray(M)
    for y in (-1, 0, 1):
        for x in (-1, 0, 1):
            set_word(memory, LAYOUT.view_at + (y + 1) * 3 + x + 1, 10 * (y + 1) + x + 1)
    return memory


@pytest.mark.parametrize("x, y, expected", [
    (0, 0, 11), (-1, -1, 0), (1, -1, 2), (-1, 1, 20), (1, 1, 22),
    (2, 0, -1), (0, -2, -1), (-2, 1, -1), (MIN, 0, -1),
])
def test_env_read_reads_the_view_within_the_radius_else_minus_1(x, y, expected):
    g = returns(I("const", 1, x), I("const", 2, y), I("env_read", 0, 1, 2))
    assert run(g, memory=_view_memory()).code == expected


def test_env_read_with_radius_0_sees_only_its_own_tile():
    layout = Layout(sensors=1, actions=1, radius=0)
    memory = bytearray(layout.memory)
    set_word(memory, layout.view_at, 5)
    g = returns(I("env_read", 0, 1, 1), I("const", 1, 1), I("env_read", 2, 1, 3),
                I("add", 0, 0, 2))
    assert run(g, memory=memory, layout=layout).code == 5 - 1


def _neighbor_memory(count: int) -> bytearray:
    """``count`` in the header; neighbour slot s holds (s, -s, 100 + s, 200 + s)."""
    memory = bytearray(M)
    set_word(memory, H_NEIGHBORS, count)
    for s in range(8):
        for i, value in enumerate((s, -s, 100 + s, 200 + s)):
            set_word(memory, LAYOUT.neighbor_at + 4 * s + i, value)
    return memory


def test_sense_neighbor_copies_the_record_and_gives_1():
    memory = _neighbor_memory(3)
    g = returns(I("const", 1, 2), I("const", 2, 800), I("sense_neighbor", 0, 1, 2))
    assert run(g, memory=memory).code == 1
    assert [word(memory, 200 + i) for i in range(4)] == [2, -2, 102, 202]


@pytest.mark.parametrize("count, slot", [(3, 3), (3, -1), (0, 0), (-4, 0)])
def test_sense_neighbor_refuses_a_slot_without_neighbour(count, slot):
    memory = _neighbor_memory(count)
    g = returns(I("const", 1, slot), I("const", 2, 800), I("sense_neighbor", 0, 1, 2))
    assert run(g, memory=memory).code == 0
    assert memory[800:816] == bytes(16)


def test_the_neighbour_count_is_clamped_to_8():
    memory = _neighbor_memory(1000)
    g = returns(I("const", 1, 7), I("const", 2, 800), I("sense_neighbor", 0, 1, 2),
                I("const", 1, 8), I("sense_neighbor", 3, 1, 2), I("shl", 0, 0, 1),
                I("add", 0, 0, 3))
    assert run(g, memory=memory).code == 1 << 8      # slot 7 yes, slot 8 no
    assert word(memory, 200) == 7


def test_sense_neighbor_masks_each_word_of_buf():
    memory = _neighbor_memory(2)
    g = returns(I("const", 1, 1), I("const", 2, M - 7), I("sense_neighbor", 0, 1, 2))
    run(g, memory=memory)
    # buf + 4i for i = 0..3 is M - 7, M - 3, M + 1, M + 5: bytes M - 8, M - 4, 0, 4
    assert [word(memory, w) for w in (M // 4 - 2, M // 4 - 1, 0, 1)] == [1, -1, 101, 201]


def test_sense_neighbor_reads_the_whole_record_before_writing_it():
    memory = _neighbor_memory(1)
    buf = 4 * (LAYOUT.neighbor_at + 1)        # one word into the record it copies
    g = returns(I("const", 1, 0), I("const", 2, buf), I("sense_neighbor", 0, 1, 2))
    run(g, memory=memory)
    assert [word(memory, LAYOUT.neighbor_at + i) for i in range(5)] == [0, 0, 0, 100, 200]


def test_get_energy_and_get_age_read_the_header():
    memory = bytearray(M)
    set_word(memory, H_ENERGY, 300)
    set_word(memory, H_AGE, 12)
    g = returns(I("get_energy", 1), I("get_age", 2), I("sub", 0, 1, 2))
    assert run(g, memory=memory).code == 288


def test_move_dir_records_a_step_of_at_most_1():
    memory = bytearray(M)
    g = returns(I("const", 1, -1), I("const", 2, 1), I("move_dir", 0, 1, 2))
    assert run(g, memory=memory).code == 1
    assert record(memory, R_FLAGS) == F_MOVE
    assert (record(memory, R_MOVE_DX), record(memory, R_MOVE_DY)) == (-1, 1)


@pytest.mark.parametrize("dx, dy", [(2, 0), (0, -2), (MIN, 1)])
def test_move_dir_refuses_longer_steps_and_leaves_the_record(dx, dy):
    memory = bytearray(M)
    g = returns(I("const", 1, dx), I("const", 2, dy), I("move_dir", 0, 1, 2))
    assert run(g, memory=memory).code == 0
    assert memory == bytearray(M)


def test_eat_sets_its_flag_beside_the_others_and_gives_1():
    memory = bytearray(M)
    g = returns(I("const", 1, 7), I("emit_signal", 1, 1), I("eat", 0))
    assert run(g, memory=memory).code == 1
    assert record(memory, R_FLAGS) == F_SIGNAL | F_EAT


def test_the_flags_word_is_ored_into_as_memory_holds_it():
    memory = bytearray(M)
    set_word(memory, LAYOUT.record_at + R_FLAGS, 0x100)
    run(returns(I("eat", 0)), memory=memory)
    assert record(memory, R_FLAGS) == 0x100 | F_EAT


def test_attack_records_a_neighbour_and_an_amount():
    memory = _neighbor_memory(2)
    g = returns(I("const", 1, 1), I("const", 2, 50), I("attack", 0, 1, 2))
    assert run(g, memory=memory).code == 1
    assert record(memory, R_FLAGS) == F_ATTACK
    assert (record(memory, R_ATTACK_SLOT), record(memory, R_ATTACK_AMOUNT)) == (1, 50)


@pytest.mark.parametrize("slot, amount", [(2, 50), (-1, 50), (0, 0), (0, -3)])
def test_attack_refuses_a_missing_neighbour_or_no_amount(slot, amount):
    memory = _neighbor_memory(2)
    g = returns(I("const", 1, slot), I("const", 2, amount), I("attack", 0, 1, 2))
    assert run(g, memory=memory).code == 0
    assert [record(memory, i) for i in range(RECORD_WORDS)] == [0] * RECORD_WORDS


@pytest.mark.parametrize("ptr, length, masked", [(500, 64, 500), (-1, 0, M - 1),
                                                 (M + 3, 10, 3)])
def test_try_reproduce_records_a_masked_pointer_and_a_length(ptr, length, masked):
    memory = bytearray(M)
    g = returns(I("const", 1, ptr), I("const", 2, length), I("try_reproduce", 0, 1, 2))
    assert run(g, memory=memory).code == 1
    assert record(memory, R_FLAGS) == F_REPRODUCE
    assert (record(memory, R_REPRO_PTR), record(memory, R_REPRO_LEN)) == (masked, length)


@pytest.mark.parametrize("length", [65, -1, MIN])
def test_try_reproduce_refuses_a_length_outside_0_to_64(length):
    memory = bytearray(M)
    g = returns(I("const", 1, 500), I("const", 2, length), I("try_reproduce", 0, 1, 2))
    assert run(g, memory=memory).code == 0
    assert memory == bytearray(M)


def test_emit_signal_records_channel_and_value():
    memory = bytearray(M)
    g = returns(I("const", 1, 3), I("const", 2, -8), I("emit_signal", 1, 2))
    run(g, memory=memory)
    assert record(memory, R_FLAGS) == F_SIGNAL
    assert (record(memory, R_SIGNAL_CHANNEL), record(memory, R_SIGNAL_VALUE)) == (3, -8)


def test_a_later_call_of_the_same_kind_replaces_the_earlier():
    memory = bytearray(M)
    g = returns(I("const", 1, 1), I("const", 2, 0), I("move_dir", 0, 1, 2),
                I("move_dir", 0, 2, 1))
    run(g, memory=memory)
    assert (record(memory, R_MOVE_DX), record(memory, R_MOVE_DY)) == (0, 1)


def test_memory_must_match_the_layout():
    with pytest.raises(ValueError):
        run_step(returns(), bytearray(512), LAYOUT, 10)
