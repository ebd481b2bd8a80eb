"""Rules of the reference VM, one per test: the semantics every other VM is held to."""

from __future__ import annotations

import pytest

from primordia.brains.psil import opcodes as op
from primordia.brains.psil.archetypes import ARCHETYPES
from primordia.brains.psil.genome import PsilGenome
from primordia.brains.psil.reference import Machine, think, trunc_div, trunc_mod


def run_hex(hex_code: str, sensors=(), gas=200, quotations=()):
    return think(PsilGenome(bytes.fromhex(hex_code.replace(" ", "")), quotations), sensors, gas)


def sensors_with(**slots):
    s = [0] * op.RING0_SLOTS
    for name, v in slots.items():
        s[op.RING0_NAMES.index(name)] = v
    return s


# --- the reference sandbox's cross-check cases -----------------------------------------------

def test_forager_moves_toward_food_and_eats():
    r = run_hex("8A 05 23 8C 00 21 8C 01 F1", sensors_with(food_dist=3))
    assert r.yields == [[3, 1, 0, 0]]


def test_random_walker_turns_day_into_direction():
    r = run_hex("8A0A 24 0A 21 06 8C00 21 8C01 F1", sensors_with(day=7))
    assert r.yields[0][0] == 4          # 7 mod 4 = 3, + 1


def test_trader_holding_an_item_trades_with_nearest():
    r = think(PsilGenome(ARCHETYPES["trader"]), sensors_with(item=2, near_dir=1, near_id=7))
    assert r.yields[0][:3] == [1, 4, 7]


def test_farmer_action_opcodes_yield_one_action_each():
    r = think(PsilGenome(ARCHETYPES["farmer"]), sensors_with(food_dir=2, energy=50))
    assert r.yields[0] == [2, 0, 0, 0]          # act.move 5 -> food direction
    assert r.yields[1] == [0, 1, 0, 0]          # act.eat


# --- stack discipline ---------------------------------------------------------------------------

def test_underflow_pops_zero_and_completes_the_operation():
    r = run_hex("25 06 8C 00")                  # 5 + (nothing) ; r1! 0 never runs
    assert r.stack == [5] and r.error == op.ERR_UNDERFLOW and r.pc == 2


def test_ring1_written_before_an_error_still_acts():
    r = run_hex("27 8C 03 06")                  # emotion = 7, then underflow
    assert r.final == [0, 0, 0, 7] and r.error == op.ERR_UNDERFLOW


def test_swap_with_one_entry_leaves_the_stack_alone():
    assert run_hex("25 03").stack == [5]


def test_rot_moves_third_to_top():
    assert run_hex("21 22 23 05").stack == [2, 3, 1]


def test_depth_and_inspect_count_the_reference_stack_bytes():
    assert run_hex("21 21 21 1E").stack[-1] == 4        # 3 entries * 3 bytes / 2
    assert run_hex("21 21 8D 00").stack[-1] == 6        # 2 entries * 3 bytes


def test_push_beyond_341_entries_overflows():
    code = bytes([op.SMALL_NUM_BASE + 1, op.DUP, op.JMP_BACK, 3])
    r = think(PsilGenome(code), gas=5000)
    assert r.error == op.ERR_OVERFLOW and len(r.stack) == op.MAX_STACK


def test_values_wrap_to_int16():
    r = run_hex("C0 7F FF 1A")                  # 32767 + 1
    assert r.stack == [-32768]


@pytest.mark.parametrize("a,b", [(7, 2), (-7, 2), (7, -2), (-7, -2), (-32768, -1)])
def test_division_truncates_toward_zero(a, b):
    assert trunc_div(a, b) * b + trunc_mod(a, b) == a
    assert abs(trunc_mod(a, b)) < abs(b)
    assert (trunc_div(a, b) >= 0) == ((a >= 0) == (b >= 0)) or trunc_div(a, b) == 0


def test_divide_by_zero_pushes_zero_and_sets_error_4():
    r = run_hex("25 20 09")
    assert r.stack == [0] and r.error == op.ERR_DIV_ZERO


# --- gas ----------------------------------------------------------------------------------------

