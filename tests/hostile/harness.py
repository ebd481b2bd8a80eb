"""Throwing bad input at the real ``primordia`` command: each call is a fresh process, and its
peak memory is its own high-water mark (VmHWM, read from /proc as it exits), so a test can
say "refused in one line, exit 2, and it never grew past N MB" about what a user would see."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
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


BOOT = """
import atexit, os, runpy, sys

def _report():
    # VmHWM is the peak of this program's own memory map (exec starts a new one); the
    # kernel's ru_maxrss would also count the forked copy of the test process it began as
    with open("/proc/self/status") as f:
        peak = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(os.environ["PRIMORDIA_TEST_PEAK_FILE"], "w") as out:
        out.write(peak)

atexit.register(_report)
sys.argv = ["primordia", *sys.argv[1:]]
runpy.run_module("primordia.cli.main", run_name="__main__")
"""


def cli(*args: str, stdin: bytes | str | None = None, timeout: float = 180,
        cwd: Path | None = None, env: dict[str, str] | None = None) -> Ran:
    """Run ``primordia ARGS`` in a new process group; kill the group (and fail) if it
    outlives ``timeout``. The peak RSS is the program's own, read from /proc at its exit."""
    data = stdin.encode() if isinstance(stdin, str) else stdin
    with tempfile.NamedTemporaryFile(prefix="peak-", delete=False) as f:
        peak_file = f.name
    proc = subprocess.Popen([sys.executable, "-c", BOOT, *args],
                            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
                            env={**os.environ, **(env or {}),
                                 "PRIMORDIA_TEST_PEAK_FILE": peak_file},
                            start_new_session=True)
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
        proc.wait()
    finally:
        timed_out = not timer.is_alive()
        timer.cancel()
    for t in readers:
        t.join()
    try:
        peak_text = Path(peak_file).read_text().strip()
    finally:
        os.unlink(peak_file)
    if timed_out:
        raise AssertionError(f"primordia {' '.join(args)[:200]} ran past {timeout} s")
    return Ran(proc.returncode, outputs["out"].decode(errors="replace"),
               outputs["err"].decode(errors="replace"),
               int(peak_text) / 1024 if peak_text else float("inf"))


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
