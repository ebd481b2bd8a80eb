// The session view: one world (live or replayed) on canvas with its controls, charts, the
// focused organism's stats, brain and ancestry. Messages only change the client's state;
// drawing happens once per animation frame from the latest state, so a fast stream is
// coalesced into what the screen can show.

import { BrainView } from "./brain_view.js";
import { Series, binValues, histogram, lineChart } from "./charts.js";
import { drawLineage } from "./lineage_view.js";
import { LiveSource } from "./live.js";
import { lineageColor } from "./palette.js";
import { Phylogeny } from "./phylogeny.js";
import { ReplaySource } from "./replay.js";
import { WorldState } from "./world_state.js";
import { WorldView } from "./world_view.js";

const CHART_MS = 100;        // charts redraw at most this often
const PANEL_MS = 100;

const $ = (id) => document.getElementById(id);

export class SessionView {
  constructor() {
    this.state = new WorldState();
    this.phylo = new Phylogeny();
    this.view = new WorldView($("world"), this.state);
    this.view.onPick = (id) => this.setFocus(id);
    this.brain = new BrainView($("brain"));
    this.series = { population: new Series(), births: new Series(), deaths: new Series(),
      diversity: new Series(), lineages: new Series() };
    this.source = null;
    this.focusId = null;
    this.focusInfo = null;
    this.drawn = -1;
    this.chartsAt = 0;
    this.panelAt = 0;
    this.panelDirty = false;
    this.frames = 0;
    this._controls();
    const frame = (now) => { this._frame(now); requestAnimationFrame(frame); };
    requestAnimationFrame(frame);
  }

  _handlers() {
    return {
      snapshot: (s) => {
        if (s.turn < this.state.turn) for (const x of Object.values(this.series)) x.clear();
        this.state.fromSnapshot(s);
        this.phylo.fromSnapshot(s);
        this._sample(s.turn, s.metrics);
        this.panelDirty = true;
      },
      delta: (d) => {
        this.state.applyDelta(d);
        this.phylo.delta(d);
        this._sample(d.turn, d.metrics);
        if (!this.source.live && this.focusId !== null) this._replayFocus();
      },
      focus: (f) => {
        if (f.organism_id !== this.focusId) return;
        if (f.ancestors) this.phylo.adopt(f.organism, f.ancestors, f.older_ancestors);
        this.focusInfo = f;
        this.panelDirty = true;
      },
      error: (text) => this._status(text, true),
      moved: (turn) => { $("scrub").value = String(turn); },
      ended: () => this._playing(false),
    };
  }

  _sample(turn, m) {
    const s = this.series;
    s.population.push(turn, m?.organisms ?? this.state.organisms.size);
    s.births.push(turn, m?.births_last_turn ?? 0);
    s.deaths.push(turn, m?.deaths_last_turn ?? 0);
    s.diversity.push(turn, this.state.diversity());
    s.lineages.push(turn, this.state.lineageCounts.size);
  }

  async openLive(sessionId) {
    this._reset();
    this.source = new LiveSource(sessionId, this._handlers());
    document.body.dataset.mode = "live";
    const info = await this.source.open();
    const m = info.metadata;
    $("session-title").textContent = `${m.world} · ${m.brain} · seed ${m.config.seed}`;
    $("session-id").textContent = `session ${m.id.slice(0, 8)}`;
    $("step-count").max = String(m.max_step ?? 1000);   // the server's per-step limit
    $("speed").value = String(info.playing ? info.ticks_per_second
      : (m.config.steps_per_second ?? $("speed").value));
    this._playing(info.playing);
  }

  async openReplay(name) {
    this._reset();
    this.source = new ReplaySource(name, this._handlers());
    document.body.dataset.mode = "replay";
    await this.source.open();
    const h = this.source.header;
    $("session-title").textContent = `replay · ${h.world} · seed ${h.seed}`;
    $("session-id").textContent = name;
    const scrub = $("scrub");
    scrub.min = String(this.source.first);
    scrub.max = String(this.source.last);
    scrub.value = String(this.source.turn);
    // frames only (a sandbox recording): the slider moves from frame to frame
    scrub.step = this.source.stepsBy === "snapshot" ? String(h.every_n || 1) : "1";
    this._playing(false);
  }

  close() {
    this.source?.close();
    this.source = null;
  }

  _reset() {
    this.close();
    this.state.clear();
    this.phylo.clear();
    for (const x of Object.values(this.series)) x.clear();
    this.focusId = null;
    this.focusInfo = null;
    this.view.focus = null;
    this.brain.clear("Click an organism on the map.");
    this.panelDirty = true;
    this._status("");
  }

  setFocus(id) {
    this.focusId = id;
    this.focusInfo = null;
    this.view.focus = id;
    this.view.dirty = true;
    this.panelDirty = true;
    if (id === null) this.brain.clear("Click an organism on the map.");
    if (this.source?.live) this.source.focus(id);
    else if (id !== null) this._replayFocus();
  }

