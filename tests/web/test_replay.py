"""Replaying recorded runs over REST: the runs under the root are listed, a page is the
nearest snapshot and the deltas after it (and applying them reaches the later snapshots of
the same recording), pages are size-limited, and no name opens anything outside the root."""

from __future__ import annotations

import gzip
import os

import pytest
from fastapi.testclient import TestClient

from primordia.runs.hex_run import HexRun
from primordia.web import replay
from primordia.web.app import create_app
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
    return runs


@pytest.fixture
def client(root):
    with TestClient(create_app(runs=root)) as c:
        yield c


def page(client, name, start, end=None):
    params = {"from": start} if end is None else {"from": start, "to": end}
    r = client.get(f"/v1/runs/{name}/recording", params=params)
    assert r.status_code == 200, r.text
    return r.json()["payload"]


def test_lists_runs_inside_the_root_only(client):
    body = client.get("/v1/runs").json()["payload"]
    assert body["enabled"] is True
    assert [r["name"] for r in body["runs"]] == ["nested/deep", "sandboxrun", "small"]
    assert all(r["recording_bytes"] > 0 for r in body["runs"])


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


def test_recordings_that_are_not_hex_deltas_are_422(client):
    r = client.get("/v1/runs/sandboxrun/recording")
    assert r.status_code == 422 and r.json()["error"]["code"] == "not_replayable"


def test_bad_query_is_422_naming_the_field(client):
    r = client.get("/v1/runs/small/recording", params={"from": -1})
    assert r.status_code == 422 and r.json()["error"]["field"] == "from"
