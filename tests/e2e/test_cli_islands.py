"""`primordia evolve islands` and `primordia islands status` as a user runs them: a run
directory with the coordinator's database, generations, phylogeny and a summary; a second
run on the same directory resumes (and finds nothing left to do); clear errors."""

from __future__ import annotations

import csv
import json

from .test_cli_psil import assert_user_error, cli

TINY = """
name = "tiny"
seed = 4
world = "hex"
brain = "neural"
generations = 2
pool = 6
islands = 3
founders = 3
copies = 2
length = 40
sample = 2
[world_config]
num_organisms = 30
world_width = 10
"""


def test_evolve_islands_runs_an_experiment_into_a_run_directory(tmp_path):
    exp = tmp_path / "tiny.toml"
    exp.write_text(TINY)
    out = tmp_path / "run"
    r = cli("evolve", "islands", str(exp), "--out", str(out), "--procs", "1")
    assert r.returncode == 0, r.stderr
    assert "tiny: 2 generations, 6 islands" in r.stderr
    for name in ("coordinator.db", "experiment.toml", "generations.csv", "phylogeny.csv",
                 "summary.json"):
        assert (out / name).is_file(), name
    rows = list(csv.DictReader(open(out / "generations.csv")))
    assert [int(x["generation"]) for x in rows] == [0, 1]
    assert all(int(x["verified"]) == 3 and int(x["ranked"]) == 6 for x in rows)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "done" and summary["front"]
    assert all(len(bytes.fromhex(g["genome_hex"])) > 0 for g in summary["front"])
    phylo = list(csv.DictReader(open(out / "phylogeny.csv")))
    assert len(phylo) == summary["genomes"]
    assert any(p["ancestor_list"] != "[none]" for p in phylo)      # bred genomes link back
    # run again: the experiment is done, nothing more is run, the bank is unchanged
    again = cli("evolve", "islands", str(exp), "--out", str(out), "--procs", "1")
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "summary.json").read_text())["genomes"] == summary["genomes"]
    status = cli("islands", "status", "--db", str(out / "coordinator.db"), "--json")
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["experiments"][0]["status"] == "done"
    assert data["workers"][0]["local"] is True


def test_islands_errors_are_one_line(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(TINY.replace("pool = 6", "pool = 60"))
    assert_user_error(cli("evolve", "islands", str(bad)), "cover the pool")
    bad.write_text(TINY.replace("num_organisms = 30", "num_organisms = 3"))
    assert_user_error(cli("evolve", "islands", str(bad)), "founders x copies")
    bad.write_text(TINY.replace('brain = "neural"', 'brain = "crystal"'))
    assert_user_error(cli("evolve", "islands", str(bad)), "brain")
    bad.write_text(TINY + "\nticks = 5\n")
    assert_user_error(cli("evolve", "islands", str(bad)), "ticks")
    assert_user_error(cli("evolve", "islands", str(tmp_path / "none.toml")), "no such file")
    assert_user_error(cli("islands", "status"), "--db or --server")
    assert_user_error(cli("islands", "status", "--db", str(tmp_path / "none.db")),
                      "no such database")
    assert not (tmp_path / "none.db").exists()
    assert_user_error(cli("coordinator", "--host", "0.0.0.0", "--db", str(tmp_path / "c.db")),
                      "--token")
    assert_user_error(cli("coordinator", "--processes", "2", "--db", str(tmp_path / "c.db")),
                      "one writer")
    assert not (tmp_path / "c.db").exists()


def test_wasm_brains_evolve_in_islands(tmp_path):
    """IR genomes travel as their canonical bytes: bred, run by workers, banked."""
    exp = tmp_path / "wasm.toml"
    exp.write_text(TINY.replace('brain = "neural"', 'brain = "wasm"'))
    out = tmp_path / "run"
    r = cli("evolve", "islands", str(exp), "--out", str(out), "--procs", "1")
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "done" and summary["front"]
    assert all(bytes.fromhex(g["genome_hex"]).startswith(b"PWIR") for g in summary["front"])
