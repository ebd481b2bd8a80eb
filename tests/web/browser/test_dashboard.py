"""The dashboard in a real browser against a real server: the start page builds its form from
the server, a hex session plays, pauses and steps, organisms are drawn where the client says
they are, clicking one shows its brain, the sandbox and the ecology world draw square tiles,
and recorded runs replay to a later turn. Screenshots go to the artifacts folder."""

from __future__ import annotations

import httpx

from ..wire import apply
from .harness import create_session, start_server, stop_server

BRIGHT_PIXELS = """() => {
  // organisms are drawn in saturated lineage colours; grid, tiles and background are not
  const c = document.getElementById("world");
  const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 0; i < d.length; i += 4) {
    const hi = Math.max(d[i], d[i + 1], d[i + 2]), lo = Math.min(d[i], d[i + 1], d[i + 2]);
    if (hi > 140 && hi - lo > 60) n++;
  }
  return n;
}"""


def turn(page) -> int:
    return int(page.text_content("#turn"))


def settled_turn(page) -> int:
    """The turn once the counter has stopped moving (in-flight deltas have arrived)."""
    last = turn(page)
    while True:
        page.wait_for_timeout(400)
        now = turn(page)
        if now == last:
            return now
        last = now


def click_organism(page) -> int:
    """Click an organism where the client draws it; returns its id."""
    box = page.locator("#world").bounding_box()
    for oid in page.evaluate("window.primordia.organismIds()"):
        at = page.evaluate(f"window.primordia.screenOf({oid})")
        if at and 10 < at["x"] < box["width"] - 10 and 10 < at["y"] < box["height"] - 10:
            page.mouse.click(box["x"] + at["x"], box["y"] + at["y"])
            return oid
    raise AssertionError("no organism inside the canvas")


def test_a_server_with_a_token_is_asked_for_it_then_shows_its_worlds(browser, runs_root):
    proc, url = start_server(runs_root, token="tok-123")
    context = browser.new_context(viewport={"width": 1280, "height": 800}, base_url=url)
    try:
        p = context.new_page()
        p.set_default_timeout(60_000)
        p.goto("/")
        p.wait_for_function("document.getElementById('status').textContent"
                            ".includes('needs a token')")
        assert p.locator("#world-select option").count() == 0
        p.fill("#token", "wrong")
        p.dispatch_event("#token", "change")
        p.wait_for_function("document.getElementById('status').textContent"
                            ".includes('refused this token')")
        p.fill("#token", "tok-123")
        p.dispatch_event("#token", "change")
        p.wait_for_selector("#world-select option[value='hex']", state="attached")
        assert p.text_content("#status") == ""
        assert p.evaluate("localStorage.getItem('primordia.token')") == "tok-123"
    finally:
        context.close()
        stop_server(proc)


def test_start_page_builds_the_form_from_the_server(page, server):
    worlds = httpx.get(f"{server}/v1/worlds").json()["payload"]["worlds"]
    page.goto("/")
    for w in worlds:
        page.select_option("#world-select", w["name"])
        brains = page.eval_on_selector_all("#brain-select option", "os => os.map(o => o.value)")
        assert brains == w["brains"]
        for knob in w["knobs"]:
            if knob["name"] != "seed":
                assert page.locator(f"#knob-{knob['name']}").count() == 1, knob["name"]
        for brain in w["brains"]:          # the chosen brain's own settings, and no other's
            page.select_option("#brain-select", brain)
            shown = page.eval_on_selector_all("[data-knob^='brain-']",
                                              "es => es.map(e => e.dataset.knob)")
            assert shown == [f"brain-{k['name']}" for k in w["brain_knobs"][brain]]
    assert page.errors == []


def test_a_brain_setting_set_on_the_start_page_reaches_the_session(page, server):
    create_session(page, "hex", "neural", {"brain-num_neurons": 5}, seed=3)
    sessions = httpx.get(f"{server}/v1/sessions").json()["payload"]["sessions"]
    brains = [s["metadata"]["config"]["brain"] for s in sessions if s["metadata"]["config"]
              ["seed"] == 3]
    assert {"kind": "neural", "num_neurons": 5} in [
        {k: b[k] for k in ("kind", "num_neurons")} for b in brains]
    assert page.errors == []


