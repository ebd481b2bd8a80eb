"""The REST routes for both worlds and both brains, every refusal a 4xx naming the field,
the body limit, the session cap, the token, and the dashboard's mount."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from primordia.web.app import create_app

from .wire import SMALL, WORLD_BRAINS, apply, organisms

TOKEN = "s3cret-token"


@pytest.fixture
def client():
    with TestClient(create_app(max_sessions=3, max_body_bytes=4096)) as c:
        yield c


def create(client, world="hex", brain=None, seed=7, headers=None):
    body = {"world": world, "config": SMALL[world], "seed": seed}
    if brain:
        body["brain"] = brain
    r = client.post("/v1/sessions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    assert r.json()["protocol_version"] == 2
    return r.json()["payload"]


def error(r, status: int) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["protocol_version"] == 2
    return body["error"]


def test_health_says_ok(client):
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["payload"]["status"] == "ok"


@pytest.mark.parametrize("world,brain", WORLD_BRAINS)
def test_create_state_step_focus_reset_delete(client, world, brain):
    made = create(client, world, brain)
    meta, first = made["metadata"], made["snapshot"]
    sid = meta["id"]
    assert meta["world"] == world and meta["brain"] == brain and meta["config"]["seed"] == 7
    assert meta["created_at_unix_ms"] > 0
    assert first["turn"] == 0 and first["world"] == world and first["organisms"]
    assert first["grid"]["kind"] == ("hex" if world == "hex" else "square")

    info = client.get(f"/v1/sessions/{sid}").json()["payload"]
    assert info["metadata"] == meta and info["turn"] == 0 and info["playing"] is False
    assert client.get(f"/v1/sessions/{sid}/state").json()["payload"] == first

    r = client.post(f"/v1/sessions/{sid}/step", json={"count": 12})
    assert r.status_code == 200
    step = r.json()["payload"]
    assert [d["turn"] for d in step["deltas"]] == list(range(1, 13))
    live, _, turn = apply(first, step["deltas"])
    assert turn == step["snapshot"]["turn"] == 12
    assert live == organisms(step["snapshot"])
    for key in ("turns", "organisms", "births_last_turn", "deaths_last_turn"):
        assert key in step["deltas"][-1]["metrics"]

    oid = step["snapshot"]["organisms"][0]["id"]
    r = client.post(f"/v1/sessions/{sid}/focus", json={"organism_id": oid})
    assert r.status_code == 200
    focus = r.json()["payload"]
    assert focus["organism_id"] == oid and focus["brain"]["kind"] == brain

    r = client.post(f"/v1/sessions/{sid}/reset", json={"seed": 7})
    assert r.status_code == 200
    assert r.json()["payload"]["snapshot"] == first
    assert client.post(f"/v1/sessions/{sid}/reset").json()["payload"]["snapshot"] == first

    assert client.delete(f"/v1/sessions/{sid}").status_code == 200
    assert error(client.get(f"/v1/sessions/{sid}"), 404)["field"] == "session_id"


def test_a_session_stepped_over_rest_is_the_world_run_directly(client):
    from primordia.runs.hex_run import HexRun
    from primordia.worlds.hex.config import HexConfig
    from primordia.worlds.hex.world import HexWorld

    sid = create(client, "hex", "psil", seed=21)["metadata"]["id"]
    for count in (1, 7, 12):
        client.post(f"/v1/sessions/{sid}/step", json={"count": count})
    session = client.app.state.manager.get(sid).session
    config = HexConfig(**SMALL["hex"], seed=21, brain={"kind": "psil"})
    direct = HexWorld(config, HexRun.substrate(config))
    direct.run(20)
    assert session.turn == 20 and session.state_hash() == direct.state_hash()


def test_worlds_route_lists_worlds_brains_and_knobs(client):
    d = client.get("/v1/worlds").json()["payload"]
    assert [w["name"] for w in d["worlds"]] == ["hex", "sandbox", "ecology"]
    assert all(w["knobs"] and w["brains"] for w in d["worlds"])


@pytest.mark.parametrize("body,field", [
    ({"count": -1}, "count"),
    ({"count": 0}, "count"),
    ({"count": 1001}, "count"),
    ({"count": "5"}, "count"),
    ({"count": 2.5}, "count"),
    ({"count": True}, "count"),
    ({"steps": 5}, "steps"),
    ([5], "body"),
])
def test_a_bad_step_is_422_naming_the_field(client, body, field):
    sid = create(client)["metadata"]["id"]
    e = error(client.post(f"/v1/sessions/{sid}/step", json=body), 422)
    assert e["field"] == field and e["message"].startswith(field)


@pytest.mark.parametrize("body,field", [
    ({"world": "mars"}, "world"),
    ({"world": "hex", "brain": "crystal"}, "brain"),
    ({"world": 5}, "world"),
    ({"world": "hex", "config": {"world_width": -3}}, "config.world_width"),
    ({"world": "hex", "config": {"mutation_chance": 2}}, "config.mutation_chance"),
    ({"world": "sandbox", "config": {"crossover": "sideways"}}, "config.crossover"),
    ({"world": "hex", "config": []}, "config"),
    ({"world": "hex", "seed": -1}, "seed"),
    ({"world": "hex", "colour": "red"}, "colour"),
])
def test_a_bad_session_is_422_naming_the_field(client, body, field):
    e = error(client.post("/v1/sessions", json=body), 422)
    assert e["field"] == field and e["message"].startswith(field)


def test_malformed_json_is_422_naming_the_body(client):
    r = client.post("/v1/sessions", content=b"{world: hex",
                    headers={"content-type": "application/json"})
    assert error(r, 422)["field"] == "body"


def test_unknown_session_and_organism_are_404(client):
    for r in (client.get("/v1/sessions/nope"), client.get("/v1/sessions/nope/state"),
              client.post("/v1/sessions/nope/step", json={"count": 1}),
              client.post("/v1/sessions/nope/reset"),
              client.post("/v1/sessions/nope/focus", json={"organism_id": 1}),
              client.delete("/v1/sessions/nope")):
        assert error(r, 404)["code"] == "unknown_session"
    sid = create(client)["metadata"]["id"]
    e = error(client.post(f"/v1/sessions/{sid}/focus", json={"organism_id": 99_999}), 404)
    assert e["field"] == "organism_id"


def test_an_oversized_body_is_413_by_length_and_by_counted_bytes(client):
    big = {"world": "hex", "config": {"note": "x" * 5000}}
    assert error(client.post("/v1/sessions", json=big), 413)["field"] == "body"

    def chunks():                      # no Content-Length: the bytes are counted as they come
        yield b'{"world": "hex", "config": {"note": "'
        for _ in range(20):
            yield b"x" * 500
        yield b'"}}'

    r = client.post("/v1/sessions", content=chunks(),
                    headers={"content-type": "application/json"})
    assert error(r, 413)["code"] == "body_too_large"
    assert client.get("/health").json()["payload"]["sessions"] == 0


def test_the_session_cap_refuses_with_429_until_one_is_deleted(client):
    ids = [create(client)["metadata"]["id"] for _ in range(3)]
    e = error(client.post("/v1/sessions", json={"world": "hex", "config": SMALL["hex"]}), 429)
    assert e["code"] == "too_many_sessions"
    client.delete(f"/v1/sessions/{ids[0]}")
    create(client)
    listed = client.get("/v1/sessions").json()["payload"]["sessions"]
    assert len(listed) == 3


def test_with_a_token_every_route_but_health_needs_the_bearer_header():
    with TestClient(create_app(token=TOKEN)) as c:
        assert c.get("/health").status_code == 200
        body = {"world": "hex", "config": SMALL["hex"]}
        e = error(c.post("/v1/sessions", json=body), 401)
        assert e["field"] == "authorization"
        assert c.post("/v1/sessions", json=body).headers["www-authenticate"] == "Bearer"
        error(c.post("/v1/sessions", json=body, headers={"Authorization": "Bearer wrong"}), 401)
        error(c.post("/v1/sessions", json=body, headers={"Authorization": TOKEN}), 401)
        ok = {"Authorization": f"Bearer {TOKEN}"}
        sid = create(c, headers=ok)["metadata"]["id"]
        for path, payload in (("step", {"count": 1}), ("reset", None),
                              ("focus", {"organism_id": 0})):
            error(c.post(f"/v1/sessions/{sid}/{path}", json=payload), 401)
            assert c.post(f"/v1/sessions/{sid}/{path}", json=payload,
                          headers=ok).status_code == 200
        for path in ("/v1/worlds", "/v1/sessions", f"/v1/sessions/{sid}",
                     f"/v1/sessions/{sid}/state", "/v1/runs", "/v1/runs/any/recording"):
            error(c.get(path), 401)                       # reads too
            assert c.get(path, headers=ok).status_code in (200, 404), path
        error(c.delete(f"/v1/sessions/{sid}"), 401)
        assert c.delete(f"/v1/sessions/{sid}", headers=ok).status_code == 200


def test_the_dashboard_is_served_from_its_directory_only_when_it_has_an_index(tmp_path):
    with TestClient(create_app(static_dir=tmp_path)) as c:
        assert c.get("/").status_code == 404
    (tmp_path / "index.html").write_text("<title>Primordia</title>")
    (tmp_path / "app.js").write_text("export const x = 1;")
    with TestClient(create_app(static_dir=tmp_path)) as c:
        assert "Primordia" in c.get("/").text
        assert c.get("/app.js").text.startswith("export")
        assert c.get("/health").status_code == 200
        assert c.get("/v1/worlds").status_code == 200


def test_a_sandbox_too_small_for_its_npcs_is_a_422_not_a_crash(client):
    r = client.post("/v1/sessions", json={"world": "sandbox", "config": {"world": 3}})
    assert r.status_code == 422
    assert "npcs: 20 do not fit" in r.json()["error"]["message"]


@pytest.mark.parametrize("world,key,value", [("hex", "num_organisms", 65_537),
                                             ("hex", "brain.num_synapses", 100_000),
                                             ("hex", "brain.max_num_neurons", 1000),
                                             ("sandbox", "brain.max_num_neurons", 1000),
                                             ("sandbox", "max_genome", 65_536)])
def test_sizes_that_would_take_the_machine_are_refused(client, world, key, value):
    # a brain's settings are capped as the world's are ([brain] table, kind neural)
    table, _, name = key.rpartition(".")
    config = {table: {"kind": "neural", name: value}} if table else {key: value}
    if world == "hex":
        config["world_width"] = 512
    r = client.post("/v1/sessions", json={"world": world, "config": config})
    assert r.status_code == 422
    field = r.json()["error"]["field"]
    assert field.startswith(f"config.{table or name}") and field.endswith(name), field


@pytest.mark.parametrize("world", ["hex", "sandbox"])
def test_focus_names_ancestors_that_died_before_any_client_looked(client, world):
    """The session is stepped before anyone watches; the test keeps every birth and death it
    is told of, and the focus reply's chain matches them, dead ancestors included."""
    s = create(client, world, seed=4)
    sid = s["metadata"]["id"]
    parent, born, died = {}, {}, {}
    for o in s["snapshot"]["organisms"]:
        parent[o["id"]], born[o["id"]] = -1, 0
    for _ in range(4):
        r = client.post(f"/v1/sessions/{sid}/step", json={"count": 25})
        for d in r.json()["payload"]["deltas"]:
            for o in d["spawned"]:
                parent[o["id"]], born[o["id"]] = o["parent"], d["turn"]
            for oid in d["removed"]:
                died[oid] = d["turn"]
    living = {o["id"] for o in r.json()["payload"]["snapshot"]["organisms"]}
    # the living organism with the most ancestors that are dead by now
    def line(oid):
        out = []
        while parent.get(oid, -1) >= 0 and len(out) < 32:
            oid = parent[oid]
            out.append(oid)
        return out
    focus = max(living, key=lambda i: (sum(a in died for a in line(i)), len(line(i))))
    assert line(focus)
    if world == "hex":      # (the sandbox's elite parents tend to outlive a short test)
        assert any(a in died for a in line(focus)), "no ancestor died: the test shows nothing"
    r = client.post(f"/v1/sessions/{sid}/focus", json={"organism_id": focus})
    assert r.status_code == 200, r.text
    chain = r.json()["payload"]["ancestors"]
    assert [a["id"] for a in chain] == line(focus)
    for a in chain:
        assert a["born"] == born[a["id"]]
        assert a["alive"] == (a["id"] in living)
        assert a["died"] == (None if a["alive"] else died[a["id"]])
    assert r.json()["payload"]["older_ancestors"] is False
    # a stream client that connects now is told the same chain
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as ws:
        assert ws.receive_json()["payload"]["type"] == "StateSnapshot"
        ws.send_json({"type": "SetFocus", "data": {"organism_id": focus}})
        msg = ws.receive_json()["payload"]
        assert msg["type"] == "FocusBrain" and msg["data"]["ancestors"] == chain
