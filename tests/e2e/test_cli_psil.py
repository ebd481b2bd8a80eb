"""The `primordia` command as a user runs it: real processes, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "src" / "primordia" / "examples"
FORAGER_HEX = "8a0d8c00218c01f1"


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


def test_version_and_help():
    r = cli("--version")
    assert r.returncode == 0 and r.stdout.startswith("primordia ")
    r = cli("--help")
    assert r.returncode == 0 and "psil" in r.stdout and "demo" in r.stdout
    r = cli("psil", "run", "--help")
    assert r.returncode == 0 and "--sensor" in r.stdout and "--batch" in r.stdout


def test_asm_prints_hex_of_a_file_and_of_stdin():
    r = cli("psil", "asm", str(EXAMPLES / "forager.mpsil"))
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == FORAGER_HEX
    r = cli("psil", "asm", "-", stdin="r0@ 1\n10\n<\njz 4\n1\nr1! 0\nyield\n")
    assert r.stdout.strip() == "8a012a0c8704218c00f1"


def test_asm_output_file_holds_raw_bytes_that_disasm_reads_back(tmp_path):
    out = tmp_path / "forager.bin"
    r = cli("psil", "asm", str(EXAMPLES / "forager.mpsil"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == bytes.fromhex(FORAGER_HEX)
    listing = cli("psil", "disasm", str(out)).stdout
    src = tmp_path / "again.mpsil"
    src.write_text(listing)
    assert cli("psil", "asm", str(src)).stdout.strip() == FORAGER_HEX


def test_disasm_lists_address_bytes_and_mnemonic():
    r = cli("psil", "disasm", FORAGER_HEX)
    assert r.returncode == 0
    first = r.stdout.splitlines()[0]
    assert "r0@ 13" in first and "0000" in first and "8a 0d" in first


def test_run_json_reports_the_first_action_round():
    r = cli("psil", "run", FORAGER_HEX, "--sensor", "food_dir=3", "--json")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert {k: out[k] for k in ("move", "action", "target", "emotion")} == \
        {"move": 3, "action": 1, "target": 0, "emotion": 0}
    assert out["yields"] == 1 and out["halted"] is True and out["error"] == 0
    assert out["gas_used"] == 5


def test_run_reads_sensor_slots_by_number_and_gas():
    r = cli("psil", "run", "8a0a240a21068c00218c01f1", "-s", "10=7", "--json", "--gas", "50")
    assert json.loads(r.stdout)["move"] == 4


def test_run_trace_prints_each_instruction():
    r = cli("psil", "run", FORAGER_HEX, "--trace")
    assert r.returncode == 0
    assert "r0@ 13" in r.stdout and "yield" in r.stdout


def test_run_assembles_mpsil_files(tmp_path):
    r = cli("psil", "run", str(EXAMPLES / "demo.mpsil"), "-s", "energy=40", "-s", "food_dir=2",
            "--json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["yields"] >= 1


def test_run_batch_prints_one_json_line_per_genome(tmp_path):
    f = tmp_path / "genomes.hex"
    f.write_text(f"# archetypes\n{FORAGER_HEX}\n\n9305 9600\n00112233\n")
    r = cli("psil", "run", "--batch", str(f), "-s", "food_dir=2")
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 3
    assert rows[0]["move"] == 2 and rows[0]["action"] == 1
    assert rows[1]["move"] == 2 and rows[1]["yields"] == 2


@pytest.mark.parametrize("args,words", [
    (("psil", "run", "abc"), ("odd",)),
    (("psil", "run", "zz"), ("hex",)),
    (("psil", "run", FORAGER_HEX, "-s", "31=1"), ("out of range",)),
    (("psil", "run", FORAGER_HEX, "-s", "nosuch=1"), ("unknown slot",)),
    (("psil", "run", FORAGER_HEX, "-s", "food_dir"), ("SLOT=VALUE",)),
    (("psil", "run", FORAGER_HEX, "-s", "5=99999"), ("16 bits",)),
    (("psil", "run", FORAGER_HEX, "--gas", "0"), ("--gas",)),
    (("psil", "run", "missing/file.hex"), ("no such file",)),
    (("psil", "run"), ("missing GENOME",)),
    (("psil", "run", "/"), ("not a file",)),
    (("psil", "disasm", "0g"), ("hex",)),
    (("psil", "run", FORAGER_HEX, "--gas", "many"), ("gas",)),
    (("nosuchcommand",), ("nosuchcommand",)),
])
def test_bad_input_is_one_line_and_exit_code_2(args, words):
    assert_user_error(cli(*args), *words)


def test_unknown_mnemonic_names_line_and_token(tmp_path):
    f = tmp_path / "bad.mpsil"
    f.write_text("r0@ 13\nfrobnicate\nyield\n")
    assert_user_error(cli("psil", "asm", str(f)), "line 2", "frobnicate")


def test_batch_with_a_bad_line_names_it(tmp_path):
    f = tmp_path / "genomes.hex"
    f.write_text(f"{FORAGER_HEX}\n123\n")
    assert_user_error(cli("psil", "run", "--batch", str(f)), "line 2")


def test_raw_bytes_cannot_hold_quotations(tmp_path):
    out = tmp_path / "fact.bin"
    assert_user_error(cli("psil", "asm", str(EXAMPLES / "factorial.mpsil"), "-o", str(out)),
                      "quotations")
    assert not out.exists()


def test_demo_runs_end_to_end():
    r = cli("demo", "--organisms", "3000")
    assert r.returncode == 0, r.stderr
    assert "instructions" in r.stdout and "archetype" in r.stdout
