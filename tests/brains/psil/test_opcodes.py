"""The opcode table: lengths by first byte, and the instruction walker crossover relies on."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from primordia.brains.psil import opcodes as op


def test_length_is_fixed_by_the_first_byte():
    assert [op.instruction_length(bytes([b, 0, 0]), 0) for b in (0x00, 0x7F, 0xF0, 0xFF)] \
        == [1, 1, 1, 1]
    assert op.instruction_length(bytes([0x80, 1]), 0) == 2
    assert op.instruction_length(bytes([0xC0, 1, 2]), 0) == 3
    assert op.instruction_length(bytes([0xE0, 3, 1, 2, 3]), 0) == 5


def test_length_is_clipped_at_the_end_of_the_code():
    assert op.instruction_length(bytes([0x8A]), 0) == 1
    assert op.instruction_length(bytes([0xE0]), 0) == 1
    assert op.instruction_length(bytes([0xE0, 9, 1]), 0) == 3


def test_walker_on_the_forager():
    code = bytes.fromhex("8a0d8c00218c01f1")
    assert op.instruction_starts(code) == [0, 2, 4, 5, 7]


@given(st.binary(max_size=300))
def test_instructions_tile_any_code_exactly(code):
    parts = op.instructions(code)
    assert b"".join(b for _, b in parts) == code
    assert [pc for pc, _ in parts] == op.instruction_starts(code)


def test_table_has_a_row_per_byte_and_every_action_opcode():
    assert [row.code for row in op.OPCODES] == list(range(256))
    for code in range(op.ACT_MOVE, op.ACT_CRAFT + 1):
        assert op.OPCODES[code].mnemonic.startswith("act.")
        assert code in op.ACTIONS


def test_mnemonics_are_unique():
    names = [row.mnemonic for row in op.OPCODES if row.mnemonic]
    assert len(names) == len(set(names))
    assert not set(op.ALIASES) & set(names)
