"""The coordinator server's lease sweeper survives a failing sweep, and says so: each
failure is logged and counted (``app.state.sweeper``), and sweeping goes on."""

from __future__ import annotations

import asyncio
import logging
import time

from fastapi.testclient import TestClient

from primordia.distributed import server
from primordia.distributed.coordinator import Coordinator
from primordia.distributed.db import connect
from primordia.distributed.server import create_app
from primordia.distributed.sweeper import LeaseSweeper


def test_a_failing_sweep_is_logged_counted_and_tried_again(caplog):
    outcomes = [RuntimeError("database gone"), RuntimeError("still gone"), None]

    async def sweep():
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome

    sweeper = LeaseSweeper(sweep, every=0.0)
    with caplog.at_level(logging.WARNING, logger="primordia.distributed.sweeper"):
        results = [asyncio.run(sweeper.once()) for _ in range(3)]
    assert results == [False, False, True]
    assert (sweeper.sweeps, sweeper.failures, sweeper.failing) == (3, 2, 0)
    first, again, back = caplog.records
    assert first.exc_info is not None and "lease sweep failed" in first.getMessage()
    assert "2 in a row" in again.getMessage() and "still gone" in again.getMessage()
    assert again.exc_info is None
    assert "works again after 2 failures" in back.getMessage()


def test_the_servers_sweeper_counts_what_it_survives(tmp_path, monkeypatch, caplog):
    engine = connect(f"sqlite:///{tmp_path}/c.db")
    co = Coordinator(engine)

    def broken() -> int:
        raise RuntimeError("no database")

    monkeypatch.setattr(co, "sweep", broken)
    monkeypatch.setattr(server, "SWEEP_SECONDS", 0.01)
    app = create_app(co)
    with caplog.at_level(logging.WARNING, logger="primordia.distributed.sweeper"):
        with TestClient(app) as client:
            until = time.monotonic() + 10
            while app.state.sweeper.failures < 3 and time.monotonic() < until:
                time.sleep(0.01)
            assert client.get("/health").status_code == 200       # still serving
    engine.dispose()
    assert app.state.sweeper.failures >= 3
    assert any("no database" in r.getMessage() or r.exc_info for r in caplog.records)
