"""Driving the dashboard from Python: start the real server, launch Debian's Chromium and
create a session from the start page. Shared by the browser tests and
scripts/screenshots.py (which takes the pictures in docs/images); no pytest here."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
REPO = Path(__file__).resolve().parents[3]
SERVER = """
import sys, uvicorn
from primordia.web.app import create_app
token = sys.argv[3] if len(sys.argv) > 3 else None
uvicorn.run(create_app(runs=sys.argv[2], token=token), host="127.0.0.1",
            port=int(sys.argv[1]), ws="websockets-sansio", log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(runs_root: Path, token: str | None = None) -> tuple[subprocess.Popen, str]:
    """``create_app(runs=runs_root, token=token)`` under uvicorn in a subprocess; returns it
    and its URL once /health answers (RuntimeError if it exits or never answers)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(runs_root),
                             *([token] if token else [])], cwd=REPO)
    url = f"http://127.0.0.1:{port}"
    for _ in range(600):
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    stop_server(proc)
    raise RuntimeError("the server did not answer /health")


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=10)


def launch(playwright):
    """Debian's Chromium, headless, without the background traffic a closed network refuses."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)


def create_session(page, world: str, brain: str, knobs: dict[str, int], seed: int) -> None:
    """Fill in the start page and create a session; returns when its world is shown."""
    page.goto("/")
    page.wait_for_selector(f"#world-select option[value='{world}']", state="attached")
    page.select_option("#world-select", world)
    page.select_option("#brain-select", brain)
    page.fill("#seed", str(seed))
    for name, value in knobs.items():
        page.fill(f"#knob-{name}", str(value))
    page.click("#create")
    page.wait_for_url("**/#/session/*")
    page.wait_for_function("window.primordia && window.primordia.organismIds().length > 0")
    page.wait_for_function("document.body.dataset.ready === 'true'")
