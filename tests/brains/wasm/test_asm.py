"""Rules of the .wir assembler and disassembler: exact genomes, exact round trips, errors that
name the line and the token."""

from __future__ import annotations

import random
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.wasm import ir
from primordia.brains.wasm.asm import MAX_TEXT, assemble, disassemble, instruction_text
from primordia.brains.wasm.ir import CODE, Function, Instr, WasmGenome, encode, make_genome
from primordia.core.errors import AssemblyError, GenomeError


def I(name: str, a: int = 0, b: int = 0, c: int = 0) -> Instr:  # noqa: E743 - reads as asm
    return Instr(CODE[name], a, b, c)


def lines(*text: str) -> str:
    return "\n".join(text) + "\n"


def round_trip(genome: WasmGenome) -> WasmGenome:
    return assemble(disassemble(genome))


DOC_EXAMPLE = lines(
    "func step params=0 results=1 locals=4",
    "  sense r0 2          ; r0 = sensor 2",
    "  const r1 0",
    "  gt_s r2 r0 r1",
    "  if r2",
    "    const r3 1",
    "    return r3",
    "  end",
    "  const r3 4",
    "  return r3",
)


# --- the spec -----------------------------------------------------------------------------------

def test_doc_example_assembles_to_the_genome_it_describes():
    want = make_genome([Function(0, 1, 4, (
        I("sense", 0, 2), I("const", 1, 0), I("gt_s", 2, 0, 1), I("if", 2), I("const", 3, 1),
        I("return", 3), I("end"), I("const", 3, 4), I("return", 3)))])
    assert assemble(DOC_EXAMPLE) == want


def test_doc_example_disassembles_to_itself_but_for_name_and_comment():
    text = disassemble(assemble(DOC_EXAMPLE))
    assert text == DOC_EXAMPLE.replace("func step", "func f0").replace(
        "          ; r0 = sensor 2", "")


def test_disassembly_indents_blocks_with_else_and_end_level_with_their_opener():
    g = make_genome([Function(0, 1, 2, (
        I("block"), I("loop"), I("if", 1), I("br", 2), I("else"), I("br_if", 1, 0), I("end"),
        I("end"), I("end"), I("return", 0))),
        Function(2, 0, 3, (I("call", 1, 0, 0), I("return"),))])
    assert disassemble(g) == lines(
        "func f0 params=0 results=1 locals=2",
        "  block",
        "    loop",
        "      if r1",
        "        br 2",
        "      else",
        "        br_if 1 r0",
        "      end",
        "    end",
        "  end",
        "  return r0",
        "",
        "func f1 params=2 results=0 locals=3",
        "  call f1 r0 r0",
        "  return r0",
    )


def test_operands_print_by_kind():
    assert instruction_text(I("const", 3, -7)) == "const r3 -7"
    assert instruction_text(I("load8", 1, 2, 65535)) == "load8 r1 r2 65535"
    assert instruction_text(I("act", 255, 4)) == "act 255 r4"
    assert instruction_text(I("call", 15, 1, 2)) == "call f15 r1 r2"
    assert instruction_text(I("end")) == "end"


def test_numbers_are_decimal_hex_or_signed_and_constants_take_unsigned_32_bits():
    g = assemble(lines("func step locals=2", "const r0 0x7fffffff", "const r1 -0x80000000",
                       "const r0 0xffffffff", "const r1 4294967295", "const r0 +12",
                       "load r0 r1 0xffff", "sense r0 0xff", "return r0"))
    consts = [ins.b for ins in g.functions[0].body[:5]]
    assert consts == [2**31 - 1, -2**31, -1, -1, 12]
    assert g.functions[0].body[5] == I("load", 0, 1, 65535)
    assert g.functions[0].body[6] == I("sense", 0, 255)


def test_header_keys_any_order_and_defaults():
    g = assemble(lines("func step", "  const r0 1", "  return r0",
                       "func locals=3 params=2", "func helper results=1 params=3",
                       "  return r2"))
    assert [(f.params, f.results, f.locals) for f in g.functions] == \
        [(0, 1, 1), (2, 0, 3), (3, 1, 3)]


