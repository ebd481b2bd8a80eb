"""Reading wasm organisms from files: every form a file may hold, told apart by suffix and
content, and one clear error naming the file otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from primordia.brains.base import BrainIO
from primordia.brains.registry import SUBSTRATES
from primordia.brains.wasm import files
from primordia.brains.wasm.asm import assemble
from primordia.brains.wasm.ir import WasmGenome, encode
from primordia.brains.wasm.modules import ModuleGenome, parse
from primordia.core.errors import AssemblyError, GenomeError

FORAGER = Path(files.__file__).resolve().parents[2] / "examples" / "forager.wir"
TINY = "func step locals=2\n  sense r0 1\n  return r0\n"
MODULE = """(module
  (memory (export "memory") 1)
  (func (export "init") (param i64))
  (func (export "step") (param i32) (result i32) (i32.const 1)))
"""


def test_from_bytes_reads_every_form_of_an_ir_genome():
    g = assemble(TINY)
    raw = encode(g)
    assert files.from_bytes(TINY.encode(), "tiny.wir") == g
    assert files.from_bytes(raw, "tiny.bin") == g
    assert files.from_bytes(raw.hex().encode() + b"\n", "tiny.hex") == g
    assert files.from_bytes(" ".join(raw.hex()[i:i + 8] for i in range(0, 40, 8)).encode()
                            + raw.hex()[40:].encode(), "tiny") == g


def test_from_bytes_reads_a_module_as_wat_wasm_or_hex():
    m = parse(MODULE)
    assert isinstance(m, ModuleGenome)
    assert files.from_bytes(MODULE.encode(), "m.wat") == m
    assert files.from_bytes(MODULE.encode(), "m.txt") == m       # WAT by its content
    assert files.from_bytes(m.wasm, "m.bin") == m
    assert files.from_bytes(m.wasm.hex().encode(), "m.hex") == m


@pytest.mark.parametrize("data,name,words", [
    (b"\xff\xfe garbage", "x.bin", ("x.bin", "not a wasm organism")),
    (b"push 1\nhalt\n", "x.mpsil", ("x.mpsil", "not a wasm organism")),
    (b"func step\n  nop\n", "x.wir", ("x.wir", "nop")),
    (b"(module)", "x.wat", ("x.wat", "memory")),
    (b"PWIR\x01", "x.bin", ("x.bin",)),
])
def test_from_bytes_refuses_what_is_not_an_organism(data, name, words):
    with pytest.raises((GenomeError, AssemblyError)) as e:   # assembly errors name the line
        files.from_bytes(data, name)
    for w in words:
        assert w in str(e.value)


def test_load_organism_takes_modules_and_genomes(tmp_path):
    wat = tmp_path / "m.wat"
    wat.write_text(MODULE)
    assert isinstance(files.load_organism(str(wat)), ModuleGenome)
    wasm = tmp_path / "m.data"
    wasm.write_bytes(parse(MODULE).wasm)                           # by its header
    assert isinstance(files.load_organism(str(wasm)), ModuleGenome)
    assert isinstance(files.load_organism(str(FORAGER)), WasmGenome)
    assert files.load_organism(encode(assemble(TINY)).hex()) == assemble(TINY)


def test_the_substrate_reads_founder_files_and_checks_modules_against_its_world():
    io = BrainIO(sensors=tuple(f"s{i}" for i in range(40)), actions=("a",))
    sub = SUBSTRATES.get("wasm", io=io)
    assert sub.from_file(FORAGER.read_bytes(), "forager.wir") == assemble(FORAGER.read_text())
    low = MODULE.replace("(func (export \"init\")",
                         '(data (i32.const 300) "x") (func (export "init")')
    assert isinstance(SUBSTRATES.get("wasm").from_file(low.encode(), "low.wat"), ModuleGenome)
    with pytest.raises(GenomeError, match="low.wat.*context"):
        sub.from_file(low.encode(), "low.wat")          # 40 sensors: the context covers 300
