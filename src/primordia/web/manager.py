"""The sessions a server holds: the cap on how many, a lock per session, the clock that plays
a session at a rate, and the stream clients each session broadcasts to. Every call into a
world runs in a worker thread (numba kernels release the GIL), so the event loop keeps
answering while sessions run."""

from __future__ import annotations

import asyncio
import gc
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, TypeVar

from primordia.http.errors import ApiError

from .outbox import Outbox
from .protocol import error_message, message
from .sessions import Session

T = TypeVar("T")
MAX_BATCH_SECONDS = 0.05
"""A playing session steps at most this much of a second's ticks at once, so clients see a
steady stream rather than bursts."""
IDLE_SECONDS = 1800.0
"""A session nobody has asked about or watched for this long is deleted (``--idle-timeout``)."""
MAX_CLIENTS = 64
"""Stream connections one session serves at once; more are refused (each holds a queue)."""
GIVE_WAY_SECONDS = 60.0
"""When the server is full, the longest-idle session that has been idle at least this long
is deleted to make room for a new one."""


@dataclass(eq=False)
class Client:
    """One stream connection: its queue and the organism it watches."""

    outbox: Outbox
    focus: int | None = None


@dataclass(eq=False)
class Live:
    """A session with what serving it needs."""

    session: Session
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    clients: set[Client] = field(default_factory=set)
    player: asyncio.Task | None = None
    ticks_per_second: int = 0
    closed: bool = False
    last_used: float = field(default_factory=time.monotonic)
    """When a request or a stream last concerned it (``time.monotonic``)."""

    def idle_for(self, now: float) -> float:
        """Seconds since it was last used; 0 while a stream watches it."""
        return 0.0 if self.clients else now - self.last_used

    @property
    def playing(self) -> bool:
        return self.player is not None and not self.player.done()


