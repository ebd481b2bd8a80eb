"""`primordia serve` as a user starts it: a real uvicorn process that answers /health and runs
a session; and a refusal to listen beyond this machine without a token."""

from __future__ import annotations

import socket
import subprocess
import sys
import time

import httpx

from .test_cli_psil import assert_user_error, cli


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_health_and_runs_a_session_then_stops():
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "primordia.cli.main", "serve", "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120      # readiness wait, not a speed check
        while True:
            assert proc.poll() is None, proc.communicate()
            try:
                r = httpx.get(f"{base}/health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.2)
        assert r.status_code == 200 and r.json()["payload"]["status"] == "ok"
        r = httpx.post(f"{base}/v1/sessions", timeout=120,
                       json={"world": "hex", "config": {"world_width": 6, "num_organisms": 10}})
        assert r.status_code == 201, r.text
        sid = r.json()["payload"]["metadata"]["id"]
        r = httpx.post(f"{base}/v1/sessions/{sid}/step", json={"count": 3}, timeout=60)
        assert [d["turn"] for d in r.json()["payload"]["deltas"]] == [1, 2, 3]
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def test_serve_beyond_loopback_without_a_token_exits_2():
    r = cli("serve", "--host", "0.0.0.0")
    assert_user_error(r, "--token")
