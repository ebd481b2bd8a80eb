"""The Caldo kernels against their plain-Python twins."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.caldo.isa import MASK, OPS, opcode_of, triplet_of
from primordia.brains.caldo.kernels import compile_words, opcode_at
from primordia.brains.caldo.phenotype import compile_gene

_word = st.one_of(st.integers(0, MASK), st.sampled_from([triplet_of(op.name) for op in OPS]),
                  st.sampled_from([triplet_of(n) for n in ("IF", "ELSE", "END", "QUOTE")]))


@given(st.integers(0, MASK))
def test_opcode_at_is_opcode_of(t):
    assert opcode_at(t) == opcode_of(t)


@settings(max_examples=500, deadline=None)
@given(st.lists(_word, max_size=80))
def test_compile_words_is_compile_gene(words):
    w = np.array(words, dtype=np.int64)
    n = len(words)
    ops, args = np.zeros(n, dtype=np.int64), np.zeros(n, dtype=np.int64)
    count = compile_words(w, ops, args, np.zeros(n, dtype=np.int64),
                          np.zeros(n, dtype=np.int64))
    assert list(zip(ops[:count].tolist(), args[:count].tolist())) == \
        [(ins.op, ins.arg) for ins in compile_gene(words)]
