"""Replaying recorded runs over REST: the runs under the root are listed with their world, a
page is the nearest snapshot and the deltas after it (and applying them reaches the later
snapshots of the same recording), a sandbox run's frames are snapshots of the live shape with
no deltas between, pages are size-limited, broken recordings are a 422 naming the problem,
and no name opens anything outside the root."""

from __future__ import annotations

import gzip
import os
import subprocess
import sys

import orjson
import pytest
from fastapi.testclient import TestClient

from primordia.runs.hex_run import HexRun
from primordia.runs.recorder import read_recording
from primordia.web import replay
from primordia.web.app import create_app
from primordia.web.sessions import Session
from primordia.worlds.hex.config import HexConfig

from .wire import apply, organisms


@pytest.fixture(scope="module")
def root(tmp_path_factory):
    """runs/small (a hex run of 60 turns, snapshots every 20) and runs/nested/deep; outside/
    holds a run the server must never open."""
    base = tmp_path_factory.mktemp("replay")
    runs = base / "runs"
    cfg = HexConfig(world_width=6, num_organisms=16, turns_to_starve=4, turns=60, seed=9)
    HexRun(cfg, out=runs / "small", record_every=20).execute()
    HexRun(cfg, out=runs / "nested" / "deep", record_every=20).execute()
    HexRun(cfg, out=base / "outside", record_every=20).execute()
    (runs / "empty").mkdir()
    os.symlink(base / "outside", runs / "escape")
    (runs / "linked").mkdir()
    os.symlink(base / "outside" / "record.jsonl.gz", runs / "linked" / "record.jsonl.gz")
    (runs / "sandboxrun").mkdir()
    with gzip.open(runs / "sandboxrun" / "record.jsonl.gz", "wb") as f:
        f.write(b'{"type": "header", "world": "sandbox", "seed": 1}\n')
    # a sandbox run as a user makes it: 60 ticks, a frame every 10
    made = subprocess.run([sys.executable, "-m", "primordia.cli.main", "run", "sandbox",
                           *SANDBOX_ARGS, "--out", str(runs / "frames")],
                          capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    whole = (runs / "frames" / "record.jsonl.gz").read_bytes()
    (runs / "truncated").mkdir()
    (runs / "truncated" / "record.jsonl.gz").write_bytes(whole[: len(whole) // 2])
    lines = list(read_recording(runs / "frames" / "record.jsonl.gz"))
    broken = {"badgrid": {**lines[3], "grid": "AAAA"},
              "nokey": {k: v for k, v in lines[3].items() if k != "npcs"},
              "stranger": {"type": "delta", "t": 1}}
    made = subprocess.run([sys.executable, "-m", "primordia.cli.main", "run", "ecology",
                           *ECOLOGY_ARGS, "--out", str(runs / "ecoframes")],
                          capture_output=True, text=True, timeout=600)
    assert made.returncode == 0, made.stderr
    eco = list(read_recording(runs / "ecoframes" / "record.jsonl.gz"))
    broken["ecobadres"] = {**eco[2], "resource": "AAAA"}
    broken["ecostranger"] = {"type": "delta", "t": 1}
    (runs / "mycos").mkdir()
    with gzip.open(runs / "mycos" / "record.jsonl.gz", "wb") as f:
        f.write(b'{"type": "header", "world": "mycos"}\n')
    for name, bad in broken.items():
        (runs / name).mkdir()
        with gzip.open(runs / name / "record.jsonl.gz", "wb") as f:
            for line in [*(eco if name.startswith("eco") else lines)[:3], bad]:
                f.write(orjson.dumps(line) + b"\n")
    return runs


SANDBOX_ARGS = ["--npcs", "20", "--ticks", "60", "--seed", "3", "--record-every", "10",
                "--timeline", "30"]
ECOLOGY_ARGS = ["--width", "20", "--height", "16", "--organisms", "50", "--ticks", "40",
                "--seed", "4", "--record-every", "10", "--brain", "neural"]


@pytest.fixture
def client(root):
    with TestClient(create_app(runs=root)) as c:
        yield c


def page(client, name, start, end=None):
    params = {"from": start} if end is None else {"from": start, "to": end}
    r = client.get(f"/v1/runs/{name}/recording", params=params)
    assert r.status_code == 200, r.text
    return r.json()["payload"]


def test_lists_runs_inside_the_root_only_with_their_world(client):
    body = client.get("/v1/runs").json()["payload"]
    assert body["enabled"] is True
    assert [r["name"] for r in body["runs"]] == [
        "badgrid", "ecobadres", "ecoframes", "ecostranger", "frames", "mycos", "nested/deep",
        "nokey", "sandboxrun", "small", "stranger", "truncated"]
    assert all(r["recording_bytes"] > 0 for r in body["runs"])
    worlds = {r["name"]: r["world"] for r in body["runs"]}
    assert worlds["small"] == worlds["nested/deep"] == "hex"
    assert worlds["frames"] == worlds["truncated"] == "sandbox"
    assert worlds["mycos"] == "mycos"


def test_without_runs_folder_nothing_is_listed_or_opened():
    with TestClient(create_app()) as c:
        assert c.get("/v1/runs").json()["payload"] == {"enabled": False, "runs": []}
        r = c.get("/v1/runs/small/recording")
        assert r.status_code == 404 and r.json()["error"]["code"] == "no_runs"


def test_page_is_the_nearest_snapshot_then_deltas_up_to_the_turn(client):
    p = page(client, "small", 45, 45)
    assert p["header"]["world"] == "hex" and p["header"]["every_n"] == 20
    assert (p["first_turn"], p["last_turn"]) == (0, 60)
    assert p["snapshot"]["turn"] == 40
    assert p["snapshot"]["grid"] == {"kind": "hex", "width": 6, "height": 6, "coords": ["q", "r"]}
    assert [d["turn"] for d in p["deltas"]] == list(range(41, 46))
    assert p["to"] == 45 and p["more"] is False
    assert all("lineage" in o for o in p["snapshot"]["organisms"])


def test_deltas_from_a_snapshot_reach_the_next_snapshot(client):
    start = page(client, "small", 0, 40)
    live, _, turn = apply(start["snapshot"], start["deltas"])
    assert turn == 40
    assert live == organisms(page(client, "small", 40)["snapshot"])
    # lineage roots carried by births match those of the later snapshot
    born = {o["id"]: o["lineage"] for d in start["deltas"] for o in d["spawned"]}
    later = {o["id"]: o["lineage"] for o in page(client, "small", 40)["snapshot"]["organisms"]}
    assert all(later[i] == born[i] for i in later if i in born)


def test_turns_out_of_range_are_clamped(client):
    p = page(client, "small", 10_000)
    assert p["snapshot"]["turn"] == 60 and p["deltas"] == [] and p["to"] == 60
    assert page(client, "small", 5, 2)["to"] == 5


def test_pages_are_size_limited(client, monkeypatch):
    monkeypatch.setattr(replay, "MAX_PAGE_DELTAS", 7)
    p = page(client, "small", 0, 60)
    assert len(p["deltas"]) == 7 and p["to"] == 7 and p["more"] is True


def test_nested_run_names_work(client):
    assert page(client, "nested/deep", 0)["snapshot"]["turn"] == 0


@pytest.mark.parametrize("name", ["..", "../outside", "small/../../outside", "%2e%2e/outside",
                                  "small/..", "./small", "a\\..\\b", "small//x"])
def test_names_climbing_out_are_refused(client, root, name):
    # over HTTP (clients and the router may normalise the path first: never a 200 outside)
    r = client.get(f"/v1/runs/{name}/recording")
    if r.status_code == 200:
        assert r.json()["payload"]["header"]["seed"] == 9 and name == "./small"
    else:
        assert r.status_code in (400, 404), r.text
    # and the name itself, as the route hands it over
    with pytest.raises(replay.ApiError) as exc:
        replay.RunLibrary(root).resolve(name.replace("%2e", "."))
    assert exc.value.status == 400 and exc.value.field == "name"


def test_absolute_paths_are_refused(client, root):
    for name in ["/etc", f"/{root.parent}/outside", "//etc/passwd"]:
        r = client.get(f"/v1/runs/{name}/recording")
        assert r.status_code in (400, 404), (name, r.text)
    assert replay.RunLibrary(root).resolve("small").is_file()
    with pytest.raises(replay.ApiError) as exc:
        replay.RunLibrary(root).resolve(str(root.parent / "outside"))
    assert exc.value.status == 400


def test_symlinks_out_of_the_root_are_refused(client):
    for name in ["escape", "linked"]:
        r = client.get(f"/v1/runs/{name}/recording")
        assert r.status_code == 400, r.text
        assert r.json()["error"]["code"] == "bad_run_name"


def test_unknown_and_empty_runs_are_404(client):
    for name in ["nope", "empty"]:
        r = client.get(f"/v1/runs/{name}/recording")
        assert r.status_code == 404 and r.json()["error"]["code"] == "unknown_run"


def test_sandbox_frames_are_snapshots_of_the_live_shape_without_deltas(client, root):
    p = page(client, "frames", 25, 35)
    assert p["header"]["world"] == "sandbox" and p["header"]["every_n"] == 10
    assert (p["first_turn"], p["last_turn"]) == (0, 60)
    assert p["snapshot"]["turn"] == 20 and p["deltas"] == [] and p["to"] == 35
    assert p["next_snapshot"] == 30 and p["steps_by"] == "snapshot"
    snap = p["snapshot"]
    assert snap["grid"] == {"kind": "square", "width": 32, "height": 32, "coords": ["x", "y"]}
    frame = next(x for x in read_recording(root / "frames" / "record.jsonl.gz")
                 if x.get("t") == 20)
    assert {o["id"]: (o["x"], o["y"], o["health"], o["fitness"]) for o in snap["organisms"]} \
        == {n["id"]: (n["x"], n["y"], n["hp"], n["f"]) for n in frame["npcs"]}
    # every field a live sandbox organism has; what frames do not record is null
    live = Session("sandbox", {"npcs": 8}, seed=1).snapshot()
    assert set(live) <= set(snap) and set(live["terrain"]) == set(snap["terrain"])
    assert set(live["organisms"][0]) <= set(snap["organisms"][0])
    o = snap["organisms"][0]
    assert o["heading"] is None and o["hunger"] is None and o["parent"] is None
    assert len(snap["terrain"]["tiles"]) == 32 * 32
    assert snap["fitness"]["measure"] == "fitness"
    assert sum(snap["fitness"]["counts"]) == len(snap["organisms"])


def test_a_sandbox_frame_is_the_live_world_at_that_tick(client):
    """Frame 0 of `primordia run sandbox` and a live session of the same config agree."""
    first = page(client, "frames", 0)["snapshot"]
    live = Session("sandbox", {"npcs": 20}, seed=3, brain="psil").snapshot()
    keys = ("id", "x", "y", "health", "energy", "gold", "item", "fitness")
    assert [[o[k] for k in keys] for o in first["organisms"]] \
        == [[o[k] for k in keys] for o in live["organisms"]]
    assert first["terrain"]["tiles"] == live["terrain"]["tiles"]


@pytest.mark.parametrize("start,shown,after", [(0, 0, 10), (9, 0, 10), (10, 10, 20),
                                               (39, 30, 40), (60, 60, None),
                                               (10_000, 60, None)])
def test_seeking_a_sandbox_replay_shows_the_frame_at_or_before(client, start, shown, after):
    p = page(client, "frames", start)
    assert p["snapshot"]["turn"] == shown and p["next_snapshot"] == after
    assert p["deltas"] == []


def test_hex_pages_say_they_step_by_deltas(client):
    p = page(client, "small", 0)
    assert p["steps_by"] == "delta" and p["next_snapshot"] == 20


@pytest.mark.parametrize("name,words", [
    ("truncated", ["not a readable recording", "record.jsonl.gz"]),
    ("badgrid", ["line 4", "3 tiles, not 32 x 32"]),
    ("nokey", ["line 4", "npcs"]),
    ("stranger", ["line 4", "type", "'tick' or 'full'", "delta"]),
    ("sandboxrun", ["line 1", "npcs: Field required"]),      # a header that lacks its fields
])
def test_broken_sandbox_recordings_are_422_naming_the_problem(client, root, name, words):
    r = client.get(f"/v1/runs/{name}/recording")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "not_replayable" and err["field"] == "name"
    for word in words:
        assert word in err["message"], err["message"]
    assert str(root) not in err["message"]                  # no server paths in the reply


def test_an_ecology_frame_is_the_live_world_at_that_tick(client):
    """Frame 0 of `primordia run ecology` and a live session of the same config agree on the
    organisms a frame records and on every tile; frames step by snapshot."""
    p = page(client, "ecoframes", 0)
    assert p["steps_by"] == "snapshot" and p["next_snapshot"] == 10 and p["last_turn"] == 40
    first = p["snapshot"]
    config = {"width": 20, "height": 16, "num_organisms": 50, "brain": {"kind": "neural"}}
    live = Session("ecology", config, seed=4, brain="neural").snapshot()
    keys = ("id", "x", "y", "energy", "lineage", "generation")
    assert [[o[k] for k in keys] for o in first["organisms"]] \
        == [[o[k] for k in keys] for o in live["organisms"]]
    assert first["terrain"] == live["terrain"]
    assert first["organisms"][0]["kills"] is None          # not recorded: null
    later = page(client, "ecoframes", 25)["snapshot"]
    assert later["turn"] == 20 and later["metrics"]["ticks"] == 20


@pytest.mark.parametrize("name,words", [
    ("ecobadres", ["line 4", "resource"]),
    ("ecostranger", ["line 4", "type", "delta"]),
])
def test_broken_ecology_recordings_are_422_naming_the_problem(client, name, words):
    r = client.get(f"/v1/runs/{name}/recording")
    assert r.status_code == 422, r.text
    err = r.json()["error"]
    assert err["code"] == "not_replayable"
    for word in words:
        assert word in err["message"], err["message"]


def test_recordings_of_other_worlds_are_422(client):
    r = client.get("/v1/runs/mycos/recording")
    assert r.status_code == 422 and "primordia run hex|sandbox" in r.json()["error"]["message"]


def test_bad_query_is_422_naming_the_field(client):
    r = client.get("/v1/runs/small/recording", params={"from": -1})
    assert r.status_code == 422 and r.json()["error"]["field"] == "from"
