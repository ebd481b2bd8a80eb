"""The genotype -> phenotype step: QUOTE makes numbers, IF / ELSE / END are matched."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from primordia.brains.caldo.isa import MASK, OPCODE, triplet_of
from primordia.brains.caldo.phenotype import (END_CLOSES, END_EXITS, NUMBER, Instruction,
                                              compile_gene)

Q = triplet_of("QUOTE")


def ops(*names):
    return [triplet_of(n) for n in names]


def test_quote_and_its_triplet_are_one_number():
    code = compile_gene([Q, 0x123456, triplet_of("ADD"), Q])
    assert code == (Instruction(NUMBER, 0x123456), Instruction(OPCODE["ADD"]),
                    Instruction(OPCODE["NOP"]))        # nothing left to quote


def test_a_quoted_instruction_triplet_is_only_a_number():
    assert compile_gene([Q, triplet_of("CALL")]) == (Instruction(NUMBER, triplet_of("CALL")),)


def test_if_else_end_are_matched_like_brackets():
    code = compile_gene(ops("IF", "DUP", "ELSE", "DROP", "END", "IF", "IF", "END"))
    assert code[0] == Instruction(OPCODE["IF"], 3)      # false: after the ELSE
    assert code[2] == Instruction(OPCODE["ELSE"], 5)    # after the END
    assert code[4] == Instruction(OPCODE["END"], END_CLOSES)
    assert code[5] == Instruction(OPCODE["IF"], 8)      # never closed: the gene's end
    assert code[6] == Instruction(OPCODE["IF"], 8)
    assert code[7] == Instruction(OPCODE["END"], END_CLOSES)


def test_an_end_or_else_of_no_if():
    code = compile_gene(ops("END", "ELSE"))
    assert code == (Instruction(OPCODE["END"], END_EXITS), Instruction(OPCODE["NOP"]))


@given(st.lists(st.integers(0, MASK), max_size=60))
def test_any_triplets_compile_and_every_jump_lands_in_the_gene(words):
    code = compile_gene(words)
    assert len(code) <= len(words)
    for ins in code:
        if ins.op in (OPCODE["IF"], OPCODE["ELSE"]):
            assert 0 < ins.arg <= len(code)
        elif ins.op == NUMBER:
            assert 0 <= ins.arg <= MASK
