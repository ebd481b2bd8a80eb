"""Benchmark ``primordia serve`` as a client sees it: turns per second streamed over the
WebSocket, and REST latency under many concurrent clients.

    python benchmarks/bench_serve.py                 # all the measurements
    python benchmarks/bench_serve.py --seconds 10 --clients 50 --json

It starts the real server (``primordia serve`` in a subprocess, uvicorn on a free port) and
talks to it over loopback like any client:

- stream, hex defaults (width 20, 200 organisms): one session, one WebSocket client that
  sends Start{ticks_per_second: 1000} (the protocol's maximum), lets 3 s pass (the server
  compiles or loads the world's kernels on its first turns) and counts the turns of the
  TickDelta messages it receives in the next ``--seconds``;
- stream, sandbox with 10,000 NPCs: the same;
- API latency: ``--clients`` concurrent HTTP clients (one connection each) for
  ``--seconds`` against five hex sessions, in two mixes: "read" (GET /v1/sessions/{id} and
  GET .../state, while the five sessions play at 20 turns/s to a WebSocket reader each: a
  room of dashboards watching) and "mixed" (those and POST .../step {count: 1}, while a
  sixth session streams at 60 turns/s). Each client sends ``--rates`` requests a second
  (4: a dashboard polling a few times a second; 0: flat out, the next request as soon as
  the last is answered, which measures throughput -- its latency is mostly queueing,
  clients / throughput). Reports requests/s and latency percentiles over all requests.
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


class RawClient:
    """HTTP/1.1 over one kept-alive connection, written out by hand: fifty httpx clients in
    one process cost more CPU than the server they measure on a two-core machine, and the
    time would be charged to the server. Reads whole responses (Content-Length)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    @classmethod
    async def open(cls, port: int) -> "RawClient":
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def request(self, method: str, path: str, body: dict | None = None) -> int:
        return (await self.call(method, path, body))[0]

    async def call(self, method: str, path: str, body: dict | None = None,
                   token: str | None = None) -> tuple[int, bytes]:
        """The status and body of one request (with a bearer ``token`` if given)."""
        data = orjson.dumps(body) if body is not None else b""
        head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        if token:
            head += f"Authorization: Bearer {token}\r\n"
        if body is not None:
            head += f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + data)
        headers = await self.reader.readuntil(b"\r\n\r\n")
        status = int(headers.split(b" ", 2)[1])
        length = 0
        for line in headers.lower().split(b"\r\n"):
            if line.startswith(b"content-length:"):
                length = int(line.split(b":", 1)[1])
        return status, await self.reader.readexactly(length)

    def close(self) -> None:
        self.writer.close()


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


async def api_latency(server: Server, clients: int, seconds: float, rate: float,
                      mix: str) -> dict:
    """REST latency with ``clients`` concurrent clients: each sends ``rate`` requests a second
    (0: the next as soon as the last is answered) to one of five hex sessions, cycling
    through GET /v1/sessions/{id} and GET .../state ("read"; the five sessions meanwhile play
    at 20 turns/s to a WebSocket reader each, so the state changes under the readers) or
    those and POST .../step {count: 1} ("mixed"; a sixth session streams at 60 turns/s)."""
    interval = 1.0 / rate if rate > 0 else 0.0
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as admin:
        sessions = [await create(admin, "hex", {}, seed=s) for s in range(5)]
        streamed = ([await create(admin, "hex", {}, seed=99)] if mix == "mixed" else sessions)
    stop = asyncio.Event()

    async def play(sid: str, tps: int) -> int:
        received = 0
        async with websockets.connect(ws_url(server, sid), max_size=None) as ws:
            await ws.recv()
            await ws.send(orjson.dumps({"type": "Start", "data": {"ticks_per_second": tps}}))
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
        calls = [("GET", f"/v1/sessions/{sid}", None), ("GET", f"/v1/sessions/{sid}/state", None)]
        if mix == "mixed":
            calls.append(("POST", f"/v1/sessions/{sid}/step", {"count": 1}))
        c = await RawClient.open(server.port)
        try:
            j = k
            due = time.perf_counter() + (k / clients) * interval     # spread the starts
            while not stop.is_set():
                if interval:
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    due += interval
                method, path, body = calls[j % len(calls)]
                j += 1
                t = time.perf_counter()
                status = await c.request(method, path, body)
                latencies.append(time.perf_counter() - t)
                if status >= 400:
                    errors += 1
        finally:
            c.close()

    tps = 60 if mix == "mixed" else 20
    players = [asyncio.create_task(play(sid, tps)) for sid in streamed]
    workers = [asyncio.create_task(one_client(k)) for k in range(clients)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*workers)
    background = sum(await asyncio.gather(*players))
    async with httpx.AsyncClient(base_url=server.url, timeout=120) as admin:
        for sid in set(sessions) | set(streamed):
            await admin.delete(f"/v1/sessions/{sid}")
    ms = sorted(x * 1e3 for x in latencies)

    def pct(p: float) -> float:
        return round(ms[min(len(ms) - 1, int(p / 100 * len(ms)))], 2)

    return {"mix": mix, "clients": clients, "rate_per_client": rate, "seconds": seconds,
            "requests": len(ms), "errors": errors,
            "requests_per_second": round(len(ms) / seconds, 1), "p50_ms": pct(50),
            "p90_ms": pct(90), "p99_ms": pct(99), "max_ms": round(ms[-1], 2),
            "background_stream_messages": background}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=10.0, help="Per measurement.")
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--rates", type=float, nargs="+", default=[4.0, 0.0],
                    help="Requests a second per API client; 0: as fast as answered.")
    ap.add_argument("--mixes", choices=("read", "mixed"), nargs="+", default=["read", "mixed"],
                    help="API requests: reads of playing sessions, or reads and steps.")
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
        for mix, rate in ([(m, r) for m in args.mixes for r in args.rates]
                          if "api" in args.only else []):
            rows.append(asyncio.run(api_latency(server, args.clients, args.seconds, rate,
                                                mix)))
            r = rows[-1]
            pace = f"{rate:g} req/s each" if rate else "flat out"
            print(f"API {mix}, {r['clients']} clients ({pace}): {r['requests_per_second']} "
                  f"req/s, "
                  f"p50 {r['p50_ms']} ms, p99 {r['p99_ms']} ms, max {r['max_ms']} ms, "
                  f"{r['errors']} errors", file=sys.stderr, flush=True)
    if args.json:
        print(json.dumps({"date": date.today().isoformat(), "machine": platform.processor()
                          or platform.machine(), "cpus": os.cpu_count(), "rows": rows},
                         indent=2))


if __name__ == "__main__":
    main()
