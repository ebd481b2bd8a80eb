"""What every world promises with every brain, checked over the registries: for each
registered world and brain that can live in it, a run is a function of its seed, a
checkpoint resumes bit for bit, a recording replays, a live session is served as its
published schema says, and an island runs deterministically. The ring world of
``tests/contract/ring.py`` is registered here and nowhere else, and passes the same tests:
adding a world is one package and one registration."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pydantic import TypeAdapter

from primordia.brains.registry import SUBSTRATES
from primordia.cli.main import main
from primordia.core.rng import DrawStream, Rng, stream_id
from primordia.runs.island import IslandSpec, run_island
from primordia.runs.recorder import read_recording
from primordia.web.app import create_app
from primordia.web.replay import load
from primordia.web.replies import world_replies
from primordia.worlds.registry import WORLDS

from ..web.wire import apply, organisms, tiles
from . import ring

BRAINS = [name for name in SUBSTRATES.names() if not name.startswith("test-")]
"""The brains Primordia registers (other tests add their own, for their own use)."""
KINDS = {kind.name: kind for kind in [*WORLDS.kinds(), ring.RING]}
"""The registered worlds, and the ring world, registered while this module's tests run."""
PAIRS = [(world, brain) for world, kind in KINDS.items() for brain in BRAINS
         if kind.run_class.refusal(brain) is None]
TICKS = 100


@pytest.fixture(scope="module", autouse=True)
def ring_world():
    """The ring world is registered for these tests only (other tests see the built-in
    worlds, as a user without the ring world does)."""
    ring.register()
    yield
    WORLDS.unregister(ring.NAME)


def small(world: str, ticks: int = TICKS, seed: int = 5):
    kind = WORLDS.get(world)
    return kind.config_class.build({**kind.run_class.SMALL, "seed": seed,
                                    kind.length_key: ticks})


