"""A real server and Debian's Chromium driven by Playwright, for the dashboard's tests. The
server runs in a subprocess on a free port with a small recorded hex run to replay; the
browser is started once per test process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ...needs import missing
from .harness import CHROMIUM, REPO, launch, start_server, stop_server


@pytest.fixture(scope="session")
def runs_root(tmp_path_factory) -> Path:
    """A runs folder holding a small recorded hex run, ``small``, a sandbox run made by
    ``primordia run sandbox``, ``sandbox-frames`` (a frame every 10 ticks up to 60), and an
    ecology run, ``ecology-frames`` (a frame every 20 ticks up to 60)."""
    from primordia.runs.hex_run import HexRun
    from primordia.worlds.hex.config import HexConfig

    root = tmp_path_factory.mktemp("runs")
    HexRun(HexConfig(world_width=8, num_organisms=30, turns_to_starve=6, turns=120, seed=3),
           out=root / "small", record_every=40).execute()
    made = subprocess.run([sys.executable, "-m", "primordia.cli.main", "run", "sandbox",
                           "--npcs", "40", "--ticks", "60", "--seed", "3", "--record-every",
                           "10", "--timeline", "30", "--out", str(root / "sandbox-frames")],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert made.returncode == 0, made.stderr
    made = subprocess.run([sys.executable, "-m", "primordia.cli.main", "run", "ecology",
                           "--width", "24", "--height", "24", "--organisms", "60", "--ticks",
                           "60", "--seed", "3", "--record-every", "20", "--out",
                           str(root / "ecology-frames")],
                          capture_output=True, text=True, timeout=600, cwd=REPO)
    assert made.returncode == 0, made.stderr
    return root


@pytest.fixture(scope="session")
def server(runs_root) -> str:
    proc, url = start_server(runs_root)
    try:
        warm_up(url)
        yield url
    finally:
        stop_server(proc)


def warm_up(url: str) -> None:
    """One small session of every world and brain, made and dropped before any page opens:
    on a clean checkout the server compiles each world's kernels on its first session (up to
    a minute each on a busy machine), which must not count against a page's timeouts."""
    worlds = httpx.get(f"{url}/v1/worlds", timeout=30).json()["payload"]["worlds"]
    small = {"hex": {"world_width": 6, "num_organisms": 8}, "sandbox": {"npcs": 8},
             "ecology": {"width": 12, "height": 12, "num_organisms": 8, "max_organisms": 64,
                         "radius": 1, "neighbor_records": 3}}
    for w in worlds:
        for brain in w["brains"]:
            r = httpx.post(f"{url}/v1/sessions", timeout=600,
                           json={"world": w["name"], "brain": brain,
                                 "config": small.get(w["name"], {})})
            r.raise_for_status()
            sid = r.json()["payload"]["metadata"]["id"]
            httpx.post(f"{url}/v1/sessions/{sid}/step", json={"count": 2}, timeout=600)
            httpx.delete(f"{url}/v1/sessions/{sid}", timeout=60)


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("the playwright package")
    if not os.access(CHROMIUM, os.X_OK):
        missing(f"Chromium at {CHROMIUM}")
    with sync_playwright() as pw:
        b = launch(pw)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=server)
    p = context.new_page()
    p.set_default_timeout(60_000)          # a loaded two-core CI machine; never a time check
    errors: list[str] = []
    p.on("pageerror", lambda exc: errors.append(str(exc)))
    p.errors = errors
    yield p
    context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go: $PRIMORDIA_ARTIFACTS, else artifacts/screenshots in the repo."""
    path = Path(os.environ.get("PRIMORDIA_ARTIFACTS") or REPO / "artifacts" / "screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path
