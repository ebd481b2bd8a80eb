"""Rules of the .mpsil assembler and disassembler: exact bytes, exact round trips, clear errors."""

from __future__ import annotations

from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.psil import opcodes as op
from primordia.brains.psil.archetypes import ARCHETYPES
from primordia.brains.psil.asm import assemble, disassemble, disassemble_lines
from primordia.brains.psil.genome import PsilGenome
from primordia.brains.psil.reference import think
from primordia.core.errors import AssemblyError


def code_of(text: str) -> str:
    """Assemble and give the main code as spaced hex, the way the spec writes it."""
    return assemble(text).code.hex(" ")


def lines(*instructions: str) -> str:
    return "\n".join(instructions) + "\n"


def round_trip(genome: PsilGenome) -> PsilGenome:
    return assemble(disassemble(genome))


def example(name: str) -> str:
    return resources.files("primordia.examples").joinpath(name).read_text()


# --- the spec -----------------------------------------------------------------------------------

def test_spec_example_assembles_to_the_reference_bytes():
    text = lines("r0@ 1", "10", "<", "jz 4", "1", "r1! 0", "yield")
    assert code_of(text) == "8a 01 2a 0c 87 04 21 8c 00 f1"


@pytest.mark.parametrize("name", sorted(ARCHETYPES))
def test_archetype_disassembly_reassembles_to_the_same_bytes(name):
    genome = PsilGenome(ARCHETYPES[name])
    assert round_trip(genome) == genome


# --- round trips over every byte ----------------------------------------------------------------

TAILS = (b"", b"\x05", b"\x05\x06", b"\x03abc", b"\x02a", b"\x00", b"\x20", b"\xff\xff\xff",
         b"\x03a;b")


@pytest.mark.parametrize("opcode", range(256))
def test_every_opcode_with_any_operand_or_truncation_round_trips(opcode):
    for tail in TAILS:
        genome = PsilGenome(bytes([opcode]) + tail)
        assert round_trip(genome) == genome, (opcode, tail)


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=300))
def test_any_byte_string_round_trips_exactly(code):
    genome = PsilGenome(code)
    assert round_trip(genome) == genome


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=60),
       st.dictionaries(st.integers(0, 255), st.binary(max_size=40), max_size=4))
def test_quotation_tables_round_trip_exactly(code, quotations):
    genome = PsilGenome(code, tuple(quotations.items()))
    assert round_trip(genome) == genome


def test_disassembly_lines_give_address_bytes_and_text():
    got = disassemble_lines(bytes.fromhex("8a0d 20 e0026869 c0ffff 86 05 8320 c5".replace(" ", "")))
    assert got == [
        (0, b"\x8a\x0d", "r0@ 13"),
        (2, b"\x20", "0"),
        (3, b"\xe0\x02hi", '"hi"'),
        (7, b"\xc0\xff\xff", "push.w -1"),
        (10, b"\x86\x05", "jmp- 5"),
        (12, b"\x83\x20", "db 0x83, 0x20"),          # local 32 has no assembler form
        (14, b"\xc5", "db 0xc5"),                    # truncated
    ]


def test_disassembly_comments_show_address_bytes_and_jump_target():
    text = disassemble(bytes.fromhex("8704 2121 2121 f1"))
    assert text.splitlines()[0].split() == ["jz", "4", ";", "0000:", "87", "04", "->", "0006"]


def test_strings_with_comment_or_quote_characters_disassemble_as_db():
    for data in (b'a"b', b"a;b", b"a%b", b"a\\b", b"\x00", "é".encode()):
        raw = bytes((op.STRING, len(data))) + data
        assert disassemble_lines(raw)[0][2].startswith("db ")


# --- numbers ------------------------------------------------------------------------------------

