"""The ABI check for hand-written modules: what a module must be, and that every way of
breaking it is one short line, never an exception (docs/brains/wasm.md, "The ABI")."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from primordia.brains.wasm.check import MAX_MODULE_BYTES, check_module, load_module_bytes
from primordia.brains.wasm.layout import Layout
from primordia.core.errors import GenomeError

FORAGER = (Path(__file__).resolve().parents[3] / "src" / "primordia" / "examples"
           / "forager.wat").read_text()
"""The shipped example module (src/primordia/examples/forager.wat)."""

EXPORTS = """
  (memory (export "memory") 1)
  (func (export "init") (param i64))
  (func (export "step") (param i32) (result i32) (i32.const 0))
"""


def module(*fields: str, exports: str = EXPORTS) -> str:
    """A WAT module of the given fields plus (by default) the three exports the ABI needs."""
    return "(module " + " ".join(fields) + exports + ")"


def one_line(problems: list[str]) -> str:
    assert len(problems) == 1, problems
    assert "\n" not in problems[0]
    return problems[0]


# ---- a module that keeps the ABI -------------------------------------------------------------

def test_forager_keeps_the_abi_as_text_and_as_binary():
    assert check_module(FORAGER) == []
    wasm = load_module_bytes(FORAGER)
    assert wasm[:4] == b"\0asm"
    assert load_module_bytes(wasm) == wasm  # a binary is taken as it is
    assert check_module(wasm) == []


def test_a_declared_maximum_and_extra_exports_are_allowed():
    # the limiter, not the declaration, keeps the memory at one page
    assert check_module(module('(func (export "helper"))', exports=EXPORTS.replace(
        '"memory") 1', '"memory") 1 16'))) == []


def test_one_small_table_is_allowed():
    assert check_module(module("(table 8 funcref)")) == []


# ---- exports -----------------------------------------------------------------------------------

def test_a_module_without_step_is_refused():
    text = module(exports='(memory (export "memory") 1) (func (export "init") (param i64))')
    assert "does not export `step`" in one_line(check_module(text))


def test_a_module_without_memory_is_refused():
    text = module(exports='(memory 1) (func (export "init") (param i64))'
                          '(func (export "step") (param i32) (result i32) (i32.const 0))')
    assert "does not export `memory`" in one_line(check_module(text))


def test_wrong_signatures_are_refused_each_on_its_line():
    text = """(module
      (import "env" "move_dir" (func (param i32) (result i32)))
      (memory (export "memory") 1)
      (func (export "init") (param i32))
      (func (export "step") (param i64) (result i32) (i32.const 0)))"""
    problems = check_module(text)
    assert len(problems) == 3
    assert any("`env.move_dir` as (i32) -> i32; the ABI says (i32, i32) -> i32" in p
               for p in problems)
    assert any("`init` as (i32) -> (); the ABI says (i64) -> ()" in p for p in problems)
    assert any("`step` as (i64) -> i32" in p for p in problems)


def test_a_memory_of_64_pages_is_refused():
    text = module(exports=EXPORTS.replace('"memory") 1', '"memory") 64'))
    assert "starts at 64 pages" in one_line(check_module(text))


def test_a_memory_of_0_pages_is_refused_the_context_needs_a_page():
    text = module(exports=EXPORTS.replace('"memory") 1', '"memory") 0'))
    assert "starts at 0 pages" in one_line(check_module(text))


def test_a_shared_memory_is_invalid_here_threads_are_off():
    text = module(exports=EXPORTS.replace('"memory") 1', '"memory") 1 1 shared'))
    assert one_line(check_module(text)).startswith("invalid wasm")


# ---- imports -----------------------------------------------------------------------------------

def test_wasi_imports_are_refused():
    text = module('(import "wasi_snapshot_preview1" "fd_write" '
                  '(func (param i32 i32 i32 i32) (result i32)))')
    assert "WASI `wasi_snapshot_preview1.fd_write`" in one_line(check_module(text))


def test_an_env_import_outside_the_abi_is_refused():
    text = module('(import "env" "print" (func (param i32)))')
    assert "`env.print`, which is not an ABI call" in one_line(check_module(text))


def test_imports_from_another_module_are_refused():
    text = module('(import "host" "eat" (func (result i32)))')
    assert "outside `env`" in one_line(check_module(text))


def test_imported_memories_tables_and_globals_are_refused():
    text = """(module
      (import "env" "mem" (memory 1))
      (import "env" "tab" (table 1 funcref))
      (import "env" "g" (global i32))
      (export "memory" (memory 0))
      (func (export "init") (param i64))
      (func (export "step") (param i32) (result i32) (i32.const 0)))"""
    problems = check_module(text)
    assert len(problems) == 3
    assert [p.split()[1:3] for p in problems] == [["a", "memory"], ["a", "table"],
                                                   ["a", "global"]]


# ---- what wasmtime's API does not show: sections -----------------------------------------------

def test_a_start_function_is_refused_nothing_runs_before_init():
    text = module("(func $boot) (start $boot)")
    assert "start function" in one_line(check_module(text))


def test_more_than_one_table_or_a_big_table_is_refused():
    assert "2 tables" in one_line(check_module(module("(table 1 funcref) (table 1 funcref)")))
    assert "2000 elements" in one_line(check_module(module("(table 2000 funcref)")))


def test_data_must_lie_above_the_context():
    assert check_module(module('(data (i32.const 4096) "mine")')) == []
    assert "overlaps the context" in one_line(check_module(module('(data (i32.const 8) "x")')))
    # a bigger world's context reaches further up
    layout = Layout(sensors=200, actions=50, radius=7, memory=65536)
    text = module('(data (i32.const 1024) "mine")')
    assert check_module(text) == []
    assert "overlaps the context" in one_line(check_module(text, layout=layout))


def test_data_past_the_page_is_refused():
    text = module('(data (i32.const 65534) "four")')
    assert "past the 1-page memory" in one_line(check_module(text))


# ---- bytes that are not a module ---------------------------------------------------------------

def test_too_big_is_refused_before_anything_is_parsed():
    payload = bytes(MAX_MODULE_BYTES)
    size = len(payload) + 2
    leb = bytearray()
    while True:
        leb.append((size & 0x7F) | (0x80 if size > 0x7F else 0))
        size >>= 7
        if not size:
            break
    big = b"\0asm\1\0\0\0" + b"\0" + bytes(leb) + b"\1x" + payload  # one custom section
    assert "at most 1048576" in one_line(check_module(big))
    with pytest.raises(GenomeError, match="1 MiB"):
        load_module_bytes(big)


def test_truncated_bytes_are_one_line():
    wasm = load_module_bytes(FORAGER)
    for cut in (5, 9, len(wasm) // 2, len(wasm) - 1):
        assert one_line(check_module(wasm[:cut])).startswith("invalid wasm")


def test_random_bytes_are_one_line_and_never_raise():
    rng = random.Random(2026)
    for i in range(50):
        junk = rng.randbytes(rng.randrange(0, 400))
        if i % 2:
            junk = b"\0asm\1\0\0\0" + junk  # past the header, into the sections
        one_line(check_module(junk))


def test_bad_wat_names_the_line():
    problem = one_line(check_module("(module\n  (func (export \"step\") (param i32)\n  (frob)))"))
    assert problem.startswith("WAT: ") and "line 3" in problem


def test_text_that_is_not_utf8_is_neither_wasm_nor_wat():
    assert "not UTF-8" in one_line(check_module(b"\xff\xfe(module)"))
