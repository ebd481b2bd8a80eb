"""Program generators for cross-checks, fuzzing and benchmarks: random bytes, mutated archetypes,
and well-formed structured programs with branches, loops, quotations and inline blocks.

These stress the VMs; they are not the GA's variation operators (those keep genomes valid for
evolution). All randomness comes from ``core.rng``, so a seed names a whole corpus.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np
from numba import njit

from primordia.core.rng import (Rng, int_from_u64_py, random_u64,
                                random_u64_for, scale_u64, stream_id)

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


# --- bulk generators (numba) -------------------------------------------------------------------
#
# The fuzz campaign needs millions of programs; the generators above cost ~150 us each in plain
# Python. These kernels make whole batches at once. Every word is keyed
# ``random_u64(seed, stream, tick=program index, entity=purpose, draw=j)``, so program ``i`` is
# the same whatever batch it is made in; ``seed`` is a key word (``Rng(seed).seed_word``) and
# ``stream`` a ``stream_id(...)`` chosen by the caller. They output flat arrays: the bytes of
# program ``j`` are ``flat[offsets[j]:offsets[j + 1]]``.

FUZZ_EDGE_VALUES = np.array([-32768, -32767, -256, -255, -1, 0, 1, 2, 4, 31, 255, 256, 32766,
                             32767], dtype=np.int64)
"""Sensor values at the edges of 16-bit arithmetic, mixed into fuzz sensor vectors."""


_SOUP_TWO_BYTE = np.array([op.PUSH_B, op.R0_READ, op.R1_READ, op.LOCAL, op.INSPECT, op.R1_WRITE,
                           op.LOCAL_SET, op.SYM_X, op.QUOT_X, op.CALL, op.PICK_N, op.LOOP_N,
                           op.GAS, op.STR, op.ROLL_N], dtype=np.uint8)


@njit(cache=True, nogil=True)
def _fill_soup(out, pos, length, seed, stream, index, entity, ins):
    """Whole instructions drawn by class (a few pushes first; then pushes outweigh pops, short
    jumps, yields, actions, blocks, any byte now and then), then ``jmp.back`` to the start:
    programs that run long and end by overflow, an error or running out of gas rather than at
    their first bytes."""
    end = length - 2 if length >= 4 else length
    p = 0
    d = 2
    head = scale_u64(random_u64(seed, stream, index, entity, 0), 0, 9)   # pushes first
    while p < end:
        r = scale_u64(random_u64(seed, stream, index, entity, d), 0, 100)
        if p < head:
            r = 0
        a = random_u64(seed, stream, index, entity, d + 1)
        d += 2
        b1 = np.uint8(a & np.uint64(0xFF))
        b2 = np.uint8((a >> np.uint64(8)) & np.uint64(0xFF))
        small = np.uint8((a >> np.uint64(16)) & np.uint64(31))
        pick = (a >> np.uint64(24)) & np.uint64(0xFFFF)
        n = 1
        if r < 36:                                                   # literal
            if b2 < 24:
                ins[0] = np.uint8(op.QUOTE_BASE + (small & np.uint8(7)))
            else:
                ins[0] = np.uint8(0x20 + scale_u64(a, 0, 64))
        elif r < 50:                                                 # 1-byte command
            ins[0] = np.uint8(scale_u64(a, 0, 32))
            if ins[0] >= op.EXEC and ins[0] <= op.LOOP and b2 < 160:
                ins[0] = small                   # combinators mostly meet no quotation
        elif r < 53:
            ins[0] = np.uint8(op.CLEAR)          # makes each trip round the loop alike
        elif r < 63:
            ins[0] = _SOUP_TWO_BYTE[pick % np.uint64(_SOUP_TWO_BYTE.shape[0])]
            ins[1] = small if b2 < 200 else b1
            n = 2
        elif r < 68:
            sel = pick % np.uint64(3)
            ins[0] = np.uint8(op.JZ) if sel == 0 else (np.uint8(op.JNZ) if sel == 1
                                                       else np.uint8(op.JMP))
            if b2 < 64:
                ins[0] = np.uint8(op.JMP_BACK)
                ins[1] = np.uint8(min(1 + (small & np.uint8(15)), p + 2))
            else:
                ins[1] = small & np.uint8(7)
            n = 2
        elif r < 72:
            ins[0] = np.uint8(op.ACT_MOVE + (pick % np.uint64(9)))
            ins[1] = small & np.uint8(7)
            n = 2
        elif r < 75:
            ins[0] = np.uint8(op.YIELD)
        elif r < 80:
            ins[0] = np.uint8(0xC0 + (pick % np.uint64(6)))
            ins[1] = b1
            ins[2] = b2
            n = 3
        elif r < 83:
            ins[0] = np.uint8(op.INLINE) if b1 < 160 else np.uint8(op.STRING)
            ln = small & np.uint8(7)
            ins[1] = ln
            for t in range(ln):
                w = random_u64(seed, stream, index, entity + 1, 8 * d + t)
                ins[2 + t] = np.uint8(w & np.uint64(0xFF))
            n = 2 + ln
        elif r < 86:
            ins[0] = np.uint8(0xF0 + (pick & np.uint64(15)))
        elif r < 92:
            ins[0] = b1                                              # any byte
        else:
            ins[0] = np.uint8(0x20 + (small & np.uint8(7)))          # more pushes
        if p + n > end:
            for t in range(p, end):
                out[pos + t] = np.uint8(op.NOP)
            break
        for t in range(n):
            out[pos + p + t] = ins[t]
        p += n
    if length >= 4:
        out[pos + end] = np.uint8(op.JMP_BACK)
        out[pos + end + 1] = np.uint8(min(length, 255))


@njit(cache=True, nogil=True)
def _fill_random_bytes(out, pos, length, seed, stream, index, entity, alphabet):
    """Write ``length`` random bytes at ``out[pos:]``: uniform bytes (45%), bytes from a small
    random alphabet of 2-16 values (30%; tight loops, repeated idioms), or an instruction soup
    that loops back to its start (25%, see ``_fill_soup``).
    Uses entities ``entity`` to ``entity + 2``."""
    mode = scale_u64(random_u64(seed, stream, index, entity, 0), 0, 100)
    if mode < 45:
        w = np.uint64(0)
        for p in range(length):
            if (p & 7) == 0:
                w = random_u64(seed, stream, index, entity + 1, p >> 3)
            out[pos + p] = np.uint8((w >> np.uint64(8 * (p & 7))) & np.uint64(0xFF))
    elif mode < 75:
        n_alpha = scale_u64(random_u64(seed, stream, index, entity, 1), 2, 17)
        for a in range(n_alpha):
            alphabet[a] = np.uint8(scale_u64(random_u64(seed, stream, index, entity, 2 + a),
                                             0, 256))
        for p in range(length):
            out[pos + p] = alphabet[scale_u64(random_u64(seed, stream, index, entity + 1, p),
                                              0, n_alpha)]
    else:
        _fill_soup(out, pos, length, seed, stream, index, entity + 1, alphabet)


@njit(cache=True, nogil=True)
def random_programs_flat(seed, stream, indices, max_len, long_percent=0, long_len=4096):
    """Random byte programs for program ids ``indices``: lengths 0..max_len (uniform), or for
    ``long_percent``% of them max_len+1..long_len.

    Returns ``(flat uint8, offsets int64[n + 1])``."""
    n = indices.shape[0]
    offsets = np.zeros(n + 1, dtype=np.int64)
    for j in range(n):
        w = random_u64(seed, stream, indices[j], 0, 0)
        if scale_u64(random_u64(seed, stream, indices[j], 0, 1), 0, 100) < long_percent:
            length = scale_u64(w, max_len + 1, max(long_len, max_len + 1) + 1)
        else:
            length = scale_u64(w, 0, max_len + 1)
        offsets[j + 1] = offsets[j] + length
    flat = np.empty(offsets[n], dtype=np.uint8)
    alphabet = np.empty(16, dtype=np.uint8)
    for j in range(n):
        _fill_random_bytes(flat, offsets[j], offsets[j + 1] - offsets[j], seed, stream,
                           indices[j], 1, alphabet)
    return flat, offsets


@njit(cache=True, nogil=True)
def mutated_archetypes_flat(seed, stream, indices, arch_flat, arch_offsets, max_mutations):
    """Archetypes (given flat: ``arch_flat[arch_offsets[a]:arch_offsets[a + 1]]``) with
    1..max_mutations byte-level mutations each, as in ``mutate_bytes``: point change, insert,
    delete, duplicate 1-8 bytes in place, bit flip.

    Returns ``(flat uint8, offsets int64[n + 1])``."""
    n = indices.shape[0]
    n_arch = arch_offsets.shape[0] - 1
    longest = 0
    for a in range(n_arch):
        longest = max(longest, arch_offsets[a + 1] - arch_offsets[a])
    cap = longest + 8 * max_mutations + 1
    buf = np.empty(cap, dtype=np.uint8)
    out = np.empty(n * cap, dtype=np.uint8)
    offsets = np.zeros(n + 1, dtype=np.int64)
    for j in range(n):
        i = indices[j]
        a = scale_u64(random_u64(seed, stream, i, 0, 0), 0, n_arch)
        length = arch_offsets[a + 1] - arch_offsets[a]
        for p in range(length):
            buf[p] = arch_flat[arch_offsets[a] + p]
        m = scale_u64(random_u64(seed, stream, i, 0, 1), 1, max_mutations + 1)
        for t in range(m):
            kind = scale_u64(random_u64(seed, stream, i, 1, 3 * t), 0, 5)
            pos = scale_u64(random_u64(seed, stream, i, 1, 3 * t + 1), 0, length + 1)
            arg = random_u64(seed, stream, i, 1, 3 * t + 2)
            if kind == 1:                                   # insert a byte
                for p in range(length, pos, -1):
                    buf[p] = buf[p - 1]
                buf[pos] = np.uint8(scale_u64(arg, 0, 256))
                length += 1
            elif length == 0:
                continue
            elif kind == 0:                                 # point change
                buf[min(pos, length - 1)] = np.uint8(scale_u64(arg, 0, 256))
            elif kind == 2:                                 # delete a byte
                for p in range(min(pos, length - 1), length - 1):
                    buf[p] = buf[p + 1]
                length -= 1
            elif kind == 3:                                 # duplicate 1-8 bytes in place
                start = min(pos, length - 1)
                cnt = min(length - start, scale_u64(arg, 1, 9))
                for p in range(length - 1, start + cnt - 1, -1):
                    buf[p + cnt] = buf[p]
                for p in range(cnt):
                    buf[start + cnt + p] = buf[start + p]
                length += cnt
            else:                                           # flip one bit
                p = min(pos, length - 1)
                buf[p] = buf[p] ^ np.uint8(1 << scale_u64(arg, 0, 8))
        for p in range(length):
            out[offsets[j] + p] = buf[p]
        offsets[j + 1] = offsets[j] + length
    return out[:offsets[n]].copy(), offsets


@njit(cache=True, nogil=True)
def random_quotations_flat(seed, stream, indices, percent, max_quots, max_len):
    """Random quotation tables: ``percent``% of the programs get 1..max_quots bodies of 0..max_len
    random bytes, at distinct indices (85% in 0..7, where 0x60-0x67 reach them; else 0..255).

    Returns ``(flat uint8, offsets int64[m + 1], q_index int32[m], q_first int64[n + 1])``:
    program ``j``'s bodies are rows ``q_first[j]:q_first[j + 1]``."""
    n = indices.shape[0]
    max_quots = max(1, min(max_quots, 256))
    q_first = np.zeros(n + 1, dtype=np.int64)
    for j in range(n):
        cnt = 0
        if scale_u64(random_u64(seed, stream, indices[j], 0, 0), 0, 100) < percent:
            cnt = scale_u64(random_u64(seed, stream, indices[j], 0, 1), 1, max_quots + 1)
        q_first[j + 1] = q_first[j] + cnt
    m = q_first[n]
    q_index = np.empty(m, dtype=np.int32)
    offsets = np.zeros(m + 1, dtype=np.int64)
    for j in range(n):
        i = indices[j]
        for t in range(q_first[j + 1] - q_first[j]):
            r = q_first[j] + t
            if scale_u64(random_u64(seed, stream, i, 2, 3 * t), 0, 100) < 85:
                idx = scale_u64(random_u64(seed, stream, i, 2, 3 * t + 1), 0, 8)
            else:
                idx = scale_u64(random_u64(seed, stream, i, 2, 3 * t + 1), 0, 256)
            taken = True
            while taken:
                taken = False
                for r2 in range(q_first[j], r):
                    if q_index[r2] == idx:
                        taken = True
                        idx = (idx + 1) % 256
                        break
            q_index[r] = idx
            offsets[r + 1] = offsets[r] + scale_u64(random_u64(seed, stream, i, 2, 3 * t + 2),
                                                    0, max_len + 1)
    flat = np.empty(offsets[m], dtype=np.uint8)
    alphabet = np.empty(16, dtype=np.uint8)
    for j in range(n):
        for t in range(q_first[j + 1] - q_first[j]):
            r = q_first[j] + t
            _fill_random_bytes(flat, offsets[r], offsets[r + 1] - offsets[r], seed, stream,
                               indices[j], 10 + 4 * t, alphabet)
    return flat, offsets, q_index, q_first


