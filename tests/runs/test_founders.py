"""Founders from files (``primordia run WORLD --founder FILE[:COUNT]``): specs, reading by
the world's brain, the copies and the record."""

from __future__ import annotations

from pathlib import Path

import pytest

from primordia.brains.base import SubstrateBase, hex_text
from primordia.brains.psil.asm import assemble
from primordia.core.errors import ConfigError, GenomeError, InputFileError
from primordia.runs import founders
from primordia.runs.sandbox_run import SandboxRun
from primordia.worlds.sandbox.config import SandboxConfig

EXAMPLES = Path(founders.__file__).resolve().parents[1] / "examples"


def test_a_spec_is_a_file_and_an_optional_count(tmp_path):
    assert founders.parse_spec("a.wir") == ("a.wir", 1)
    assert founders.parse_spec("a.wir:3") == ("a.wir", 3)
    assert founders.parse_spec("dir:x/a.wir") == ("dir:x/a.wir", 1)
    odd = tmp_path / "b:2"
    odd.write_text("")
    assert founders.parse_spec(str(odd)) == (str(odd), 1)      # a file's own name wins
    with pytest.raises(ConfigError, match="COUNT"):
        founders.parse_spec("a.wir:0")


def test_load_reads_by_the_configs_brain_and_repeats_each_founder():
    config = SandboxConfig(npcs=6)
    genomes, record = founders.load(SandboxRun, config, [f"{EXAMPLES / 'forager.mpsil'}:2",
                                                        str(EXAMPLES / "demo.mpsil")])
    forager = assemble((EXAMPLES / "forager.mpsil").read_text()).code
    assert genomes[:2] == [forager, forager] and len(genomes) == 3
    assert [(r["count"], r["brain"]) for r in record] == [(2, "psil"), (1, "psil")]
    assert bytes.fromhex(record[0]["genome"]) == forager and len(record[0]["sha256"]) == 64


def test_too_many_founders_or_a_bad_file_is_refused_naming_it(tmp_path):
    config = SandboxConfig(npcs=4)
    forager = str(EXAMPLES / "forager.mpsil")
    with pytest.raises(ConfigError, match="5 founders do not fit in a population of 4"):
        founders.load(SandboxRun, config, [f"{forager}:5"])
    with pytest.raises(InputFileError, match="nope.mpsil: no such file"):
        founders.load(SandboxRun, config, [str(tmp_path / "nope.mpsil")])
    with pytest.raises(GenomeError, match="forager.wir.*psil brain"):
        founders.load(SandboxRun, config, [str(EXAMPLES / "forager.wir")])
    wasm = SandboxConfig(npcs=4, brain={"kind": "wasm"})
    with pytest.raises(GenomeError, match="forager.mpsil.*wasm brain"):
        founders.load(SandboxRun, wasm, [forager])


def test_the_default_from_file_takes_canonical_bytes_or_their_hex():
    class Bytes(SubstrateBase):
        def decode(self, data: bytes) -> bytes:
            return bytes(data)

    sub = Bytes()
    assert sub.from_file(b"\x01\x02", "g.bin") == b"\x01\x02"
    assert sub.from_file(b"01 02\n", "g.hex") == b"\x01\x02"
    assert hex_text(b"0a0") is None and hex_text(b"") is None and hex_text(b"zz") is None


def test_founders_are_the_first_organisms_of_a_run(tmp_path):
    config = SandboxConfig(npcs=5, ticks=1)
    genomes, record = founders.load(SandboxRun, config, [f"{EXAMPLES / 'forager.mpsil'}:2"])
    run = SandboxRun(config, out=tmp_path / "run", founders=genomes, founder_record=record)
    world = run.execute()
    assert list(world.genomes[:2]) == genomes
    assert (tmp_path / "run" / founders.FOUNDERS_FILE).is_file()


def test_psil_reads_assembly_hex_and_raw_code_by_suffix():
    from primordia.brains.registry import SUBSTRATES

    sub = SUBSTRATES.get("psil")
    code = assemble((EXAMPLES / "forager.mpsil").read_text()).code
    assert sub.from_file((EXAMPLES / "forager.mpsil").read_bytes(), "forager.mpsil") == code
    assert sub.from_file(code.hex().encode(), "forager.hex") == code
    assert sub.from_file(code, "forager.bin") == code
    with pytest.raises(GenomeError, match="forager.wat: not a micro-PSIL genome"):
        sub.from_file(b"(module)", "forager.wat")


def test_a_count_that_is_not_ascii_digits_is_part_of_the_name():
    """``x.wir:²`` is a file name (Python's isdigit says yes to "²", int() does not)."""
    assert founders.parse_spec("x.wir:²") == ("x.wir:²", 1)
