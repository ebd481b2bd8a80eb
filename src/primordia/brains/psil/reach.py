"""Which sensor slots (Ring0, memory 0..30) a micro-PSIL genome can ever read or write.

A world senses every organism before each action round; sensors that an organism's code can
never touch need not be computed. The answer is conservative: every byte offset of the code
and of each quotation body is taken as a possible instruction start (jumps may land inside
an instruction), a missing operand counts as 0, and a genome with a computed address
(``@`` load or ``!`` store) reaches everything. Slots a genome can write count as reached, so
that what it stores there is never overwritten by a sensor it did not ask for.
"""

from __future__ import annotations

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


def _reach_of_bytes(code: bytes) -> int:
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


def ring0_reach(genome: PsilGenome) -> int:
    """Bit k set: the genome may read or write Ring0 slot k (``ALL`` when it cannot be told)."""
    reach = _reach_of_bytes(genome.code)
    for _, body in genome.quotations:
        reach |= _reach_of_bytes(body)
        if reach == ALL:
            break
    return reach