@njit(cache=True, nogil=True)
def random_int16_rows(seed, stream, indices, cols):
    """An int16 row per id over the whole 16-bit range: per row, uniform values (40%), small
    world-like values 0..63 (20%), edge values such as -32768, -1, 0, 32767 (20%), or a mix of
    the three per column (20%). Sensor vectors, and garbage for state that must stay put."""
    n = indices.shape[0]
    out = np.empty((n, cols), dtype=np.int16)
    n_edge = FUZZ_EDGE_VALUES.shape[0]
    for j in range(n):
        i = indices[j]
        mode = scale_u64(random_u64(seed, stream, i, 0, 0), 0, 100)
        for c in range(cols):
            w = random_u64(seed, stream, i, 1, c)
            if mode < 40:
                kind = 0
            elif mode < 60:
                kind = 1
            elif mode < 80:
                kind = 2
            else:
                kind = scale_u64(random_u64(seed, stream, i, 2, c), 0, 3)
            if kind == 0:
                v = scale_u64(w, -32768, 32768)
            elif kind == 1:
                v = scale_u64(w, 0, 64)
            else:
                v = FUZZ_EDGE_VALUES[scale_u64(w, 0, n_edge)]
            out[j, c] = np.int16(v)
    return out


@njit(cache=True, nogil=True)
def random_gas_flat(seed, stream, indices, cap):
    """Gas budgets in 1..cap, mostly small: 5% in 1..8, 55% in 9..500, 35% in 501..65535 and
    5% at 65532..65535; a draw above ``cap`` is redrawn uniformly in 1..cap."""
    n = indices.shape[0]
    out = np.empty(n, dtype=np.int32)
    for j in range(n):
        i = indices[j]
        r = scale_u64(random_u64(seed, stream, i, 0, 0), 0, 100)
        w = random_u64(seed, stream, i, 0, 1)
        if r < 5:
            g = scale_u64(w, 1, 9)
        elif r < 60:
            g = scale_u64(w, 9, 501)
        elif r < 95:
            g = scale_u64(w, 501, 65536)
        else:
            g = 65535 - scale_u64(w, 0, 4)
        if g > cap:
            g = scale_u64(random_u64(seed, stream, i, 0, 2), 1, cap + 1)
        out[j] = np.int32(g)
    return out
