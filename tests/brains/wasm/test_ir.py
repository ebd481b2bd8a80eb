"""The IR genome's checks and canonical bytes: every rule of ``validate`` refuses what breaks
it with a GenomeError saying why, and ``decode`` takes exactly the bytes ``encode`` writes --
any other bytes (truncated, trailing, unknown, oversized, random) are refused, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.wasm import fuzz, ir
from primordia.brains.wasm.ir import (BLOCK, BR, CALL, CODE, ELSE, END, IF, RETURN, Function,
                                      Instr, WasmGenome, decode, encode, make_genome,
                                      segments, validate)
from primordia.core.errors import GenomeError
from primordia.core.rng import DrawStream, Rng, stream_id

STEP = Function(0, 1, 2, (Instr(CODE["const"], 0, 7), Instr(RETURN, 0)))


def step_with(*body: Instr, locals: int = 2) -> WasmGenome:
    return WasmGenome((Function(0, 1, locals, tuple(body)),))


@pytest.mark.parametrize("genome,words", [
    (WasmGenome(()), "1..16 functions"),
    (WasmGenome((STEP,) * 17), "1..16 functions"),
    (WasmGenome((Function(1, 1, 2, STEP.body),)), "step"),
    (WasmGenome((STEP, Function(5, 0, 5, ()))), "parameters"),
    (WasmGenome((STEP, Function(0, 2, 1, ()))), "results"),
    (WasmGenome((STEP, Function(2, 0, 1, ()))), "locals"),
    (step_with(Instr(0xFF)), "unknown opcode"),
    (step_with(Instr(CODE["add"], 0, 1, 2)), "local 2 does not exist"),
    (step_with(Instr(CODE["const"], 0, 1 << 31)), "out of range"),
    (step_with(Instr(END, 1)), "the others must be 0"),
    (step_with(Instr(ELSE)), "else outside an if"),
    (step_with(Instr(IF, 0), Instr(ELSE), Instr(ELSE), Instr(END)), "second else"),
    (step_with(Instr(END)), "no open block"),
    (step_with(Instr(BLOCK)), "not closed"),
    (step_with(Instr(BLOCK), Instr(BR, 2), Instr(END)), "branch depth 2"),
    (step_with(*[Instr(BLOCK)] * 17, *[Instr(END)] * 17), "blocks open"),
    (step_with(Instr(CALL, 3, 0, 0)), "does not exist"),
    (WasmGenome((step_with(Instr(CALL, 1, 1, 0)).functions[0], Function(0, 0, 1, ()))),
     "dst must be 0"),
    (WasmGenome((step_with(Instr(CALL, 1, 0, 1)).functions[0], Function(2, 0, 2, ()))),
     "run past"),
])
def test_each_rule_of_validate_refuses_with_a_reason(genome, words):
    with pytest.raises(GenomeError, match=words):
        validate(genome)


def test_the_instruction_cap_holds_across_functions():
    body = tuple(Instr(CODE["mov"], 0, 0) for _ in range(ir.MAX_INSTRS // 2 + 1))
    with pytest.raises(GenomeError, match="instructions"):
        validate(WasmGenome((Function(0, 1, 1, body), Function(0, 0, 1, body))))


def test_encode_and_decode_are_inverse_on_arbitrary_genomes():
    for i in range(300):
        genome = fuzz.arbitrary_genome(DrawStream(Rng(4), stream_id("test.ir"), 0, i), 80)
        data = encode(genome)
        assert decode(data) == genome and encode(decode(data)) == data


@pytest.mark.parametrize("data,words", [
    (b"", "PWIR"),
    (b"WASM\x01\x01", "PWIR"),
    (b"PWIR\x02\x01", "version"),
    (encode(make_genome([STEP]))[:-1], "truncated"),
    (encode(make_genome([STEP])) + b"\x00", "after the last function"),
    (b"PWIR\x01\x01\x00\x01\x02\x01\x00\xee", "unknown opcode"),
    (b"PWIR" + bytes(ir.MAX_GENOME_BYTES), "longest genome"),
])
def test_decode_refuses_bytes_encode_never_writes(data, words):
    with pytest.raises(GenomeError, match=words):
        decode(data)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=200), st.booleans())
def test_any_bytes_decode_to_their_own_genome_or_a_genome_error(tail, header):
    data = (b"PWIR\x01" + tail) if header else tail
    try:
        genome = decode(data)
    except GenomeError:
        return
    assert encode(genome) == data


def test_segments_end_at_control_instructions_and_cover_the_body():
    body = (Instr(CODE["const"], 0, 1), Instr(BLOCK), Instr(CODE["mov"], 1, 0),
            Instr(CODE["mov"], 1, 0), Instr(END), Instr(RETURN, 0))
    assert segments(Function(0, 1, 2, body)) == [(0, 2), (2, 3), (5, 1)]


def _agrees(fn: Function, funcs: tuple[Function, ...]) -> None:
    try:
        ir._check_body(fn, funcs, "f")
        explained = True
    except GenomeError:
        explained = False
    assert ir._body_ok(fn, funcs) == explained, fn


_OPCODES = sorted(ir.OPS) + [0x00, 0xFF]
_OPERAND = st.one_of(st.integers(-3, 260), st.sampled_from([1 << 16, (1 << 31) - 1, 1 << 31,
                                                              -(1 << 31), -(1 << 31) - 1]))


@settings(max_examples=600, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(_OPCODES), _OPERAND, _OPERAND, _OPERAND),
                max_size=24),
       st.integers(1, 6), st.integers(0, 1))
def test_the_fast_body_check_accepts_exactly_what_the_explaining_one_does(rows, locals_,
                                                                           results):
    """validate walks bodies with ``_body_ok`` (no message per instruction) and asks
    ``_check_body`` why only when it fails: both must draw the line in the same place."""
    helper = Function(2, 0, 2, ())
    fn = Function(0, results, locals_, tuple(Instr(*row) for row in rows))
    _agrees(fn, (fn, helper))


def test_the_fast_body_check_agrees_on_genomes_variation_makes_and_breaks():
    """Arbitrary genomes are valid; one operand nudged out of place mostly is not."""
    for i in range(200):
        draws = DrawStream(Rng(9), stream_id("test.ir.fast"), 0, i)
        genome = fuzz.arbitrary_genome(draws, 64)
        for fn in genome.functions:
            _agrees(fn, genome.functions)
            if fn.body:
                k = draws.integer(0, len(fn.body))
                ins = fn.body[k]
                field = draws.integer(0, 4)
                broken = list(ins)
                broken[field] = broken[field] + draws.choice((-1, 1, 7, 255))
                body = fn.body[:k] + (Instr(*broken),) + fn.body[k + 1:]
                _agrees(Function(fn.params, fn.results, fn.locals, body), genome.functions)


def test_a_float_that_equals_a_checked_operand_is_still_refused():
    """Checked bodies are remembered, but ``Instr(const, 0, 7.0) == Instr(const, 0, 7)``:
    an equal body passes without a second look only when its operands are ints."""
    validate(step_with(Instr(CODE["const"], 0, 7), Instr(RETURN, 0)))
    with pytest.raises(GenomeError, match="out of range"):
        validate(step_with(Instr(CODE["const"], 0, 7.0), Instr(RETURN, 0)))
    validate(step_with(Instr(CODE["const"], 0, 7), Instr(RETURN, 0)))   # a new, equal object


@pytest.mark.parametrize("params, results, locals_", [(0, 1.0, 2), (0, 1, 2.0), (0.0, 1, 2)])
def test_counts_that_are_not_integers_are_refused(params, results, locals_):
    with pytest.raises(GenomeError, match="integers"):
        validate(WasmGenome((Function(params, results, locals_, STEP.body),)))