@pytest.mark.parametrize("token, expected", [
    ("0", "20"), ("31", "3f"), ("32", "80 20"), ("255", "80 ff"), ("256", "c0 01 00"),
    ("-1", "c0 ff ff"), ("32767", "c0 7f ff"), ("-32768", "c0 80 00"), ("+7", "27"),
    ("0x1f", "3f"), ("0X20", "80 20"), ("0o17", "2f"), ("0b101", "25"), ("-0x10", "c0 ff f0"),
    ("007", "27"),
])
def test_bare_numbers_take_the_shortest_push(token, expected):
    assert code_of(token) == expected


def test_numbers_outside_int16_are_rejected_with_the_range():
    with pytest.raises(AssemblyError, match=r"line 1: .*-32768\.\.32767.*'32768'"):
        assemble("32768")
    with pytest.raises(AssemblyError, match="'-32769'"):
        assemble("-32769")


def test_s16_operands_are_strict_int16():
    assert code_of("push.w -32768") == "c0 80 00"
    with pytest.raises(AssemblyError, match=r"int16.*'65535'"):
        assemble("push.w 65535")


@pytest.mark.parametrize("text, expected", [
    ("push.b 0", "80 00"), ("push.b 255", "80 ff"), ("local 15", "83 0f"), ("local! 0", "84 00"),
    ("pushw 300", "c0 01 2c"), ("sym.w -2", "c1 ff fe"), ("quot.w 7", "c2 00 07"),
])
def test_operand_boundaries_encode(text, expected):
    assert code_of(text) == expected


@pytest.mark.parametrize("text, token", [
    ("push.b 256", "256"), ("push.b -1", "-1"), ("local 16", "16"), ("local! 16", "16"),
    ("r1! 300", "300"), ("jz -1", "-1"), ("jmp 256", "256"), ("jmp -256", "-256"),
    ("db 256", "256"), ("[256]", "[256]"),
])
def test_operands_out_of_range_are_errors(text, token):
    with pytest.raises(AssemblyError, match="out of range") as info:
        assemble(text)
    assert info.value.line == 1 and info.value.token == token


# --- mnemonics, aliases, symbols ----------------------------------------------------------------

@pytest.mark.parametrize("alias, opcode", sorted(op.ALIASES.items()))
def test_aliases_assemble_like_the_canonical_mnemonic(alias, opcode):
    canonical = op.OPCODES[opcode].mnemonic
    operand = " 3" if op.form_of(opcode) is not op.Form.ONE else ""
    assert assemble(alias + operand) == assemble(canonical + operand)
    assert assemble(alias + operand).code[0] == opcode


def test_every_canonical_mnemonic_assembles_to_its_opcode():
    for info in op.OPCODES:
        if info.mnemonic is None or info.code in (op.STRING, op.INLINE):
            continue
        operand = {op.Form.ONE: "", op.Form.TWO: " 1", op.Form.THREE: " 1"}[info.form]
        assert assemble(info.mnemonic + operand).code[0] == info.code, info.mnemonic


def test_mnemonics_ignore_case():
    assert code_of("R0@ 1\nDUP\nYield\nAct.Eat") == "8a 01 01 f1 96 00"


def test_symbols_bare_quoted_or_numbered_push_their_slot():
    assert code_of(lines("'health", "health", "HEALTH", "sym.5", "'nil", "y", "sym.31")) == \
        "45 45 45 45 40 59 5f"


def test_ring_slot_names_are_accepted_as_operands():
    assert code_of(lines("r0@ food_dir", "r1! move", "r1@ target", "r1! emotion")) == \
        "8a 0d 8c 00 8b 02 8c 03"


def test_action_operands_are_optional_except_for_move():
    assert code_of(lines("act.eat", "act.attack 3", "act.terra", "act.move 5")) == \
        "96 00 94 03 98 00 93 05"
    with pytest.raises(AssemblyError, match="missing operand.*'act.move'"):
        assemble("act.move")


def test_comments_and_commas():
    text = "% header\n  r0@, 1   ; read health\n\n db 1,2 , 3 % raw\n"
    assert code_of(text) == "8a 01 01 02 03"


# --- strings, db and inline blocks --------------------------------------------------------------

