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
        self._items: deque[tuple[str, bool]] = deque()     # (message, kept)
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
        """Queue a message. ``keep`` marks replies to the client's own commands: an overflow
        drops the stream messages (a snapshot will stand for them) but keeps the newest
        replies that fit; while stale, stream messages are not queued at all."""
        if self.closed:
            return
        if self.stale and not keep:
            self.dropped += 1
            return
        self._items.append((item, keep))
        self._bytes += len(item)
        if len(self._items) > self.max_messages or self._bytes > self.max_bytes:
            kept = [entry for entry in self._items if entry[1]]
            if len(kept) < len(self._items):
                self.stale = True
            while kept and (len(kept) > self.max_messages
                            or sum(len(text) for text, _ in kept) > self.max_bytes):
                kept.pop(0)
            self.dropped += len(self._items) - len(kept)
            self._items = deque(kept)
            self._bytes = sum(len(text) for text, _ in kept)
        self._ready.set()

    def resynced(self, snapshot: str) -> None:
        """Replace the queued stream by ``snapshot`` (which supersedes it); replies to the
        client's own commands stay, after it."""
        kept = [entry for entry in self._items if entry[1]]
        self._items.clear()
        self._items.append((snapshot, False))
        self._items.extend(kept)
        self._bytes = sum(len(text) for text, _ in self._items)
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
                item, _ = self._items.popleft()
                self._bytes -= len(item)
                return item
            if self.closed:
                return None
            if self.stale:
                return RESYNC
            self._ready.clear()
            await self._ready.wait()
