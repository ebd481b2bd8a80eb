"""The ecology benchmark (benchmarks/bench_ecology.py) at a tiny size: every brain it names
reports its rate, its phases and the new organisms a tick, for the ticks it timed. No timing
is asserted."""

from __future__ import annotations

import json

from .test_bench_wasm import load


def test_a_tiny_run_reports_every_phase_and_the_churn(capsys):
    bench = load("bench_ecology")
    assert bench.main(["--brains", "neural", "wasm", "--size", "12", "--organisms", "30",
                       "--ticks", "4", "--warmup", "2", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [r["brain"] for r in report["rows"]] == ["neural", "wasm"]
    for row in report["rows"]:
        assert row["ticks"] == 4 and row["organism_ticks"] >= 4 * 30
        assert set(row["phases_ms_per_tick"]) == {"sense", "think", "rules", "genomes"}
        assert row["new_per_tick"] >= 0 and row["population_end"] >= 30
    assert bench.main(["--brains", "neural", "--size", "12", "--organisms", "30", "--ticks",
                       "2", "--warmup", "0"]) == 0
    table = capsys.readouterr().out
    assert "| neural |" in table and "new organisms/tick" in table


def test_a_setting_changes_the_world_it_measures(capsys):
    bench = load("bench_ecology")
    assert bench.main(["--brains", "neural", "--size", "12", "--organisms", "30", "--ticks",
                       "2", "--warmup", "0", "--set", "start_energy=7", "--set",
                       "max_energy=50"]) == 0
    assert "start_energy=7" in capsys.readouterr().out
    assert bench.main(["--brains", "neural", "--set", "start_energy"]) == 2
    assert bench.main(["--brains", "neural", "--size", "12", "--organisms", "30",
                       "--set", "start_energy=900", "--set", "max_energy=50"]) == 2
    err = capsys.readouterr().err
    assert "write KEY=VALUE" in err and "max_energy must be at least start_energy" in err
    assert "Traceback" not in err
