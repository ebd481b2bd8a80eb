"""Take the dashboard screenshots in docs/images: a hex session with a neural brain in focus,
a sandbox session with a micro-PSIL brain, and the replay of a recorded hex run. Needs the
test extras (playwright) and Chromium at /usr/bin/chromium. Run: .venv/bin/python
scripts/screenshots.py"""

from __future__ import annotations

import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "images"
VIEWPORT = {"width": 1120, "height": 700}
SERVER = """
import sys, uvicorn
from primordia.web.app import create_app
uvicorn.run(create_app(runs=sys.argv[2]), host="127.0.0.1", port=int(sys.argv[1]),
            ws="websockets-sansio", log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def record_run(root: Path) -> None:
    from primordia.runs.hex_run import HexRun
    from primordia.worlds.hex.config import HexConfig

    HexRun(HexConfig(world_width=20, num_organisms=200, turns=400, seed=11),
           out=root / "hex-seed11", record_every=100).execute()


def create(page, world: str, brain: str, seed: int, knobs: dict[str, int]) -> None:
    page.goto("/")
    page.wait_for_selector(f"#world-select option[value='{world}']", state="attached")
    page.select_option("#world-select", world)
    page.select_option("#brain-select", brain)
    page.fill("#seed", str(seed))
    for name, value in knobs.items():
        page.fill(f"#knob-{name}", str(value))
    page.click("#create")
    page.wait_for_function("window.primordia && window.primordia.organismIds().length > 0")


def play(page, turns: int, speed: int = 60) -> None:
    page.fill("#speed", str(speed))
    page.click("#play")
    page.wait_for_function(f"window.primordia.turn() >= {turns}", timeout=60_000)
    page.click("#pause")
    page.wait_for_timeout(500)


def focus_middle(page) -> None:
    """Click the organism nearest the middle of the map (and that has a brain to show)."""
    box = page.locator("#world").bounding_box()
    best = page.evaluate("""([w, h]) => {
      const p = window.primordia;
      let best = null, bd = Infinity;
      for (const id of p.organismIds()) {
        const s = p.screenOf(id);
        const d = (s.x - w / 2) ** 2 + (s.y - h / 2) ** 2;
        if (d < bd) { bd = d; best = s; }
      }
      return best;
    }""", [box["width"], box["height"]])
    page.mouse.click(box["x"] + best["x"], box["y"] + best["y"])
    page.wait_for_selector("#focus-stats dt")
    page.wait_for_timeout(400)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        record_run(root)
        port = free_port()
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), str(root)], cwd=REPO)
        url = f"http://127.0.0.1:{port}"
        try:
            for _ in range(600):
                try:
                    if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.1)
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=[
                    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync", "--no-first-run"])
                page = browser.new_page(viewport=VIEWPORT, base_url=url)
                create(page, "hex", "neural", 7, {})
                play(page, 240)
                focus_middle(page)
                page.screenshot(path=str(OUT / "dashboard_hex.png"))

                create(page, "sandbox", "psil", 3, {"npcs": 120, "world": 48})
                play(page, 150, speed=30)
                focus_middle(page)
                page.screenshot(path=str(OUT / "dashboard_sandbox.png"))

                page.goto("/#/replay/hex-seed11")
                page.wait_for_function("window.primordia.organismIds().length > 0")
                page.eval_on_selector("#scrub", "el => { el.value = '330'; "
                                      "el.dispatchEvent(new Event('input')); }")
                page.wait_for_function("window.primordia.turn() === 330")
                focus_middle(page)
                page.screenshot(path=str(OUT / "dashboard_replay.png"))
                browser.close()
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    for f in sorted(OUT.glob("dashboard_*.png")):
        print(f"{f.relative_to(REPO)}: {f.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
