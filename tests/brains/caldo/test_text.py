"""Caldo genes as text."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from primordia.brains.caldo.isa import MASK, triplet_of
from primordia.brains.caldo.text import assemble, disassemble
from primordia.core.errors import GenomeError


def test_names_numbers_and_raw_triplets():
    words = assemble("3 0x10 add ; a comment\n#20e01a")
    assert words == [triplet_of("QUOTE"), 3, triplet_of("QUOTE"), 16, triplet_of("ADD"),
                     0x20E01A]
    assert disassemble(words) == "3 16 ADD #20e01a(ADD)"


@pytest.mark.parametrize("text", ["FROB", "0x1000000", "-1", "#zz"])
def test_a_word_that_is_not_one_fails_with_its_name(text):
    with pytest.raises(GenomeError, match="caldo"):
        assemble(text)


@given(st.lists(st.integers(0, MASK), max_size=40))
def test_disassembly_assembles_back_to_the_same_triplets(words):
    assert assemble(disassemble(words)) == words
