// A live session as the session view drives it: the WebSocket stream's commands behind the
// same small interface a replay offers (start, pause, step, focus).

import { Stream, get } from "./api.js";

export class LiveSource {
  constructor(sessionId, handlers) {
    this.id = sessionId;
    this.live = true;
    this.handlers = handlers;
    this.playing = false;
  }

  async open() {
    const info = await get(`/v1/sessions/${this.id}`);
    this.info = info;
    this.stream = new Stream(this.id, {
      StateSnapshot: (s) => this.handlers.snapshot(s),
      TickDelta: (d) => this.handlers.delta(d),
      FocusBrain: (f) => this.handlers.focus(f),
      Metrics: (m) => this.handlers.metrics?.(m),
      Error: (e) => this.handlers.error(`${e.code}: ${e.message}`),
      closed: (code) => this.handlers.error(code === 4404 ? "the session is gone"
        : "the stream closed; reload to reconnect"),
    });
    await this.stream.open;
    if (info.playing) {
      this.playing = true;
      this.rate = info.ticks_per_second;
    }
    return info;
  }

  start(ticksPerSecond) {
    this.playing = true;
    this.stream.send("Start", { ticks_per_second: ticksPerSecond });
  }

  pause() {
    this.playing = false;
    this.stream.send("Pause", null);
  }

  step(count) {
    this.stream.send("Step", { count });
  }

  focus(organismId) {
    this.stream.send("SetFocus", { organism_id: organismId });
  }

  close() {
    this.stream?.close();
  }
}
