"""A stream client's bounded send queue. A client that reads slower than the world runs does
not make the server hold more: when the queue is full, everything queued is dropped and the
client gets one fresh snapshot instead (its deltas are coalesced into it)."""

from __future__ import annotations

import asyncio
from collections import deque


class Resync:
    """Marker ``Outbox.get`` returns when the client must be sent a fresh snapshot."""


RESYNC = Resync()


class Outbox:
    """Serialised messages waiting to be sent to one client, at most ``max_messages`` of them
    and ``max_bytes`` in total."""

    def __init__(self, max_messages: int = 256, max_bytes: int = 8 << 20) -> None:
        self.max_messages, self.max_bytes = max_messages, max_bytes
        self._items: deque[str] = deque()
        self._bytes = 0
        self.stale = False       # the queue overflowed: a snapshot must replace it
        self.closed = False
        self.dropped = 0         # messages dropped by overflows so far
        self._ready = asyncio.Event()

    def __len__(self) -> int:
        return len(self._items)

    @property
    def queued_bytes(self) -> int:
        return self._bytes

    def put(self, item: str, keep: bool = False) -> None:
        """Queue a message. While stale, messages are dropped (the coming snapshot makes them
        moot) unless ``keep`` (replies to the client's own commands); nothing ever goes past
        the bounds."""
        if self.closed:
            return
        if self.stale and not keep:
            self.dropped += 1
            return
        if len(self._items) >= self.max_messages or self._bytes + len(item) > self.max_bytes:
            self.dropped += len(self._items) + 1
            self._items.clear()
            self._bytes = 0
            self.stale = True
        else:
            self._items.append(item)
            self._bytes += len(item)
        self._ready.set()

    def resynced(self, snapshot: str) -> None:
        """Replace whatever is queued by ``snapshot`` (which supersedes it)."""
        self._items.clear()
        self._items.append(snapshot)
        self._bytes = len(snapshot)
        self.stale = False
        self._ready.set()

    def close(self) -> None:
        """No more messages; ``get`` returns None once the queue is empty."""
        self.closed = True
        self._ready.set()

    async def get(self) -> str | Resync | None:
        """The next message, RESYNC when a snapshot is due, or None when closed."""
        while True:
            if self._items:
                item = self._items.popleft()
                self._bytes -= len(item)
                return item
            if self.closed:
                return None
            if self.stale:
                return RESYNC
            self._ready.clear()
            await self._ready.wait()