def test_hex_session_plays_pauses_steps_and_shows_a_neural_brain(page, artifacts):
    create_session(page, "hex", "neural", {}, seed=5)
    organisms = len(page.evaluate("window.primordia.organismIds()"))
    assert organisms == 200
    assert page.evaluate(BRIGHT_PIXELS) > 20 * organisms     # every organism is a dot

    page.fill("#speed", "60")
    page.click("#play")
    page.wait_for_function("window.primordia.turn() >= 30")
    page.click("#pause")
    paused = settled_turn(page)
    page.wait_for_timeout(500)
    assert turn(page) == paused                              # paused means stopped

    page.fill("#step-count", "5")
    page.click("#step")
    page.wait_for_function(f"window.primordia.turn() >= {paused + 5}")
    assert settled_turn(page) == paused + 5                  # exactly the count

    oid = click_organism(page)
    page.wait_for_selector("#brain canvas.brain-net[data-neurons]")
    net = page.locator("#brain canvas.brain-net")
    assert int(net.get_attribute("data-neurons")) > 0
    assert f"#{oid}" in page.text_content("#focus-title")
    assert page.locator("#focus-stats dt").count() > 3
    page.screenshot(path=str(artifacts / "hex_neural.png"))
    assert page.errors == []


def test_psil_brain_shows_disassembly_with_the_pc(page, artifacts):
    create_session(page, "hex", "psil", {"world_width": 10, "num_organisms": 40}, seed=2)
    page.fill("#step-count", "3")
    page.click("#step")
    page.wait_for_function("window.primordia.turn() >= 3")
    click_organism(page)
    page.wait_for_selector("ol.psil li.pc")
    assert page.locator("ol.psil li").count() > 1
    assert page.locator("ol.psil li.pc").count() == 1
    assert page.text_content(".psil-head").startswith("pc ")
    page.screenshot(path=str(artifacts / "hex_psil.png"))
    assert page.errors == []


def test_wasm_brain_shows_its_listing_with_the_next_steps_trace(page, artifacts):
    create_session(page, "sandbox", "wasm", {"npcs": 30}, seed=2)
    page.fill("#step-count", "3")
    page.click("#step")
    page.wait_for_function("window.primordia.turn() >= 3")
    click_organism(page)
    page.wait_for_selector("ol.psil.wasm li")
    assert page.locator("ol.psil.wasm li").count() > 2
    assert page.text_content(".psil-head").startswith("last step: gas ")
    assert page.locator("ol.psil.wasm li.pc").count() <= 1
    hits = page.eval_on_selector_all("ol.psil.wasm li .addr", "s => s.map(x => x.textContent)")
    assert any(h.endswith("×") for h in hits)          # the traced step ran something
    page.screenshot(path=str(artifacts / "sandbox_wasm.png"))
    assert page.errors == []


def test_sandbox_draws_square_tiles(page, artifacts):
    create_session(page, "sandbox", "psil", {"npcs": 30}, seed=4)
    # the colour at a food tile's centre fills the tile up to its corners: a square
    found = page.evaluate("""() => {
      const s = window.primordia.session, st = s.state, v = s.view;
      if (v.hex) return "hex";
      const food = st.tileNames.indexOf("food");
      const busy = new Set([...st.organisms.values()].map(o => o.y * st.grid.width + o.x));
      const c = document.getElementById("world"), ctx = c.getContext("2d");
      const dpr = c.width / c.clientWidth;
      const px = (x, y) => [...ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data].slice(0, 3).join(",");
      for (let i = 0; i < st.tiles.length; i++) {
        if (st.tiles[i] !== food || busy.has(i)) continue;
        const x = i % st.grid.width, y = Math.floor(i / st.grid.width);
        const [cx, cy] = v.toScreen(x + 0.5, y + 0.5);
        const corners = [[-0.4, -0.4], [0.4, -0.4], [-0.4, 0.4], [0.4, 0.4]].map(
          ([dx, dy]) => px(cx + dx * v.scale, cy + dy * v.scale));
        return {centre: px(cx, cy), corners};
      }
      return "no food";
    }""")
    assert isinstance(found, dict), found
    assert found["centre"] == "70,150,70"
    assert found["corners"] == [found["centre"]] * 4
    assert page.evaluate(BRIGHT_PIXELS) > 0
    page.screenshot(path=str(artifacts / "sandbox.png"))
    assert page.errors == []