class SessionManager:
    """Sessions by id, at most ``max_sessions``; a full snapshot goes to stream clients every
    ``snapshot_every`` turns to resynchronise them."""

    def __init__(self, max_sessions: int = 8, snapshot_every: int = 100,
                 outbox_messages: int = 256, outbox_bytes: int = 8 << 20,
                 idle_seconds: float = IDLE_SECONDS,
                 give_way_seconds: float = GIVE_WAY_SECONDS) -> None:
        self.max_sessions = max_sessions
        self.snapshot_every = snapshot_every
        self.idle_seconds, self.give_way_seconds = idle_seconds, give_way_seconds
        self.outbox_messages, self.outbox_bytes = outbox_messages, outbox_bytes
        self._live: dict[str, Live] = {}
        self._creating = 0

    # ---- sessions --------------------------------------------------------------------------------
    async def create(self, world: str, config: dict[str, Any], seed: int | None,
                     brain: str | None) -> Live:
        await self.expire()
        if len(self._live) + self._creating >= self.max_sessions:
            now = time.monotonic()
            idle = [live for live in self._live.values()
                    if live.idle_for(now) >= self.give_way_seconds]
            if not idle:
                raise ApiError(429, "too_many_sessions", f"this server holds at most "
                               f"{self.max_sessions} sessions, all in use; delete one or try "
                               f"again once one has been idle for {self.give_way_seconds:g} s")
            oldest = max(idle, key=lambda live: live.idle_for(now))
            await self.delete(oldest.session.id)
        self._creating += 1
        try:
            session = await asyncio.to_thread(Session, world, config, seed, brain)
        finally:
            self._creating -= 1
        live = self._live[session.id] = Live(session)
        # The first session of a world loads its compiled kernels: hundreds of thousands of
        # long-lived objects. Frozen, the collector stops rescanning them, which otherwise
        # stalls every request for ~100 ms now and then (bench_serve's p99).
        gc.freeze()
        return live

    def get(self, session_id: str) -> Live:
        """The session, marked as used now."""
        live = self._live.get(session_id)
        if live is None:
            raise ApiError(404, "unknown_session", f"session_id: no session {session_id!r}",
                           "session_id")
        live.last_used = time.monotonic()
        return live

    async def expire(self) -> list[str]:
        """Delete every session idle for ``idle_seconds`` or more; their ids."""
        now = time.monotonic()
        gone = [sid for sid, live in self._live.items()
                if live.idle_for(now) >= self.idle_seconds]
        for sid in gone:
            await self.delete(sid)
        return gone

    async def expire_forever(self) -> None:
        """Expire idle sessions every so often, until cancelled (the server's lifespan)."""
        while True:
            await asyncio.sleep(min(60.0, max(0.05, self.idle_seconds / 4)))
            await self.expire()

    def all(self) -> list[Live]:
        return list(self._live.values())

    async def delete(self, session_id: str) -> None:
        live = self.get(session_id)
        self._live.pop(session_id, None)
        live.closed = True
        await self.pause(live)
        for client in live.clients:
            client.outbox.put(error_message("session_deleted", "the session was deleted"),
                              keep=True)
            client.outbox.close()

    async def close(self) -> None:
        """Stop every clock (at server shutdown)."""
        for live in list(self._live.values()):
            await self.pause(live)

    async def _locked(self, live: Live, body: Callable[[], Awaitable[T]]) -> T:
        """``body`` holding the session's lock, run to its end even if the caller is
        cancelled (a client leaving, a Pause): a world mid-tick in a worker thread cannot be
        stopped, so the lock is released, and clients are told, only once it is done."""
        async def locked() -> T:
            async with live.lock:
                if live.closed:
                    raise ApiError(404, "unknown_session", "session_id: the session was "
                                   "deleted", "session_id")
                return await body()

        task = asyncio.ensure_future(locked())
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(lambda t: t.cancelled() or t.exception())
            await asyncio.wait({task})
            raise

    async def _run(self, live: Live, work: Callable[[], T]) -> T:
        """``work`` on the session, in a worker thread, holding the session's lock."""
        async def body() -> T:
            return await asyncio.to_thread(work)

        return await self._locked(live, body)

    # ---- what a session does -------------------------------------------------------------------
    async def advance(self, live: Live, count: int, snapshot: bool = False
                      ) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
        """Step ``count`` turns and tell every stream client (deltas, their focus, metrics,
        a snapshot when one is due); returns the deltas and, if asked, the snapshot."""
        s = live.session

        def work(focus_ids: set[int], watched: bool):
            before = s.turn
            deltas = s.step(count)
            every = self.snapshot_every
            due = watched and every > 0 and before // every != s.turn // every
            snap = s.snapshot() if snapshot or due else None
            out = [message("TickDelta", d) for d in deltas]
            focus = {f: s.focus(f) for f in focus_ids}
            focus_msgs = {f: message("FocusBrain", v if v is not None else
                                     {"organism_id": f, "alive": False, "turn": s.turn})
                          for f, v in focus.items()}
            metrics = message("Metrics", s.metrics())
            resync = s.snapshot_message() if due else None
            return deltas, snap, out, focus, focus_msgs, metrics, resync

        async def body():
            focus_ids = {c.focus for c in live.clients if c.focus is not None}
            deltas, snap, out, focus, focus_msgs, metrics, resync = \
                await asyncio.to_thread(work, focus_ids, bool(live.clients))
            # still under the lock: nothing else reaches the queues between these messages
            for client in live.clients:
                for m in out:
                    client.outbox.put(m)
                if resync is not None:
                    client.outbox.put(resync)
                if client.focus in focus_msgs:
                    client.outbox.put(focus_msgs[client.focus])
                    if focus[client.focus] is None:
                        client.focus = None
                client.outbox.put(metrics)
            return deltas, snap

        return await self._locked(live, body)

    async def snapshot(self, live: Live) -> dict[str, Any]:
        return await self._run(live, live.session.snapshot)

    async def reset(self, live: Live, seed: int | None) -> dict[str, Any]:
        """Back to turn 0 (with a new seed if given); stream clients get the new snapshot."""
        s = live.session

        def work():
            s.reset(seed)
            snap = s.snapshot()
            return snap, s.snapshot_message()

        async def body():
            snap, msg = await asyncio.to_thread(work)
            for client in live.clients:
                client.focus = None
                client.outbox.resynced(msg)
            return snap

        return await self._locked(live, body)

    async def focus(self, live: Live, organism_id: int) -> dict[str, Any]:
        view = await self._run(live, lambda: live.session.focus(organism_id))
        if view is None:
            raise ApiError(404, "unknown_organism", f"organism_id: no living organism "
                           f"{organism_id} at turn {live.session.turn}", "organism_id")
        return view

    # ---- the clock -------------------------------------------------------------------------------
    def play(self, live: Live, ticks_per_second: int) -> None:
        """Run the session at ``ticks_per_second`` until paused (a new rate replaces the old)."""
        live.ticks_per_second = ticks_per_second
        if not live.playing:
            live.player = asyncio.create_task(self._play(live))

    async def pause(self, live: Live) -> None:
        task, live.player = live.player, None
        if task is not None and not task.done():
            task.cancel()
            try:
                await task
            except asyncio.CancelledError:
                pass

    async def _play(self, live: Live) -> None:
        loop = asyncio.get_running_loop()
        rate, start, done = 0, 0.0, 0
        while not live.closed:
            if live.ticks_per_second != rate:               # new rate: a new time base
                rate, start, done = live.ticks_per_second, loop.time(), 0
            due = int((loop.time() - start) * rate) - done
            if due < 1:
                await asyncio.sleep(max(0.001, (done + 1) / rate - (loop.time() - start)))
                continue
            batch = min(due, max(1, int(rate * MAX_BATCH_SECONDS)), live.session.max_step)
            try:
                await self.advance(live, batch)
            except ApiError:
                return
            except Exception as exc:    # a world that fails stops its clock, not the server
                for client in live.clients:
                    client.outbox.put(error_message("world_failed", f"{type(exc).__name__}: "
                                                    f"{exc}"), keep=True)
                return
            done += batch
            if int((loop.time() - start) * rate) - done > rate:   # a second behind: let go
                start, done = loop.time(), 0

    # ---- stream clients --------------------------------------------------------------------------
    async def subscribe(self, live: Live) -> Client:
        """A new stream client, its queue starting with a snapshot; ApiError 429 when the
        session already has ``MAX_CLIENTS``."""
        if len(live.clients) >= MAX_CLIENTS:
            raise ApiError(429, "too_many_clients", f"this session already streams to "
                           f"{MAX_CLIENTS} clients")
        client = Client(Outbox(self.outbox_messages, self.outbox_bytes))

        def work():
            return live.session.snapshot_message()

        async def body():
            client.outbox.resynced(await asyncio.to_thread(work))
            live.clients.add(client)
            return client

        return await self._locked(live, body)

    async def unsubscribe(self, live: Live, client: Client) -> None:
        """A client left; when nobody watches any more the session's clock stops (and its
        idle time starts)."""
        live.clients.discard(client)
        live.last_used = time.monotonic()
        client.outbox.close()
        if not live.clients:
            await self.pause(live)

    async def resync(self, live: Live, client: Client) -> None:
        """A fresh snapshot for a client whose queue overflowed."""
        def work():
            return live.session.snapshot_message()

        async def body():
            client.outbox.resynced(await asyncio.to_thread(work))

        try:
            await self._locked(live, body)
        except ApiError:                     # deleted meanwhile
            client.outbox.close()

    async def set_focus(self, live: Live, client: Client, organism_id: int | None) -> None:
        """Watch an organism (None: stop); it gets a FocusBrain now and after every step."""
        client.focus = None
        if organism_id is None:
            return

        def work():
            view = live.session.focus(organism_id)
            return message("FocusBrain", view) if view is not None else None

        async def body():
            msg = await asyncio.to_thread(work)
            if msg is None:
                client.outbox.put(error_message(
                    "unknown_organism", f"organism_id: no living organism {organism_id}"),
                    keep=True)
                return
            client.focus = organism_id
            client.outbox.put(msg, keep=True)

        await self._locked(live, body)
