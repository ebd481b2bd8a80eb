// Replay of a recorded run: pages from GET /v1/runs/{name}/recording (the nearest snapshot
// at or before a turn, then the deltas after it) played through the same handlers as a live
// stream. Seeking jumps to the nearest snapshot and applies deltas up to the turn; playing
// applies buffered deltas at the chosen rate and fetches the next page before it runs dry.
// A recording of frames only (the sandbox's: steps_by "snapshot") has no deltas: stepping
// and playing move from frame to frame, each a seek.

import { get } from "./api.js";

const PREFETCH = 150;            // fetch more when fewer deltas than this are buffered
const MAX_PER_FRAME = 500;

export async function listRuns() {
  return get("/v1/runs");
}

export class ReplaySource {
  constructor(name, handlers) {
    this.name = name;
    this.live = false;
    this.handlers = handlers;
    this.buffer = new Map();
    this.turn = 0;
    this.playing = false;
    this.loading = null;
    this.seq = 0;
    this.next = null;            // the turn of the snapshot after the one shown
    this.stepsBy = "delta";
    this.pending = null;         // a frame being fetched while playing
  }

  _url(from, to) {
    const path = this.name.split("/").map(encodeURIComponent).join("/");
    return `/v1/runs/${path}/recording?from=${from}&to=${to}`;
  }

  async open() {
    const page = await get(this._url(0, PREFETCH));
    this.header = page.header;
    this.first = page.first_turn;
    this.last = page.last_turn;
    this._take(page, this.first);
    return page;
  }

  /** Show the state at ``turn``: the snapshot before it, then its deltas up to it. */
  async seek(turn) {
    const seq = ++this.seq;
    turn = Math.max(this.first, Math.min(this.last, turn));
    const page = await get(this._url(turn, turn + PREFETCH));
    if (seq !== this.seq) return;          // a later seek overtook this one
    this._take(page, turn);
  }

  _take(page, upTo) {
    this.buffer.clear();
    this.handlers.snapshot(page.snapshot);
    this.turn = page.snapshot.turn;
    this.next = page.next_snapshot ?? null;
    this.stepsBy = page.steps_by ?? "delta";
    for (const d of page.deltas) {
      if (d.turn <= upTo) { this.handlers.delta(d); this.turn = d.turn; }
      else this.buffer.set(d.turn, d);
    }
    this.handlers.moved?.(this.turn);
  }

  async _fill() {
    if (this.loading || this.turn >= this.last) return;
    let ahead = this.turn;
    while (this.buffer.has(ahead + 1)) ahead++;
    if (ahead - this.turn >= PREFETCH || ahead >= this.last) return;
    const seq = this.seq;
    this.loading = get(this._url(ahead, ahead + 4 * PREFETCH));
    try {
      const page = await this.loading;
      if (seq === this.seq) for (const d of page.deltas) if (d.turn > this.turn) this.buffer.set(d.turn, d);
    } catch (e) {
      this.handlers.error(e.message);
    } finally {
      this.loading = null;
    }
  }

  /** Apply up to ``count`` buffered deltas; returns how many there were. Without deltas,
   * go to the frame at or before ``count`` turns on, and at least to the next frame. */
  step(count) {
    if (this.stepsBy === "snapshot") {
      if (this.next === null) return 0;
      this.seek(Math.max(this.turn + count, this.next)).catch((e) => this.handlers.error(e.message));
      return count;
    }
    let n = 0;
    while (n < count) {
      const d = this.buffer.get(this.turn + 1);
      if (!d) break;
      this.buffer.delete(d.turn);
      this.handlers.delta(d);
      this.turn = d.turn;
      n++;
    }
    this.handlers.moved?.(this.turn);
    this._fill();
    return n;
  }

  start(ticksPerSecond) {
    this.rate = ticksPerSecond;
    if (this.playing) { this.t0 = performance.now(); this.done = 0; return; }
    this.playing = true;
    this.t0 = performance.now();
    this.done = 0;
    const frame = (now) => {
      if (!this.playing) return;
      const due = Math.floor(((now - this.t0) / 1000) * this.rate) - this.done;
      if (due > 0 && this.stepsBy !== "snapshot") {
        this.done += due;
        this.step(Math.min(due, MAX_PER_FRAME));
      } else if (due > 0 && !this.pending && this.next !== null && this.turn + due >= this.next) {
        // frames: the clock has reached the next one (or passed several)
        this.done += due;
        this.pending = this.seek(this.turn + due)
          .catch((e) => this.handlers.error(e.message))
          .finally(() => { this.pending = null; });
      }
      if (this.turn >= this.last) { this.pause(); this.handlers.ended?.(); return; }
      requestAnimationFrame(frame);
    };
    requestAnimationFrame(frame);
  }

  pause() {
    this.playing = false;
  }

  focus() {
    // a recording keeps no brains: the view shows the organism from the replayed table
  }

  close() {
    this.playing = false;
    this.seq++;
  }
}
