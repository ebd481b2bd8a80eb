"""The WebSocket stream: a snapshot first, deltas at the requested rate until paused, Step
and SetFocus, errors that leave the connection usable, several sessions at once, tokens."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from primordia.web.app import create_app

from .wire import SMALL, apply, organisms

TOKEN = "stream-token"


@pytest.fixture
def client():
    with TestClient(create_app(snapshot_every=50)) as c:
        yield c


def new_session(client, world="hex", brain=None, headers=None) -> str:
    body = {"world": world, "config": SMALL[world], "seed": 3, "brain": brain}
    r = client.post("/v1/sessions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["payload"]["metadata"]["id"]


def recv(ws) -> tuple[str, dict]:
    m = ws.receive_json()
    assert m["protocol_version"] == 2
    return m["payload"]["type"], m["payload"]["data"]


def until(ws, kind: str) -> list[tuple[str, dict]]:
    """Messages up to and including the first of ``kind``."""
    out = []
    while True:
        out.append(recv(ws))
        if out[-1][0] == kind:
            return out


def follow(ws, n: int, known: int) -> list[int]:
    """Turns of the next ``n`` TickDeltas, each checked to follow the last turn the client
    knows -- from a delta, or from a snapshot that replaced deltas a slow client missed."""
    turns: list[int] = []
    while len(turns) < n:
        kind, data = recv(ws)
        if kind == "StateSnapshot":
            known = data["turn"]
        elif kind == "TickDelta":
            assert data["turn"] == known + 1
            known = data["turn"]
            turns.append(known)
    return turns


def ping(ws) -> list[tuple[str, dict]]:
    """Everything the server had queued before it answers a deliberately bad command."""
    ws.send_text("ping")
    got = until(ws, "Error")
    assert got[-1][1]["code"] == "bad_json"
    return got[:-1]


@pytest.mark.parametrize("world", ["hex", "sandbox"])
def test_the_first_message_is_a_snapshot_and_step_sends_count_deltas(client, world):
    sid = new_session(client, world)
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as ws:
        kind, snap = recv(ws)
        assert kind == "StateSnapshot" and snap["turn"] == 0 and snap["world"] == world
        ws.send_json({"type": "Step", "data": {"count": 6}})
        got = until(ws, "Metrics")
        deltas = [d for k, d in got if k == "TickDelta"]
        assert [d["turn"] for d in deltas] == [1, 2, 3, 4, 5, 6]
        assert got[-1][1]["turns"] == 6
        live, _, _ = apply(snap, deltas)
        state = client.get(f"/v1/sessions/{sid}/state").json()["payload"]
        assert live == organisms(state)


def test_start_streams_increasing_turns_and_pause_stops_them(client):
    sid = new_session(client)
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as ws:
        assert recv(ws)[0] == "StateSnapshot"
        ws.send_json({"type": "Start", "data": {"ticks_per_second": 500}})
        known = follow(ws, 12, known=0)[-1]
        assert client.get(f"/v1/sessions/{sid}").json()["payload"]["playing"] is True
        ws.send_json({"type": "Pause"})
        got = ping(ws)                      # the Pause is done once its ping is answered
        info = client.get(f"/v1/sessions/{sid}").json()["payload"]
        assert info["playing"] is False
        for _ in range(2):                  # what was queued, and a resync if one was due
            got += ping(ws)
        for kind, data in got:
            if kind in ("StateSnapshot", "TickDelta"):
                assert data["turn"] <= info["turn"]
                assert kind == "StateSnapshot" or data["turn"] == known + 1
                known = data["turn"]
        assert known == info["turn"]        # the client caught up, and nothing came after
        assert client.get(f"/v1/sessions/{sid}").json()["payload"]["turn"] == info["turn"]


def test_a_new_rate_replaces_the_old_one_without_a_second_clock(client):
    sid = new_session(client)
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as ws:
        recv(ws)
        ws.send_json({"type": "Start", "data": {"ticks_per_second": 50}})
        ws.send_json({"type": "Start", "data": {"ticks_per_second": 400}})
        follow(ws, 20, known=0)             # one clock: no turn twice
        ws.send_json({"type": "Pause"})


def test_set_focus_sends_the_organisms_brain_now_and_after_each_step(client):
    sid = new_session(client, "hex", "neural")
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as ws:
        _, snap = recv(ws)
        oid = snap["organisms"][0]["id"]
        ws.send_json({"type": "SetFocus", "data": {"organism_id": oid}})
        kind, focus = recv(ws)
        assert kind == "FocusBrain" and focus["organism_id"] == oid
        assert focus["brain"]["kind"] == "neural" and focus["brain"]["neurons"]
        ws.send_json({"type": "Step", "data": {"count": 1}})
        got = until(ws, "Metrics")
        assert [k for k, _ in got] == ["TickDelta", "FocusBrain", "Metrics"]
        assert got[1][1]["organism_id"] == oid and got[1][1]["turn"] == 1
        ws.send_json({"type": "SetFocus", "data": {"organism_id": None}})
        ws.send_json({"type": "Step", "data": {"count": 1}})
        assert [k for k, _ in until(ws, "Metrics")] == ["TickDelta", "Metrics"]


def test_focus_on_a_psil_brain_shows_its_disassembly_and_pc(client):
    sid = new_session(client, "sandbox", "psil")
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as ws:
        _, snap = recv(ws)
        ws.send_json({"type": "SetFocus", "data": {"organism_id": snap["organisms"][0]["id"]}})
        kind, focus = recv(ws)
        assert kind == "FocusBrain" and focus["brain"]["kind"] == "psil"
        assert focus["brain"]["lines"] and isinstance(focus["brain"]["pc"], int)


@pytest.mark.parametrize("text,code", [
    ("{not json", "bad_json"),
    ('{"type": "Jump"}', "unknown_command"),
    ('{"data": {}}', "unknown_command"),
    ('{"type": "Step", "data": {"count": 0}}', "bad_command"),
    ('{"type": "Step", "data": {"count": 1001}}', "bad_command"),
    ('{"type": "Start", "data": {"ticks_per_second": 0}}', "bad_command"),
    ('{"type": "Start", "data": {"ticks_per_second": "fast"}}', "bad_command"),
    ('{"type": "Start"}', "bad_command"),
    ('{"type": "SetFocus", "data": {"organism_id": 123456}}', "unknown_organism"),
    ('{"protocol_version": 1, "payload": {"type": "Pause"}}', "bad_version"),
    ("[1, 2]", "bad_command"),
    ("x" * 10_000, "too_large"),
])
def test_a_bad_command_gets_an_error_and_the_connection_stays_usable(client, text, code):
    sid = new_session(client)
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as ws:
        recv(ws)
        ws.send_text(text)
        kind, err = recv(ws)
        assert kind == "Error" and err["code"] == code and err["message"]
        ws.send_json({"protocol_version": 2, "payload": {"type": "Step", "data": {"count": 2}}})
        got = until(ws, "Metrics")
        assert [d["turn"] for k, d in got if k == "TickDelta"] == [1, 2]


def test_two_sessions_stream_at_once(client):
    a, b = new_session(client, "hex"), new_session(client, "sandbox")
    with client.websocket_connect(f"/v1/sessions/{a}/stream") as wa, \
            client.websocket_connect(f"/v1/sessions/{b}/stream") as wb:
        assert recv(wa)[1]["world"] == "hex" and recv(wb)[1]["world"] == "sandbox"
        for ws in (wa, wb):
            ws.send_json({"type": "Start", "data": {"ticks_per_second": 300}})
        for ws in (wa, wb):
            assert len(follow(ws, 5, known=0)) == 5
        for ws in (wa, wb):
            ws.send_json({"type": "Pause"})


def test_a_client_leaving_stops_nothing_for_the_others(client):
    sid = new_session(client)
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as watcher:
        recv(watcher)
        with client.websocket_connect(f"/v1/sessions/{sid}/stream") as driver:
            recv(driver)
            driver.send_json({"type": "Start", "data": {"ticks_per_second": 300}})
            until(driver, "TickDelta")
        follow(watcher, 10, known=0)             # the driver is gone; the clock goes on
        watcher.send_json({"type": "Pause"})
    assert client.get("/health").status_code == 200


def test_rest_steps_reach_stream_clients_and_a_snapshot_comes_every_n_turns(client):
    sid = new_session(client)
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as ws:
        recv(ws)
        client.post(f"/v1/sessions/{sid}/step", json={"count": 55})
        got = until(ws, "Metrics")
        assert [d["turn"] for k, d in got if k == "TickDelta"] == list(range(1, 56))
        snaps = [d for k, d in got if k == "StateSnapshot"]
        assert [s["turn"] for s in snaps] == [55]           # crossed turn 50
        client.post(f"/v1/sessions/{sid}/reset")
        kind, snap = recv(ws)
        assert kind == "StateSnapshot" and snap["turn"] == 0


def test_deleting_a_session_tells_its_clients_and_closes_the_stream(client):
    sid = new_session(client)
    with client.websocket_connect(f"/v1/sessions/{sid}/stream") as ws:
        recv(ws)
        client.delete(f"/v1/sessions/{sid}")
        kind, err = recv(ws)
        assert kind == "Error" and err["code"] == "session_deleted"
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_an_unknown_session_gets_an_error_and_a_close(client):
    with client.websocket_connect("/v1/sessions/nope/stream") as ws:
        kind, err = recv(ws)
        assert kind == "Error" and err["code"] == "unknown_session"
        with pytest.raises(WebSocketDisconnect):
            ws.receive_json()


def test_with_a_token_the_stream_needs_it_in_a_header_or_the_query():
    with TestClient(create_app(token=TOKEN)) as c:
        sid = new_session(c, headers={"Authorization": f"Bearer {TOKEN}"})
        url = f"/v1/sessions/{sid}/stream"
        for bad in (url, f"{url}?token=wrong"):
            with pytest.raises(WebSocketDisconnect):
                with c.websocket_connect(bad) as ws:
                    ws.receive_json()
        with c.websocket_connect(f"{url}?token={TOKEN}") as ws:
            assert recv(ws)[0] == "StateSnapshot"
        with c.websocket_connect(url, headers={"Authorization": f"Bearer {TOKEN}"}) as ws:
            assert recv(ws)[0] == "StateSnapshot"


def test_a_page_from_another_origin_cannot_open_the_stream(client):
    sid = new_session(client)
    url = f"/v1/sessions/{sid}/stream"
    with pytest.raises(WebSocketDisconnect):
        with client.websocket_connect(url, headers={"Origin": "http://evil.example"}) as ws:
            ws.receive_json()
    with client.websocket_connect(url, headers={"Origin": "http://testserver"}) as ws:
        assert recv(ws)[0] == "StateSnapshot"
