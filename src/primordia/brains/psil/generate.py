"""Program generators for cross-checks, fuzzing and benchmarks: random bytes, mutated archetypes,
and well-formed structured programs with branches, loops, quotations and inline blocks.

These stress the VMs; they are not the GA's variation operators (those keep genomes valid for
evolution). All randomness comes from ``core.rng``, so a seed names a whole corpus.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from primordia.core.rng import (Rng, float_from_u64_py, int_from_u64_py, random_u64_for,
                                stream_id)

from . import opcodes as op
from .archetypes import ARCHETYPES
from .genome import PsilGenome

STREAM_RANDOM = stream_id("psil.generate.random")
STREAM_MUTANT = stream_id("psil.generate.mutant")
STREAM_STRUCTURED = stream_id("psil.generate.structured")
STREAM_SENSORS = stream_id("psil.generate.sensors")


class Draws:
    """Successive random words for one (stream, entity), fetched from ``core.rng`` in blocks.

    Word ``j`` is ``random_u64(seed, stream, tick=entity, entity=j, draw=0)``: one numba call
    yields a block of 64, which keeps corpus generation fast in plain Python.
    """

    BLOCK = 64

    def __init__(self, rng: Rng, stream: int, entity: int) -> None:
        self.seed, self.stream, self.entity = rng.seed_word, stream, entity
        self.words: list[int] = []
        self.n = 0

    def u64(self) -> int:
        if self.n == len(self.words):
            idx = np.arange(self.n, self.n + self.BLOCK, dtype=np.int64)
            self.words.extend(random_u64_for(self.seed, self.stream, self.entity, idx, 0).tolist())
        self.n += 1
        return self.words[self.n - 1]

    def int(self, lo: int, hi: int) -> int:
        """Integer in [lo, hi)."""
        return int_from_u64_py(self.u64(), lo, hi)

    def chance(self, p: float) -> bool:
        return float_from_u64_py(self.u64()) < p

    def choice(self, seq):
        return seq[self.int(0, len(seq))]

    def bytes(self, n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            out += self.u64().to_bytes(8, "little")
        return bytes(out[:n])


def random_program(seed: int, index: int, max_len: int = 64) -> bytes:
    """Uniformly random bytes, length 0..max_len."""
    d = Draws(Rng(seed), STREAM_RANDOM, index)
    return d.bytes(d.int(0, max_len + 1))


def mutate_bytes(code: bytes, d: Draws, mutations: int) -> bytes:
    """Byte-level damage: point changes, inserts, deletes, duplications, operand flips."""
    g = bytearray(code)
    for _ in range(mutations):
        kind = d.int(0, 5)
        pos = d.int(0, len(g) + 1)
        if kind == 0 and g:
            g[min(pos, len(g) - 1)] = d.int(0, 256)
        elif kind == 1:
            g[pos:pos] = bytes([d.int(0, 256)])
        elif kind == 2 and g:
            del g[min(pos, len(g) - 1)]
        elif kind == 3 and g:
            start = min(pos, len(g) - 1)
            end = min(len(g), start + d.int(1, 9))
            g[end:end] = g[start:end]
        elif g:
            i = min(pos, len(g) - 1)
            g[i] ^= 1 << d.int(0, 8)
    return bytes(g)


def mutated_archetype(seed: int, index: int) -> bytes:
    """An archetype with 1-6 byte-level mutations."""
    d = Draws(Rng(seed), STREAM_MUTANT, index)
    name = d.choice(sorted(ARCHETYPES))
    return mutate_bytes(ARCHETYPES[name], d, d.int(1, 7))


# --- structured programs ----------------------------------------------------------------------

_SENSE_SLOTS = (1, 2, 3, 5, 7, 10, 12, 13, 14, 15, 16, 18, 19, 20, 21, 26, 27, 28, 29, 30)
_MATH = (op.ADD, op.SUB, op.MUL, op.DIV, op.MOD, op.AND, op.OR, op.EQ, op.LT, op.GT)
_UNARY = (op.NOT, op.NEG, op.INC, op.DEC, op.DUP, op.DROP)
_STACK = (op.SWAP, op.OVER, op.ROT, op.DUP2, op.DEPTH, op.CLEAR, op.NOP)


def _literal(d: Draws) -> bytes:
    r = d.int(0, 10)
    if r < 6:
        return bytes([op.SMALL_NUM_BASE + d.int(0, 32)])
    if r < 8:
        return bytes([op.PUSH_B, d.int(0, 256)])
    v = d.int(-32768, 32768) & 0xFFFF
    return bytes([op.PUSH_W, v >> 8, v & 0xFF])


def _quote_ref(d: Draws, n_quots: int) -> bytes:
    i = d.int(0, max(1, n_quots + 1))          # sometimes one past the defined ones: error 6
    return bytes([op.QUOTE_BASE + i]) if i < 32 else bytes([op.QUOT_X, i])


def _block(d: Draws, depth: int, n_quots: int, size: int) -> bytes:
    """A list of instructions; branches jump forward to instruction boundaries in the block."""
    parts: list[bytes] = []
    for _ in range(size):
        r = d.int(0, 100)
        if r < 18:
            parts.append(bytes([op.R0_READ, d.choice(_SENSE_SLOTS)]))
        elif r < 34:
            parts.append(_literal(d))
        elif r < 46:
            parts.append(_literal(d) + bytes([d.choice(_MATH)]))
        elif r < 52:
            parts.append(bytes([d.choice(_UNARY)]))
        elif r < 56:
            parts.append(bytes([d.choice(_STACK)]))
        elif r < 64:
            parts.append(bytes([op.R1_WRITE, d.int(0, 4)]))
        elif r < 68:
            parts.append(bytes([op.YIELD]))
        elif r < 73:
            a = d.int(op.ACT_MOVE, op.ACT_CRAFT + 1)
            parts.append(bytes([a, d.int(0, 8) if a == op.ACT_MOVE else 0]))
        elif r < 79:
            parts.append(("branch", d.choice((op.JZ, op.JNZ, op.JMP)), d.int(1, 5)))
        elif r < 82 and depth < 3:
            # a counted backward loop: local0 = n; body; local0 -= 1; jnz back
            body = _block(d, depth + 1, n_quots, d.int(1, 4))
            head = _literal(d) + bytes([op.LOCAL_SET, 0])
            tail = bytes([op.LOCAL, 0, op.DEC, op.DUP, op.LOCAL_SET, 0])
            back = len(body) + len(tail) + 4     # from after jmp- back to the body's start
            if back <= 255:
                parts.append(head + body + tail + bytes([op.JZ, 2, op.JMP_BACK, back]))
        elif r < 90 and n_quots:
            k = d.int(0, 5)
            q = _quote_ref(d, n_quots)
            if k == 0:
                parts.append(q + bytes([op.EXEC]))
            elif k == 1:
                parts.append(bytes([op.R0_READ, d.choice(_SENSE_SLOTS)]) + q
                             + _quote_ref(d, n_quots) + bytes([op.IFTE]))
            elif k == 2:
                parts.append(_literal(d) + q + bytes([op.DIP]))
            elif k == 3:
                parts.append(bytes([op.SMALL_NUM_BASE + d.int(0, 5)]) + q + bytes([op.LOOP]))
            else:
                parts.append(q + bytes([op.LOOP_N, d.int(0, 4)]))
        elif r < 94 and depth < 3:
            inner = _block(d, depth + 1, n_quots, d.int(1, 4))
            if len(inner) <= 255:
                parts.append(bytes([op.INLINE, len(inner)]) + inner)
        elif r < 97:
            parts.append(bytes([d.choice((op.HALT, op.RET, op.END, op.NOP))]))
        else:
            parts.append(bytes([d.choice((op.GAS, op.PICK_N, op.INSPECT, op.CALL)),
                                d.int(0, 8)]))
    # resolve forward branches to the start of a later part
    out = bytearray()
    starts = []
    pos = 0
    for p in parts:
        starts.append(pos)
        pos += 2 if isinstance(p, tuple) else len(p)
    starts.append(pos)
    for idx, p in enumerate(parts):
        if isinstance(p, tuple):
            _, opcode, skip = p
            target = starts[min(idx + 1 + skip, len(parts))]
            out += bytes([opcode, min(255, target - (starts[idx] + 2))])
        else:
            out += p
    return bytes(out)


def structured_program(seed: int, index: int) -> PsilGenome:
    """A well-formed program: sensing, arithmetic, forward branches, counted loops, yields,
    actions, inline blocks, and quotation bodies run by exec/ifte/dip/loop (some recursive)."""
    d = Draws(Rng(seed), STREAM_STRUCTURED, index)
    n_quots = d.int(0, 5)
    quots = tuple((i, _block(d, 1, n_quots, d.int(1, 6))) for i in range(n_quots))
    main = _block(d, 0, n_quots, d.int(3, 20))
    return PsilGenome(main, quots)


def random_sensors(seed: int, index: int) -> list[int]:
    """A Ring0 vector like a world's: small distances and ids, directions 0-4, some noise."""
    d = Draws(Rng(seed), STREAM_SENSORS, index)
    s = [d.int(0, 64) for _ in range(op.RING0_SLOTS)]
    s[0] = d.int(0, 2000)
    s[12] = d.int(0, 2000)
    for slot in (13, 18, 19):
        s[slot] = d.int(0, 5)
    return s


def corpus(seed: int, n: int) -> Iterator[tuple[str, PsilGenome]]:
    """A mixed corpus: 40% random bytes, 40% mutated archetypes, 20% structured programs."""
    for i in range(n):
        r = i % 5
        if r < 2:
            yield "random", PsilGenome(random_program(seed, i))
        elif r < 4:
            yield "mutant", PsilGenome(mutated_archetype(seed, i))
        else:
            yield "structured", structured_program(seed, i)
