"""A worker's processes die with it. A real `primordia worker` (and `primordia evolve
islands`, whose worker runs in the same process as its coordinator) is killed -- SIGKILL, or
SIGTERM -- while an island runs in its pool process; every process it had started (the
island process, multiprocessing's resource tracker) must then end on its own, where they
once ran on for minutes with parent pid 1. The signal goes to the worker's process alone,
not its process group, as when the out-of-memory killer or a supervisor picks it. Also the
mechanism itself (distributed/children.py), with and without Linux's PR_SET_PDEATHSIG, and
for a parent that died before its child asked."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import select

from primordia.distributed.models import Lease

from ..distributed.test_faults import (SLOW, Cluster, cli, descendants, scalar, spawn,
                                       still_there, wait_until)
from ..needs import missing

L = Lease.__table__

ENDS_WITHIN = 30.0
"""Seconds the orphans get to end (they take well under one; the machine may be busy)."""


@pytest.fixture(autouse=True)
def proc_filesystem():
    if not Path("/proc/self/stat").is_file():
        missing("/proc (Linux), to find a process's children")


def island_running(root: int) -> dict[int, tuple[str, str]]:
    """``root``'s descendants once its island process is among them (else nothing)."""
    family = descendants(root)
    return family if any("spawn_main" in cmd for _, cmd in family.values()) else {}


def end_all(family: dict[int, tuple[str, str]]) -> None:
    """Kill whatever of ``family`` a failed test leaves behind."""
    for pid in still_there(family):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def assert_orphans_end(family: dict[int, tuple[str, str]]) -> None:
    kinds = " ".join(cmd for _, cmd in family.values())
    assert "spawn_main" in kinds and "resource_tracker" in kinds, family
    try:
        wait_until(lambda: not still_there(family), ENDS_WITHIN,
                   "the killed process's children to end")
    except AssertionError:
        raise AssertionError(f"still running: {still_there(family)}") from None


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_a_killed_worker_takes_its_island_processes_with_it(tmp_path, sig):
    cluster = Cluster(f"sqlite:///{tmp_path}/c.db", tmp_path)
    # SLOW: islands that take far longer than the test lets them run (each is killed a
    # moment after it starts), so one is surely under way when the worker is hit
    (tmp_path / "exp.toml").write_text(SLOW)
    family: dict[int, tuple[str, str]] = {}
    try:
        cluster.start_coordinator()
        worker = cluster.start_worker("w")
        lease = wait_until(lambda: cluster.active_lease_of("w"), 120, "a lease")
        family = wait_until(lambda: island_running(worker.pid) or worker.poll() is not None
                            and pytest.fail((tmp_path / "w.log").read_text()),
                            60, "the island process")
        os.kill(worker.pid, sig)                   # the worker alone, not its group
        code = worker.wait(timeout=60)
        log = (tmp_path / "w.log").read_text()
        if sig == signal.SIGTERM:                  # a clean stop: the lease goes back
            assert code == 143, log
            assert "Traceback" not in log, log
            state = scalar(cluster.engine, select(L.c.state).where(L.c.id == lease))
            assert state == "released", log
        else:
            assert code == -signal.SIGKILL
        assert_orphans_end(family)
    finally:
        end_all(family)
        cluster.stop()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM], ids=["sigkill", "sigterm"])
def test_a_killed_embedded_run_takes_its_island_processes_with_it(tmp_path, sig):
    (tmp_path / "exp.toml").write_text(SLOW)
    run = spawn(cli("evolve", "islands", str(tmp_path / "exp.toml"), "--out",
                    str(tmp_path / "run"), "--procs", "1", "--quiet"), tmp_path / "run.log")
    family: dict[int, tuple[str, str]] = {}
    try:
        family = wait_until(lambda: island_running(run.pid) or run.poll() is not None
                            and pytest.fail((tmp_path / "run.log").read_text()),
                            120, "the island process")
        os.kill(run.pid, sig)
        code = run.wait(timeout=60)
        log = (tmp_path / "run.log").read_text()
        if sig == signal.SIGTERM:                  # stopped, and the run's files written
            assert code == 143, log
            assert "Traceback" not in log, log
            assert (tmp_path / "run" / "summary.json").is_file()
        else:
            assert code == -signal.SIGKILL
        assert_orphans_end(family)
    finally:
        end_all(family)
        if run.poll() is None:
            run.kill()
            run.wait(timeout=30)


CHILD = """
import os, signal, sys, time
from primordia.distributed.children import end_with_parent
parent = os.getppid()
print(os.getpid(), flush=True)
if sys.argv[2] == "late":                  # the parent dies before the child asks
    while os.getppid() == parent:
        time.sleep(0.05)
how = end_with_parent(parent, signal.SIGKILL, use_prctl=sys.argv[1] == "prctl")
print(how, flush=True)
time.sleep(120)
"""

PARENT = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1], *sys.argv[2:]])
time.sleep(120)
"""


@pytest.mark.parametrize("how", ["prctl", "watchdog"])
@pytest.mark.parametrize("when", ["early", "late"])
def test_a_child_ends_when_its_parent_is_killed(tmp_path, how, when):
    """A parent process starts a child that calls ``end_with_parent`` (PR_SET_PDEATHSIG,
    or the watchdog thread used where that does not exist), before ("early") or after
    ("late") the parent is killed; the child ends either way."""
    out = tmp_path / "child.out"
    parent = subprocess.Popen([sys.executable, "-c", textwrap.dedent(PARENT),
                               textwrap.dedent(CHILD), how, when],
                              stdout=out.open("wb"), start_new_session=True)
    family: dict[int, tuple[str, str]] = {}
    try:
        lines = wait_until(lambda: out.read_text().split() or parent.poll() is not None
                           and pytest.fail("the parent ended"), 60, "the child's pid")
        child = int(lines[0])
        family = {pid: v for pid, v in descendants(parent.pid).items() if pid == child}
        assert family, "the child is not running"
        if when == "early":                        # the child has asked before the kill
            assert wait_until(lambda: out.read_text().split()[1:], 60, "the child's set-up") \
                == [how]
        parent.kill()
        parent.wait(timeout=30)
        wait_until(lambda: not still_there(family), ENDS_WITHIN, "the child to end")
    finally:
        end_all(family)
        if parent.poll() is None:
            parent.kill()
            parent.wait(timeout=30)
