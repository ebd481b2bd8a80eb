"""Take the dashboard screenshots in docs/images: a hex session with a neural brain in focus,
a sandbox session with a micro-PSIL brain, and the replay of a recorded hex run. Needs the
test extras (playwright) and Chromium at /usr/bin/chromium. Run: .venv/bin/python
scripts/screenshots.py"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "web" / "browser"))
from harness import create_session, launch, start_server, stop_server  # noqa: E402

OUT = REPO / "docs" / "images"
VIEWPORT = {"width": 1120, "height": 700}


def record_run(root: Path) -> None:
    from primordia.runs.hex_run import HexRun
    from primordia.worlds.hex.config import HexConfig

    HexRun(HexConfig(world_width=20, num_organisms=200, turns=400, seed=11),
           out=root / "hex-seed11", record_every=100).execute()


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
        proc, url = start_server(root)
        try:
            with sync_playwright() as pw:
                browser = launch(pw)
                page = browser.new_page(viewport=VIEWPORT, base_url=url)
                page.set_default_timeout(120_000)         # first sessions compile kernels
                create_session(page, "hex", "neural", {}, seed=7)
                play(page, 240)
                focus_middle(page)
                page.screenshot(path=str(OUT / "dashboard_hex.png"))

                create_session(page, "sandbox", "psil", {"npcs": 120, "world": 48}, seed=3)
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
            stop_server(proc)
    for f in sorted(OUT.glob("dashboard_*.png")):
        print(f"{f.relative_to(REPO)}: {f.stat().st_size // 1024} KB")


if __name__ == "__main__":
    main()
