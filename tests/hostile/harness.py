"""Throwing bad input at the real ``primordia`` command: each call is a fresh process, and its
peak memory comes from the kernel (``wait4``'s rusage of that one child), so a test can say
"refused in one line, exit 2, and it never grew past N MB" about what a user would see."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from pathlib import Path

RSS_LIMIT_MB = 900
"""Peak memory allowed for a refused input: the interpreter with numpy, numba and the
package imported takes about 200-350 MB; an input that makes it grow by gigabytes fails."""


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str
    max_rss_mb: float


def cli(*args: str, stdin: bytes | str | None = None, timeout: float = 180,
        cwd: Path | None = None, env: dict[str, str] | None = None) -> Ran:
    """Run ``primordia ARGS`` in a new process group; kill the group (and fail) if it
    outlives ``timeout``. The peak RSS is the kernel's figure for this one child."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    proc = subprocess.Popen([sys.executable, "-m", "primordia.cli.main", *args],
                            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            env={**os.environ, **(env or {})}, start_new_session=True)
    outputs: dict[str, bytes] = {}

    def drain(name: str, stream) -> None:
        outputs[name] = stream.read()

    readers = [threading.Thread(target=drain, args=(n, s), daemon=True)
               for n, s in (("out", proc.stdout), ("err", proc.stderr))]
    for t in readers:
        t.start()
    if data is not None:
        try:
            proc.stdin.write(data)
        except BrokenPipeError:                   # it refused before reading everything
            pass
        proc.stdin.close()
    timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
    timer.start()
    try:
        _, status, usage = os.wait4(proc.pid, 0)
    finally:
        timed_out = not timer.is_alive()
        timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)
    for t in readers:
        t.join()
    if timed_out:
        raise AssertionError(f"primordia {' '.join(args)[:200]} ran past {timeout} s")
    return Ran(proc.returncode, outputs["out"].decode(errors="replace"),
               outputs["err"].decode(errors="replace"), usage.ru_maxrss / 1024)


def assert_refused(r: Ran, *words: str, max_rss_mb: float = RSS_LIMIT_MB) -> str:
    """Bad input: exit code 2, one line on stderr naming the problem, no traceback, bounded
    memory. Returns the line."""
    lines = r.stderr.strip().splitlines()
    assert r.returncode == 2, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr, r.stderr
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], (w, lines[0])
    assert not r.max_rss_mb > max_rss_mb, (r.max_rss_mb, lines[0])
    return lines[0]
