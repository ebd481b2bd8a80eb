"""The Caldo instruction set as data: every instruction, the point of triplet space it sits
at, and the fuzzy lookup that gives any triplet its nearest instruction
(docs/brains/caldo.md, "Instruction space").

A triplet is 24 bits read as a colour (r, g, b). The instructions sit on a lattice of 4 x 4 x 5
points spread over the cube, so each owns a box of about the same size: a triplet near an
instruction's point means that instruction, and changing one of its bytes a little usually
keeps the meaning or moves to a related instruction (related instructions are neighbours
along the blue axis). Because the lattice is rectangular, the nearest point under squared
Euclidean distance is the nearest level on each axis separately: lookup is three small
searches, with ties going to the lower level (so to the lower point index).
"""

from __future__ import annotations

from typing import NamedTuple

MASK = 0xFFFFFF
TRUE = 0xFFFFFF
FALSE = 0

R_LEVELS = (32, 96, 160, 224)
G_LEVELS = (32, 96, 160, 224)
B_LEVELS = (25, 76, 127, 178, 229)


class Op(NamedTuple):
    """An instruction: its name, and for instructions the world carries out (``host``) how
    many values it pops and pushes."""

    name: str
    host: bool = False
    pops: int = 0
    pushes: int = 0


def _h(name: str, pops: int, pushes: int = 1) -> Op:
    return Op(name, True, pops, pushes)


# One row per (r, g) column of the lattice, five points along blue. Names that recur (QUOTE,
# NOP) own several points: QUOTE is made easy to hit, NOP gives neutral room to drift in.
LATTICE: tuple[tuple[Op, ...], ...] = (
    # r = 32
    (Op("QUOTE"), Op("DUP"), Op("DROP"), Op("SWAP"), Op("OVER")),
    (Op("ROT"), Op("NIP"), Op("PICK"), Op("CLEAR"), Op("QUOTE")),
    (Op("2DUP"), Op("2DROP"), Op("2SWAP"), Op("2OVER"), Op("NOP")),
    (Op("ADD"), Op("SUB"), Op("MUL"), Op("DIV"), Op("MOD")),
    # r = 96
    (Op("GT"), Op("LT"), Op("EQ"), Op("NE"), Op("NOT")),
    (Op("AND"), Op("OR"), Op("MATCH"), Op("IF_GT"), Op("NOP")),
    (Op("IF"), Op("ELSE"), Op("END"), Op("JMPF"), Op("JMPB")),
    (Op("CALL"), Op("LOOKUP"), Op("FIND"), Op("SELF"), Op("QUOTE")),
    # r = 160
    (Op("GENE_EXISTS"), Op("GENE_READ"), Op("GENE_WRITE"), Op("GENE_CREATE"),
     Op("GENE_LEN")),
    (_h("GENE_MOVE", 2), Op("ACT_UP"), Op("ACT_DOWN"), Op("ACTIVATION"), Op("NOP")),
    (Op("PROC_START"), Op("PROC_END"), Op("PROC_DONE"), Op("NOP"), Op("QUOTE")),
    (_h("CELL", 1), _h("COPY", 2), _h("TRANSFER", 3), _h("OBSERVE", 0, 3), Op("NOP")),
    # r = 224
    (_h("SEND", 1), _h("RECEIVE", 0), _h("BARRIER_UP", 0), _h("BARRIER_DOWN", 0),
     _h("ATTACK", 1)),
    (_h("PHOTOSYNTHESIZE", 0), _h("RESPIRE", 0), _h("MAKE_STARCH", 0),
     _h("BREAK_STARCH", 0), _h("POOL", 1)),
    (_h("MAKE_FAT", 0), _h("BREAK_FAT", 0), _h("MAKE_BARRIER", 0), _h("BREAK_BARRIER", 0),
     Op("NOP")),
    (_h("MAKE_INSTRUCTION", 0), _h("BREAK_INSTRUCTION", 0), Op("QUOTE"), Op("NOP"),
     Op("NOP")),
)

OPS: tuple[Op, ...] = tuple(dict.fromkeys(op for row in LATTICE for op in row))
"""Every distinct instruction, in lattice order; an instruction's opcode is its index here."""
OPCODE = {op.name: k for k, op in enumerate(OPS)}
POINT_OP: tuple[int, ...] = tuple(OPCODE[op.name] for row in LATTICE for op in row)
"""The opcode at each lattice point, point index (r_level * 4 + g_level) * 5 + b_level."""


def _level(v: int, levels: tuple[int, ...]) -> int:
    best = 0
    for k, at in enumerate(levels):
        if abs(v - at) < abs(v - levels[best]):
            best = k
    return best


def point_of(triplet: int) -> int:
    """The lattice point nearest ``triplet`` (ties to the lower level on each axis)."""
    t = triplet & MASK
    r, g, b = t >> 16, (t >> 8) & 0xFF, t & 0xFF
    return ((_level(r, R_LEVELS) * len(G_LEVELS) + _level(g, G_LEVELS)) * len(B_LEVELS)
            + _level(b, B_LEVELS))


def opcode_of(triplet: int) -> int:
    """The instruction a triplet means: the one at its nearest lattice point."""
    return POINT_OP[point_of(triplet)]


def triplet_of(name: str) -> int:
    """The canonical triplet of an instruction: its first lattice point."""
    k = POINT_OP.index(OPCODE[name])
    b = k % len(B_LEVELS)
    g = (k // len(B_LEVELS)) % len(G_LEVELS)
    r = k // (len(B_LEVELS) * len(G_LEVELS))
    return (R_LEVELS[r] << 16) | (G_LEVELS[g] << 8) | B_LEVELS[b]


def distance2(a: int, b: int) -> int:
    """Squared Euclidean distance between two triplets read as (r, g, b)."""
    a, b = a & MASK, b & MASK
    dr = (a >> 16) - (b >> 16)
    dg = ((a >> 8) & 0xFF) - ((b >> 8) & 0xFF)
    db = (a & 0xFF) - (b & 0xFF)
    return dr * dr + dg * dg + db * db
