"""`primordia run hex` as a user runs it: a run directory, a summary with sparklines, a
recording of every turn's delta that replays to the same state, resume, clear errors."""

from __future__ import annotations

import csv
import json

from primordia.runs.recorder import read_recording

from .test_cli_psil import assert_user_error, cli


def test_run_hex_writes_a_run_directory_and_a_replayable_recording(tmp_path):
    out = tmp_path / "run"
    r = cli("run", "hex", "--brain", "psil", "--turns", "120", "--seed", "5", "--out",
            str(out), "--timeline", "40", "--record-every", "50")
    assert r.returncode == 0, r.stderr
    for word in ("organisms", "meals", "starvations", "Most meals", "Timeline",
                 "max_generation", "organism-turns"):
        assert word in r.stdout, word
    for name in ("config.toml", "metrics.csv", "phylogeny.csv", "summary.json",
                 "record.jsonl.gz", "checkpoint.npz"):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["world"] == "hex" and summary["turns"] == 120
    assert summary["state_hash"][:32] in r.stdout
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert [int(x["turns"]) for x in rows] == [0, 40, 80, 120]
    lines = list(read_recording(out / "record.jsonl.gz"))
    assert lines[0]["type"] == "header" and lines[1]["type"] == "snapshot"
    deltas = [x for x in lines if x["type"] == "delta"]
    assert [d["t"] for d in deltas] == list(range(1, 121))
    # applying turns 1-100's deltas to the first snapshot gives the snapshot of turn 100
    live = {o["id"]: (o["q"], o["r"]) for o in lines[1]["data"]["organisms"]}
    for d in deltas[:100]:
        for oid in d["data"]["removed"]:
            del live[oid]
        for m in d["data"]["moves"]:
            if m["id"] in live:
                assert live[m["id"]] == tuple(m["from"])
                live[m["id"]] = tuple(m["to"])
        for o in d["data"]["spawned"]:
            live[o["id"]] = (o["q"], o["r"])
    snap = [x for x in lines if x["type"] == "snapshot" and x["t"] == 100][0]["data"]
    assert live == {o["id"]: (o["q"], o["r"]) for o in snap["organisms"]}
    phylo = list(csv.DictReader(open(out / "phylogeny.csv")))
    assert len(phylo) >= 200 and phylo[0]["ancestor_list"] == "[none]"


def test_resume_continues_to_the_same_state_as_one_run(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    r = cli("run", "hex", "--brain", "psil", "--turns", "40", "--seed", "8", "--width", "10",
            "--organisms", "30", "--out", str(a))
    assert r.returncode == 0, r.stderr
    r = cli("run", "--resume", str(a), "--turns", "90")
    assert r.returncode == 0, r.stderr
    assert "resuming" in r.stdout
    r = cli("run", "hex", "--brain", "psil", "--turns", "90", "--seed", "8", "--width", "10",
            "--organisms", "30", "--out", str(b))
    assert r.returncode == 0, r.stderr
    ha = json.loads((a / "summary.json").read_text())["state_hash"]
    hb = json.loads((b / "summary.json").read_text())["state_hash"]
    assert ha == hb
    deltas = [x for x in read_recording(a / "record.jsonl.gz") if x["type"] == "delta"]
    assert [d["t"] for d in deltas] == list(range(1, 91))      # cut back and appended


def test_bad_hex_settings_are_one_line_errors(tmp_path):
    assert_user_error(cli("run", "hex", "--width", "0", "--out", str(tmp_path / "x")),
                      "world_width")
    assert_user_error(cli("run", "hex", "--width", "3", "--organisms", "10",
                          "--out", str(tmp_path / "x")), "do not fit")
    assert_user_error(cli("run", "hex", "--brain", "crystal", "--out", str(tmp_path / "x")),
                      "brain: kind: 'crystal' is not a brain Primordia knows")
    bad = tmp_path / "bad.toml"
    bad.write_text("world_width = 10\nmutation_chance = 3\n")
    assert_user_error(cli("run", "hex", "--config", str(bad)), "mutation_chance")
