"""``primordia wasm`` (asm, disasm, check, compile, run) and ``primordia run --founder`` as a
user runs them: real processes, real files, exit codes."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from primordia.brains.wasm.asm import assemble
from primordia.brains.wasm.ir import encode

from .test_cli_psil import assert_user_error, cli

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "primordia" / "examples"
FORAGER = EXAMPLES / "forager.wir"
TINY = "func step locals=2\n  sense r0 3\n  const r1 7\n  add r0 r0 r1\n  return r0\n"
TINY_HEX = encode(assemble(TINY)).hex()


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


# ---- check, compile, run ----------------------------------------------------------------------

MOVER = """(module
  (import "env" "move_dir" (func $move (param i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "init") (param i64))
  ;; asks to move (1, -1); returns 3, unless sensor 0 is set: then it loops forever
  (func (export "step") (param $c i32) (result i32)
    (drop (call $move (i32.const 1) (i32.const -1)))
    (if (i32.load offset=64 (local.get $c)) (then (loop (br 0))))
    (i32.const 3)))
"""
BROKEN = """(module
  (import "wasi_snapshot_preview1" "fd_write" (func (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2)
  (func (export "step") (param i32) (result i32) (i32.const 0)))
"""
SPIN_WIR = "func step\n  loop\n    br 0\n  end\n  return r0\n"


def write(tmp_path: Path, name: str, text: str) -> Path:
    f = tmp_path / name
    f.write_text(text)
    return f


def json_lines(text: str) -> list[dict]:
    import json

    return [json.loads(line) for line in text.splitlines()]


def test_check_says_ok_for_a_module_that_keeps_the_abi(tmp_path):
    r = cli("wasm", "check", str(write(tmp_path, "mover.wat", MOVER)))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("ok: mover.wat keeps the ABI") and "move_dir" in r.stdout


def test_check_prints_a_line_per_violation_and_exits_2(tmp_path):
    r = cli("wasm", "check", str(write(tmp_path, "broken.wat", BROKEN)))
    assert r.returncode == 2 and r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 3, lines                   # WASI, two pages, no `init`
    assert all(line.startswith("broken.wat: ") for line in lines)
    assert any("WASI" in ln for ln in lines) and any("2 pages" in ln for ln in lines)
    assert any("`init`" in ln for ln in lines) and "Traceback" not in r.stderr


@pytest.mark.parametrize("content", [bytes(range(256)) * 4, b"\0asm\x01\0\0\0\xff\xff",
                                     b"(module (func", b""])
def test_check_of_garbage_is_one_line(tmp_path, content):
    f = tmp_path / "junk.wasm"
    f.write_bytes(content)
    assert_user_error(cli("wasm", "check", str(f)), "junk.wasm")


def test_check_of_a_missing_or_huge_file_is_one_line(tmp_path):
    assert_user_error(cli("wasm", "check", str(tmp_path / "none.wasm")), "no such file")
    big = tmp_path / "big.wat"
    big.write_bytes(b" " * ((4 << 20) + 1))
    assert_user_error(cli("wasm", "check", str(big)), "limit")


@pytest.mark.parametrize("world,memory", [("sandbox", "4096"), ("hex", "1024")])
def test_compile_writes_a_module_that_check_accepts(tmp_path, world, memory):
    from primordia.brains.wasm.check import check_module
    from primordia.brains.wasm.layout import Layout
    from primordia.worlds.registry import WORLDS

    out = tmp_path / "forager.wasm"
    r = cli("wasm", "compile", str(FORAGER), "-o", str(out), "--world", world,
            "--memory", memory)
    assert r.returncode == 0, r.stderr
    wasm = out.read_bytes()
    assert wasm.startswith(b"\0asm")
    io = WORLDS.get(world).run_class.IO
    assert check_module(wasm, layout=Layout(io.n_sensors, io.n_actions,
                                            memory=int(memory))) == []
    r = cli("wasm", "check", str(out), "--world", world)
    assert r.returncode == 0 and r.stdout.startswith("ok: forager.wasm"), r.stderr


def test_compile_refuses_a_bad_world_or_memory(tmp_path):
    out = str(tmp_path / "x.wasm")
    assert_user_error(cli("wasm", "compile", str(FORAGER), "-o", out, "--world", "moon"),
                      "unknown world", "sandbox")
    assert_user_error(cli("wasm", "compile", str(FORAGER), "-o", out, "--memory", "1000"),
                      "--memory 1000", "power of two")
    assert not (tmp_path / "x.wasm").exists()


def test_run_shows_each_step_of_an_ir_genome():
    r = cli("wasm", "run", str(FORAGER), "--steps", "3", "--sensor", "food_dir=2",
            "-s", "food_dist=4")
    assert r.returncode == 0, r.stderr
    assert "forager.wir: an IR genome of 2 functions, in the sandbox world" in r.stdout
    for word in ("move (code)", "action", "target", "emotion", "asked", "gas", "returned"):
        assert word in r.stdout, word
    assert r.stdout.count("returned") == 3


def test_run_json_is_one_object_per_step():
    r = cli("wasm", "run", str(FORAGER), "--steps", "2", "--json", "-s", "hunger=40",
            "-s", "food_dist=0")
    assert r.returncode == 0, r.stderr
    steps = json_lines(r.stdout)
    assert [s["step"] for s in steps] == [0, 1]
    s = steps[0]
    assert list(s) == ["step", "code", "actions", "record", "gas_used", "budget", "halted",
                       "fault"]
    assert s["actions"] == {"move": 0, "action": 1, "target": 0, "emotion": 0}  # eat, stay
    assert s["code"] == s["actions"]["move"] == 0
    assert s["record"] == {"flags": 0, "move": None, "eat": False, "attack": None,
                           "reproduce": None, "signal": None}
    assert 0 < s["gas_used"] < s["budget"] == 1000
    assert s["halted"] is False and s["fault"] is None


def test_run_of_an_ir_genome_that_loops_forever_halts_on_its_budget(tmp_path):
    r = cli("wasm", "run", str(write(tmp_path, "spin.wir", SPIN_WIR)), "--json",
            "--budget", "500", "--world", "hex")
    assert r.returncode == 0, r.stderr
    (s,) = json_lines(r.stdout)
    assert s["halted"] is True and s["code"] == 0 and s["fault"] == "out of gas or call depth"
    assert 0 < s["gas_used"] <= 500
    assert list(s["actions"]) == ["move_forward", "turn_left", "turn_right", "confidence"]


def test_run_of_a_wat_module_shows_its_abi_actions_and_its_faults(tmp_path):
    module = write(tmp_path, "mover.wat", MOVER)
    r = cli("wasm", "run", str(module), "--json", "--steps", "2")
    assert r.returncode == 0, r.stderr
    for s in json_lines(r.stdout):
        assert s["code"] == 3 and s["halted"] is False
        assert s["record"]["flags"] == 1 and s["record"]["move"] == {"dx": 1, "dy": -1}
    r = cli("wasm", "run", str(module), "--json", "--sensor", "self=1", "--budget", "5000")
    (s,) = json_lines(r.stdout)
    assert s["halted"] is True and s["fault"] == "out of fuel" and s["code"] == 0
    assert s["gas_used"] == 5000
    assert s["record"]["move"] == {"dx": 1, "dy": -1}       # what it asked before stands
    r = cli("wasm", "run", str(module), "--sensor", "self=1")
    assert r.returncode == 0 and "lost: out of fuel" in r.stdout and "move (1, -1)" in r.stdout


def test_run_refuses_unknown_sensors_and_bad_options(tmp_path):
    assert_user_error(cli("wasm", "run", str(FORAGER), "-s", "smell=3"), "smell",
                      "food_dir", "hunger")
    assert_user_error(cli("wasm", "run", str(FORAGER), "-s", "look=1"), "look")  # a hex sensor
    assert_user_error(cli("wasm", "run", str(FORAGER), "-s", "hunger"), "NAME=VALUE")
    assert_user_error(cli("wasm", "run", str(FORAGER), "--steps", "0"), "--steps")
    assert_user_error(cli("wasm", "run", str(write(tmp_path, "broken.wat", BROKEN))),
                      "broken.wat")


# ---- founders ---------------------------------------------------------------------------------

PSIL_FORAGER = EXAMPLES / "forager.mpsil"


def run_world(tmp_path: Path, name: str, *args: str) -> tuple[subprocess.CompletedProcess, Path]:
    out = tmp_path / name
    return cli("run", *args, "--out", str(out)), out


def checkpoint_genomes(out: Path) -> list[bytes]:
    import numpy as np

    with np.load(out / "checkpoint.npz") as z:
        data, lengths = z["genome_bytes"].tobytes(), z["genome_lengths"].tolist()
    ends = np.cumsum(lengths).tolist()
    return [data[e - n:e] for e, n in zip(ends, lengths)]


def test_founders_in_the_sandbox_are_the_first_organisms_and_resume_the_same(tmp_path):
    import json

    module = write(tmp_path, "mover.wat", MOVER)
    args = ("sandbox", "--brain", "wasm", "--npcs", "8", "--seed", "4",
            "--founder", f"{FORAGER}:3", "--founder", str(module))
    r, a = run_world(tmp_path, "a", *args, "--ticks", "3")
    assert r.returncode == 0, r.stderr
    forager = encode(assemble(FORAGER.read_text()))
    from primordia.brains.wasm.modules import parse

    mover = parse(MOVER).wasm
    assert checkpoint_genomes(a)[:4] == [forager] * 3 + [mover]
    record = json.loads((a / "founders.json").read_text())
    assert [(f["file"], f["count"], f["brain"]) for f in record] == [
        (str(FORAGER), 3, "wasm"), (str(module), 1, "wasm")]
    assert bytes.fromhex(record[1]["genome"]) == mover
    r = cli("run", "--resume", str(a), "--ticks", "6")
    assert r.returncode == 0, r.stderr
    r, b = run_world(tmp_path, "b", *args, "--ticks", "6")
    assert r.returncode == 0, r.stderr
    hashes = [json.loads((d / "summary.json").read_text())["state_hash"] for d in (a, b)]
    assert hashes[0] == hashes[1]


def test_founders_in_the_hex_world(tmp_path):
    module = write(tmp_path, "mover.wat", MOVER)
    r, out = run_world(tmp_path, "hex", "hex", "--brain", "wasm", "--turns", "0",
                       "--founder", f"{FORAGER}:2", "--founder", str(module))
    assert r.returncode == 0, r.stderr
    genomes = checkpoint_genomes(out)
    from primordia.brains.wasm.modules import parse

    assert genomes.count(encode(assemble(FORAGER.read_text()))) == 2   # placed at turn 0
    assert genomes.count(parse(MOVER).wasm) == 1
    assert (out / "founders.json").is_file()
    r = cli("run", "--resume", str(out), "--turns", "2")          # and they live
    assert r.returncode == 0, r.stderr


def test_psil_founders_in_the_sandbox(tmp_path):
    from primordia.brains.psil.asm import assemble as psil_assemble

    r, out = run_world(tmp_path, "psil", "sandbox", "--npcs", "6", "--ticks", "2",
                       "--founder", f"{PSIL_FORAGER}:2")
    assert r.returncode == 0, r.stderr
    code = psil_assemble(PSIL_FORAGER.read_text()).code
    assert checkpoint_genomes(out)[:2] == [code, code]


@pytest.mark.parametrize("args,words", [
    (("--brain", "wasm", "--founder", str(PSIL_FORAGER)), ("forager.mpsil", "wasm")),
    (("--founder", str(FORAGER)), ("forager.wir", "micro-PSIL")),
    (("--brain", "wasm", "--founder", f"{FORAGER}:9"), ("9 founders", "population of 8")),
    (("--brain", "wasm", "--founder", f"{FORAGER}:0"), ("COUNT",)),
    (("--brain", "wasm", "--founder", "missing.wir"), ("missing.wir", "no such file")),
])
def test_a_founder_that_does_not_fit_is_one_line(tmp_path, args, words):
    r, out = run_world(tmp_path, "bad", "sandbox", "--npcs", "8", "--ticks", "2", *args)
    assert_user_error(r, "--founder", *words)


def test_an_invalid_module_founder_is_one_line(tmp_path):
    r, _ = run_world(tmp_path, "bad", "sandbox", "--brain", "wasm", "--npcs", "8",
                     "--ticks", "2", "--founder", str(write(tmp_path, "broken.wat", BROKEN)))
    assert_user_error(r, "--founder", "broken.wat", "WASI")
