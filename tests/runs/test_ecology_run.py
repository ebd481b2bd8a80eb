"""An ecology run keeps the run-directory contract: config.toml, metrics.csv, a recording,
a checkpoint, phylogeny.csv and summary.json with the state hash -- and a run resumed from a
checkpoint ends exactly where the straight run ends."""

from __future__ import annotations

import csv
import gzip
import json

import numpy as np
import pytest

from primordia.core.errors import ConfigError
from primordia.runs.ecology_run import EcologyRun
from primordia.worlds.ecology.config import EcologyConfig


def config(**overrides) -> EcologyConfig:
    return EcologyConfig(**{**EcologyRun.SMALL, "ticks": 30, "seed": 5, **overrides,
                            "brain": {"kind": overrides.pop("brain", "neural")}})


def test_a_run_writes_its_directory(tmp_path):
    run = EcologyRun(config(), out=tmp_path, record_every=10, timeline=10)
    world = run.execute()
    names = {p.name for p in tmp_path.iterdir()}
    assert {"config.toml", "metrics.csv", "record.jsonl.gz", "checkpoint.npz",
            "phylogeny.csv", "summary.json"} <= names
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["world"] == "ecology" and summary["ticks"] == 30
    assert summary["state_hash"] == world.state_hash()
    lines = [json.loads(x) for x in gzip.open(tmp_path / "record.jsonl.gz", "rt")]
    assert lines[0]["type"] == "header" and lines[0]["world"] == "ecology"
    assert [x["t"] for x in lines[1:]] == [0, 10, 20, 30]
    assert len(lines[-1]["organisms"]) == world.population
    rows = list(csv.DictReader(open(tmp_path / "phylogeny.csv")))
    born = int(world.state.totals[0]) + int(world.state.totals[7])   # births + placed
    assert len(rows) == born and rows[0]["ancestor_list"] == "[none]"
    children = [r for r in rows if r["ancestor_list"] != "[none]"]
    assert len(children) == int(world.state.totals[0]) > 0
    dead = [r for r in rows if r["destruction_time"]]
    assert len(dead) == int(world.state.totals[1])
    samples = list(csv.DictReader(open(tmp_path / "metrics.csv")))
    assert [int(s["ticks"]) for s in samples] == [0, 10, 20, 30]


@pytest.mark.parametrize("brain", ["neural", "wasm"])
def test_a_resumed_run_ends_where_the_straight_run_ends(tmp_path, brain):
    straight = EcologyRun(config(brain=brain), out=tmp_path / "a").execute()
    half = EcologyRun(config(brain=brain, ticks=12), out=tmp_path / "b", record_every=5)
    half.execute()
    resumed = EcologyRun.resume(tmp_path / "b", 30)
    world = resumed.execute()
    assert world.state_hash() == straight.state_hash()
    assert (tmp_path / "b" / "phylogeny.csv").read_text() \
        == (tmp_path / "a" / "phylogeny.csv").read_text()


def test_a_checkpoint_from_another_config_is_refused_in_one_line(tmp_path):
    EcologyRun(config(ticks=5), out=tmp_path).execute()
    text = (tmp_path / "config.toml").read_text().replace("seed = 5", "seed = 6")
    (tmp_path / "config.toml").write_text(text)
    with pytest.raises(ConfigError, match="the map is the one the config and seed make") \
            as err:
        EcologyRun.resume(tmp_path)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("brain", ["neural", "wasm"])
def test_a_checkpoint_whose_genome_sizes_lie_is_refused_in_one_line(tmp_path, brain):
    """Upkeep is charged by genome size: a sealed checkpoint that understates one is
    refused, naming the slot, for nets (packed size) and IR genomes (encoded length)."""
    from primordia.runs.checkpoint import load_checkpoint, save_checkpoint

    EcologyRun(config(brain=brain, ticks=5), out=tmp_path).execute()
    path = tmp_path / "checkpoint.npz"
    arrays, meta = load_checkpoint(path)
    slot = int(np.flatnonzero(arrays["state.alive"])[0])
    arrays["state.genome_bytes"] = sizes = arrays["state.genome_bytes"].copy()
    sizes[slot] -= 1
    meta.pop("digest", None)
    save_checkpoint(path, arrays, meta)
    with pytest.raises(ConfigError, match=rf"state.genome_bytes\[{slot}\]") as err:
        EcologyRun.resume(tmp_path)
    assert "\n" not in str(err.value)


def test_the_recording_keeps_its_schema_and_crafted_lines_break_it(tmp_path):
    from primordia.runs.recording_schema import (ECOLOGY_RECORDING, ecology_header_problem)

    EcologyRun(config(ticks=12), out=tmp_path, record_every=4).execute()
    lines = [json.loads(x) for x in gzip.open(tmp_path / "record.jsonl.gz", "rt")]
    fmt = ECOLOGY_RECORDING
    header = fmt.header.validate_python(lines[0])
    assert ecology_header_problem(header) is None
    frames = [fmt.line.validate_python(x) for x in lines[1:]]
    assert [f.t for f in frames] == [0, 4, 8, 12]
    assert all(fmt.problem(header, f) is None for f in frames)

    frame = dict(lines[-1])
    frame["organisms"] = [[1, 24, 0, 5, 1, 0]] + frame["organisms"]
    assert "off the 24 x 24 map" in fmt.problem(header, fmt.line.validate_python(frame))
    frame = dict(lines[-1], resource="!!")
    assert fmt.problem(header, fmt.line.validate_python(frame)) == "resource is not base64"
    bad = fmt.header.validate_python(dict(lines[0], kinds="AAAA"))
    assert ecology_header_problem(bad) == "kinds holds 3 tiles, not 24 x 24"
    with pytest.raises(Exception, match="energy|organisms"):
        fmt.line.validate_python(dict(lines[-1], organisms=[[1, 2, 3, "4", 5, 6]]))
