"""Sessions: every world with every brain it runs, deltas that rebuild the next snapshot,
the same state as the world run directly, reset and focus."""

from __future__ import annotations

import pytest

from primordia.brains.registry import SUBSTRATES
from primordia.runs.hex_run import HexRun
from primordia.runs.sandbox_run import SandboxRun
from primordia.http.errors import ApiError
from primordia.web.sessions import Session, describe_worlds
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.world import HexWorld
from primordia.worlds.sandbox.config import SandboxConfig
from primordia.worlds.sandbox.world import SANDBOX_IO

from .wire import SMALL, WORLD_BRAINS, apply, organisms, tiles


@pytest.mark.parametrize("world,brain", WORLD_BRAINS)
def test_deltas_applied_to_a_snapshot_give_the_later_snapshot(world, brain):
    s = Session(world, SMALL[world], seed=7, brain=brain)
    first = s.snapshot()
    deltas = s.step(30)
    later = s.snapshot()
    live, grid, turn = apply(first, deltas)
    assert turn == later["turn"] == 30
    assert live == organisms(later)
    assert grid == tiles(later)
    assert sum(len(d["removed"]) for d in deltas) > 0      # the check saw deaths ...
    assert sum(len(d["spawned"]) for d in deltas) > 0      # ... births
    assert sum(len(d["moves"]) for d in deltas) > 0        # ... and moves


@pytest.mark.parametrize("world,brain", WORLD_BRAINS)
def test_every_organism_carries_a_lineage_root_that_founders_start(world, brain):
    s = Session(world, SMALL[world], seed=3, brain=brain)
    first = {o["id"] for o in s.snapshot()["organisms"]}
    deltas = s.step(30)
    roots = {o["id"]: o["lineage"] for o in s.snapshot()["organisms"]}
    for oid in first & set(roots):
        assert roots[oid] == oid
    for d in deltas:
        for o in d["spawned"]:
            assert o["lineage"] == (o["id"] if o["parent"] < 0 else roots.get(o["id"],
                                                                              o["lineage"]))


def test_a_hex_session_is_the_hex_world_run_directly():
    cfg = dict(SMALL["hex"])
    s = Session("hex", cfg, seed=11, brain="neural")
    s.step(25)
    config = HexConfig(**cfg, seed=11)
    direct = HexWorld(config, HexRun.substrate(config))
    direct.run(25)
    assert s.state_hash() == direct.state_hash()


def test_a_sandbox_session_is_the_sandbox_run_directly():
    s = Session("sandbox", SMALL["sandbox"], seed=5, brain="neural")
    s.step(12)
    config = SandboxConfig(**SMALL["sandbox"], seed=5, brain={"kind": "neural"})
    direct = SandboxRun.build(config, SandboxRun.substrate(config))
    direct.run(12)
    assert s.state_hash() == direct.state_hash()


def test_reset_returns_to_turn_zero_and_the_same_seed_gives_the_same_world():
    s = Session("hex", SMALL["hex"], seed=2)
    start = s.state_hash()
    s.step(5)
    s.reset()
    assert s.turn == 0 and s.state_hash() == start
    s.reset(seed=3)
    assert s.config.seed == 3 and s.state_hash() != start


def test_focus_shows_a_neural_net_with_live_activations():
    s = Session("hex", SMALL["hex"], seed=4, brain="neural")
    s.step(2)
    oid = s.snapshot()["organisms"][0]["id"]
    view = s.focus(oid)
    assert view["organism_id"] == oid and view["organism"]["id"] == oid
    brain = view["brain"]
    assert brain["kind"] == "neural"
    kinds = {n["kind"] for n in brain["neurons"]}
    assert kinds >= {"sensory", "action"}
    ids = {n["id"] for n in brain["neurons"]}
    assert all(syn["pre"] in ids and syn["post"] in ids for syn in brain["synapses"])
    names = {n["name"] for n in brain["neurons"] if n["kind"] == "action"}
    assert names == {"move_forward", "turn_left", "turn_right"}
    assert all(-1.0 <= n["activation"] <= 1.0 for n in brain["neurons"] if n["kind"] != "sensory")


def test_focus_shows_a_psil_program_with_its_pc():
    s = Session("sandbox", SMALL["sandbox"], seed=4, brain="psil")
    s.step(2)
    oid = s.snapshot()["organisms"][0]["id"]
    brain = s.focus(oid)["brain"]
    assert brain["kind"] == "psil"
    assert brain["lines"] and brain["lines"][0]["addr"] == 0
    assert 0 <= brain["pc"] <= brain["code_bytes"]
    assert brain["status"] in ("running", "yielded", "halted", "failed")


