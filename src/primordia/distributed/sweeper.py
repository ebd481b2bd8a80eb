"""The coordinator server's background sweep: leases past their deadline expire and
generations whose jobs are all decided close, every second. A sweep that fails (the
database away, say) must not end the sweeping, and must not pass unseen either: it is
logged and counted, and the next sweep tries again."""

from __future__ import annotations

import asyncio
import logging
from typing import Awaitable, Callable

log = logging.getLogger(__name__)


class LeaseSweeper:
    """Runs ``sweep`` every ``every`` seconds until cancelled. ``failures`` counts the
    sweeps that raised, ``failing`` those in a row now; the first of a run is logged with
    its traceback, the rest in one line each, and the recovery once."""

    def __init__(self, sweep: Callable[[], Awaitable[object]], every: float) -> None:
        self.sweep, self.every = sweep, every
        self.sweeps = 0
        self.failures = 0
        self.failing = 0

    async def once(self) -> bool:
        """One sweep; whether it went through."""
        self.sweeps += 1
        try:
            await self.sweep()
        except Exception as exc:                    # noqa: BLE001 -- keep sweeping
            self.failures += 1
            self.failing += 1
            if self.failing == 1:
                log.exception("lease sweep failed; trying again in %.3g s", self.every)
            else:
                log.warning("lease sweep failed again (%d in a row): %s: %s", self.failing,
                            type(exc).__name__, exc)
            return False
        if self.failing:
            log.warning("lease sweep works again after %d failures", self.failing)
            self.failing = 0
        return True

    async def forever(self) -> None:
        while True:
            await asyncio.sleep(self.every)
            await self.once()
