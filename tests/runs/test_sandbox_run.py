"""Runs end to end in memory and on disk: run directory files, recording, checkpoints, resume."""

from __future__ import annotations

import csv
import gzip
import json

import pytest

from primordia.brains.registry import SUBSTRATES
from primordia.core.errors import ConfigError, InputFileError
from primordia.runs.checkpoint import load_checkpoint
from primordia.runs.recorder import read_recording
from primordia.runs.sandbox_run import SandboxRun
from primordia.worlds.sandbox.config import SandboxConfig

from ..worlds.sandbox.conftest import ForagerSubstrate

@pytest.fixture(autouse=True)
def forager():
    """The test's own brain, registered while its tests run (other tests see Primordia's)."""
    SUBSTRATES.register("test-forager", ForagerSubstrate)
    yield
    SUBSTRATES.unregister("test-forager")


def make_run(tmp_path, ticks=120, **kw):
    cfg = SandboxConfig(npcs=16, ticks=ticks, seed=3, evolve_every=25)
    return SandboxRun(cfg, out=tmp_path / "run", brain="test-forager", timeline=10,
                      record_every=10, **kw)


def test_a_run_directory_holds_config_metrics_phylogeny_summary_and_recording(tmp_path):
    run = make_run(tmp_path)
    world = run.execute()
    d = tmp_path / "run"
    assert SandboxConfig.from_toml(d / "config.toml") == run.config
    rows = list(csv.DictReader(open(d / "metrics.csv")))
    assert [int(r["tick"]) for r in rows] == list(range(0, 121, 10))
    assert int(rows[-1]["alive"]) == int(world.state.alive.sum())
    phylo = list(csv.DictReader(open(d / "phylogeny.csv")))
    assert len(phylo) == world.next_id - 1 and phylo[0]["ancestor_list"] == "[none]"
    assert any(r["ancestor_list"].count(",") == 1 for r in phylo)     # GA children
    summary = json.loads((d / "summary.json").read_text())
    assert summary["state_hash"] == world.state_hash() and summary["ticks"] == 120
    assert summary["live_npc_ticks"] == world.live_npc_ticks > 0
    assert summary["wall_seconds"] > 0 and summary["jit_seconds"] > 0
    lines = list(read_recording(d / "record.jsonl.gz"))
    assert lines[0]["type"] == "header" and lines[0]["every_n"] == 10
    assert [f["t"] for f in lines[1:]] == list(range(0, 121, 10))
    assert [f["type"] for f in lines[1:3]] == ["full", "tick"]
    assert "gen" in lines[1]["npcs"][0] and "gen" not in lines[2]["npcs"][0]
    assert set(lines[2]["npcs"][0]) == {"id", "x", "y", "hp", "e", "it", "g", "a", "f", "s",
                                        "gl"}


def test_resume_from_a_checkpoint_ends_like_an_uninterrupted_run(tmp_path):
    whole = make_run(tmp_path / "a", ticks=150)
    whole.execute()
    part = make_run(tmp_path / "b", ticks=60, checkpoint_every=30)
    part.execute()
    more = SandboxRun.resume(tmp_path / "b" / "run", ticks=150)
    assert more.world.tick_no == 60
    more.execute()
    a = json.loads((tmp_path / "a" / "run" / "summary.json").read_text())
    b = json.loads((tmp_path / "b" / "run" / "summary.json").read_text())
    assert a["state_hash"] == b["state_hash"] and b["ticks"] == 150
    assert a["live_npc_ticks"] == b["live_npc_ticks"]
    for name in ("metrics.csv", "phylogeny.csv"):
        assert (tmp_path / "a" / "run" / name).read_text() == \
            (tmp_path / "b" / "run" / name).read_text()
    rec_a = list(read_recording(tmp_path / "a" / "run" / "record.jsonl.gz"))
    rec_b = list(read_recording(tmp_path / "b" / "run" / "record.jsonl.gz"))
    assert rec_a[1:] == rec_b[1:]                         # the header names the first plan


def test_resume_cuts_a_recording_back_to_its_checkpoint(tmp_path):
    run = make_run(tmp_path, ticks=40, checkpoint_every=20)
    run.execute()
    d = tmp_path / "run"
    _, meta = load_checkpoint(d / "checkpoint.npz")
    size = meta["record_bytes"]
    with open(d / "record.jsonl.gz", "ab") as f:       # frames a crashed run wrote later
        f.write(gzip.compress(b'{"type":"tick","t":999}\n'))
    SandboxRun.resume(d, ticks=50).execute()
    ticks = [f["t"] for f in list(read_recording(d / "record.jsonl.gz"))[1:]]
    assert ticks == list(range(0, 51, 10)) and size > 0


def test_resume_refuses_missing_or_damaged_checkpoints_and_going_back(tmp_path):
    with pytest.raises(InputFileError, match="no checkpoint"):
        SandboxRun.resume(tmp_path)
    run = make_run(tmp_path, ticks=30)
    run.execute()
    with pytest.raises(ConfigError, match="before the checkpoint"):
        SandboxRun.resume(tmp_path / "run", ticks=10)
    (tmp_path / "run" / "checkpoint.npz").write_bytes(b"PK\x03\x04 not really a zip")
    with pytest.raises(InputFileError, match="not a readable checkpoint"):
        SandboxRun.resume(tmp_path / "run")
