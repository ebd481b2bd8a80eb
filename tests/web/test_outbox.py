"""A client that never reads holds a bounded queue: overflow drops what is queued and asks
for one fresh snapshot instead."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from primordia.web.manager import SessionManager
from primordia.web.outbox import RESYNC, Outbox

from .wire import SMALL


def run(scenario) -> None:
    """Run an async scenario on a fresh event loop of its own thread (the test's thread may
    already have a loop running, e.g. a browser driver's)."""
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


def test_a_full_queue_drops_its_deltas_and_asks_for_a_snapshot():
    async def scenario():
        box = Outbox(max_messages=8, max_bytes=1000)
        for k in range(10_000):
            box.put(f"delta {k}")
            assert len(box) <= 8 and box.queued_bytes <= 1000
        assert box.stale and box.dropped > 9_000
        assert await box.get() is RESYNC
        box.resynced("snapshot")
        box.put("delta after")
        assert [await box.get(), await box.get()] == ["snapshot", "delta after"]
        assert not box.stale

    run(scenario)


def test_the_byte_bound_holds_for_big_messages():
    async def scenario():
        box = Outbox(max_messages=1000, max_bytes=100)
        for _ in range(50):
            box.put("x" * 30)
            assert box.queued_bytes <= 100
        assert box.stale

    run(scenario)


def test_replies_to_a_client_survive_staleness_but_not_the_bound():
    async def scenario():
        box = Outbox(max_messages=4, max_bytes=10_000)
        for k in range(5):
            box.put(f"d{k}")
        assert box.stale and len(box) == 0
        box.put("dropped delta")
        box.put("error reply", keep=True)
        assert await box.get() == "error reply"
        assert await box.get() is RESYNC
        for k in range(10):
            box.put("reply", keep=True)
            assert len(box) <= 4

    run(scenario)


def test_a_reply_that_overflows_a_full_queue_is_kept_and_the_stream_dropped():
    async def scenario():
        box = Outbox(max_messages=4, max_bytes=10_000)
        for k in range(4):
            box.put(f"d{k}")
        box.put("reply", keep=True)
        assert box.stale and len(box) == 1
        assert await box.get() == "reply"
        assert await box.get() is RESYNC

    run(scenario)


def test_a_resync_keeps_replies_queued_while_the_snapshot_was_taken():
    async def scenario():
        box = Outbox(max_messages=4, max_bytes=10_000)
        box.put("d0")
        box.put("reply", keep=True)
        box.put("d1")
        box.resynced("snapshot")
        assert [await box.get(), await box.get()] == ["snapshot", "reply"]
        assert len(box) == 0 and box.queued_bytes == 0

    run(scenario)


def test_a_closed_queue_ends_the_writer():
    async def scenario():
        box = Outbox()
        box.put("last")
        box.close()
        box.put("ignored")
        assert await box.get() == "last"
        assert await box.get() is None

    run(scenario)


def test_a_stream_client_that_never_reads_keeps_bounded_memory():
    """A real session publishing 300 turns to a subscriber that reads nothing."""
    async def scenario():
        manager = SessionManager(outbox_messages=32, outbox_bytes=64 * 1024)
        live = await manager.create("hex", SMALL["hex"], 1, None)
        client = await manager.subscribe(live)
        for _ in range(30):
            await manager.advance(live, 10)
            assert len(client.outbox) <= 32 and client.outbox.queued_bytes <= 64 * 1024
        assert client.outbox.dropped > 0
        assert await client.outbox.get() is RESYNC
        await manager.resync(live, client)
        first = await client.outbox.get()
        assert '"StateSnapshot"' in first and '"turn":300' in first

    run(scenario)
