"""Variation operators of the sandbox's GA (docs/worlds/sandbox.md, "The tick"): random
instructions and genomes, six mutations, classic and growth/exchange crossover, and teaching's
fragment copy.

All work on whole instructions, and every result is *well formed*: its instruction walk ends
exactly at its length, it is at least MIN_GENOME and at most the cap bytes long. All
randomness comes from the DrawStream given, so the same draws give the same genome.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numba import njit

from primordia.core.errors import GenomeError
from primordia.core.rng import DrawStream

from . import opcodes as op

MIN_GENOME = 16
DEFAULT_MAX_GENOME = 128
CLASSIC_RATE = 0.20
NOP, HALT, YIELD = 0x00, op.HALT, op.YIELD
RING0_READ, RING1_WRITE = op.R0_READ, op.R1_WRITE
FORM_LENGTH = tuple({op.Form.ONE: 1, op.Form.TWO: 2, op.Form.THREE: 3}.get(op.form_of(b), 0)
                    for b in range(256))
"""Instruction length by first byte; 0 for [len][data] forms."""


CACHED_GENOMES = 8192
"""How many genomes' instruction lists are kept: a GA draws the same parents again and again,
and a genome is immutable bytes, so each is split once (answers do not depend on the cache)."""


def starts(code: bytes) -> list[int]:
    return list(_starts(bytes(code)))


@lru_cache(maxsize=CACHED_GENOMES)
def _starts(code: bytes) -> tuple[int, ...]:
    return tuple(op.instruction_starts(code))


FORM_LENGTHS = np.array(FORM_LENGTH, dtype=np.int64)


@njit(cache=True, nogil=True)
def whole_ends(code, ends):
    """Walk ``code`` from 0: write the end of each whole instruction to ``ends`` (a truncated
    last one is left out); returns (how many, whether the walk meets the end exactly).
    An instruction claims its form's bytes, or 2 + its length byte (2 when that is missing)."""
    n = code.shape[0]
    pc = 0
    m = 0
    while pc < n:
        k = FORM_LENGTHS[code[pc]]
        if k == 0:
            k = 2 + np.int64(code[pc + 1]) if pc + 1 < n else 2
        pc += k
        if pc <= n:
            ends[m] = pc
            m += 1
    return m, pc == n


def _walk(code: bytes) -> tuple[np.ndarray, bool]:
    ends = np.empty(len(code), dtype=np.int64)
    m, exact = whole_ends(np.frombuffer(code, dtype=np.uint8), ends)
    return ends[:m], exact


def is_well_formed(code: bytes) -> bool:
    """The walk from 0 meets the end exactly (no instruction runs past it)."""
    return _well_formed(bytes(code))


@lru_cache(maxsize=CACHED_GENOMES)
def _well_formed(code: bytes) -> bool:
    return bool(_walk(code)[1]) if code else True


def _whole(code: bytes) -> list[bytes]:
    """The instructions of ``code``; a truncated last instruction is dropped."""
    return list(_instructions(bytes(code)))


@lru_cache(maxsize=CACHED_GENOMES)
def _instructions(code: bytes) -> tuple[bytes, ...]:
    ends = _walk(code)[0].tolist() if code else []
    return tuple(code[a:b] for a, b in zip([0] + ends, ends))


def fit(code: bytes, max_len: int) -> bytes:
    """Cut at the last instruction boundary within ``max_len`` (dropping a truncated tail),
    then pad with nops to MIN_GENOME."""
    if max_len < MIN_GENOME:
        raise GenomeError(f"genome cap {max_len} is below the minimum {MIN_GENOME}")
    if MIN_GENOME <= len(code) <= max_len and is_well_formed(code):
        return bytes(code)                       # the common case: nothing to cut or pad
    out = bytearray()
    for ins in _whole(code):
        if len(out) + len(ins) > max_len:
            break
        out += ins
    out += bytes(max(0, MIN_GENOME - len(out)))
    return bytes(out)


def random_instruction(draws: DrawStream) -> bytes:
    """One instruction; the first byte follows the reference sandbox's weights: 30% commands
    00-1F, 30% small numbers 20-3F, 15% r0@ / r1!, 10% symbols 40-59, 10% quotations 60-67, 5%
    yield or halt. r0@ reads a sensor slot (0-30), r1! writes an action slot (0-3)."""
    r = draws.random()
    if r < 0.30:
        return bytes([draws.integer(0x00, 0x20)])
    if r < 0.60:
        return bytes([draws.integer(0x20, 0x40)])
    if r < 0.75:
        if draws.integer(0, 2) == 0:
            return bytes([RING0_READ, draws.integer(0, 31)])
        return bytes([RING1_WRITE, draws.integer(0, 4)])
    if r < 0.85:
        return bytes([draws.integer(0x40, 0x5A)])
    if r < 0.95:
        return bytes([draws.integer(0x60, 0x68)])
    return bytes([YIELD if draws.integer(0, 2) == 0 else HALT])


def random_genome(draws: DrawStream, max_len: int, size: int | None = None) -> bytes:
    """Random instructions up to ``size`` bytes (default 24-39), ending with halt."""
    if size is None:
        size = 24 + draws.integer(0, 16)
    size = max(MIN_GENOME, min(size, max_len))
    out = bytearray()
    while True:
        ins = random_instruction(draws)
        if len(out) + len(ins) > size - 1:
            break
        out += ins
    return fit(bytes(out) + bytes([HALT]), max_len)


def point(ins: list[bytes], draws: DrawStream) -> list[bytes]:
    """Replace one instruction by a random one."""
    k = draws.integer(0, len(ins))
    return ins[:k] + [random_instruction(draws)] + ins[k + 1:]


