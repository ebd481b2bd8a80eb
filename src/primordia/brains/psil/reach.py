"""Which sensor slots (Ring0, memory 0..30) a micro-PSIL genome can ever read or write.

A world senses every organism before each action round; sensors that an organism's code can
never touch need not be computed. The answer is conservative: every byte offset of the code
and of each quotation body is taken as a possible instruction start (jumps may land inside
an instruction), a missing operand counts as 0, and a genome with a computed address
(``@`` load or ``!`` store) reaches everything. Slots a genome can write count as reached, so
that what it stores there is never overwritten by a sensor it did not ask for.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from . import opcodes as op
from .genome import PsilGenome

ALL = (1 << op.RING0_SLOTS) - 1
"""Every sensor slot."""

_ANY_ADDRESS = frozenset((op.LOAD, op.STORE))
_SLOT_OPERAND = frozenset((op.SYM_X, op.R0_READ))          # mem[n]
_RING1_OPERAND = frozenset((op.R1_READ, op.R1_WRITE))      # mem[(64 + n) & 0xFF]
_TARGETED = frozenset(c for c, (_, targeted) in op.ACTIONS.items() if targeted)


def _slot_bit(slot: int) -> int:
    return 1 << slot if 0 <= slot < op.RING0_SLOTS else 0


def reach_of_bytes_py(code: bytes) -> int:
    """The reach of one run of code, in plain Python: the reference ``reach_of_code``
    is tested against."""
    reach = 0
    n = len(code)
    for p, b in enumerate(code):
        a1 = code[p + 1] if p + 1 < n else 0
        a2 = code[p + 2] if p + 2 < n else 0
        if b in _ANY_ADDRESS:
            return ALL
        if b in _SLOT_OPERAND:
            reach |= _slot_bit(a1)
        elif b in _RING1_OPERAND:
            reach |= _slot_bit((op.RING1_BASE + a1) & 0xFF)
        elif b == op.SYM_W:                            # mem[val & 0xFF]: either byte order
            reach |= _slot_bit(a1) | _slot_bit(a2)
        elif b == op.ACT_MOVE:
            for slot in op.MOVE_TOWARD_SLOT.values():
                reach |= _slot_bit(slot)
        elif b in _TARGETED:
            reach |= _slot_bit(op.RING0_NEAR_ID)
    return reach


NAMES_NOTHING, ANY_ADDRESS, SLOT_OPERAND, RING1_OPERAND, WORD_OPERAND, MOVE, TARGETED = range(7)
BYTE_CLASS = np.zeros(256, dtype=np.int64)
"""What each first byte says about the memory it may touch (the classes above)."""
BYTE_CLASS[list(_TARGETED)] = TARGETED           # in reverse order of precedence
BYTE_CLASS[op.ACT_MOVE] = MOVE
BYTE_CLASS[op.SYM_W] = WORD_OPERAND
BYTE_CLASS[list(_RING1_OPERAND)] = RING1_OPERAND
BYTE_CLASS[list(_SLOT_OPERAND)] = SLOT_OPERAND
BYTE_CLASS[list(_ANY_ADDRESS)] = ANY_ADDRESS
MOVE_REACH = sum(_slot_bit(s) for s in set(op.MOVE_TOWARD_SLOT.values()))
TARGET_REACH = _slot_bit(op.RING0_NEAR_ID)


@njit(cache=True, nogil=True, inline="always")
def _bit(slot):
    return np.int64(1) << slot if 0 <= slot < op.RING0_SLOTS else np.int64(0)


@njit(cache=True, nogil=True)
def reach_of_code(code):
    """The reach of one run of code (main code or a quotation body): ``reach_of_bytes_py``
    in numba, for the thousands of genomes a GA makes."""
    n = code.shape[0]
    reach = np.int64(0)
    for p in range(n):
        kind = BYTE_CLASS[code[p]]
        if kind == NAMES_NOTHING:
            continue
        a1 = np.int64(code[p + 1]) if p + 1 < n else np.int64(0)
        if kind == ANY_ADDRESS:
            return np.int64(ALL)
        if kind == SLOT_OPERAND:
            reach |= _bit(a1)
        elif kind == RING1_OPERAND:
            reach |= _bit((op.RING1_BASE + a1) & 0xFF)
        elif kind == WORD_OPERAND:
            a2 = np.int64(code[p + 2]) if p + 2 < n else np.int64(0)
            reach |= _bit(a1) | _bit(a2)
        elif kind == MOVE:
            reach |= MOVE_REACH
        else:
            reach |= TARGET_REACH
    return reach


def _reach_of_bytes(code: bytes) -> int:
    return int(reach_of_code(np.frombuffer(code, dtype=np.uint8))) if code else 0


def ring0_reach(genome: PsilGenome) -> int:
    """Bit k set: the genome may read or write Ring0 slot k (``ALL`` when it cannot be told)."""
    reach = _reach_of_bytes(genome.code)
    for _, body in genome.quotations:
        reach |= _reach_of_bytes(body)
        if reach == ALL:
            break
    return reach