def without(value, key: str):
    """``value`` with ``key`` taken out of every mapping in it."""
    if isinstance(value, dict):
        return {k: without(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [without(v, key) for v in value]
    return value


def test_every_world_runs_every_brain():
    # no world refuses a brain today; a refusal would be one line here, said by the world
    assert {(w, b) for w in WORLDS.names() for b in BRAINS} == set(PAIRS)
    assert {"hex", "sandbox", "ring"} <= set(WORLDS.names())


@pytest.mark.parametrize("world,brain", PAIRS)
def test_deltas_applied_to_a_snapshot_give_the_later_snapshot(world, brain):
    with TestClient(create_app(static_dir=None)) as client:
        r = client.post("/v1/sessions", json={"world": world, "brain": brain, "seed": 4,
                                              "config": dict(KINDS[world].run_class.SMALL)})
        first = r.json()["payload"]["snapshot"]
        sid = r.json()["payload"]["metadata"]["id"]
        r = client.post(f"/v1/sessions/{sid}/step", json={"count": 20})
        later = r.json()["payload"]
        live, grid, turn = apply(first, later["deltas"])
        assert turn == later["snapshot"]["turn"] == 20
        assert live == organisms(later["snapshot"]) and grid == tiles(later["snapshot"])


def test_the_ring_world_lives_only_in_the_tests():
    kind = WORLDS.get("ring")
    for part in (kind.run_class, kind.adapter_class, kind.replay_reader):
        assert not part.__module__.startswith("primordia"), part


@pytest.mark.parametrize("world,brain", PAIRS)
def test_a_run_is_a_function_of_its_seed(world, brain):
    run_class = WORLDS.get(world).run_class
    hashes = {run_class(small(world), brain=brain).execute().state_hash() for _ in range(2)}
    assert len(hashes) == 1
    other = run_class(small(world, seed=6), brain=brain).execute().state_hash()
    assert other not in hashes


@pytest.mark.parametrize("world,brain", PAIRS)
def test_a_resumed_run_ends_where_an_unbroken_one_does(world, brain, tmp_path):
    run_class = WORLDS.get(world).run_class
    whole = run_class(small(world), out=tmp_path / "whole", brain=brain, record_every=10)
    whole.execute()
    part = run_class(small(world, ticks=60), out=tmp_path / "part", brain=brain,
                     record_every=10)
    part.execute()
    resumed = run_class.resume(tmp_path / "part", TICKS)
    assert resumed.brain == brain and resumed.position() == 60
    resumed.execute()
    assert resumed.world.state_hash() == whole.world.state_hash()
    assert resumed.samples == whole.samples
    # the same lines, but for the run's length where the recording repeats its config
    length = WORLDS.get(world).length_key
    assert [without(x, length) for x in read_recording(tmp_path / "part" / "record.jsonl.gz")] \
        == [without(x, length) for x in read_recording(tmp_path / "whole" / "record.jsonl.gz")]


@pytest.mark.parametrize("world,brain", PAIRS)
def test_a_recording_replays(world, brain, tmp_path):
    run_class = WORLDS.get(world).run_class
    run_class(small(world, ticks=40), out=tmp_path, brain=brain, record_every=10).execute()
    rec = load(tmp_path / "record.jsonl.gz")
    assert rec.header["world"] == world
    assert rec.first == 0 and rec.last == 40
    page = rec.page(0, 40)
    assert page["snapshot"]["world"] == world and page["snapshot"]["organisms"]


@pytest.mark.parametrize("world,brain", PAIRS)
def test_a_session_is_served_as_its_schema_says(world, brain):
    replies = world_replies()
    with TestClient(create_app(static_dir=None)) as client:
        r = client.post("/v1/sessions", json={"world": world, "brain": brain,
                                              "config": dict(WORLDS.get(world).run_class.SMALL),
                                              "seed": 3})
        assert r.status_code == 201, r.text
        created = TypeAdapter(replies.session).validate_python(r.json()["payload"])
        sid = created.metadata.id
        assert created.metadata.world == world and created.metadata.brain == brain
        r = client.post(f"/v1/sessions/{sid}/step", json={"count": 3})
        assert r.status_code == 200, r.text
        stepped = TypeAdapter(replies.stepped).validate_python(r.json()["payload"])
        assert [d.turn for d in stepped.deltas] == [1, 2, 3]
        first = stepped.snapshot.organisms[0].id
        r = client.post(f"/v1/sessions/{sid}/focus", json={"organism_id": first})
        assert r.status_code == 200, r.text
        TypeAdapter(replies.focus).validate_python(r.json()["payload"])
        r = client.get("/v1/worlds")
        assert world in [w["name"] for w in r.json()["payload"]["worlds"]]


@pytest.mark.parametrize("world,brain", PAIRS)
def test_an_island_runs_the_same_everywhere(world, brain):
    config = small(world).replace(brain={"kind": brain})
    substrate = WORLDS.get(world).run_class.substrate(config)
    rng = Rng(11)
    genomes = [substrate.random(DrawStream(rng, stream_id("contract"), 0, k), 128)
               for k in range(2)]
    kind = WORLDS.get(world)
    spec = IslandSpec.build({
        "world": world, "brain": brain, "seed": 9, "length": 30, "sample": 4,
        "config": {k: v for k, v in kind.run_class.SMALL.items()},
        "founders": [{"id": k + 1, "genome": substrate.encode(g).hex()}
                     for k, g in enumerate(genomes)]})
    outcome = run_island(spec)
    assert outcome == run_island(spec)
    assert outcome.world == world and [s.founder for s in outcome.lineages] == [1, 2]
    assert all(s.organisms >= 1 for s in outcome.lineages)


def test_the_command_line_runs_and_resumes_a_registered_world(tmp_path, capsys):
    out = tmp_path / "run"
    with pytest.raises(SystemExit) as done:
        main(["run", "ring", "--ticks", "30", "--cells", "40", "--brain", "neural",
              "--out", str(out)])
    assert done.value.code in (0, None)
    printed = capsys.readouterr().out
    assert "ring: 30 ticks, neural brains" in printed and "state hash" in printed
    with pytest.raises(SystemExit) as done:
        main(["run", "--resume", str(out), "--ticks", "50"])
    assert done.value.code in (0, None)
    assert "resuming" in capsys.readouterr().out
    assert Path(out / "summary.json").is_file()
