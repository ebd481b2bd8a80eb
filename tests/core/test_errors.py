"""User-facing errors carry where the problem is, in one line."""

from __future__ import annotations

from primordia.core.errors import AssemblyError, ConfigError, GenomeError, PrimordiaError


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