def test_ecology_shades_resources_and_shows_a_wasm_brain(page, artifacts):
    create_session(page, "ecology", "wasm", {"width": 32, "height": 32, "num_organisms": 60,
                                             "max_organisms": 400, "patch_size": 6}, seed=5)
    # every tile is drawn in the colour of its state: full resource bright green, obstacles
    # grey, bare fertile ground dark green
    colours = page.evaluate("""() => {
      const s = window.primordia.session, st = s.state, v = s.view;
      const busy = new Set([...st.organisms.values()].map(o => o.y * st.grid.width + o.x));
      const c = document.getElementById("world"), ctx = c.getContext("2d");
      const dpr = c.width / c.clientWidth;
      const px = (x, y) => [...ctx.getImageData(Math.round(x * dpr), Math.round(y * dpr), 1, 1).data].slice(0, 3).join(",");
      const out = {};
      for (let i = 0; i < st.tiles.length; i++) {
        const name = st.tileNames[st.tiles[i]];
        if (busy.has(i) || name in out) continue;
        const [cx, cy] = v.toScreen(i % st.grid.width + 0.5, Math.floor(i / st.grid.width) + 0.5);
        out[name] = px(cx, cy);
      }
      return out;
    }""")
    assert colours["resource_high"] == "66,156,66" and colours["obstacle"] == "92,96,110"
    assert len(set(colours.values())) == len(colours)        # each state has its own colour
    page.fill("#step-count", "3")
    page.click("#step")
    page.wait_for_function("window.primordia.turn() >= 3")
    assert page.evaluate(BRIGHT_PIXELS) > 0                  # the organisms are drawn
    oid = click_organism(page)
    page.wait_for_selector("ol.psil.wasm li")
    assert f"#{oid}" in page.text_content("#focus-title")
    stats = dict(zip(page.eval_on_selector_all("#focus-stats dt", "es => es.map(e => e.textContent)"),
                     page.eval_on_selector_all("#focus-stats dd", "es => es.map(e => e.textContent)")))
    assert int(stats["energy"]) > 0 and "lineage" in stats
    page.screenshot(path=str(artifacts / "ecology_wasm.png"))
    assert page.errors == []


def replay_frame_at(page, server, run: str, world: str, at: int) -> dict:
    """Open the recorded run ``run`` from the runs list, scrub to turn ``at`` and check the
    organisms drawn are the recording's frame there (by id and x, y); the frame's payload."""
    page.goto("/")
    page.wait_for_selector(f"#runs a:text('{run}')")
    assert world in page.text_content(f"#runs li:has(a:text('{run}'))")
    page.click(f"#runs a:text('{run}')")
    page.wait_for_url(f"**/#/replay/{run}")
    page.wait_for_function("window.primordia.organismIds().length > 0")
    assert turn(page) == 0
    page.eval_on_selector("#scrub", f"el => {{ el.value = '{at}'; "
                                    "el.dispatchEvent(new Event('input')); }")
    page.wait_for_function(f"window.primordia.turn() === {at}")
    body = httpx.get(f"{server}/v1/runs/{run}/recording", params={"from": at}).json()["payload"]
    want = {o["id"]: (o["x"], o["y"]) for o in body["snapshot"]["organisms"]}
    shown = page.evaluate("[...window.primordia.session.state.organisms.values()]"
                          ".map(o => [o.id, o.x, o.y])")
    assert {i: (x, y) for i, x, y in shown} == want
    return body


def test_ecology_replay_shows_the_recorded_frame(page, server, artifacts):
    body = replay_frame_at(page, server, "ecology-frames", "ecology", 40)
    tiles = page.evaluate("Array.from(window.primordia.session.state.tiles)")
    assert tiles == [ord(ch) - 48 for ch in body["snapshot"]["terrain"]["tiles"]]
    page.screenshot(path=str(artifacts / "replay_ecology.png"))
    assert page.errors == []