def test_focus_on_no_living_organism_is_none():
    s = Session("hex", SMALL["hex"], seed=4)
    assert s.focus(10_000) is None


@pytest.mark.parametrize("kwargs,field", [
    ({"world": "mars"}, "world"),
    ({"world": "hex", "brain": "caldo"}, "brain"),
    ({"world": "hex", "config": {"world_width": 0}}, "config.world_width"),
    ({"world": "hex", "config": {"world_width": 100_000}}, "config.world_width"),
    ({"world": "hex", "config": {"wrold_width": 5}}, "config.wrold_width"),
    ({"world": "sandbox", "config": {"npcs": "many"}}, "config.npcs"),
    ({"world": "sandbox", "config": {"npcs": 50_000}}, "config.npcs"),
    ({"world": "hex", "config": {"num_organisms": 50, "world_width": 4}}, "config"),
])
def test_a_bad_session_request_names_its_field(kwargs, field):
    with pytest.raises(ApiError) as exc:
        Session(**kwargs)
    assert exc.value.status == 422 and exc.value.field == field
    assert exc.value.message.startswith(field)


def test_worlds_list_brains_and_knobs_with_defaults_and_bounds():
    d = describe_worlds()
    by_name = {w["name"]: w for w in d["worlds"]}
    assert set(by_name) == {"hex", "sandbox", "ecology"}
    hex_knobs = {k["name"]: k for k in by_name["hex"]["knobs"]}
    assert hex_knobs["world_width"] == {**hex_knobs["world_width"], "default": 20, "minimum": 1,
                                        "maximum": 512, "type": "integer"}
    assert hex_knobs["mutation_chance"]["maximum"] == 1 and "turns" not in hex_knobs
    psil_knobs = {k["name"]: k for k in by_name["sandbox"]["brain_knobs"]["psil"]}
    assert psil_knobs["crossover"]["choices"] == ["growth", "classic"]
    neural_knobs = {k["name"]: k for k in by_name["hex"]["brain_knobs"]["neural"]}
    assert neural_knobs["num_neurons"]["maximum"] == 32        # the server's cap
    assert "brain" not in hex_knobs and "num_neurons" not in hex_knobs
    assert by_name["hex"]["default_brain"] == "neural"
    assert by_name["sandbox"]["default_brain"] == "psil"
    assert by_name["ecology"]["default_brain"] == "wasm"
    eco_knobs = {k["name"]: k for k in by_name["ecology"]["knobs"]}
    assert eco_knobs["width"]["maximum"] == 1024 and "ticks" not in eco_knobs
    assert {b["name"] for b in d["brains"]} == {"neural", "psil", "mycos", "wasm"}


def test_a_snapshot_is_made_once_a_turn_and_never_outlives_a_step_or_reset():
    s = Session("hex", SMALL["hex"], seed=5)
    a = s.snapshot()
    assert s.snapshot() is a                       # polled again at the same turn: kept
    s.step(1)
    b = s.snapshot()
    assert b is not a and b["turn"] == 1
    s.reset(seed=6)                                # back to turn 0, another world
    c = s.snapshot()
    assert c["turn"] == 0 and c["rng_seed"] != a["rng_seed"]
    assert c == Session("hex", SMALL["hex"], seed=6).snapshot()
    s.reset(seed=5)
    assert s.snapshot() == a


def bins(values: list[int]) -> tuple[int, float, list[int]]:
    """The fitness histogram as the dashboard used to make it from its table."""
    lo, hi = min(values), max(values)
    n = hi - lo + 1 if hi - lo + 1 <= 24 else 24
    width = 1 if n == hi - lo + 1 else (hi - lo) / n
    counts = [0] * n
    for v in values:
        counts[min(n - 1, int((v - lo) / width))] += 1
    return lo, width, counts


@pytest.mark.parametrize("world,brain", WORLD_BRAINS)
def test_every_delta_carries_the_fitness_histogram_of_its_turn(world, brain):
    s = Session(world, SMALL[world], seed=6, brain=brain)
    measure = {"hex": "meals_eaten", "sandbox": "fitness", "ecology": "energy"}[world]
    seen = set()
    for _ in range(12):
        (d,) = s.step(1)
        values = [o[measure] for o in s.snapshot()["organisms"]]
        f = d["fitness"]
        assert f["measure"] == measure and sum(f["counts"]) == len(values)
        assert (f["lo"], f["width"], f["counts"]) == bins(values)
        assert s.snapshot()["fitness"] == f
        seen.add(tuple(f["counts"]))
    assert len(seen) > 1                     # it changes from turn to turn, between snapshots
