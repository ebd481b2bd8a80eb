"""The GA's variation operators keep every genome well formed and within bounds, whatever
they are given and however often they are applied; each rule has its own small test."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.psil import opcodes as op
from primordia.brains.psil import variation as v
from primordia.brains.psil.archetypes import ARCHETYPES
from primordia.core.rng import DrawStream, Rng, stream_id

STREAM = stream_id("test.variation")
ARCHES = list(ARCHETYPES.values())


def draws(seed: int, k: int = 0) -> DrawStream:
    return DrawStream(Rng(seed), STREAM, k, 0)


def in_bounds(g: bytes, cap: int) -> bool:
    return v.is_well_formed(g) and v.MIN_GENOME <= len(g) <= cap


genome_source = st.one_of(st.sampled_from(ARCHES), st.binary(max_size=300))
operation = st.sampled_from(["mutate", "growth", "classic", "teach"])


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32), start=genome_source, other=genome_source,
       ops=st.lists(operation, max_size=40), cap=st.integers(16, 200))
def test_any_sequence_of_operators_keeps_genomes_well_formed_and_bounded(seed, start, other,
                                                                         ops, cap):
    d = draws(seed)
    g = v.fit(start, cap)
    mate = v.fit(other, cap)
    assert in_bounds(g, cap) and in_bounds(mate, cap)
    for name in ops:
        if name == "mutate":
            g = v.mutate(g, d, cap)
        elif name == "teach":
            g = v.teach(mate, g, d, cap)
        else:
            g = v.crossover(g, mate, d, cap, mode=name, classic_rate=0.5)
        assert in_bounds(g, cap), (name, g.hex())


@settings(max_examples=100, deadline=None)
@given(seed=st.integers(0, 2**32), a=genome_source, b=genome_source)
def test_operators_are_pure_functions_of_their_draws(seed, a, b):
    for op_ in (lambda d: v.mutate(a, d, 128), lambda d: v.crossover(a, b, d, 128),
                lambda d: v.teach(b, a, d), lambda d: v.random_genome(d, 128)):
        assert op_(draws(seed)) == op_(draws(seed))


def test_malformed_input_is_cut_back_to_whole_instructions():
    assert v.fit(bytes([0x21, 0x8A]), 128) == bytes([0x21]) + bytes(15)   # r0@ lost its operand
    assert v.fit(bytes([0xE0, 5, 1, 2]), 128) == bytes(16)                 # string runs past end
    assert v.fit(bytes(range(0x20, 0x40)) * 10, 100) == (bytes(range(0x20, 0x40)) * 4)[:100]
    assert not v.is_well_formed(bytes([0xC0, 1])) and v.is_well_formed(bytes([0xC0, 1, 2]))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_the_instruction_walk_splits_any_bytes_into_whole_instructions(code):
    """Each piece is one instruction of the length its first byte claims (2 + the length
    byte for the variable forms); together they are the code, less a truncated tail; the
    code is well formed exactly when nothing is cut."""
    pieces = v._whole(code)
    for ins in pieces:
        claim = v.FORM_LENGTH[ins[0]] or 2 + ins[1]
        assert len(ins) == claim
    joined = b"".join(pieces)
    assert code.startswith(joined)
    assert v.is_well_formed(code) == (joined == code)
    assert len(code) - len(joined) < (v.FORM_LENGTH[code[len(joined)]] or 257
                                      if len(joined) < len(code) else 1)


def test_random_instructions_follow_the_seeds_weights():
    d = draws(1)
    firsts = np.array([v.random_instruction(d)[0] for _ in range(20_000)])
    shares = {
        "commands": np.mean(firsts < 0x20), "numbers": np.mean((firsts >= 0x20) & (firsts < 0x40)),
        "ring": np.mean((firsts == 0x8A) | (firsts == 0x8C)),
        "symbols": np.mean((firsts >= 0x40) & (firsts < 0x5A)),
        "quotations": np.mean((firsts >= 0x60) & (firsts < 0x68)),
        "yield/halt": np.mean((firsts == op.YIELD) | (firsts == op.HALT))}
    want = {"commands": .30, "numbers": .30, "ring": .15, "symbols": .10, "quotations": .10,
            "yield/halt": .05}
    for k, p in want.items():
        assert abs(shares[k] - p) < 0.015, (k, shares[k])
    assert sum(shares.values()) > 0.999                   # nothing else is ever drawn


def test_random_genomes_end_with_halt_and_respect_the_cap():
    for seed in range(50):
        g = v.random_genome(draws(seed), 128)
        assert in_bounds(g, 128) and 16 <= len(g) <= 39
        assert op.instructions(g)[-1][1] == bytes([op.HALT]) or g.endswith(b"\0")
    assert len(v.random_genome(draws(3), 20, size=500)) <= 20


def test_classic_crossover_joins_a_prefix_of_a_and_a_suffix_of_b():
    a = bytes([0x21] * 20)
    b = bytes([0x8A, 0x05] * 10)
    for seed in range(30):
        child = v.crossover_classic(a, b, draws(seed), 128)
        body = child.rstrip(b"\0") if child.count(0x21) + child.count(0x8A) * 2 < 16 else child
        k = body.count(0x21)
        assert body[:k] == a[:k] and body[k:] == b[len(b) - len(body) + k:]


def test_growth_inserts_a_novel_instruction_of_b_before_as_final_yield():
    a = bytes([0x8A, 0x0D, 0x8C, 0x00, 0x21, 0x8C, 0x01] + [0x00] * 8 + [op.YIELD])
    b = bytes([0x96, 0x00] * 8)                          # act.eat: not in a
    child = v.crossover_growth(a, b, draws(4), 128)
    assert child == a[:-1] + bytes([0x96, 0x00]) + a[-1:]


def test_exchange_replaces_an_instruction_when_a_is_at_the_cap():
    a = bytes([0x21] * 32)
    b = bytes([0x96, 0x00] * 8)
    child = v.crossover_growth(a, b, draws(5), 32)
    assert len(child) == 32 - 1 + 2 - 1 or len(child) <= 32
    assert bytes([0x96, 0x00]) in child and child.count(0x21) == 31 - (33 - 32)


def test_without_anything_novel_growth_falls_back_to_classic():
    a = bytes(ARCHES[0]) * 2
    assert v.novel_instructions(a, ARCHES[0]) == []
    assert v.crossover_growth(a, ARCHES[0], draws(6), 128) == \
        v.crossover_classic(a, ARCHES[0], draws(6), 128)


def _ins(hexes: str) -> list[bytes]:
    return [bytes.fromhex(h) for h in hexes.split()]


BASE = _ins("8a05 25 06 8c01 21 22 00 00 00 f1")


def test_mutate_picks_each_of_the_six_operators():
    seen = {m.__name__: 0 for m in v.MUTATIONS}
    for seed in range(600):
        d = draws(seed)
        kind = v.MUTATIONS[d.integer(0, 6)].__name__
        seen[kind] += 1
        assert v.mutate(b"".join(BASE), draws(seed), 128) == \
            v.fit(b"".join(v.MUTATIONS[[m.__name__ for m in v.MUTATIONS].index(kind)](
                v._whole(v.fit(b"".join(BASE), 128)), d)), 128)
    assert all(70 <= n <= 130 for n in seen.values()), seen


def test_point_and_insert_use_random_instructions():
    for seed in range(50):
        p = v.point(BASE, draws(seed))
        assert len(p) == len(BASE) and sum(a != b for a, b in zip(p, BASE)) <= 1
        i = v.insert(BASE, draws(seed))
        assert len(i) == len(BASE) + 1
        assert any(i[:k] + i[k + 1:] == BASE for k in range(len(i)))


def test_delete_removes_one_instruction_but_never_below_the_minimum():
    big = BASE + _ins("21 21 21 21 21 21")
    for seed in range(50):
        out = v.delete(big, draws(seed))
        assert len(out) == len(big) - 1 and any(big[:k] + big[k + 1:] == out
                                                for k in range(len(big)))
    small = _ins(" ".join(["21"] * 16))
    assert all(v.delete(small, draws(s)) == small for s in range(50))


def test_tweak_moves_one_constant_by_one_within_its_range():
    for seed in range(200):
        out = v.tweak(BASE, draws(seed))
        diff = [(a, b) for a, b in zip(BASE, out) if a != b]
        assert len(diff) <= 1
        for a, b in diff:
            if len(a) == 1:
                assert 0x20 <= b[0] <= 0x3F and abs(a[0] - b[0]) == 1
            else:
                assert a[0] == b[0] and abs(a[1] - b[1]) == 1
    assert v.tweak(_ins("3f"), draws(1)) in (_ins("3e"), _ins("3f"))
    assert v.tweak(_ins("20"), draws(2)) in (_ins("20"), _ins("21"))
    assert v.tweak(_ins("00 f1"), draws(3)) == _ins("00 f1")           # nothing to tweak


def test_swap_exchanges_whole_instructions_and_duplicate_copies_one():
    for seed in range(50):
        out = v.swap(BASE, draws(seed))
        assert sorted(out) == sorted(BASE)
        assert sum(a != b for a, b in zip(out, BASE)) in (0, 2)
        dup = v.duplicate(BASE, draws(seed))
        k = next(j for j in range(len(BASE)) if dup[j + 1] == dup[j] and
                 dup[:j + 1] + dup[j + 2:] == BASE)
        assert dup[k] == dup[k + 1]


def test_teach_copies_a_fragment_of_the_teacher_over_the_student():
    teacher = bytes.fromhex("9500 9305 9500 9305 9500 9305 9500 9305")
    student = bytes([0x21] * 20)
    fragments = {teacher[s:s + 4] for s in op.instruction_starts(teacher)}
    for seed in range(40):
        child = v.teach(teacher, student, draws(seed))
        assert in_bounds(child, 20)              # the student keeps its length where it can
        changed = [k for k in range(len(child)) if child[k] != student[k]]
        if not changed:                          # copied past the end: cut away again
            assert len(child) < 20
            continue
        assert any(f.startswith(child[changed[0]:changed[-1] + 1]) for f in fragments)
    # copied into the middle of an instruction, bytes that break the walk are cut and padded
    broken = v.teach(bytes([0xC0, 0x01, 0x02]), bytes([0x21] * 15 + [0x8A, 0x05]), draws(9))
    assert v.is_well_formed(broken) and len(broken) >= 16


def test_similarity_counts_equal_bytes_over_the_longer_genome():
    assert v.similarity(b"abcd", b"abcd") == 100
    assert v.similarity(b"abcd", b"abxx") == 50
    assert v.similarity(b"ab", b"abcd") == 50
    assert v.similarity(b"", b"") == 0