def test_gas_allows_at_most_gas_minus_one_instructions():
    r = run_hex("00" * 50, gas=10)
    assert r.steps == 9 and r.error == op.ERR_GAS and r.gas_left == 0


def test_pc_leaving_the_code_halts_without_spending_gas():
    r = run_hex("21", gas=10)
    assert r.halted and r.gas_left == 9


def test_gas_opcode_spends_extra_gas():
    r = run_hex("8E 50", gas=60)                # 1 for the step, 80 more: the budget is gone
    assert r.error == op.ERR_GAS and r.gas_left == 59 - 0x50


# --- yields ----------------------------------------------------------------------------------

def test_yield_clears_ring1_and_resumes_after_it():
    r = run_hex("21 8C 00 F1 22 8C 01 F1")
    assert r.yields == [[1, 0, 0, 0], [0, 2, 0, 0]] and r.halted


def test_machine_resumes_with_new_sensors_after_a_yield():
    m = Machine(PsilGenome(bytes.fromhex("8A05 8C00 F1 8A05 8C00 F1")))
    m.set_sensors(sensors_with(food_dist=1))
    assert m.run() == "yielded" and m.ring1[0] == 1
    m.set_sensors(sensors_with(food_dist=3))
    assert m.run() == "yielded" and m.ring1[0] == 3


# --- quotations ---------------------------------------------------------------------------------

def test_exec_runs_a_quotation_and_returns():
    r = run_hex("60 12 23", quotations=((0, bytes.fromhex("22")),))
    assert r.stack == [2, 3] and r.halted


def test_exec_of_undefined_quotation_is_error_6():
    r = run_hex("61 12")
    assert r.error == op.ERR_QUOTATION


def test_ifte_picks_then_or_else():
    q = ((0, bytes([0x2A])), (1, bytes([0x2B])))
    assert run_hex("21 60 61 13", quotations=q).stack == [10]
    assert run_hex("20 60 61 13", quotations=q).stack == [11]


def test_dip_runs_under_the_top_value():
    r = run_hex("21 25 60 14", quotations=((0, bytes([0x1A])),))   # 1 5 [inc] dip
    assert r.stack == [2, 5]


def test_loop_runs_n_times():
    r = run_hex("20 23 60 15", quotations=((0, bytes([0x1A])),))   # 0 3 [inc] loop
    assert r.stack == [3]


def test_recursive_quotation_computes_factorial():
    fact = bytes.fromhex("01 21 0D 87 06 01 1B 60 12 08 16".replace(" ", ""))
    r = run_hex("25 60 12", gas=500, quotations=((0, fact),))
    assert r.stack == [120]


def test_halt_inside_a_quotation_returns_from_it():
    r = run_hex("60 12 29", quotations=((0, bytes([0x21, 0xF0, 0x22])),))
    assert r.stack == [1, 9] and r.halted


def test_yield_inside_a_quotation_resumes_inside_it():
    body = bytes([0x21, 0x8C, 0x00, 0xF1, 0x22, 0x8C, 0x00])
    r = run_hex("60 12 8B 00 8C 01", quotations=((0, body),))
    assert r.yields == [[1, 0, 0, 0]]
    assert r.final == [2, 2, 0, 0]


def test_nesting_deeper_than_the_frame_limit_overflows():
    r = run_hex("60 12", gas=5000, quotations=((0, bytes([0x60, 0x12])),))
    assert r.error == op.ERR_OVERFLOW


def test_inline_block_runs_in_place():
    r = run_hex("E3 02 21 22 23")
    assert r.stack == [1, 2, 3] and r.halted


def test_truncated_instruction_sets_the_error_flag_without_a_code():
    r = run_hex("21 8A")
    assert not r.halted and r.error == 0 and r.pc == 2


def test_act_attack_targets_the_nearest_organism():
    r = run_hex("94 00", sensors_with(near_id=42))
    assert r.yields == [[0, 2, 42, 0]]


def test_loop_over_an_empty_body_spends_gas_per_iteration():
    r = run_hex("C0 7F FF 60 15", gas=100, quotations=((0, b""),))   # 32767 [ ] loop
    assert r.error == op.ERR_GAS and r.gas_left == 0
