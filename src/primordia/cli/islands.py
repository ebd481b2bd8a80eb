"""``primordia coordinator``, ``primordia worker`` and ``primordia islands status``: island
evolution spread over machines (``primordia evolve islands`` runs it all on one)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console
from rich.table import Table

from primordia.core.errors import ConfigError
from primordia.http.options import host_option, port_option, token_option

app = typer.Typer(help="Island experiments: status of a coordinator.", no_args_is_help=True)


def coordinator(
    db: str = typer.Option("coordinator.db", "--db", help="SQLite path, or a URL such as "
                           "postgresql+psycopg://user@host/db."),
    experiment: list[Path] = typer.Option([], "--experiment", help="Experiment TOML to "
                                          "start (or resume); repeatable."),
    host: str = host_option(),
    port: int = port_option(8100),
    token: Optional[str] = token_option("Admission token workers register with (and "
                                        "/v1/status needs)."),
    processes: int = typer.Option(1, "--processes", help="Server processes sharing the "
                                  "port and the database (PostgreSQL only): the API's "
                                  "throughput grows with the cores they get."),
) -> None:
    """Run a coordinator: hand island jobs to workers, verify, select, breed."""
    from primordia.distributed.coordinator import Coordinator
    from primordia.distributed.db import connect, database_url
    from primordia.distributed.experiment import load_experiment
    from primordia.distributed.server import create_app
    from primordia.http.listening import check_address, listening_socket

    check_address(host, port, token, "workers then register with it")
    if not 1 <= processes <= 64:
        raise ConfigError("--processes must be in 1..64")
    if processes > 1 and not database_url(db).startswith("postgresql"):
        raise ConfigError("--processes: SQLite has one writer at a time, so one process "
                          "serves it best; several need a postgresql+psycopg:// database")
    configs = [load_experiment(p) for p in experiment]
    sock = listening_socket(host, port) if processes == 1 else None
    engine = connect(db)
    co = Coordinator(engine)
    for cfg in configs:
        co.start(cfg)
    import uvicorn

    if sock is not None:
        port = sock.getsockname()[1]               # port 0: the one the kernel chose
    banner = (f"primordia coordinator: http://{host}:{port} on "
              f"{engine.url.render_as_string()}"
              + (f", {processes} processes" if processes > 1 else "")
              + " (Ctrl-C stops; the database keeps everything)")
    if processes == 1:
        typer.echo(banner)
        config = uvicorn.Config(create_app(co, admission_token=token), log_level="warning")
        uvicorn.Server(config).run(sockets=[sock])
        return
    from primordia.distributed.processes import serve_processes
    url = engine.url.render_as_string(hide_password=False)
    engine.dispose()                    # each process opens its own connections
    serve_processes(url, token, host, port, processes, on_ready=lambda: typer.echo(banner))


def worker(
    server: str = typer.Option(..., "--server", help="The coordinator's URL."),
    token: Optional[str] = token_option("The coordinator's admission token."),
    procs: int = typer.Option(1, "--procs", help="Islands run at once (processes)."),
    name: Optional[str] = typer.Option(None, "--name", help="Name shown in the status."),
    max_jobs: Optional[int] = typer.Option(None, "--max-jobs", help="Stop after this many."),
    idle_exit: Optional[float] = typer.Option(None, "--idle-exit", help="Stop after this "
                                              "many seconds without a job."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress lines."),
) -> None:
    """Work island jobs for a coordinator until Ctrl-C (once: finish, twice: release) or
    SIGTERM (release; exit code 143)."""
    from primordia.distributed.worker import work

    if not 1 <= procs <= 1024:
        raise ConfigError("--procs must be in 1..1024")
    console = Console(stderr=True, highlight=False)
    stats = work(server, admission=token, procs=procs, name=name, max_jobs=max_jobs,
                 idle_exit=idle_exit, say=(lambda s: None) if quiet else console.print)
    console.print(f"worker: {stats.done} islands done, {stats.refused} refused, "
                  f"{stats.dropped} dropped" + (" (terminated)" if stats.terminated else ""))
    if stats.terminated:
        raise typer.Exit(143)               # 128 + SIGTERM, as if the signal had ended it


@app.command()
def status(
    db: Optional[str] = typer.Option(None, "--db", help="Read this database directly."),
    server: Optional[str] = typer.Option(None, "--server", help="Or ask this coordinator."),
    token: Optional[str] = token_option("The coordinator's admission token."),
    as_json: bool = typer.Option(False, "--json", help="Print the status as JSON."),
) -> None:
    """Generations, jobs, workers and their trust."""
    import json

    if (db is None) == (server is None):
        raise ConfigError("give --db or --server")
    if db is not None:
        from primordia.distributed.coordinator import Coordinator
        from primordia.distributed.db import connect, database_url
        url = database_url(db)
        if url.startswith("sqlite:///") and not Path(url[len("sqlite:///"):]).is_file():
            raise ConfigError(f"--db {db}: no such database (status reads, it creates none)")
        data = Coordinator(connect(db)).status()
    else:
        import httpx

        from primordia.distributed.worker import server_url
        try:
            r = httpx.get(server_url(server) + "/v1/status", timeout=30,
                          headers={"Authorization": f"Bearer {token}"} if token else {})
        except httpx.HTTPError as exc:
            raise ConfigError(f"--server {server}: {exc}") from None
        if r.status_code != 200:
            raise ConfigError(f"--server {server}: HTTP {r.status_code}")
        data = r.json()
    if as_json:
        typer.echo(json.dumps(data, indent=1))
        return
    console = Console(highlight=False)
    t = Table(title="experiments")
    for col in ("name", "status", "generation", "closed", "jobs", "genomes"):
        t.add_column(col)
    for e in data["experiments"]:
        jobs = ", ".join(f"{k} {v}" for k, v in sorted(e["jobs"].items()))
        t.add_row(e["name"], e["status"], f"{e['generation']} of {e['generations']}",
                  str(e["closed"]), jobs, str(e["genomes"]))
    console.print(t)
    w = Table(title="workers")
    for col in ("id", "name", "kind", "procs", "leases", "verified", "streak", "invalid",
                "state"):
        w.add_column(col)
    for k in data["workers"]:
        w.add_row(str(k["id"]), k["name"], "local" if k["local"] else "remote",
                  str(k["procs"]), str(k["active_leases"]), str(k["verified"]),
                  str(k["streak"]), str(k["invalid"]),
                  "quarantined" if k["quarantined"] else "ok")
    console.print(w)
