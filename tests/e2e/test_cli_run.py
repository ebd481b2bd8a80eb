"""`primordia run sandbox` and `primordia run --resume` as a user runs them."""

from __future__ import annotations

import csv
import io
import json

from .test_cli_psil import assert_user_error, cli


def test_run_sandbox_writes_a_run_directory_and_prints_a_summary(tmp_path):
    out = tmp_path / "run"
    r = cli("run", "sandbox", "--npcs", "30", "--ticks", "150", "--seed", "5",
            "--out", str(out), "--snap-every", "100", "--timeline", "50")
    assert r.returncode == 0, r.stderr
    for word in ("alive", "trades", "teaches", "attacks", "kills", "heals", "harvests",
                 "terraforms", "crafts", "gold", "Top NPCs", "best NPC", "Timeline",
                 "tick 100", "mean_fitness", "genome_mean"):
        assert word in r.stdout, word
    assert "@" in r.stdout                                  # the ASCII map shows NPCs
    for name in ("config.toml", "metrics.csv", "phylogeny.csv", "summary.json",
                 "record.jsonl.gz", "checkpoint.npz"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ticks"] == 150 and len(summary["state_hash"]) == 64
    assert summary["state_hash"][:32] in r.stdout
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(x["tick"]) for x in rows] == [0, 50, 100, 150]


def test_csv_goes_to_stdout_and_people_read_stderr(tmp_path):
    r = cli("run", "sandbox", "--npcs", "20", "--ticks", "40", "--timeline", "10", "--csv",
            "--out", str(tmp_path / "run"))
    assert r.returncode == 0, r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [int(x["tick"]) for x in rows] == [0, 10, 20, 30, 40]
    assert "Top NPCs" in r.stderr and "Top NPCs" not in r.stdout


def test_a_config_file_with_flags_on_top_and_resume_to_more_ticks(tmp_path):
    cfg = tmp_path / "exp.toml"
    cfg.write_text("npcs = 25\nseed = 11\nticks = 500\nevolve_every = 20\n")
    a, b = tmp_path / "a", tmp_path / "b"
    r = cli("run", "sandbox", "--config", str(cfg), "--ticks", "60", "--out", str(a))
    assert r.returncode == 0, r.stderr
    assert "ticks = 60" in (a / "config.toml").read_text()
    r = cli("run", "--resume", str(a), "--ticks", "100")
    assert r.returncode == 0, r.stderr and "resuming" in r.stdout
    r = cli("run", "sandbox", "--config", str(cfg), "--ticks", "100", "--out", str(b))
    assert r.returncode == 0, r.stderr
    ha = json.loads((a / "summary.json").read_text())["state_hash"]
    hb = json.loads((b / "summary.json").read_text())["state_hash"]
    assert ha == hb


def test_bad_settings_are_one_line_errors(tmp_path):
    assert_user_error(cli("run", "sandbox", "--npcs", "0", "--out", str(tmp_path / "x")),
                      "npcs")
    assert_user_error(cli("run", "sandbox", "--crossover", "sideways",
                          "--out", str(tmp_path / "x")), "crossover")
    bad = tmp_path / "bad.toml"
    bad.write_text("npcs = 20\ncolour = 'red'\n")
    assert_user_error(cli("run", "sandbox", "--config", str(bad)), "colour")
    bad.write_text("npcs = [")
    assert_user_error(cli("run", "sandbox", "--config", str(bad)), "TOML")
    assert_user_error(cli("run", "sandbox", "--config", str(tmp_path / "none.toml")),
                      "no such file")
    assert_user_error(cli("run", "--resume", str(tmp_path)), "checkpoint")
    assert_user_error(cli("run", "sandbox", "--ticks", "-3"), "ticks")