def insert(ins: list[bytes], draws: DrawStream) -> list[bytes]:
    """Insert a random instruction at a boundary."""
    k = draws.integer(0, len(ins) + 1)
    return ins[:k] + [random_instruction(draws)] + ins[k:]


def delete(ins: list[bytes], draws: DrawStream) -> list[bytes]:
    """Remove one instruction, unless the genome is at the minimum size."""
    k = draws.integer(0, len(ins))
    if sum(map(len, ins)) <= MIN_GENOME:
        return ins
    return ins[:k] + ins[k + 1:]


def tweak(ins: list[bytes], draws: DrawStream) -> list[bytes]:
    """+-1 on one constant: a small number stays within 0x20-0x3F, a two-byte form's operand
    within 0-255."""
    tweakable = [j for j, x in enumerate(ins)
                 if 0x20 <= x[0] <= 0x3F or op.form_of(x[0]) is op.Form.TWO]
    if not tweakable:
        return ins
    j = tweakable[draws.integer(0, len(tweakable))]
    x = bytearray(ins[j])
    pos, lo, hi = (0, 0x20, 0x3F) if len(x) == 1 else (1, 0x00, 0xFF)
    if draws.integer(0, 2) == 0 and x[pos] < hi:
        x[pos] += 1
    elif x[pos] > lo:
        x[pos] -= 1
    return ins[:j] + [bytes(x)] + ins[j + 1:]


def swap(ins: list[bytes], draws: DrawStream) -> list[bytes]:
    """Exchange two whole instructions (the reference swapped only their first bytes)."""
    i, j = draws.integer(0, len(ins)), draws.integer(0, len(ins))
    out = list(ins)
    out[i], out[j] = out[j], out[i]
    return out


def duplicate(ins: list[bytes], draws: DrawStream) -> list[bytes]:
    """Copy one instruction right after itself."""
    k = draws.integer(0, len(ins))
    return ins[:k + 1] + [ins[k]] + ins[k + 1:]


MUTATIONS = (point, insert, delete, tweak, swap, duplicate)
"""The six mutation operators, chosen uniformly by ``mutate``; each maps a list of whole
instructions to another."""


def mutate(code: bytes, draws: DrawStream, max_len: int) -> bytes:
    """One of the six mutations, on whole instructions; the result is cut to the cap and
    padded to the minimum."""
    ins = _whole(fit(code, max_len))
    operator = MUTATIONS[draws.integer(0, len(MUTATIONS))]
    return fit(b"".join(operator(ins, draws)), max_len)


def crossover_classic(a: bytes, b: bytes, draws: DrawStream, max_len: int) -> bytes:
    """A's instructions before a boundary of A, then B's from a boundary of B."""
    ia, ib = _whole(a), _whole(b)
    cut_a = draws.integer(0, len(ia) + 1)
    cut_b = draws.integer(0, len(ib) + 1)
    return fit(b"".join(ia[:cut_a] + ib[cut_b:]), max_len)


def novel_instructions(a: bytes, b: bytes) -> list[bytes]:
    """B's instructions whose bytes do not occur anywhere in A."""
    return [x for x in _whole(b) if bytes(x) not in a]


def crossover_growth(a: bytes, b: bytes, draws: DrawStream, max_len: int) -> bytes:
    """Growth/exchange: take one of B's novel instructions; if it fits, insert it before A's
    final halt/yield (else at the end) -- growth; at the cap, it replaces one of A's
    instructions -- exchange. Without novelty, classic crossover."""
    novel = novel_instructions(a, b)
    if not novel:
        return crossover_classic(a, b, draws, max_len)
    seg = novel[draws.integer(0, len(novel))]
    ia = _whole(a)
    if sum(map(len, ia)) + len(seg) <= max_len:
        at = len(ia) - 1 if ia and ia[-1][0] in (HALT, YIELD) else len(ia)
        ia.insert(max(at, 0), seg)
    elif ia:
        ia[draws.integer(0, len(ia))] = seg
    return fit(b"".join(ia), max_len)


def crossover(a: bytes, b: bytes, draws: DrawStream, max_len: int,
              classic_rate: float = CLASSIC_RATE, mode: str = "growth") -> bytes:
    """The GA's crossover: ``classic`` always; ``growth`` with a classic share."""
    if mode == "classic":
        return crossover_classic(a, b, draws, max_len)
    if mode != "growth":
        raise GenomeError(f"unknown crossover mode {mode!r} (growth or classic)")
    if draws.random() < classic_rate:
        return crossover_classic(a, b, draws, max_len)
    return crossover_growth(a, b, draws, max_len)


def teach(teacher: bytes, student: bytes, draws: DrawStream,
          max_len: int | None = None) -> bytes:
    """Copy up to 4 bytes of the teacher, from one of its instruction boundaries, over the
    student's bytes from one of the student's boundaries (the student keeps its length where
    it can). Bytes copied mid-instruction can break the walk; the result is then cut back to
    its last whole instruction and padded (``fit``)."""
    cap = max(len(student), MIN_GENOME) if max_len is None else max_len
    ts, ss = starts(teacher), starts(student)
    if not ts or not ss:
        return fit(student, cap)
    src = ts[draws.integer(0, len(ts))]
    fragment = teacher[src:src + 4]
    dst = ss[draws.integer(0, len(ss))]
    out = bytearray(student)
    out[dst:dst + len(fragment)] = fragment
    return fit(bytes(out), max(cap, MIN_GENOME))


def similarity(a: bytes, b: bytes) -> int:
    """Bytes equal at the same position x 100 // the longer length (sensor 28)."""
    longer = max(len(a), len(b))
    if longer == 0:
        return 0
    return sum(x == y for x, y in zip(a, b)) * 100 // longer