def test_functions_by_name_or_index_and_forward_references():
    g = assemble(lines(
        "func step locals=2",
        "  call double r1 r0",
        "  call f1 r1 r1",
        "  call log r0 r0",
        "  return r1",
        "func double params=1 results=1",
        "  add r0 r0 r0",
        "  return r0",
        "func log",
        "  return",
    ))
    assert [ins for ins in g.functions[0].body[:3]] == \
        [I("call", 1, 1, 0), I("call", 1, 1, 1), I("call", 2, 0, 0)]
    assert g.functions[2].body == (I("return", 0),)   # a bare return means return r0


def test_comments_blank_lines_commas_and_case_are_free():
    g = assemble(lines("; a genome", "", "FUNC Step Locals=3   ; step", "",
                       "  ADD R2, r1, r0  ; sum", "\tReturn r2\r"))
    assert g == make_genome([Function(0, 1, 3, (I("add", 2, 1, 0), I("return", 2)))])


def test_a_function_may_be_named_by_its_own_index():
    g = assemble(lines("func f0", "  call f1 r0 r0", "  return r0", "func f1"))
    assert len(g.functions) == 2


def test_every_opcode_round_trips():
    for op in ir.OPS.values():
        if op.group == "control" and op.name not in ("return", "br", "br_if"):
            continue                       # blocks are covered by the structured tests
        args = [{"L": 1, "I": -5, "O": 300, "D": 0, "F": 1, "K": 9}[k] for k in op.operands]
        fn0 = Function(0, 1, 4, (Instr(op.code, *args),))
        g = make_genome([fn0, Function(2, 1, 2, ())])
        assert round_trip(g) == g, op.name


# --- round trips over generated genomes ---------------------------------------------------------

def random_genome(rng: random.Random) -> WasmGenome:
    """A valid genome of random shape: every instruction kind, nested blocks, calls that
    match their callee's arity, branch depths up to leaving the function."""
    n = rng.choice((1, 1, 2, 3, 5, ir.MAX_FUNCS))
    shapes = [(0, 1, rng.randint(1, ir.MAX_LOCALS))]
    for _ in range(n - 1):
        params = rng.randint(0, ir.MAX_PARAMS)
        shapes.append((params, rng.randint(0, 1), rng.randint(max(params, 1), ir.MAX_LOCALS)))
    plain = [op for op in ir.OPS.values() if op.group not in ("control", "call")]
    funcs = []
    budget = ir.MAX_INSTRS // n
    for params, results, n_locals in shapes:
        body: list[Instr] = []
        open_kinds: list[int] = []
        for _ in range(rng.randint(0, min(budget, 80))):
            if len(body) + len(open_kinds) >= budget:
                break
            roll = rng.random()
            if roll < 0.12 and len(open_kinds) < ir.MAX_NESTING:
                op = rng.choice((ir.BLOCK, ir.LOOP, ir.IF))
                body.append(Instr(op, rng.randrange(n_locals) if op == ir.IF else 0))
                open_kinds.append(op)
            elif roll < 0.2 and open_kinds:
                if open_kinds[-1] == ir.IF and rng.random() < 0.5:
                    body.append(Instr(ir.ELSE))
                    open_kinds[-1] = ir.ELSE
                else:
                    body.append(Instr(ir.END))
                    open_kinds.pop()
            elif roll < 0.26:
                depth = rng.randint(0, len(open_kinds))
                body.append(Instr(ir.BR, depth) if rng.random() < 0.5
                            else Instr(ir.BR_IF, depth, rng.randrange(n_locals)))
            elif roll < 0.3:
                body.append(Instr(ir.RETURN, rng.randrange(n_locals) if results else 0))
            elif roll < 0.36:
                f = rng.randrange(n)
                cp, cr, _ = shapes[f]
                if cp > n_locals:
                    continue
                body.append(Instr(ir.CALL, f, rng.randrange(n_locals) if cr else 0,
                                  rng.randint(0, n_locals - cp) if cp else 0))
            else:
                op = rng.choice(plain)
                body.append(Instr(op.code, *(_random_operand(rng, k, n_locals)
                                             for k in op.operands)))
        body.extend(Instr(ir.END) for _ in open_kinds)
        funcs.append(Function(params, results, n_locals, tuple(body)))
    return make_genome(funcs)


