"""The ecology evolution study (benchmarks/study_ecology.py) at a tiny size: it samples the
living, turns phylogeny.csv into per-window deaths, names the dominant lineages with their
genomes disassembled, plots every panel, and a study stopped and continued writes what one
straight run writes."""

from __future__ import annotations

import csv

import numpy as np
import pytest
from PIL import Image

from primordia.runs.ecology_run import EcologyRun
from primordia.worlds.ecology.config import EcologyConfig
from primordia.worlds.ecology.world import EcologyWorld

from .test_bench_wasm import load

TINY = [f"--set={k}={v}" for k, v in {**EcologyRun.SMALL, "width": 16, "height": 16,
                                      "num_organisms": 40, "max_organisms": 256}.items()]


@pytest.fixture(scope="module")
def study():
    return load("study_ecology")


def rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def test_deaths_are_counted_in_the_window_they_happen(study, tmp_path):
    phylogeny = tmp_path / "phylogeny.csv"
    phylogeny.write_text("id,ancestor_list,origin_time,destruction_time\n"
                         "0,[none],0,10\n1,[0],5,15\n2,[0],6,\n3,[none],12,18\n4,[1],9,9\n")
    windows = study.death_windows(study.read_phylogeny(phylogeny), 10, 20)
    assert [w["tick"] for w in windows] == [10, 20]
    assert windows[0] == {"tick": 10, "deaths": 1, "mean_lifetime": 0.0, "mean_children": 0.0}
    # organisms 0 (10 ticks, 2 children), 1 (10 ticks, 1 child) and 3 (6 ticks, none)
    assert windows[1]["deaths"] == 3
    assert windows[1]["mean_lifetime"] == pytest.approx(26 / 3)
    assert windows[1]["mean_children"] == pytest.approx(1.0)


def test_living_stats_sum_up_the_state(study):
    cfg = EcologyConfig(**{**EcologyRun.SMALL, "seed": 3})
    world = EcologyWorld(cfg, EcologyRun.substrate(cfg))
    world.run(25)
    row = study.living_stats(world)
    s, live = world.state, world.alive_slots()
    assert row["tick"] == 25 and row["organisms"] == live.size > 0
    assert row["mean_net_energy"] == pytest.approx(
        np.mean(s.eaten[live] + s.energy[live] - s.birth_energy[live]))
    assert 1 <= row["lineages"] <= row["organisms"]
    assert 1 <= row["genotypes"] <= row["organisms"]
    assert 0 <= row["lineage_entropy"] <= np.log2(row["organisms"]) + 1e-9
    assert row["max_generation"] == s.generation[live].max()


def test_a_tiny_study_writes_its_tables_plot_and_dominant_genomes(study, tmp_path, capsys):
    png = tmp_path / "study.png"
    assert study.main(["--seeds", "1", "2", "--ticks", "120", "--sample", "40",
                       "--out", str(tmp_path / "s"), "--png", str(png), *TINY]) == 0
    out = capsys.readouterr().out
    assert "| seed | organisms |" in out and out.count("\n| 1 |") == 1
    for seed in (1, 2):
        run = tmp_path / "s" / f"seed-{seed}"
        sampled = rows(run / "study.csv")
        assert [int(float(r["tick"])) for r in sampled] == [0, 40, 80, 120]
        assert [int(float(r["tick"])) for r in rows(run / "deaths.csv")] == [40, 80, 120]
        text = (run / "dominant.md").read_text()
        assert "# Dominant lineages at tick 120" in text and "func f0" in text
    with Image.open(png) as image:
        assert image.format == "PNG" and image.size[0] > 500


def test_a_study_stopped_and_continued_matches_a_straight_one(study, tmp_path):
    common = ["--seeds", "1", "--sample", "40", "--checkpoint-every", "40", *TINY]
    assert study.main([*common, "--ticks", "120", "--out", str(tmp_path / "straight")]) == 0
    assert study.main([*common, "--ticks", "80", "--out", str(tmp_path / "split")]) == 0
    assert study.main([*common, "--ticks", "120", "--out", str(tmp_path / "split")]) == 0
    a, b = tmp_path / "straight" / "seed-1", tmp_path / "split" / "seed-1"
    assert rows(a / "study.csv") == rows(b / "study.csv")
    assert rows(a / "deaths.csv") == rows(b / "deaths.csv")
    assert (a / "dominant.md").read_text() == (b / "dominant.md").read_text()


def test_a_bad_setting_is_one_line_and_exit_2(study, tmp_path, capsys):
    assert study.main(["--seeds", "1", "--ticks", "10", "--out", str(tmp_path),
                       "--set", "start_energy=900", "--set", "max_energy=50"]) == 2
    assert study.main(["--seeds", "1", "--ticks", "10", "--out", str(tmp_path),
                       "--set", "=3"]) == 2
    err = capsys.readouterr().err
    assert err.count("error: ") == 2 and "Traceback" not in err
    assert "max_energy must be at least start_energy" in err and "KEY=VALUE" in err