def test_replay_scrubs_to_a_later_turn(page, server, artifacts):
    page.goto("/")
    page.click("#runs a:text('small')")
    page.wait_for_url("**/#/replay/small")
    page.wait_for_function("window.primordia.organismIds().length > 0")
    assert turn(page) == 0
    page.eval_on_selector("#scrub", "el => { el.value = '100'; el.dispatchEvent(new Event('input')); }")
    page.wait_for_function("window.primordia.turn() === 100")
    rec = httpx.get(f"{server}/v1/runs/small/recording", params={"from": 100, "to": 100})
    body = rec.json()["payload"]
    want, _, at = apply(body["snapshot"], body["deltas"])
    assert at == 100
    shown = page.evaluate("[...window.primordia.session.state.organisms.values()]"
                          ".map(o => [o.id, o.q, o.r])")
    assert {i: (q, r) for i, q, r in shown} == want
    assert page.evaluate(BRIGHT_PIXELS) > 0
    page.screenshot(path=str(artifacts / "replay.png"))
    assert page.errors == []


def test_sandbox_replay_moves_from_frame_to_frame(page, server, artifacts):
    """A sandbox recording has frames and no deltas: scrubbing, Step and Play go from frame
    to frame, and what frames do not record shows as unknown."""
    replay_frame_at(page, server, "sandbox-frames", "sandbox", 40)
    assert page.evaluate(BRIGHT_PIXELS) > 0                  # the NPCs are drawn
    page.fill("#step-count", "1")
    page.click("#step")                                      # one tick on is the next frame
    page.wait_for_function("window.primordia.turn() === 50")
    oid = click_organism(page)
    page.wait_for_selector("#focus-stats dd.unknown")
    assert f"#{oid}" in page.text_content("#focus-title")
    stats = dict(zip(page.eval_on_selector_all("#focus-stats dt", "es => es.map(e => e.textContent)"),
                     page.eval_on_selector_all("#focus-stats dd", "es => es.map(e => e.textContent)")))
    assert stats["heading"] == "unknown" and stats["hunger"] == "unknown"
    assert stats["health"] != "unknown"
    page.screenshot(path=str(artifacts / "replay_sandbox.png"))
    page.fill("#speed", "40")
    page.click("#play")                                      # plays on to the last frame
    page.wait_for_function("window.primordia.turn() === 60")
    assert page.errors == []


def test_the_fitness_chart_is_as_fresh_as_the_latest_delta(page):
    """Between snapshots (every 100 turns) the chart follows each delta's histogram."""
    create_session(page, "hex", "neural", {"world_width": 10, "num_organisms": 60}, seed=8)
    page.fill("#step-count", "7")
    page.click("#step")
    page.wait_for_function("window.primordia.turn() === 7")
    page.wait_for_function("document.getElementById('chart-fitness').dataset.turn === '7'")
    sid = page.url.rsplit("/", 1)[1]
    state = httpx.get(f"{page.url.split('/#')[0]}/v1/sessions/{sid}/state").json()["payload"]
    assert state["turn"] == 7
    drawn = page.get_attribute("#chart-fitness", "data-counts")
    assert drawn == ",".join(str(c) for c in state["fitness"]["counts"])
    assert page.errors == []


def test_ancestry_reaches_ancestors_that_died_before_the_page_opened(page, server, artifacts):
    r = httpx.post(f"{server}/v1/sessions", json={"world": "hex", "brain": "neural", "seed": 4,
                   "config": {"world_width": 8, "num_organisms": 40, "turns_to_starve": 4}})
    sid = r.json()["payload"]["metadata"]["id"]
    snap = httpx.post(f"{server}/v1/sessions/{sid}/step", json={"count": 80},
                      timeout=120).json()["payload"]["snapshot"]
    chains = {o["id"]: httpx.post(f"{server}/v1/sessions/{sid}/focus",
                                  json={"organism_id": o["id"]}).json()["payload"]["ancestors"]
              for o in snap["organisms"]}
    oid = max(chains, key=lambda i: (sum(not a["alive"] for a in chains[i]), len(chains[i])))
    dead = [a["id"] for a in chains[oid] if not a["alive"]]
    assert dead, "no organism with a dead ancestor: the test shows nothing"
    page.goto(f"/#/session/{sid}")
    page.wait_for_function("window.primordia.organismIds().length > 0")
    page.evaluate(f"window.primordia.session.setFocus({oid})")
    page.wait_for_function("window.primordia.session.focusInfo?.ancestors !== undefined")
    path = page.evaluate(f"[...window.primordia.session.phylo.tree({oid}).path]")
    assert path == [oid] + [a["id"] for a in chains[oid]]    # drawn from the server's chain
    assert set(dead) <= set(path)                             # the page never saw them alive
    page.screenshot(path=str(artifacts / "ancestry.png"))
    assert page.errors == []
