"""A real ``primordia serve`` (or ``primordia coordinator``) process for hostile tests: it
listens on a port the kernel picks (read back from its banner), and its peak memory is read
from /proc, so a test can say what a request did to the server itself."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from typing import Any, Iterator

import httpx


@dataclass
class Server:
    proc: subprocess.Popen
    base: str
    headers: dict[str, str]

    def raw_post(self, path: str, body: Any, **kw) -> httpx.Response:
        return httpx.post(self.base + path, json=body, timeout=600,
                          headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def post(self, path: str, body: Any) -> dict[str, Any]:
        r = self.raw_post(path, body)
        assert r.status_code < 300, r.text
        return r.json()

    def get(self, path: str, **kw) -> httpx.Response:
        return httpx.get(self.base + path, timeout=600,
                         headers={**self.headers, **kw.pop("headers", {})}, **kw)

    def peak_rss_mb(self) -> float:
        """The server's peak resident memory so far (VmHWM)."""
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
        raise AssertionError("no VmHWM for the server")

    def rss_mb(self) -> float:
        with open(f"/proc/{self.proc.pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        raise AssertionError("no VmRSS for the server")


@contextlib.contextmanager
def running_server(*args: str, command: str = "serve", token: str | None = None
                   ) -> Iterator[Server]:
    """``primordia serve ARGS --port 0`` until the block ends; with ``token``, requests carry
    it (``Server.headers``)."""
    extra = ["--token", token] if token else []
    proc = subprocess.Popen([sys.executable, "-m", "primordia.cli.main", command, *args,
                             *extra, "--port", "0"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        banner = proc.stdout.readline()          # printed once the socket listens
        m = re.search(r"http://[^\s:]+:(\d+)", banner)
        assert m, (banner, proc.poll(), proc.stderr.read() if proc.poll() is not None else "")
        server = Server(proc, f"http://127.0.0.1:{m.group(1)}",
                        {"Authorization": f"Bearer {token}"} if token else {})
        deadline = time.monotonic() + 120        # readiness wait, not a speed check
        while True:
            assert proc.poll() is None, proc.stderr.read()
            try:
                httpx.get(server.base + "/health", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "the server never answered"
                time.sleep(0.1)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
