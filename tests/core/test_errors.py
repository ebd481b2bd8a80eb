"""User-facing errors carry where the problem is, in one line."""

from __future__ import annotations

from primordia.core.errors import (AssemblyError, ConfigError, GenomeError, InputFileError,
                                   PrimordiaError)


def test_every_user_error_is_a_primordia_error():
    for cls in (AssemblyError, ConfigError, GenomeError):
        assert issubclass(cls, PrimordiaError)


def test_assembly_error_names_source_line_and_token():
    e = AssemblyError("unknown mnemonic", line=7, token="frob", source="prog.mpsil")
    assert str(e) == "prog.mpsil:line 7: unknown mnemonic: 'frob'"
    assert (e.line, e.token) == (7, "frob")
    assert "\n" not in str(e)


def test_assembly_error_without_location_is_just_the_message():
    assert str(AssemblyError("empty program")) == "empty program"


def test_a_message_quoting_control_characters_stays_on_one_line():
    # found by benchmarks/fuzz_parsers.py (psil_genome): a genome argument naming no file,
    # with a carriage return in it, was echoed raw into "...: no such file"
    from primordia.brains.psil.files import load_genome

    try:
        load_genome("8a0d\r8c00\n\x1b[2J.hex")
    except InputFileError as exc:
        text = str(exc)
    assert text == "8a0d\\r8c00\\n\\x1b[2J.hex: no such file"
    for cls in (ConfigError, GenomeError, InputFileError, PrimordiaError):
        assert str(cls("a\nb\u2028c\x85d\te")) == "a\\nb\\u2028c\\x85d\te"
    e = AssemblyError("unknown mnemonic", line=2, token="x\ny", source="a\rb.mpsil")
    assert str(e) == "a\\rb.mpsil:line 2: unknown mnemonic: 'x\\ny'"