def test_strings_push_their_length_and_keep_their_bytes():
    assert code_of(lines('"hi"', 'string "a; b, %c"', '""')) == \
        "e0 02 68 69 e0 08 61 3b 20 62 2c 20 25 63 e0 00"


def test_string_escapes():
    assert assemble(r'"\"\\\n\x00\t"').code == b'\xe0\x05"\\\n\x00\t'


def test_db_emits_raw_bytes_in_any_base():
    assert code_of("db 0x9c, 7, 0b11, 0o10, 255") == "9c 07 03 08 ff"


def test_inline_block_becomes_e3_with_its_own_labels():
    text = lines("1", "INLINE", "top: 2", "jmp top", "ENDINLINE", "top: 3")
    assert code_of(text) == "21 e3 03 22 86 03 23"


def test_inline_block_runs_in_the_reference_vm():
    genome = assemble(lines("INLINE", "  4", "  5", "  +", "ENDINLINE", "halt"))
    assert think(genome).stack == [9]


# --- labels ------------------------------------------------------------------------------------

def test_forward_label_jump_is_relative_to_the_next_instruction():
    assert code_of(lines("jz skip", "1", "2", "skip: yield")) == "87 02 21 22 f1"


def test_backward_label_jump_uses_jmp_back():
    assert code_of(lines("top:", "dup", "jmp top")) == "01 86 03"


def test_numeric_negative_jmp_is_jmp_back():
    assert code_of("jmp -5") == "86 05"
    assert code_of("jmp- 5") == "86 05"


def test_label_on_the_same_line_as_an_instruction():
    assert code_of(lines("jnz c", "a: b: nop", "jmp B", "c: halt")) == "88 03 00 86 03 f0"


def test_far_jumps_are_relative_and_call_far_is_absolute():
    text = lines("nop", "target: nop", "jmp.far target", "jz.far end", "call.far target", "end:")
    assert code_of(text) == "00 00 c3 ff fc c4 00 03 c5 00 01"


def test_jz_to_a_label_behind_is_an_error_naming_label_and_distance():
    message = r"line 2: jz to label is -3 bytes away.*jz\.far.*'top'"
    with pytest.raises(AssemblyError, match=message):
        assemble(lines("top: dup", "jz top"))


def test_jmp_beyond_255_bytes_is_an_error():
    with pytest.raises(AssemblyError, match=r"jmp to label is 256 bytes away.*jmp.far"):
        assemble(lines("jmp far_end", *["nop"] * 256, "far_end:"))


def test_labels_are_local_to_their_block():
    text = lines("jmp end", "end: halt", "QUOT q", "  jmp end", "  nop", "  end:", "ENDQUOT")
    genome = assemble(text)
    assert genome.code.hex(" ") == "85 00 f0" and genome.quotations == ((0, b"\x85\x01\x00"),)


# --- quotations ---------------------------------------------------------------------------------

def test_quotation_refs_by_number():
    assert code_of(lines("[0]", "[31]", "[32]", "[255]", "quot.x 3")) == "60 7f 82 20 82 ff 82 03"


def test_named_quotations_get_indices_by_first_appearance_skipping_explicit_ones():
    text = lines("[b]", "[a]", "[c]",
                 "QUOT a", "1", "ENDQUOT",
                 "define B 0", "2", "enddef",
                 "QUOT c 1", "3", "ENDQUOT",
                 "QUOT unused", "ENDQUOT")
    genome = assemble(text)
    assert genome.code.hex(" ") == "60 62 61"         # b=0 and c=1 explicit; a takes 2
    assert genome.quotations == ((0, b"\x22"), (1, b"\x23"), (2, b"\x21"), (3, b""))


def test_quotation_without_a_name():
    assert assemble(lines("QUOT 40", "yield", "ENDQUOT")).quotations == ((40, b"\xf1"),)


def test_quotation_index_40_is_pushed_with_quot_x():
    assert code_of(lines("[big]", "QUOT big 40", "ENDQUOT")) == "82 28"


def test_factorial_example_leaves_120():
    assert think(assemble(example("factorial.mpsil")), [], gas=500).stack == [120]


