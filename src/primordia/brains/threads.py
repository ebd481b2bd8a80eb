"""How a brain splits a step over numba's threads: one place for the rule every brain's
parallel kernel follows."""

from __future__ import annotations

import numba


def spans(threads: int, per_thread: int) -> int:
    """Work slices for a parallel kernel call with ``threads`` threads (numba's thread count
    set to match, at most what numba has), ``per_thread`` slices each so that uneven slots
    balance; 1 means run serially."""
    if threads <= 1:
        return 1
    threads = min(threads, numba.config.NUMBA_NUM_THREADS)
    numba.set_num_threads(threads)
    return per_thread * threads
