"""Instruction space: every triplet means the instruction at its nearest lattice point."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from primordia.brains.caldo.isa import (B_LEVELS, LATTICE, MASK, OPCODE, OPS, POINT_OP,
                                        R_LEVELS, distance2, opcode_of, point_of, triplet_of)


def lattice_point(k: int) -> int:
    b = k % 5
    g = (k // 5) % 4
    r = k // 20
    return (R_LEVELS[r] << 16) | (R_LEVELS[g] << 8) | B_LEVELS[b]


def test_every_instruction_sits_somewhere_and_its_triplet_means_it():
    assert len(POINT_OP) == 4 * 4 * 5 == sum(len(row) for row in LATTICE)
    for op in OPS:
        assert opcode_of(triplet_of(op.name)) == OPCODE[op.name]


@given(st.integers(0, MASK))
def test_the_nearest_point_is_nearest_by_squared_distance(t):
    """The per-axis search finds a point no farther than any other (ties: lowest index)."""
    dists = [distance2(t, lattice_point(k)) for k in range(len(POINT_OP))]
    best = min(dists)
    assert point_of(t) == dists.index(best)


def test_a_small_change_keeps_the_meaning():
    add = triplet_of("ADD")
    assert {opcode_of(add + d) for d in (-3, -1, 1, 3)} == {OPCODE["ADD"]}
    assert opcode_of(add ^ 0x100000) == OPCODE["ADD"]


def test_ties_go_to_the_lower_level():
    # red 64 is as near level 32 as level 96
    assert point_of(0x40_20_19) == 0 and point_of(0x41_20_19) == 20