@pytest.mark.parametrize("name", ["forager.mpsil", "factorial.mpsil", "demo.mpsil"])
def test_examples_assemble_run_without_error_and_round_trip(name):
    genome = assemble(example(name), source=name)
    result = think(genome, [0] * op.RING0_SLOTS, gas=500)
    assert result.error == 0
    assert round_trip(genome) == genome


def test_forager_example_is_the_spec_archetype():
    assert assemble(example("forager.mpsil")).code == ARCHETYPES["forager"]


def test_demo_example_yields_twice_in_each_situation():
    for values in ({2: 40, 13: 2}, {2: 180, 7: 1, 12: 17, 18: 1}, {2: 180, 7: 31}):
        sensors = [0] * op.RING0_SLOTS
        for slot, v in values.items():
            sensors[slot] = v
        assert len(think(assemble(example("demo.mpsil")), sensors).yields) == 2


# --- errors -------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, line, token, message", [
    ("nop\nfrob 3", 2, "frob", "unknown mnemonic"),
    ("push.b", 1, "push.b", "missing operand"),
    ("nop\n\nlocal 99", 3, "99", "out of range"),
    ("push.b 0x1g", 1, "0x1g", "bad number"),
    ("12abc", 1, "12abc", "bad number"),
    ("jmp nowhere", 1, "nowhere", "undefined label"),
    ("r0@ foodd", 1, "foodd", "Ring0 slot name"),
    ("a:\nnop\na: nop", 3, "a", "duplicate label"),
    ("[nope]", 1, "[nope]", "undefined quotation"),
    ('nop\n"abc', 2, '"abc', "unterminated string"),
    ("nop\nQUOT f\nnop", 2, "QUOT", "unterminated QUOT"),
    ("INLINE\nnop", 1, "INLINE", "unterminated INLINE"),
    ("define f\nnop", 1, "define", "unterminated QUOT"),
    ("ENDQUOT", 1, "ENDQUOT", "without a matching QUOT"),
    ('"' + "x" * 256 + '"', 1, None, "string is 256 bytes"),
    ("dup 3", 1, "3", "unexpected operand"),
    ("QUOT a\nQUOT b\nENDQUOT\nENDQUOT", 2, "QUOT", "inside a block"),
    ("QUOT a 1\nENDQUOT\nQUOT b 1\nENDQUOT", 3, "1", "already used"),
    ("QUOT a\nENDQUOT\nQUOT A\nENDQUOT", 3, "A", "defined twice"),
    ('"\\q"', 1, "\\q\"", "bad escape"),
    ("1x:", 1, "1x:", "bad label"),
])
def test_errors_name_the_line_and_the_token(text, line, token, message):
    with pytest.raises(AssemblyError, match=message) as info:
        assemble(text, source="prog.mpsil")
    assert info.value.line == line
    assert str(info.value).startswith(f"prog.mpsil:line {line}: ")
    if token is not None:
        assert info.value.token == token
        assert repr(token) in str(info.value)


@pytest.mark.parametrize("text", [
    "frob" + "\0" * 5000,                 # unknown mnemonic
    '"%%' + "\1" * 5000,                  # unterminated string
    "push.b +2" + "*" * 5000,             # bad number
    'nop "' + "x" * 5000 + '"',            # unexpected operand
])
def test_an_error_quotes_at_most_the_start_of_a_long_token(text):
    # found by benchmarks/fuzz_parsers.py (psil_asm): the whole token, thousands of
    # characters of a hostile line, went into the one-line message
    with pytest.raises(AssemblyError) as info:
        assemble(text, source="prog.mpsil")
    message = str(info.value)
    assert len(message) < 200 and message.endswith("...") and "\n" not in message
    assert len(info.value.token) > 4000            # the token itself is kept whole


def test_error_message_format_matches_the_cli_convention():
    with pytest.raises(AssemblyError) as info:
        assemble("nop\n\n\n\n\n\nfrob", source="prog.mpsil")
    assert str(info.value) == "prog.mpsil:line 7: unknown mnemonic: 'frob'"
