"""Processes that end with the process that started them.

A worker runs islands in processes of its own, and ``primordia coordinator --processes N``
serves from N - 1 more. When the starting process dies -- SIGKILL, the out-of-memory
killer, a crash -- nothing in multiprocessing stops its children: an island process would
run on for minutes with parent pid 1, holding hundreds of MB and a core, and a server
process would keep serving the port alone. So each child calls ``end_with_parent`` first
thing.

How. On Linux, ``prctl(PR_SET_PDEATHSIG, sig)``: the kernel itself sends ``sig`` to the
child when its parent dies, however it dies, and the child needs no thread of its own, so
the signal lands even while an island's compiled kernel holds the GIL. Two details make it
safe:

- the parent may already have died between starting the child and the ``prctl`` call
  (the child spends a fraction of a second importing first); the setting is not
  retroactive, so the child then checks that its parent is still the process that started
  it (``os.getppid()``) and ends itself if not;
- the signal fires when the parent *thread* that started the child exits, not only the
  process. multiprocessing's "spawn" starts a child from the thread that calls
  ``Process.start``: the main thread for the coordinator's processes, and for a worker the
  thread that runs ``work`` (its ``ProcessPoolExecutor`` starts processes in ``submit``),
  which shuts the pool down before it returns -- both outlive their children.

Elsewhere (no ``prctl``, or a kernel that refuses it) a daemon thread in the child polls
``os.getppid()``: a process whose parent dies is re-parented (to init or a subreaper) on
every POSIX system, so a changed parent pid is an exact sign, seen within
``WATCH_SECONDS`` (later if compiled code holds the GIL that long). That needs no pipe
whose write end must stay with the parent alone, so it works whatever starts the child.

multiprocessing's resource tracker. Starting a process with "spawn" (as the worker's pool
and the coordinator do) also starts, once, a resource-tracker process that unlinks
semaphores and shared memory leaked by crashed processes. It ignores SIGINT and SIGTERM
and ends when it reads end-of-file on its pipe -- once every process holding the pipe's
write end has ended: the process that started it *and every child started since* (each
inherits the write end, to register its own resources). An orphaned island process
therefore also kept the tracker alive; with the children ending, the tracker reads EOF
and ends on its own, so nothing else is needed for it (and "spawn" cannot do without it).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5
"""How often the fallback watchdog looks at the parent pid."""


def end_with_parent(parent_pid: int, sig: int = signal.SIGKILL,
                    use_prctl: bool = True) -> str:
    """Make this process receive ``sig`` when the process ``parent_pid`` (the one that
    started it) dies; if it has died already, receive it now. ``"prctl"`` or
    ``"watchdog"``: how it is done (``use_prctl=False`` forces the watchdog, for tests)."""
    if use_prctl and _set_pdeathsig(sig):
        if os.getppid() != parent_pid:      # died before the request took effect
            _die(sig)
        return "prctl"
    threading.Thread(target=_watch, args=(parent_pid, sig), name="parent-watchdog",
                     daemon=True).start()
    return "watchdog"


def _set_pdeathsig(sig: int) -> bool:
    if not sys.platform.startswith("linux"):
        return False
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int, sig: int) -> None:
    while os.getppid() == parent_pid:
        time.sleep(WATCH_SECONDS)
    _die(sig)


def _die(sig: int) -> None:
    """What PR_SET_PDEATHSIG does: send ``sig`` to this process (SIGKILL ends it; a
    signal it handles, such as uvicorn's SIGTERM, goes to its handler)."""
    os.kill(os.getpid(), sig)
