"""Faults with real processes, on SQLite and on PostgreSQL: a `primordia coordinator` and
`primordia worker`s running real sandbox islands; workers killed with SIGKILL mid-job, a
worker stopped past its deadline, and the coordinator killed and restarted
mid-generation. Every time the experiment ends with every job decided once, nothing
failed, and the same genome bank as an undisturbed in-process run."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from primordia.distributed.coordinator import Coordinator
from primordia.distributed.db import connect
from primordia.distributed.models import Genome, Job, Lease, Result
from primordia.runs.island import IslandSpec, run_island

J, L, R, GN = (t.__table__ for t in (Job, Lease, Result, Genome))

EXPERIMENT = """
name = "faults"
seed = 9
world = "sandbox"
brain = "psil"
generations = 2
pool = 6
islands = 3
founders = 3
copies = 2
length = 40
sample = 2
[world_config]
npcs = 16
world = 12
[verification]
trust_after = 1000
spot_check = 0.0
[leases]
seconds = 4
attempts = 20
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "primordia.cli.main", *args]


def spawn(argv: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(argv, stdout=log.open("ab"), stderr=subprocess.STDOUT,
                            start_new_session=True)


def kill(proc: subprocess.Popen, sig=signal.SIGKILL) -> None:
    try:
        os.killpg(proc.pid, sig)
    except ProcessLookupError:
        pass
    if sig in (signal.SIGKILL, signal.SIGTERM):
        proc.wait(timeout=30)


def wait_until(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def server_processes(parent: int) -> list[int]:
    """The processes ``parent`` started to serve requests beside it (multiprocessing's
    spawn)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and b"spawn_main" in cmdline:
            found.append(int(pid))
    return found


def _stat(pid: int | str) -> list[str] | None:
    """/proc/PID/stat's fields from the state on (state, ppid, ...), or None if gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def descendants(root: int) -> dict[int, tuple[str, str]]:
    """Every live process below ``root`` (its children, theirs, ...): pid -> (start time,
    command line), which tells the process from a later one given the same pid."""
    children: dict[int, list[int]] = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fields = _stat(pid)
        if fields is not None and fields[0] != "Z":
            children.setdefault(int(fields[1]), []).append(int(pid))
    found: dict[int, tuple[str, str]] = {}
    todo = list(children.get(root, []))
    while todo:
        pid = todo.pop()
        fields = _stat(pid)
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if fields is not None:
            found[pid] = (fields[19], cmdline.decode(errors="replace").strip())
            todo += children.get(pid, [])
    return found


def still_there(procs: dict[int, tuple[str, str]]) -> dict[int, tuple[str, str]]:
    """Those of ``procs`` (from ``descendants``) still running: not ended, nor zombies."""
    out = {}
    for pid, (started, cmdline) in procs.items():
        fields = _stat(pid)
        if fields is not None and fields[0] != "Z" and fields[19] == started:
            out[pid] = (started, cmdline)
    return out


def scalar(engine, q):
    with engine.connect() as c:
        out = c.execute(q).scalar()
        c.rollback()
    return out


def bank(engine):
    with engine.connect() as c:
        out = [tuple(r) for r in c.execute(select(GN.c.digest, GN.c.birth_generation,
                                                  GN.c.origin).order_by(GN.c.id))]
        c.rollback()
    return out


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """The bank an undisturbed run breeds (in-process, one local worker); also compiles
    the kernels the worker processes then load from the cache."""
    from primordia.distributed.experiment import build_experiment
    import tomllib
    exp = build_experiment(tomllib.loads(EXPERIMENT))
    engine = connect(str(tmp_path_factory.mktemp("ref") / "ref.db"))
    co = Coordinator(engine)
    co.start(exp)
    w, _ = co.register("ref", local=True)
    while (offer := co.claim(w)) is not None:
        co.submit(w, offer.lease_id, offer.fence,
                  run_island(IslandSpec.model_validate_json(offer.spec)))
    assert co.status()["experiments"][0]["status"] == "done"
    out = bank(engine)
    engine.dispose()
    return out


class Cluster:
    """A coordinator and workers as separate processes around one database."""

    def __init__(self, db_url: str, tmp: Path, processes: int = 1) -> None:
        self.db_url, self.tmp, self.processes = db_url, tmp, processes
        (tmp / "exp.toml").write_text(EXPERIMENT)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.coordinator: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.engine = None

    def start_coordinator(self) -> None:
        self.coordinator = spawn(cli("coordinator", "--db", self.db_url, "--port",
                                     str(self.port), "--experiment",
                                     str(self.tmp / "exp.toml"), "--processes",
                                     str(self.processes)), self.tmp / "coordinator.log")
        import httpx

        def up():
            try:
                return httpx.get(self.url + "/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return self.coordinator.poll() is not None and pytest.fail(
                    (self.tmp / "coordinator.log").read_text())
        wait_until(up, 60, "the coordinator")
        if self.engine is None:
            self.engine = connect(self.db_url)

    def start_worker(self, name: str) -> subprocess.Popen:
        proc = spawn(cli("worker", "--server", self.url, "--name", name, "--procs", "1"),
                     self.tmp / f"{name}.log")
        self.workers.append(proc)
        return proc

    def active_lease_of(self, name: str) -> int | None:
        from primordia.distributed.models import Worker
        W = Worker.__table__
        return scalar(self.engine, select(L.c.id).join(W, W.c.id == L.c.worker_id).where(
            W.c.name == name, L.c.state == "active").limit(1))

    def done(self) -> bool:
        from primordia.distributed.models import Experiment
        return scalar(self.engine, select(Experiment.__table__.c.status)) == "done"

    def stop(self) -> None:
        for p in self.workers + [self.coordinator]:
            if p is not None and p.poll() is None:
                kill(p)
        if self.engine is not None:
            self.engine.dispose()

    def check_clean_end(self, reference) -> None:
        assert scalar(self.engine, select(func.count()).select_from(J).where(
            J.c.state != "verified")) == 0
        # each job's chosen result is one of its own; no lease left active
        assert scalar(self.engine, select(func.count()).select_from(L).where(
            L.c.state == "active")) == 0
        assert bank(self.engine) == reference


@pytest.fixture
def cluster(db_url, tmp_path):
    c = Cluster(db_url, tmp_path)
    yield c
    c.stop()


def test_workers_killed_mid_job_lose_nothing(cluster, reference):
    cluster.start_coordinator()
    victim = cluster.start_worker("victim")
    wait_until(lambda: cluster.active_lease_of("victim"), 120, "the victim's first lease")
    kill(victim)                                   # SIGKILL, mid-job
    for name in ("a", "b", "c"):
        cluster.start_worker(name)
    wait_until(cluster.done, 300, "the experiment to finish")
    assert scalar(cluster.engine, select(func.count()).select_from(L).where(
        L.c.state == "expired")) >= 1             # the victim's lease ran out and went on
    cluster.check_clean_end(reference)


def test_two_coordinator_processes_share_the_work_and_lose_nothing(postgres_server,
                                                                    tmp_path, reference):
    """``--processes 2`` on PostgreSQL: the workers' requests land on either process (one
    port); a worker killed mid-job still costs nothing."""
    name = postgres_server.create_database()
    cluster = Cluster(postgres_server.url(name), tmp_path, processes=2)
    try:
        cluster.start_coordinator()
        wait_until(lambda: len(server_processes(cluster.coordinator.pid)) == 1, 60,
                   "a second server process")
        victim = cluster.start_worker("victim")
        wait_until(lambda: cluster.active_lease_of("victim"), 120, "the victim's lease")
        kill(victim)
        for worker in ("a", "b", "c"):
            cluster.start_worker(worker)
        wait_until(cluster.done, 300, "the experiment to finish")
        cluster.check_clean_end(reference)
    finally:
        cluster.stop()
        postgres_server.drop_database(name)


@pytest.mark.parametrize("stop", ["ctrl-c", "sigkill-first"])
def test_coordinator_processes_end_together(postgres_server, tmp_path, stop):
    """Ctrl-C ends every server process quietly; the first killed alone takes the others
    with it (no orphan keeps serving the port), and multiprocessing's resource tracker
    too."""
    name = postgres_server.create_database()
    cluster = Cluster(postgres_server.url(name), tmp_path, processes=3)
    try:
        cluster.start_coordinator()
        first = cluster.coordinator
        others = wait_until(lambda: len(server_processes(first.pid)) == 2
                            and server_processes(first.pid), 60, "two more processes")
        family = descendants(first.pid)
        assert set(others) <= set(family)
        assert any("resource_tracker" in cmd for _, cmd in family.values()), family
        if stop == "ctrl-c":                           # once all three serve:
            wait_until(lambda: "3 processes" in (tmp_path / "coordinator.log").read_text(),
                       60, "the coordinator's banner")
            os.killpg(first.pid, signal.SIGINT)      # the terminal signals the group
            assert first.wait(timeout=30) == 0
            assert "Traceback" not in (tmp_path / "coordinator.log").read_text()
        else:
            first.kill()
            first.wait(timeout=30)
        wait_until(lambda: not still_there(family), 30, "every process it started to end")
    finally:
        cluster.stop()
        postgres_server.drop_database(name)


def test_a_stopped_worker_past_its_deadline_is_refused_and_replaced(cluster, reference):
    cluster.start_coordinator()
    slow = cluster.start_worker("slow")
    lease = wait_until(lambda: cluster.active_lease_of("slow"), 120, "the slow lease")
    os.killpg(slow.pid, signal.SIGSTOP)            # no heartbeats: the deadline passes
    for name in ("a", "b"):
        cluster.start_worker(name)
    wait_until(lambda: scalar(cluster.engine, select(L.c.state).where(L.c.id == lease))
               == "expired", 60, "the lease to expire")
    os.killpg(slow.pid, signal.SIGCONT)            # it wakes up and answers late
    wait_until(cluster.done, 300, "the experiment to finish")
    assert scalar(cluster.engine, select(func.count()).select_from(R).where(
        R.c.lease_id == lease)) == 0               # the late answer was not stored
    cluster.check_clean_end(reference)


def test_a_coordinator_killed_mid_generation_resumes(cluster, reference):
    cluster.start_coordinator()
    for name in ("a", "b"):
        cluster.start_worker(name)
    wait_until(lambda: scalar(cluster.engine, select(func.count()).select_from(R)) >= 2,
               120, "the first results")
    kill(cluster.coordinator)                      # SIGKILL, mid-generation
    time.sleep(1.0)
    cluster.start_coordinator()                    # same database, same port
    wait_until(cluster.done, 300, "the experiment to finish")
    cluster.check_clean_end(reference)


SLOW = EXPERIMENT.replace("length = 40", "length = 8000").replace(
    "npcs = 16\nworld = 12", "npcs = 120\nworld = 24").replace("seconds = 4", "seconds = 60")


@pytest.mark.parametrize("presses, lease_state", [(1, "submitted"), (2, "released")])
def test_ctrl_c_finishes_or_releases_the_running_island(tmp_path, presses, lease_state):
    cluster = Cluster(f"sqlite:///{tmp_path}/c.db", tmp_path)
    (tmp_path / "exp.toml").write_text(SLOW)
    try:
        cluster.start_coordinator()
        worker = cluster.start_worker("w")
        lease = wait_until(lambda: cluster.active_lease_of("w"), 120, "a lease")
        time.sleep(0.5)                                   # the island is under way
        for _ in range(presses):
            os.kill(worker.pid, signal.SIGINT)            # the worker's own process only
            time.sleep(0.2)
        assert worker.wait(timeout=120) == 0
        assert scalar(cluster.engine, select(L.c.state).where(L.c.id == lease)) == lease_state
        results = scalar(cluster.engine, select(func.count()).select_from(R).where(
            R.c.lease_id == lease))
        assert results == (1 if presses == 1 else 0)
        # nothing else was claimed after the first Ctrl-C
        assert scalar(cluster.engine, select(func.count()).select_from(L)) == 1
    finally:
        cluster.stop()
