"""Numba kernels of the Caldo machine, each held to its plain-Python twin by the tests.

``compile_words`` is ``phenotype.compile_gene`` over arrays: the soup compiles a gene's
triplets where they lie, into parallel op and argument arrays, without a Python object per
instruction.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .isa import B_LEVELS, G_LEVELS, MASK, OPCODE, POINT_OP, R_LEVELS
from .phenotype import END_CLOSES, END_EXITS, NUMBER


def _levels_of(levels: tuple[int, ...]) -> np.ndarray:
    """The lattice level of each byte value (ties to the lower level, as ``isa``)."""
    out = np.zeros(256, dtype=np.int64)
    for v in range(256):
        out[v] = min(range(len(levels)), key=lambda k: (abs(v - levels[k]), k))
    return out


R_LEVEL_OF, G_LEVEL_OF, B_LEVEL_OF = (_levels_of(lv) for lv in (R_LEVELS, G_LEVELS, B_LEVELS))
OP_AT = np.array(POINT_OP, dtype=np.int64)
N_G, N_B = len(G_LEVELS), len(B_LEVELS)
QUOTE, IF, ELSE, END, NOP = (OPCODE[n] for n in ("QUOTE", "IF", "ELSE", "END", "NOP"))


@njit(cache=True, nogil=True, inline="always")
def opcode_at(t: int) -> int:
    """``isa.opcode_of`` from three byte-level tables."""
    t = t & MASK
    return OP_AT[(R_LEVEL_OF[t >> 16] * N_G + G_LEVEL_OF[(t >> 8) & 0xFF]) * N_B
                 + B_LEVEL_OF[t & 0xFF]]


@njit(cache=True, nogil=True)
def compile_words(words, ops, args, open_ifs, else_of):
    """The instructions of the gene ``words`` into ``ops``/``args`` (as long as ``words``);
    ``open_ifs`` and ``else_of`` are scratch of the same length. Returns how many."""
    n = 0
    k = 0
    while k < words.shape[0]:
        op = opcode_at(words[k])
        if op == QUOTE:
            if k + 1 < words.shape[0]:
                ops[n] = NUMBER
                args[n] = words[k + 1] & MASK
            else:
                ops[n] = NOP
                args[n] = 0
            n += 1
            k += 2
            continue
        ops[n] = op
        args[n] = 0
        n += 1
        k += 1
    # IF / ELSE / END, like brackets (phenotype._match_conditionals)
    depth = 0
    for k in range(n):
        if ops[k] == IF:
            open_ifs[depth] = k
            else_of[depth] = -1
            depth += 1
        elif ops[k] == ELSE and depth > 0 and else_of[depth - 1] < 0:
            else_of[depth - 1] = k
        elif ops[k] == END:
            if depth > 0:
                depth -= 1
                start, mid = open_ifs[depth], else_of[depth]
                if mid >= 0:
                    args[start] = mid + 1
                    args[mid] = k + 1
                else:
                    args[start] = k + 1
                args[k] = END_CLOSES
            else:
                args[k] = END_EXITS
    for d in range(depth):                      # never closed: to the end of the gene
        start, mid = open_ifs[d], else_of[d]
        if mid >= 0:
            args[start] = mid + 1
            args[mid] = n
        else:
            args[start] = n
    for k in range(n):                          # an ELSE of no IF does nothing
        if ops[k] == ELSE and args[k] == 0:
            ops[k] = NOP
    return n
