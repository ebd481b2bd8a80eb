"""Benchmark ``primordia serve`` as a client sees it: turns per second streamed over the
WebSocket, and REST latency under many concurrent clients.

    python benchmarks/bench_serve.py                 # all three measurements
    python benchmarks/bench_serve.py --seconds 10 --clients 50 --json

It starts the real server (``primordia serve`` in a subprocess, uvicorn on a free port) and
talks to it over loopback like any client:

- stream, hex defaults (width 20, 200 organisms): one session, one WebSocket client that
  sends Start{ticks_per_second: 1000} (the protocol's maximum), lets 3 s pass (the server
  compiles or loads the world's kernels on its first turns) and counts the turns of the
  TickDelta messages it receives in the next ``--seconds``;
- stream, sandbox with 10,000 NPCs: the same;
- API latency: ``--clients`` concurrent HTTP clients (one connection each) for
  ``--seconds``, each looping over GET /v1/sessions/{id}, GET .../state and POST .../step
  {count: 1} on one of five hex sessions, while a sixth session streams at 60 turns/s to a
  WebSocket reader. Reports requests/s and latency percentiles over all requests.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import httpx
import orjson
import websockets

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``primordia serve`` in a subprocess, stopped on exit."""

    def __init__(self, max_sessions: int = 16) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "primordia.cli.main", "serve", "--port", str(self.port),
             "--max-sessions", str(max_sessions)], env=env, stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError("primordia serve did not answer /health within 60 s")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()

    def __enter__(self) -> "Server":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


async def create(client: httpx.AsyncClient, world: str, config: dict, seed: int = 1) -> str:
    r = await client.post("/v1/sessions", json={"world": world, "config": config, "seed": seed})
    r.raise_for_status()
    return r.json()["payload"]["metadata"]["id"]


def ws_url(server: Server, sid: str) -> str:
    return f"ws://127.0.0.1:{server.port}/v1/sessions/{sid}/stream"


async def stream_rate(server: Server, world: str, config: dict, seconds: float,
                      warmup: float = 3.0, ticks_per_second: int = 1000) -> dict:
    """Turns a WebSocket client receives per second with the session playing flat out."""
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as client:
        sid = await create(client, world, config)
        async with websockets.connect(ws_url(server, sid), max_size=None) as ws:
            first = orjson.loads(await ws.recv())["payload"]
            assert first["type"] == "StateSnapshot", first["type"]
            await ws.send(orjson.dumps({"type": "Start",
                                        "data": {"ticks_per_second": ticks_per_second}}))
            turns, messages, nbytes, snapshots = [], 0, 0, 0
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < warmup:      # first turns compile kernels
                await ws.recv()
            t0 = time.perf_counter()
            while time.perf_counter() - t0 < seconds:
                raw = await ws.recv()
                nbytes += len(raw)
                msg = orjson.loads(raw)["payload"]
                messages += 1
                if msg["type"] == "TickDelta":
                    turns.append((time.perf_counter(), msg["data"]["turn"]))
                elif msg["type"] == "StateSnapshot":
                    snapshots += 1
            await ws.send(orjson.dumps({"type": "Pause"}))
        await client.delete(f"/v1/sessions/{sid}")
    if len(turns) < 2:
        raise RuntimeError(f"{world}: fewer than two turns streamed in {seconds} s")
    (ta, a), (tb, b) = turns[0], turns[-1]
    return {"world": world, "config": config, "seconds": round(tb - ta, 2),
            "turns": b - a, "turns_per_second": round((b - a) / (tb - ta), 1),
            "deltas_received": len(turns), "messages": messages, "snapshots": snapshots,
            "megabytes_per_second": round(nbytes / (tb - ta) / 1e6, 2)}


async def api_latency(server: Server, clients: int, seconds: float) -> dict:
    """REST latency with ``clients`` concurrent clients while another session streams."""
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as admin:
        sessions = [await create(admin, "hex", {}, seed=s) for s in range(5)]
        streamed = await create(admin, "hex", {}, seed=99)
    stop = asyncio.Event()

    async def background_stream() -> int:
        received = 0
        async with websockets.connect(ws_url(server, streamed), max_size=None) as ws:
            await ws.recv()
            await ws.send(orjson.dumps({"type": "Start", "data": {"ticks_per_second": 60}}))
            while not stop.is_set():
                try:
                    await asyncio.wait_for(ws.recv(), 0.5)
                    received += 1
                except asyncio.TimeoutError:
                    pass
        return received

    latencies: list[float] = []
    errors = 0

    async def one_client(k: int) -> None:
        nonlocal errors
        sid = sessions[k % len(sessions)]
        calls = [("GET", f"/v1/sessions/{sid}", None), ("GET", f"/v1/sessions/{sid}/state", None),
                 ("POST", f"/v1/sessions/{sid}/step", {"count": 1})]
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=server.url, timeout=30, limits=limits) as c:
            j = k
            while not stop.is_set():
                method, path, body = calls[j % 3]
                j += 1
                t = time.perf_counter()
                r = await c.request(method, path, json=body)
                latencies.append(time.perf_counter() - t)
                if r.status_code >= 400:
                    errors += 1

    streamer = asyncio.create_task(background_stream())
    workers = [asyncio.create_task(one_client(k)) for k in range(clients)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*workers)
    background = await streamer
    ms = sorted(x * 1e3 for x in latencies)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))], 2)

    return {"clients": clients, "seconds": seconds, "requests": len(ms), "errors": errors,
            "requests_per_second": round(len(ms) / seconds, 1), "p50_ms": pct(50),
            "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": round(ms[-1], 2),
            "background_stream_messages": background}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="Per measurement.")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--npcs", type=int, default=10_000, help="Sandbox population.")
    ap.add_argument("--only", choices=("hex", "sandbox", "api"), nargs="+",
                    default=["hex", "sandbox", "api"])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = []
    with Server() as server:
        if "hex" in args.only:
            rows.append(asyncio.run(stream_rate(server, "hex", {}, args.seconds)))
            print(f"stream, hex defaults: {rows[-1]['turns_per_second']} turns/s",
                  file=sys.stderr, flush=True)
        if "sandbox" in args.only:
            rows.append(asyncio.run(stream_rate(server, "sandbox", {"npcs": args.npcs},
                                                args.seconds)))
            print(f"stream, sandbox {args.npcs:,} NPCs: {rows[-1]['turns_per_second']} "
                  "ticks/s", file=sys.stderr, flush=True)
        if "api" in args.only:
            rows.append(asyncio.run(api_latency(server, args.clients, args.seconds)))
            r = rows[-1]
            print(f"API, {r['clients']} clients: {r['requests_per_second']} req/s, "
                  f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms, "
                  f"{r['errors']} errors", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"date": date.today().isoformat(), "machine": platform.processor()
                          or platform.machine(), "cpus": os.cpu_count(), "rows": rows},
                         indent=2))


if __name__ == "__main__":
    main()