  _replayFocus() {
    const o = this.state.organisms.get(this.focusId);
    this.focusInfo = o ? { organism_id: this.focusId, alive: true, turn: this.state.turn, organism: o,
      brain: null } : { organism_id: this.focusId, alive: false, turn: this.state.turn };
    this.panelDirty = true;
  }

  _controls() {
    $("play").onclick = () => {
      this.source?.start(this._speed());
      this._playing(true);
    };
    $("pause").onclick = () => {
      this.source?.pause();
      this._playing(false);
    };
    $("step").onclick = () => {
      const most = parseInt($("step-count").max, 10) || 1000;
      const n = Math.max(1, Math.min(most, parseInt($("step-count").value, 10) || 1));
      this.source?.step(n);
    };
    $("speed").onchange = () => {
      if (this.source?.playing) this.source.start(this._speed());
    };
    $("fit").onclick = () => this.view.fit();
    $("unfocus").onclick = () => this.setFocus(null);
    let pending = null;
    $("scrub").oninput = (ev) => {
      const turn = parseInt(ev.target.value, 10);
      clearTimeout(pending);
      pending = setTimeout(() => this.source?.seek?.(turn).catch((e) => this._status(e.message, true)), 30);
    };
  }

  _speed() {
    return Math.max(1, Math.min(1000, parseInt($("speed").value, 10) || 10));
  }

  _playing(on) {
    $("play").classList.toggle("active", on);
    $("pause").classList.toggle("active", !on);
  }

  _status(text, bad = false) {
    const el = $("status");
    el.textContent = text;
    el.classList.toggle("bad", bad);
  }

  _frame(now) {
    if (!this.source) return;
    const s = this.state;
    if (s.version !== this.drawn || this.view.dirty) {
      this.view.draw();
      this.drawn = s.version;
      this.frames++;
      $("turn").textContent = String(s.turn);
      $("population").textContent = String(s.organisms.size);
      $("lineages").textContent = String(s.lineageCounts.size);
    }
    if (now - this.chartsAt > CHART_MS && s.version !== this.chartsVersion) {
      this.chartsAt = now;
      this.chartsVersion = s.version;
      this._charts();
    }
    if (this.panelDirty && now - this.panelAt > PANEL_MS) {
      this.panelAt = now;
      this.panelDirty = false;
      this._panel();
    }
  }

  _charts() {
    const x = this.series;
    lineChart($("chart-population"), "Population", [
      { series: x.population, color: "#58a6ff", label: "organisms" }]);
    lineChart($("chart-births"), "Births, deaths / turn", [
      { series: x.births, color: "#3fb950", label: "births" },
      { series: x.deaths, color: "#f85149", label: "deaths", dash: [4, 3] }]);
    lineChart($("chart-diversity"), "Diversity (Shannon, lineages)", [
      { series: x.diversity, color: "#d2a8ff", label: "H" }]);
    const st = this.state;
    let bins = st.fitness, key = st.fitness?.measure, at = st.fitnessTurn;
    if (!bins) {                 // a recording without the server's histogram: bin the table
      key = st.fitnessKey();
      const values = [];
      if (key) for (const o of st.organisms.values()) if (o[key] !== null) values.push(o[key]);
      bins = binValues(values);
      at = st.tableTurn;
    }
    const title = key ? `Fitness: ${key.replaceAll("_", " ")} (turn ${at})` : "Fitness";
    const canvas = $("chart-fitness");
    canvas.dataset.turn = String(at);
    histogram(canvas, title, bins, "#e3b341");
  }

  _panel() {
    const f = this.focusInfo;
    const stats = $("focus-stats");
    stats.replaceChildren();
    if (this.focusId === null) {
      $("focus-title").textContent = "No organism in focus";
      drawLineage($("lineage"), null, this.state.turn);
      return;
    }
    $("focus-title").textContent = `Organism #${this.focusId}`;
    if (f && f.alive === false) {
      $("focus-title").textContent = `Organism #${this.focusId} died by turn ${f.turn}`;
    }
    const o = f?.organism;
    if (o) {
      $("focus-title").style.borderColor = lineageColor(o.lineage);
      for (const [k, v] of Object.entries(o)) {
        if (k === "parents") continue;
        const dt = document.createElement("dt");
        dt.textContent = k.replaceAll("_", " ");
        const dd = document.createElement("dd");
        // a recording keeps only some numbers: the rest are unknown, not zero
        if (v === null || v === undefined) dd.classList.add("unknown");
        dd.textContent = v === null || v === undefined ? "unknown"
          : Array.isArray(v) ? v.join(", ") : String(v);
        stats.append(dt, dd);
      }
    }
    if (f && f.alive !== false) {
      if (this.source.live) this.brain.update(f.brain);
      else this.brain.clear("Recordings keep no brains; a live session shows them.");
    }
    drawLineage($("lineage"), this.phylo.tree(this.focusId), this.state.turn);
  }
}
