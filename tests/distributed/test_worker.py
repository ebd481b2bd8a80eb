"""The worker against a live coordinator (served from a thread, SQLite), its islands
replaced by honest synthetic outcomes: it reports what finished and takes new jobs in the
same round trip, and never leases more than ``max_jobs``."""

from __future__ import annotations

from sqlalchemy import func, select

from primordia.distributed.coordinator import Coordinator
from primordia.distributed.db import connect
from primordia.distributed.embedded import serve_in_thread
from primordia.distributed.models import Lease
from primordia.distributed.worker import Client, work

from .fakes import experiment, honest_runner

L = Lease.__table__


def test_results_go_back_with_a_claim_for_the_free_processes(tmp_path, monkeypatch):
    engine = connect(f"sqlite:///{tmp_path}/c.db")
    co = Coordinator(engine)
    co.start(experiment(islands=12, generations=1))
    served = serve_in_thread(co)
    calls = {"claims": 0, "reports": 0, "jobs_with_reports": 0}
    claim, report = Client.claim, Client.report

    def counted_claim(self, *args, **kwargs):
        calls["claims"] += 1
        return claim(self, *args, **kwargs)

    def counted_report(self, finished, claim=0):
        calls["reports"] += 1
        answers, offers = report(self, finished, claim)
        calls["jobs_with_reports"] += len(offers)
        return answers, offers

    monkeypatch.setattr(Client, "claim", counted_claim)
    monkeypatch.setattr(Client, "report", counted_report)
    try:
        stats = work(served.url, procs=2, max_jobs=9, idle_exit=0.5, wait=0.2,
                     runner=honest_runner)
    finally:
        served.stop()
    with engine.connect() as c:
        leases = dict(c.execute(select(L.c.state, func.count()).group_by(L.c.state)).all())
    engine.dispose()
    assert (stats.done, stats.refused, stats.dropped) == (9, 0, 0)
    assert leases == {"submitted": 9}                 # max_jobs: not one lease more
    assert calls["jobs_with_reports"] >= 5            # most jobs came with a report
    assert calls["claims"] < 9 and calls["reports"] <= 9
