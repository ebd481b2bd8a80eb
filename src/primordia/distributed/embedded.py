"""Everything on one machine: ``primordia evolve islands EXPERIMENT.toml`` runs the
coordinator in-process on an SQLite database in the run directory, serves its API on a
loopback port, and works its jobs with a worker whose islands run in one process per core
-- the same HTTP path, database and worker code as a distributed run. The workers are the
coordinator's own (registered ``local``), so their results need no replicas. Started again
on the same run directory, it resumes where it stopped. Killed, it takes its island processes
with it (they end with the process that started them, see children.py); SIGTERM stops it as
a second Ctrl-C does, after which it still writes the run's files."""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import uvicorn

from primordia.runs.rundir import RunDirectory

from . import report
from .coordinator import Coordinator
from .db import connect
from .experiment import ExperimentConfig
from .server import create_app
from .worker import TOKEN_ENV, work

DATABASE = "coordinator.db"


@dataclass
class Served:
    """A coordinator API served from a background thread on a loopback port."""

    server: uvicorn.Server
    thread: threading.Thread
    url: str

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def serve_in_thread(coordinator: Coordinator, host: str = "127.0.0.1", port: int = 0) -> Served:
    app = create_app(coordinator)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning",
                                           lifespan="on"))
    thread = threading.Thread(target=server.run, name="coordinator", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the coordinator's server did not start")
        time.sleep(0.02)
    bound = server.servers[0].sockets[0].getsockname()[1]
    return Served(server, thread, f"http://{host}:{bound}")


def run_embedded(exp: ExperimentConfig, out: Path, procs: int = 1, source_text: str = "",
                 on_status: Callable[[dict[str, Any]], None] = lambda s: None,
                 say: Callable[[str], None] = lambda s: None) -> dict[str, Any]:
    """Run (or resume) ``exp`` to its last generation in the run directory ``out``; its
    summary, with ``terminated`` (not in summary.json) set if SIGTERM stopped the run.
    ``on_status`` gets the coordinator's status about once a second."""
    rundir = RunDirectory(out)
    if source_text:
        rundir.write_text("experiment.toml", source_text)
    engine = connect(str(rundir.file(DATABASE)))
    coordinator = Coordinator(engine)
    eid = coordinator.start(exp)
    t0 = time.perf_counter()
    served = serve_in_thread(coordinator)
    _, token = coordinator.register("embedded", procs, local=True)
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            status = coordinator.status()
            on_status(status)
            mine = next(e for e in status["experiments"] if e["name"] == exp.name)
            if mine["status"] == "done":
                done.set()
                return
            done.wait(1.0)

    watcher = threading.Thread(target=watch, name="progress", daemon=True)
    watcher.start()
    os.environ[TOKEN_ENV] = token
    try:
        stats = work(served.url, procs=procs, name="embedded", say=say,
                     should_stop=done.is_set, wait=1.0)
    finally:
        os.environ.pop(TOKEN_ENV, None)
        done.set()
        watcher.join(timeout=5)
        served.stop()
    wall = time.perf_counter() - t0
    summary = write_run(rundir, engine, eid, exp)
    summary.update({"wall_seconds": round(wall, 3), "procs": procs, "islands_run": stats.done,
                    "islands_per_hour": round(stats.done * 3600 / wall) if wall > 0 else None})
    rundir.write_json("summary.json", summary)
    engine.dispose()
    summary["terminated"] = stats.terminated
    return summary


def write_run(rundir: RunDirectory, engine, eid: int, exp: ExperimentConfig) -> dict[str, Any]:
    """generations.csv, phylogeny.csv and the summary's content, from the database."""
    rows = report.generation_rows(engine, eid)
    rundir.write_csv("generations.csv", report.GENERATION_HEADER, rows)
    header, phylo = report.phylogeny(engine, eid)
    rundir.write_csv("phylogeny.csv", header, phylo)
    status = next(e for e in Coordinator(engine).status()["experiments"]
                  if e["name"] == exp.name)
    return {"experiment": exp.name, "seed": exp.seed, "world": exp.world, "brain": exp.brain,
            "status": status["status"], "generations": len(rows),
            "genomes": status["genomes"], "front": report.front(engine, eid)}
