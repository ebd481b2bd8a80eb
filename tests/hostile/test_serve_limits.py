"""What one client can make ``primordia serve`` do: a step's work and reply are bounded by the
world's size, and sessions nobody uses expire, so a few abandoned ones cannot lock everyone
else out."""

from __future__ import annotations

import time

import pytest
from fastapi.testclient import TestClient

from primordia.web.app import create_app
from primordia.web.protocol import MAX_COUNT
from primordia.web.sessions import MAX_STEP_WORK

from .server import running_server


def _create(client, world, config, status=201):
    r = client.post("/v1/sessions", json={"world": world, "config": config, "seed": 1})
    assert r.status_code == status, r.text
    return r.json()["payload"]["metadata"] if status == 201 else r.json()["error"]


@pytest.mark.parametrize("world, config, population", [
    ("hex", {"world_width": 96, "num_organisms": 4096}, 4096),
    ("sandbox", {"npcs": 2048}, 2048),
])
def test_a_step_may_do_only_so_much_work(world, config, population):
    with TestClient(create_app()) as client:
        meta = _create(client, world, config)
        most = MAX_STEP_WORK // population
        assert meta["max_step"] == most < MAX_COUNT
        r = client.post(f"/v1/sessions/{meta['id']}/step", json={"count": most + 1})
        assert r.status_code == 409 and r.json()["error"]["code"] == "step_too_large"
        assert r.json()["error"]["field"] == "count"
        r = client.post(f"/v1/sessions/{meta['id']}/step", json={"count": 2})
        assert r.status_code == 200 and len(r.json()["payload"]["deltas"]) == 2


def test_a_small_world_steps_the_whole_protocol_count():
    with TestClient(create_app()) as client:
        meta = _create(client, "hex", {"world_width": 8, "num_organisms": 20})
        assert meta["max_step"] == MAX_COUNT


def test_the_stream_refuses_a_step_beyond_the_budget():
    with TestClient(create_app()) as client:
        meta = _create(client, "hex", {"world_width": 96, "num_organisms": 4096})
        with client.websocket_connect(f"/v1/sessions/{meta['id']}/stream") as ws:
            assert ws.receive_json()["payload"]["type"] == "StateSnapshot"
            ws.send_json({"type": "Step", "data": {"count": MAX_COUNT}})
            msg = ws.receive_json()["payload"]
            assert msg["type"] == "Error" and msg["data"]["code"] == "step_too_large", msg


def test_the_largest_world_a_request_may_ask_for_steps_in_bounded_memory():
    """The finding: 65,536 hex organisms stepped 1,000 turns took the server past 10 GB."""
    with running_server() as server:
        meta = server.post("/v1/sessions", {"world": "hex", "config": {
            "world_width": 512, "num_organisms": 65536}})["payload"]["metadata"]
        sid = meta["id"]
        assert meta["max_step"] == 4
        r = server.raw_post(f"/v1/sessions/{sid}/step", {"count": 1000})
        assert r.status_code == 409 and r.json()["error"]["code"] == "step_too_large"
        r = server.raw_post(f"/v1/sessions/{sid}/step", {"count": 4})
        assert r.status_code == 200 and len(r.content) < 40 << 20
        assert server.peak_rss_mb() < 3000


# ---- idle sessions ------------------------------------------------------------------------------

def test_an_idle_session_expires():
    with TestClient(create_app(idle_seconds=0.3)) as client:
        meta = _create(client, "hex", {"world_width": 6, "num_organisms": 4})
        deadline = time.monotonic() + 30
        while client.get("/v1/sessions").json()["payload"]["sessions"]:
            assert time.monotonic() < deadline, "the idle session was never expired"
            time.sleep(0.1)
        assert client.get(f"/v1/sessions/{meta['id']}").status_code == 404


def test_a_watched_session_does_not_expire():
    with TestClient(create_app(idle_seconds=0.3)) as client:
        meta = _create(client, "hex", {"world_width": 6, "num_organisms": 4})
        with client.websocket_connect(f"/v1/sessions/{meta['id']}/stream") as ws:
            ws.receive_json()
            time.sleep(1.0)
            ids = [s["metadata"]["id"] for s in
                   client.get("/v1/sessions").json()["payload"]["sessions"]]
            assert ids == [meta["id"]]


def test_when_full_the_longest_idle_session_gives_way():
    app = create_app(max_sessions=2)
    app.state.manager.give_way_seconds = 0.2
    with TestClient(app) as client:
        first = _create(client, "hex", {"world_width": 6, "num_organisms": 4})
        time.sleep(0.05)
        second = _create(client, "hex", {"world_width": 6, "num_organisms": 4})
        err = _create(client, "hex", {"world_width": 6, "num_organisms": 4}, status=429)
        assert err["code"] == "too_many_sessions"     # nobody has been idle long enough
        time.sleep(0.3)
        client.get(f"/v1/sessions/{second['id']}")    # the second is used again
        third = _create(client, "hex", {"world_width": 6, "num_organisms": 4})
        ids = {s["metadata"]["id"] for s in
               client.get("/v1/sessions").json()["payload"]["sessions"]}
        assert ids == {second["id"], third["id"]}
        assert client.get(f"/v1/sessions/{first['id']}").status_code == 404


def test_a_session_streams_to_a_bounded_number_of_clients_sharing_one_snapshot(monkeypatch):
    from primordia.web import manager as manager_module
    monkeypatch.setattr(manager_module, "MAX_CLIENTS", 3)
    app = create_app()
    with TestClient(app) as client:
        meta = _create(client, "hex", {"world_width": 6, "num_organisms": 4})
        url = f"/v1/sessions/{meta['id']}/stream"
        with client.websocket_connect(url) as a, client.websocket_connect(url) as b, \
                client.websocket_connect(url) as c:
            first = [ws.receive_text() for ws in (a, b, c)]
            assert first[0] == first[1] == first[2]
            session = app.state.manager.get(meta["id"]).session
            assert session.snapshot_message() is session.snapshot_message()   # one string
            with client.websocket_connect(url) as d:
                msg = d.receive_json()["payload"]
                assert msg["type"] == "Error" and msg["data"]["code"] == "too_many_clients"
