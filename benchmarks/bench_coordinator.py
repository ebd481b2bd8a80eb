"""Benchmark the island coordinator as its workers see it.

    python benchmarks/bench_coordinator.py                      # everything
    python benchmarks/bench_coordinator.py --backends sqlite --seconds 10 --json
    python benchmarks/bench_coordinator.py --skip-islands       # only the round trips

- round trips: ``primordia coordinator`` in a subprocess (uvicorn on a free port) over an
  SQLite file or a PostgreSQL server this script starts (as the tests do), with one
  experiment of many small islands. ``--workers`` simulated workers (one kept-alive
  HTTP/1.1 connection each, in one asyncio process) register, claim, then loop as
  ``primordia worker`` does: post the results of their jobs, asking in the same request
  for as many new jobs (``--separate-claims``: claim in a request of its own instead). A
  round trip is one job claimed plus its result accepted. ``--batches``: jobs a worker
  holds at once (a worker with that many processes). ``--coordinator-processes``: server
  processes of the coordinator on PostgreSQL. The results are well-formed
  outcomes made up from the job (no world runs), so this measures the coordinator: HTTP,
  validation, the claim and the decision transactions, replication included (new
  workers' results are re-run by another worker until they are trusted, as in a real
  start).
- islands per hour: ``primordia evolve islands examples/islands-sandbox.toml`` end to end
  on this machine (coordinator, database and a worker with one process per core, real
  sandbox islands), read from its summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import httpx
import orjson

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "benchmarks"), str(ROOT)]

from bench_serve import RawClient, free_port  # noqa: E402

EXPERIMENT = """
name = "bench"
seed = 1
world = "sandbox"
brain = "psil"
generations = 2
pool = 16
islands = {islands}
founders = 2
copies = 1
length = 10
sample = 0
[world_config]
npcs = 8
world = 8
[leases]
seconds = 600
"""


class Coordinator:
    """``primordia coordinator`` in a subprocess, stopped on exit."""

    def __init__(self, db: str, experiment: Path, processes: int = 1) -> None:
        self.log = experiment.with_name("coordinator.log")
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        env = dict(os.environ, PYTHONPATH=str(ROOT / "src"))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "primordia.cli.main", "coordinator", "--db", db,
             "--port", str(self.port), "--experiment", str(experiment),
             "--processes", str(processes)],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log.open("wb"))
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.log.read_text())
            try:
                if httpx.get(self.url + "/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("the coordinator did not start")

    def stop(self) -> str:
        """Stop it; what it logged (a healthy run logs nothing)."""
        self.proc.terminate()
        self.proc.wait(timeout=30)
        return self.log.read_text()


def outcome_for(job: dict) -> dict:
    """A well-formed outcome of ``job`` (every lineage present, counts in range)."""
    spec = job["spec"]
    return {"world": spec["world"], "length": spec["length"], "population": 1,
            "state_hash": "0" * 64, "sample": [],
            "lineages": [{"founder": fid, "organisms": spec["copies"], "survivors": 0,
                          "lifetime": 3, "net_energy": 1, "offspring": 0, "area": 2,
                          "interactions": 0}
                         for fid in sorted(f["id"] for f in spec["founders"])]}


async def simulated_worker(port: int, name: str, until: float, counts: dict,
                           batch: int, separate: bool) -> None:
    """Register, claim up to ``batch`` jobs, then post their results asking for as many
    new jobs in the same request (as ``primordia worker`` does), until the time is up.
    ``separate``: claim in a request of its own every time instead."""
    client = await RawClient.open(port)
    status, body = await client.call("POST", "/v1/workers", {"name": name, "procs": batch})
    token = orjson.loads(body)["token"]
    jobs: list = []
    while time.perf_counter() < until:
        t0 = time.perf_counter()
        if not jobs:
            status, body = await client.call("POST", "/v1/jobs/claim",
                                             {"wait": 0, "max_jobs": batch}, token)
            jobs = orjson.loads(body)["jobs"] if status == 200 else []
        if not jobs:
            counts["empty"] += 1
            await asyncio.sleep(0.05)
            continue
        items = [{"lease_id": j["lease_id"], "fence": j["fence"], "outcome": outcome_for(j)}
                 for j in jobs]
        request = {"results": items}
        if not separate:
            request["claim"] = {"wait": 0, "max_jobs": batch}
        status, body = await client.call("POST", "/v1/results", request, token)
        reply = orjson.loads(body) if status == 200 else {"results": [], "jobs": []}
        ok = sum(r["accepted"] for r in reply["results"])
        if time.perf_counter() < until:
            counts["trips"] += ok
            counts["latency"].append(time.perf_counter() - t0)
        counts["errors"] += len(jobs) - ok
        jobs = reply["jobs"]


async def round_trips(port: int, workers: int, seconds: float, warmup: float,
                      batch: int, separate: bool = False) -> dict:
    counts = {"trips": 0, "empty": 0, "errors": 0, "latency": []}
    start = time.perf_counter()
    until = start + warmup + seconds
    tasks = [asyncio.create_task(simulated_worker(port, f"sim{k}", until, counts, batch,
                                                  separate))
             for k in range(workers)]
    await asyncio.sleep(warmup)                 # registrations and first claims
    before = counts["trips"]
    counts["latency"].clear()
    await asyncio.gather(*tasks)
    lat = sorted(counts["latency"])
    pick = (lambda q: round(lat[min(len(lat) - 1, int(q * len(lat)))] * 1000, 1)) \
        if lat else (lambda q: None)
    return {"round_trips_per_second": round((counts["trips"] - before) / seconds, 1),
            "p50_ms": pick(0.50), "p99_ms": pick(0.99), "empty_claims": counts["empty"],
            "errors": counts["errors"]}


def bench_backend(backend: str, workers: int, seconds: float, warmup: float,
                  batches: list[int], separate: bool, processes: int = 1) -> list[dict]:
    with tempfile.TemporaryDirectory() as tmp:
        exp = Path(tmp) / "bench.toml"
        exp.write_text(EXPERIMENT.format(islands=40_000))
        pg = None
        if backend == "sqlite":
            db = str(Path(tmp) / "coordinator.db")
        else:
            from tests.distributed import pg as pgmod
            bindir = pgmod.find_bindir()
            if bindir is None:
                raise SystemExit("PostgreSQL is not installed")
            pg = pgmod.start(bindir)
            db = pg.url(pg.create_database())
        processes = processes if backend == "postgresql" else 1
        server = Coordinator(db, exp, processes)
        rows = []
        try:
            for batch in batches:
                row = asyncio.run(round_trips(server.port, workers, seconds, warmup, batch,
                                              separate))
                rows.append({"backend": backend, "workers": workers, "batch": batch,
                             "claims": "separate" if separate else "with results",
                             "processes": processes,
                             "seconds": seconds, **row})
        finally:
            log = server.stop()
            if pg is not None:
                pg.stop()
        if log.strip():
            print(f"{backend}: the coordinator logged:\n{log[-3000:]}", file=sys.stderr)
    return rows


def islands_per_hour(procs: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "primordia.cli.main", "evolve", "islands",
                        str(ROOT / "examples" / "islands-sandbox.toml"), "--out", str(out),
                        "--procs", str(procs), "--quiet"], check=True,
                       env=dict(os.environ, PYTHONPATH=str(ROOT / "src")))
        wall = time.perf_counter() - t0
        summary = json.loads((out / "summary.json").read_text())
    return {"experiment": "examples/islands-sandbox.toml", "procs": procs,
            "islands": summary["islands_run"], "seconds_in_run": summary["wall_seconds"],
            "seconds_with_start": round(wall, 1),
            "islands_per_hour": summary["islands_per_hour"]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    ap.add_argument("--workers", type=int, default=200)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warmup", type=float, default=3.0)
    ap.add_argument("--batches", type=int, nargs="+", default=[1, 8],
                    help="Jobs a simulated worker claims (and reports) per request.")
    ap.add_argument("--coordinator-processes", type=int, default=1,
                    help="Server processes of the coordinator on PostgreSQL "
                    "(primordia coordinator --processes); SQLite always has one.")
    ap.add_argument("--separate-claims", action="store_true",
                    help="Claim in a request of its own, not with the results.")
    ap.add_argument("--procs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-islands", action="store_true")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    rows = [r for b in args.backends
            for r in bench_backend(b, args.workers, args.seconds, args.warmup, args.batches,
                                   args.separate_claims, args.coordinator_processes)]
    for r in rows:
        print(f"{r['backend']:>10}: {r['round_trips_per_second']:8.1f} round trips/s with "
              f"{r['workers']} workers, {r['batch']} per request, claims "
              f"{r['claims']}, {r['processes']} coordinator process(es) (p50 {r['p50_ms']} ms, "
              f"p99 {r['p99_ms']} ms; "
              f"{r['empty_claims']} empty claims, {r['errors']} errors)")
    islands = None if args.skip_islands else islands_per_hour(args.procs)
    if islands:
        print(f"islands/hour: {islands['islands_per_hour']:,} ({islands['islands']} islands "
              f"of {islands['experiment']} in {islands['seconds_in_run']} s, "
              f"{islands['procs']} processes)")
    if args.json:
        print(json.dumps({"date": date.today().isoformat(), "machine": platform.processor()
                          or platform.machine(), "cpus": os.cpu_count(),
                          "round_trips": rows, "islands": islands}, indent=1))


if __name__ == "__main__":
    main()
