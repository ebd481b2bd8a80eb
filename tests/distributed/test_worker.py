"""The worker against a live coordinator (served from a thread, SQLite), its islands
replaced by honest synthetic outcomes: it reports what finished and takes new jobs in the
same round trip, never leases more than ``max_jobs`` nor asks for more than a request may
carry, gives back jobs that arrive after Ctrl-C, and sends a claim whose reply was lost
again without leasing a second set of jobs."""

from __future__ import annotations

import os
import signal
from concurrent.futures import ThreadPoolExecutor

import httpx
from sqlalchemy import func, select

from primordia.distributed.coordinator import Coordinator
from primordia.distributed.db import connect
from primordia.distributed.embedded import serve_in_thread
from primordia.distributed import worker
from primordia.distributed.models import Lease
from primordia.distributed.protocol import MAX_BATCH
from primordia.distributed.worker import Client, work

from .fakes import experiment, honest_runner

L = Lease.__table__


def lease_states(engine) -> dict[str, int]:
    with engine.connect() as c:
        return dict(c.execute(select(L.c.state, func.count()).group_by(L.c.state)).all())


def record_requests(monkeypatch) -> list[tuple[str, int, int]]:
    """Record what the worker's client sends: ("claim" or "report", jobs asked for, jobs
    that came back), one entry per request."""
    sent: list[tuple[str, int, int]] = []
    claim, report = Client.claim, Client.report

    def recorded_claim(self, wait, max_jobs=1):
        offers = claim(self, wait, max_jobs)
        sent.append(("claim", max_jobs, len(offers)))
        return offers

    def recorded_report(self, finished, claim=0):
        answers, offers = report(self, finished, claim)
        sent.append(("report", claim, len(offers)))
        return answers, offers

    monkeypatch.setattr(Client, "claim", recorded_claim)
    monkeypatch.setattr(Client, "report", recorded_report)
    return sent


def work_against_a_coordinator(tmp_path, islands: int, procs: int, max_jobs: int):
    """Serve a one-generation run of ``islands`` and let a worker with honest synthetic
    outcomes work on it until idle; its stats and the lease states it left."""
    engine = connect(f"sqlite:///{tmp_path}/c.db")
    co = Coordinator(engine)
    co.start(experiment(islands=islands, generations=1))
    served = serve_in_thread(co)
    try:
        stats = work(served.url, procs=procs, max_jobs=max_jobs, idle_exit=0.5, wait=0.2,
                     runner=honest_runner)
    finally:
        served.stop()
    leases = lease_states(engine)
    engine.dispose()
    return stats, leases


def test_results_go_back_with_a_claim_for_the_free_processes(tmp_path, monkeypatch):
    sent = record_requests(monkeypatch)
    stats, leases = work_against_a_coordinator(tmp_path, islands=12, procs=2, max_jobs=9)
    claims = [got for kind, _, got in sent if kind == "claim"]
    reports = [got for kind, _, got in sent if kind == "report"]
    assert (stats.done, stats.refused, stats.dropped) == (9, 0, 0)
    assert leases == {"submitted": 9}                 # max_jobs: not one lease more
    assert sum(reports) >= 5                          # most jobs came with a report
    assert len(claims) < 9 and len(reports) <= 9


def test_a_worker_with_more_processes_than_a_request_carries_asks_for_a_full_request(
        tmp_path, monkeypatch):
    """70 processes, but a request carries at most 64 jobs (or results): the worker asks
    for 64 and runs all 80 islands. (Threads stand in for the processes.)"""
    monkeypatch.setattr(worker, "ProcessPoolExecutor",
                        lambda max_workers, **_: ThreadPoolExecutor(max_workers))
    sent = record_requests(monkeypatch)
    stats, leases = work_against_a_coordinator(tmp_path, islands=80, procs=70, max_jobs=80)
    assert (stats.done, stats.refused, stats.dropped) == (80, 0, 0)
    assert leases == {"submitted": 80}
    assert max(asked for _, asked, _ in sent) == MAX_BATCH


def test_jobs_that_arrive_with_a_report_after_ctrl_c_are_released(tmp_path, monkeypatch):
    """Ctrl-C while a report is on its way: the jobs its reply brings are given back at
    once (their islands are offered to others), and the worker stops."""
    engine = connect(f"sqlite:///{tmp_path}/c.db")
    co = Coordinator(engine)
    co.start(experiment(islands=12, generations=1))
    served = serve_in_thread(co)
    report = Client.report
    arrived: list[int] = []

    def interrupted(self, finished, claim=0):
        answers, offers = report(self, finished, claim)
        if offers and not arrived:
            arrived.extend(o.lease_id for o in offers)
            os.kill(os.getpid(), signal.SIGINT)        # the worker's handler runs here
        return answers, offers

    monkeypatch.setattr(Client, "report", interrupted)
    try:
        stats = work(served.url, procs=2, idle_exit=5.0, wait=0.2, runner=honest_runner)
    finally:
        served.stop()
    with engine.connect() as c:
        states = dict(c.execute(select(L.c.id, L.c.state)).all())
    engine.dispose()
    assert arrived and all(states[lease] == "released" for lease in arrived)
    assert "active" not in states.values()
    assert stats.done == sum(s == "submitted" for s in states.values())


def test_a_claim_whose_reply_was_lost_brings_back_the_same_jobs(tmp_path, monkeypatch):
    """The coordinator leased the jobs but the reply never came (the connection dropped):
    the client sends the claim again, marked resent, and gets those leases, not more."""
    engine = connect(f"sqlite:///{tmp_path}/c.db")
    co = Coordinator(engine)
    co.start(experiment(islands=12, generations=1))
    served = serve_in_thread(co)
    try:
        client = Client(served.url)
        client.register("w", 4)
        post, lost = client.http.post, []

        def dropping(*args, **kwargs):
            r = post(*args, **kwargs)          # the coordinator has done the work
            if not lost:
                lost.append(r)
                raise httpx.ReadError("the reply was lost")
            return r

        monkeypatch.setattr(client.http, "post", dropping)
        offers = client.claim(0.0, 3)
        assert len(offers) == 3 and lease_states(engine) == {"active": 3}
        lost.clear()                           # a report with a claim, reply lost
        outcome, _ = honest_runner(offers[0].spec.model_dump_json())
        answers, more = client.report([(offers[0], outcome, 0.1)], claim=2)
    finally:
        served.stop()
    assert answers == ["duplicate"] and len(more) == 2
    assert lease_states(engine) == {"active": 4, "submitted": 1}
    engine.dispose()
