"""``primordia wasm asm`` / ``disasm`` as a user runs them: real processes, real files, exit
codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from primordia.brains.wasm.asm import assemble
from primordia.brains.wasm.ir import encode

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "primordia" / "examples"
FORAGER = EXAMPLES / "forager.wir"
TINY = "func step locals=2\n  sense r0 3\n  const r1 7\n  add r0 r0 r1\n  return r0\n"
TINY_HEX = encode(assemble(TINY)).hex()


def cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "primordia.cli.main", *args], input=stdin,
                          capture_output=True, text=True, timeout=300)


def assert_user_error(r: subprocess.CompletedProcess, *words: str) -> None:
    """Bad input: exit code 2 and one clear line on stderr, never a traceback."""
    assert r.returncode == 2, (r.returncode, r.stdout, r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])


def test_help_lists_the_commands():
    r = cli("wasm", "--help")
    assert r.returncode == 0 and "asm" in r.stdout and "disasm" in r.stdout


def test_asm_prints_lowercase_hex_of_a_file_and_of_stdin():
    r = cli("wasm", "asm", str(FORAGER))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == encode(assemble(FORAGER.read_text())).hex()
    r = cli("wasm", "asm", "-", stdin=TINY)
    assert r.returncode == 0, r.stderr
    assert r.stdout == TINY_HEX + "\n"
    assert TINY_HEX.startswith("5057495201")          # PWIR, version 1


def test_asm_output_file_holds_raw_bytes_that_disasm_reads_back(tmp_path):
    out = tmp_path / "forager.bin"
    r = cli("wasm", "asm", str(FORAGER), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert r.stdout == ""
    data = out.read_bytes()
    assert data.startswith(b"PWIR")
    listing = cli("wasm", "disasm", str(out))
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.startswith("func f0 params=0 results=1 locals=6\n")
    src = tmp_path / "again.wir"
    src.write_text(listing.stdout)
    again = tmp_path / "again.bin"
    assert cli("wasm", "asm", str(src), "-o", str(again)).returncode == 0
    assert again.read_bytes() == data


def test_disasm_of_hex_text_and_of_a_hex_file(tmp_path):
    r = cli("wasm", "disasm", TINY_HEX)
    assert r.returncode == 0, r.stderr
    assert r.stdout == ("func f0 params=0 results=1 locals=2\n  sense r0 3\n  const r1 7\n"
                        "  add r0 r0 r1\n  return r0\n")
    f = tmp_path / "tiny.hex"
    f.write_text(" ".join(TINY_HEX[i:i + 8] for i in range(0, len(TINY_HEX), 8)) + "\n")
    assert cli("wasm", "disasm", str(f)).stdout == r.stdout


def test_disasm_of_a_wir_file_prints_its_canonical_form():
    r = cli("wasm", "disasm", str(FORAGER))
    assert r.returncode == 0, r.stderr
    assert ";" not in r.stdout and "call f1 r5 r4" in r.stdout


@pytest.mark.parametrize("args,words", [
    (("wasm", "disasm", "zz"), ("not hex",)),
    (("wasm", "disasm", "505"), ("odd number",)),
    (("wasm", "disasm", "00112233"), ("PWIR",)),
    (("wasm", "disasm", TINY_HEX[:-2]), ("truncated",)),
    (("wasm", "disasm", "missing/genome.hex"), ("no such file",)),
    (("wasm", "disasm", "/"), ("not a file",)),
    (("wasm", "asm", "missing.wir"), ("no such file",)),
    (("wasm", "asm"), ("Missing argument",)),
])
def test_bad_input_is_one_line_and_exit_code_2(args, words):
    assert_user_error(cli(*args), *words)


def test_assembly_errors_name_the_file_line_and_token(tmp_path):
    f = tmp_path / "bad.wir"
    f.write_text("func step locals=2\n  const r0 1\n  frobnicate r0\n")
    assert_user_error(cli("wasm", "asm", str(f)), "bad.wir:line 3", "frobnicate")
    assert_user_error(cli("wasm", "asm", "-", stdin="func step\n  br 3\n  return r0\n"),
                      "<stdin>:line 2", "branch depth")


def test_a_bad_genome_file_is_named(tmp_path):
    f = tmp_path / "bad.bin"
    f.write_bytes(b"PWIR\x01\x01\x00\x01\x01\x01\x00\x44")     # end with no open block
    assert_user_error(cli("wasm", "disasm", str(f)), "bad.bin", "end with no open block")


def test_asm_with_an_error_writes_no_output_file(tmp_path):
    out = tmp_path / "out.bin"
    r = cli("wasm", "asm", "-", "-o", str(out), stdin="func step\n  nop\n")
    assert_user_error(r, "line 2", "nop")
    assert not out.exists()