def _random_operand(rng: random.Random, kind: str, n_locals: int) -> int:
    if kind == "L":
        return rng.randrange(n_locals)
    if kind == "I":
        return rng.choice((0, -1, 1, -2**31, 2**31 - 1, rng.randint(-2**31, 2**31 - 1)))
    if kind == "O":
        return rng.choice((0, 65535, rng.randint(0, 65535)))
    return rng.randint(0, 255)


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32 - 1))
def test_any_valid_genome_round_trips_exactly(seed):
    g = random_genome(random.Random(seed))
    text = disassemble(g)
    again = assemble(text)
    assert again == g
    assert encode(again) == encode(g)
    assert disassemble(again) == text          # the text is canonical: a fixed point


def test_a_genome_at_every_cap_round_trips():
    body = [I("block")] * ir.MAX_NESTING + [I("br", ir.MAX_NESTING)] + [I("end")] * ir.MAX_NESTING
    body += [I("const", 31, -2**31)] * (ir.MAX_INSTRS // ir.MAX_FUNCS - len(body))
    funcs = [Function(0, 1, ir.MAX_LOCALS, tuple(body))]
    funcs += [Function(ir.MAX_PARAMS, 1, ir.MAX_LOCALS, tuple(body))] * (ir.MAX_FUNCS - 1)
    g = make_genome(funcs)
    assert len(g) == ir.MAX_INSTRS
    assert round_trip(g) == g


def test_disassemble_refuses_an_invalid_genome():
    with pytest.raises(GenomeError):
        disassemble(WasmGenome((Function(0, 1, 1, (I("end"),)),)))


def test_the_example_assembles():
    text = resources.files("primordia.examples").joinpath("forager.wir").read_text()
    g = assemble(text)
    assert len(g.functions) == 2
    assert round_trip(g) == g


# --- errors: one test per kind, each naming the line and the token --------------------------------

def error_of(text: str) -> AssemblyError:
    with pytest.raises(AssemblyError) as info:
        assemble(text)
    return info.value


HEAD = "func step locals=4"


@pytest.mark.parametrize("body,line,token,words", [
    # unknown mnemonic
    ([HEAD, "frobnicate r0"], 2, "frobnicate", "unknown mnemonic"),
    # operand counts
    ([HEAD, "add r0 r1"], 2, "add", "takes 3 operand"),
    ([HEAD, "end r0"], 2, "r0", "takes 0 operand"),
    ([HEAD, "return"], 2, "return", "takes 1 operand"),
    ([HEAD, "call f0 r0"], 2, "call", "takes 3 operand"),
    # operand kinds
    ([HEAD, "add r0 r1 5"], 2, "5", "expected a local"),
    ([HEAD, "sense 3 r0"], 2, "3", "expected a local"),
    ([HEAD, "const r0 r1"], 2, "r1", "a constant"),
    ([HEAD, "br x"], 2, "x", "branch depth"),
    ([HEAD, "call 0 r0 r0"], 2, "0", "expected a function"),
    # numbers out of range
    ([HEAD, "const r0 4294967296"], 2, "4294967296", "out of range"),
    ([HEAD, "const r0 -2147483649"], 2, "-2147483649", "out of range"),
    ([HEAD, "load r0 r1 65536"], 2, "65536", "out of range"),
    ([HEAD, "store r0 r1 -1"], 2, "-1", "out of range"),
    ([HEAD, "act 256 r0"], 2, "256", "out of range"),
    ([HEAD, "br 0x100"], 2, "0x100", "out of range"),
    ([HEAD, "const r0 " + "9" * 5000], 2, "9" * 5000, "out of range"),
    ([HEAD, "add r4 r0 r0"], 2, "r4", "does not exist"),
    ([HEAD, "add r0 r0 r99999999999"], 2, "r99999999999", "does not exist"),
    # functions
    ([HEAD, "call helper r0 r0"], 2, "helper", "undefined function name"),
    ([HEAD, "call f1 r0 r0"], 2, "f1", "does not exist"),
    # text before the first header
    (["; fine", "add r0 r0 r0", HEAD], 2, "add", "before the first function header"),
    # headers
    ([HEAD, "func helper params=5"], 2, "params=5", "params must be in 0..4"),
    ([HEAD, "func helper locals=33"], 2, "locals=33", "locals must be in 1..32"),
    ([HEAD, "func helper results=2"], 2, "results=2", "results must be in 0..1"),
    ([HEAD, "func helper params=3 locals=2"], 2, "locals=2", "count the 3 parameters"),
    ([HEAD, "func helper size=3"], 2, "size=3", "expected params=N"),
    ([HEAD, "func helper locals=3 locals=4"], 2, "locals=4", "given twice"),
    ([HEAD, "func helper locals=x"], 2, "locals=x", "needs a number"),
    ([HEAD, "func helper", "func helper"], 3, "helper", "defined twice"),
    ([HEAD, "func f2"], 2, "f2", "cannot look like"),
    ([HEAD, "func r1"], 2, "r1", "cannot look like"),
    ([HEAD, "func 9lives"], 2, "9lives", "bad function name"),
    (["", "func step params=1"], 2, "func", "function 0 is step"),
    (["func step results=0"], 1, "func", "function 0 is step"),
    # what ir.validate refuses, placed on its line
    ([HEAD, "const r0 1", "br 1"], 3, "br 1", "branch depth 1 but 0 blocks are open"),
    ([HEAD, "block", "else", "end"], 3, "else", "else outside an if"),
    ([HEAD, "end"], 2, "end", "end with no open block"),
    ([HEAD, "loop", "  block", "  end", "  if r0"], 5, "if r0", "no end for this if"),
    ([HEAD, "call f1 r1 r0", "func f1 params=1"], 2, "call f1 r1 r0",
     "the callee returns nothing"),
    ([HEAD, "call f1 r0 r3", "func f1 params=2 results=1"], 2, "call f1 r0 r3",
     "run past the 4 locals"),
    ([HEAD, "func f1", "return r0", "func f2 locals=2", "return r1"], 5, "return r1",
     "names local 0"),
])
def test_errors_name_the_line_and_the_token(body, line, token, words):
    e = error_of(lines(*body))
    assert e.line == line, str(e)
    assert e.token == token, str(e)
    assert words in str(e), str(e)
    assert f"line {line}:" in str(e)


def test_too_many_functions_points_at_the_first_extra_header():
    e = error_of(lines(HEAD, *["func"] * ir.MAX_FUNCS))
    assert e.line == ir.MAX_FUNCS + 1 and "more than 16 functions" in str(e)


def test_too_many_instructions_stops_at_the_first_extra_one():
    e = error_of(lines(HEAD, *["const r0 1"] * (ir.MAX_INSTRS + 10)))
    assert e.line == ir.MAX_INSTRS + 2 and "more than 4096 instructions" in str(e)


def test_too_many_open_blocks_is_placed():
    e = error_of(lines(HEAD, *["block"] * (ir.MAX_NESTING + 1), *["end"] * 17))
    assert e.line == ir.MAX_NESTING + 2 and "more than 16 blocks open" in str(e)


def test_no_functions_at_all():
    for text in ("", "; only a comment\n\n"):
        e = error_of(text)
        assert e.line is None and "no functions" in str(e)


def test_text_over_one_mebibyte_is_refused_before_parsing():
    e = error_of(HEAD + "\n" + ";" * MAX_TEXT)
    assert "limit" in str(e) and e.line is None


def test_source_name_prefixes_messages():
    with pytest.raises(AssemblyError, match=r"^bad\.wir:line 2: unknown mnemonic"):
        assemble(lines(HEAD, "nop"), source="bad.wir")


WORDS = ("func", "step", "f0", "f1", "f9", "r0", "r1", "r31", "r32", "params=1", "results=1",
         "locals=3", "locals=", "=", "add", "br", "br_if", "if", "else", "end", "block",
         "loop", "call", "return", "const", "sense", "act", "load", "0", "-1", "0x", "0x1g",
         "99999999999999999999999999", "\n", "\n", ";", ",", "\x00", "é", "٣", "r٣")


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=40))
def test_any_text_gives_a_genome_or_an_assembly_error(words):
    try:
        g = assemble(" ".join(words))
    except AssemblyError:
        return
    assert round_trip(g) == g


def test_a_function_name_of_endless_digits_is_an_assembly_error():
    """``f`` then 5,000 digits: Python refuses int() of such a string; the assembler says
    what is wrong instead."""
    with pytest.raises(AssemblyError):
        assemble("func f" + "7" * 5000 + "\n  const r0 1\n  return r0\n")
