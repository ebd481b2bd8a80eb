"""The wasm benchmark (benchmarks/bench_wasm.py) and fuzz campaigns (benchmarks/fuzz_wasm.py)
at tiny sizes: every path reports, compiled code agrees with the oracle, every genome
variation makes compiles, and a failure is reported and saved. No timing is asserted."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest

from primordia.brains.wasm import fuzz as wasm_fuzz
from primordia.brains.wasm import ir
from primordia.brains.wasm.reference import StepOutcome, run_step

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, BENCHMARKS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module                 # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench():
    yield load("bench_wasm")
    sys.modules.pop("bench_wasm", None)


@pytest.fixture(scope="module")
def fuzz():
    yield load("fuzz_wasm")
    sys.modules.pop("fuzz_wasm", None)


def run(module, capsys, *argv: str) -> tuple[int, dict]:
    code = module.main([*argv, "--json", "--quiet"])
    return code, json.loads(capsys.readouterr().out)


def test_bench_reports_every_path_side_by_side(bench, capsys):
    code, rep = run(bench, capsys, "--organisms", "120", "--seconds", "0.05", "--naive", "10",
                    "--oracle", "10", "--compile-organisms", "10",
                    "--compile-batches", "1", "10")
    assert code == 0
    paths = [r["path"].split(":")[0] for r in rep["steps"]]
    assert paths == ["runtime", "runtime", "naive", "oracle", "module"]
    for row in rep["steps"]:
        assert row["steps"] > 0 and row["steps_per_s"] > 0 and row["vs_runtime"] > 0
    run_row, step_row, naive, oracle, module = rep["steps"]
    assert run_row["organisms"] == step_row["organisms"] == 120
    assert run_row["gas_per_step"] > 0 and 0 <= run_row["halted_share"] <= 1
    assert run_row["faults"] == 0
    assert naive["checked_vs_oracle"] == 10 and naive["mismatches_vs_oracle"] == 0
    assert oracle["organisms"] == 10
    assert module["faults"] == 0 and module["fuel_per_step"] > 0
    assert [r["batch"] for r in rep["compile"]] == [1, 10]
    for row in rep["compile"]:
        assert row["organisms"] == 10
        for part in ("total", "codegen", "cranelift", "instantiate"):
            assert row[f"{part}_ms"] > 0 and row[f"{part}_cpu_ms"] >= 0
    assert rep["targets"] == {"runtime_steps_per_s": 3_000_000, "compile_ms_per_organism": 0.2}
    assert "one core" in rep["threads"]
    assert 50 <= rep["workload"]["mean_instrs"] <= 256


def test_bench_prints_a_table(bench, capsys):
    assert bench.main(["--organisms", "40", "--seconds", "0.02", "--naive", "4", "--oracle",
                       "4", "--compile-batches", "--quiet"]) == 0
    out = capsys.readouterr().out
    assert "| runtime: Population.run | 40 |" in out
    assert "naive vs oracle, first round: 0 mismatches in 4 organisms" in out


def test_bench_compares_engine_settings_and_restores_the_runtimes(bench, capsys):
    from primordia.brains.wasm import runtime
    before = runtime.engine()
    code, rows = run(bench, capsys, "--engines", "--organisms", "20", "--seconds", "0.02",
                     "--naive", "1", "--oracle", "1", "--compile-organisms", "5")
    assert code == 0
    assert [r["engine"] for r in rows] == ["cranelift-speed", "cranelift-none", "winch"]
    for row in rows:
        assert row["compile_ms"] > row["engine_ms"] > 0 and row["steps_per_s"] > 0
    assert runtime.engine() is before


def test_fuzz_campaigns_find_nothing_at_tiny_sizes(fuzz, capsys, tmp_path):
    out = tmp_path / "failures.jsonl"
    code, rep = run(fuzz, capsys, "--programs", "300", "--variation", "150", "--chunk", "100",
                    "--sample", "8", "--out", str(out))
    assert code == 0 and rep["ok"], rep["programs"]["offenders"] + rep["variation"]["offenders"]
    p, v = rep["programs"], rep["variation"]
    assert p["programs"] == 300 and p["chunks"] == 3
    assert p["disagreements"] == 0 and p["failures"] == 0 and p["faults"] == 0
    assert p["kinds"]["random"] == 150 and "broken" not in p["kinds"]
    assert 0 < p["halted_share"] < 1 and p["mean_gas_used"] > 0 and p["per_s"] > 0
    assert v["programs"] == 150 and v["failures"] == 0 and v["sampled"] == 16
    assert set(v["kinds"]) == {"random", "mutated", "crossed"}
    assert not out.exists()


def test_program_chunks_depend_only_on_seed_and_chunk(fuzz):
    whole, kinds, bad = fuzz.make_programs(3, 5, 40)
    assert not bad and None not in whole
    assert fuzz.make_programs(3, 5, 15)[0] == whole[:15]     # a shorter last chunk: a prefix
    assert fuzz.make_programs(3, 6, 40)[0] != whole
    assert fuzz.make_programs(4, 5, 40)[0] != whole
    assert {"random", "mutated", "crossed", "mutated+crossed"} == set(kinds)


def test_a_disagreement_is_reported_and_saved_for_reproduction(fuzz, capsys, tmp_path,
                                                               monkeypatch):
    def off_by_one(genome, memory, layout, budget):
        got = run_step(genome, memory, layout, budget)
        return StepOutcome(got.code, got.gas_used + 1, got.halted)

    monkeypatch.setattr(wasm_fuzz, "run_step", off_by_one)
    out = tmp_path / "failures.jsonl"
    code, rep = run(fuzz, capsys, "--programs", "20", "--variation", "0", "--chunk", "20",
                    "--start-chunk", "3", "--out", str(out))
    assert code == 1 and not rep["ok"]
    assert rep["programs"]["disagreements"] == 20
    saved = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(saved) == 20 and {s["chunk"] for s in saved} == {3}
    first = saved[0]
    assert "gas left" in first["what"] and first["budget"] >= 0
    genomes, _, _ = fuzz.make_programs(1, 3, 20)
    assert ir.decode(bytes.fromhex(first["genome"])) == genomes[first["index"]]
    assert first["layout"] == {"sensors": 12, "actions": 6, "radius": 2, "memory": 8192}
