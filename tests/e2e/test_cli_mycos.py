"""`primordia mycos` as a user runs it: genome JSON in, .myc files out, clear errors."""

from __future__ import annotations

import json

import pytest

from primordia.brains.mycos.genome import INPUT, INTERNAL, OUTPUT, ChunkGene, ConnGene
from primordia.brains.mycos.genome import MycosGenome, to_json

from .test_cli_psil import assert_user_error, cli

CONFORMANCE = __import__("pathlib").Path(__file__).resolve().parents[1] / "conformance" / "mycos"
TINY = MycosGenome(chunks=(ChunkGene(ni=1, no=1, nn=2, conns=(
    ConnGene(from_section=INPUT, from_index=0, order_tag=100, to_section=INTERNAL, to_index=0),
    ConnGene(from_section=INTERNAL, from_index=0, order_tag=200, to_section=OUTPUT, to_index=0),
    ConnGene(from_section=INTERNAL, from_index=1, order_tag=1, to_section=OUTPUT, to_index=0))),
), tag="tiny")


def test_compile_writes_the_chunk_files_and_prunes_on_request(tmp_path):
    src = tmp_path / "tiny.json"
    src.write_text(to_json(TINY))
    r = cli("mycos", "compile", str(src), "-o", str(tmp_path / "out"))
    assert r.returncode == 0, r.stderr
    assert "1 chunk file(s)" in r.stdout and "3 connections" in r.stdout
    assert (tmp_path / "out" / "links.bin").read_bytes() == b""
    r = cli("mycos", "compile", str(src), "-o", str(tmp_path / "pruned"), "--prune")
    assert r.returncode == 0 and "2 connections" in r.stdout and "(1 pruned)" in r.stdout
    # Int1 can never change: what is left is the Mycos project's tiny_toggle, but with Nn = 2
    data = (tmp_path / "pruned" / "chunk_000.myc").read_bytes()
    assert data[36:] == (CONFORMANCE / "tiny_toggle.myc").read_bytes()[36:]


@pytest.mark.parametrize("content,words", [
    ("{", ("tiny.json", "genome JSON")),
    (json.dumps({"chunks": [{"ni": 1}]}), ("tiny.json", "chunks[0]", "missing field")),
    (json.dumps({"chunks": [{"ni": 1, "no": 0, "nn": 300, "inputs_init": "00",
                             "outputs_init": "", "internals_init": "00" * 38, "conns": []}]}),
     ("chunks[0].nn", "at most 256")),
])
def test_bad_genomes_are_one_line_and_exit_code_2(tmp_path, content, words):
    src = tmp_path / "tiny.json"
    src.write_text(content)
    assert_user_error(cli("mycos", "compile", str(src), "-o", str(tmp_path / "out")), *words)


def test_missing_file_and_unwritable_output_are_user_errors(tmp_path):
    assert_user_error(cli("mycos", "compile", str(tmp_path / "nope.json"), "-o",
                          str(tmp_path)), "no such file")
    src = tmp_path / "tiny.json"
    src.write_text(to_json(TINY))
    (tmp_path / "taken").write_text("a file, not a directory")
    assert_user_error(cli("mycos", "compile", str(src), "-o", str(tmp_path / "taken")),
                      "cannot write")


def test_evolve_writes_a_run_directory_and_eval_scores_its_champion(tmp_path):
    out = tmp_path / "run"
    r = cli("evolve", "mycos", "--task", "T00_wire_echo", "--pop", "48", "--gens", "30",
            "--seed", "4", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "gen    0" in r.stderr and "T00_wire_echo: solved at generation" in r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert {"best_fitness", "generation_solved", "evaluations", "state_hash"} <= set(summary)
    r = cli("mycos", "eval", str(out / "champion.json"), "--task", "T00_wire_echo", "--json")
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["score"] == summary["best_score"] and len(report["episodes"]) == 2
    assert report["fitness"] == summary["best_fitness"]
    r = cli("mycos", "eval", str(out / "champion.json"), "--task", "T00_wire_echo")
    assert "episode 1: score" in r.stdout


@pytest.mark.parametrize("args,words", [
    (("evolve", "mycos", "--task", "T42"), ("unknown task", "T01_xor2")),
    (("evolve", "mycos", "--pop", "2"), ("--pop",)),
    (("evolve", "mycos", "--selection", "lottery"), ("--selection", "nsga2")),
    (("evolve", "mycos", "--novelty", "1.5"), ("--novelty",)),
    (("mycos", "eval", "missing.json", "--task", "T01_xor2"), ("no such file",)),
])
def test_bad_evolve_and_eval_arguments_are_user_errors(args, words):
    assert_user_error(cli(*args), *words)


def test_evolve_resumes_a_run_to_more_generations(tmp_path):
    out = tmp_path / "run"
    r = cli("evolve", "mycos", "--task", "T01_xor2", "--pop", "24", "--gens", "2", "--seed",
            "1", "--out", str(out), "--quiet")
    assert r.returncode == 0, r.stderr
    assert json.loads((out / "summary.json").read_text())["generations"] == 2
    r = cli("evolve", "mycos", "--resume", str(out), "--gens", "4", "--quiet")
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generations"] == 4 and summary["evaluations"] == 4 * 24
    assert_user_error(cli("evolve", "mycos", "--resume", str(tmp_path / "none")),
                      "checkpoint.json")


def test_evolve_with_nsga2_and_novelty_shows_fronts(tmp_path):
    out = tmp_path / "run"
    r = cli("evolve", "mycos", "--task", "T03_pulse_counter", "--pop", "32", "--gens", "3",
            "--seed", "2", "--selection", "nsga2", "--novelty", "0.7", "--out", str(out))
    assert r.returncode == 0, r.stderr
    assert "front" in r.stderr and "species" not in r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["selection"] == "nsga2" and summary["config"]["novelty"] == 0.7
