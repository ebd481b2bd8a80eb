// Live charts on canvas: line charts of per-turn series (kept in a bounded window of turns)
// and a histogram. Each call redraws one chart from its data; callers decide how often.

const TEXT = "#c9d1d9";
const MUTED = "#6e7681";
const AXIS = "#30363d";

/** A per-turn series holding the latest ``capacity`` points. */
export class Series {
  constructor(capacity = 600) {
    this.capacity = capacity;
    this.x = [];
    this.y = [];
  }

  push(x, y) {
    const n = this.x.length;
    if (n && x <= this.x[n - 1]) {
      if (x === this.x[n - 1]) { this.y[n - 1] = y; return; }
      this.clear();              // time went back (a reset or a replay seek)
    }
    this.x.push(x);
    this.y.push(y);
    if (this.x.length > this.capacity * 1.5) {
      this.x.splice(0, this.x.length - this.capacity);
      this.y.splice(0, this.y.length - this.capacity);
    }
  }

  clear() {
    this.x.length = 0;
    this.y.length = 0;
  }

  last() {
    return this.y.length ? this.y[this.y.length - 1] : null;
  }
}

/** The canvas's 2D context in CSS pixels, its backing store matched to its size. */
export function prepare(canvas) {
  const dpr = window.devicePixelRatio || 1;
  const w = canvas.clientWidth, h = canvas.clientHeight;
  if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(h * dpr);
  }
  const ctx = canvas.getContext("2d");
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, w, h);
  return { ctx, w, h };
}

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "–";
  if (Math.abs(v) >= 1000) return Math.round(v).toLocaleString("en");
  if (Math.abs(v) >= 20) return String(Math.round(v));
  return Number.isInteger(v) ? String(v) : v.toFixed(2);
}

function frame(ctx, w, h, title) {
  ctx.font = "12px system-ui, sans-serif";
  ctx.fillStyle = TEXT;
  ctx.textBaseline = "top";
  ctx.textAlign = "left";
  ctx.fillText(title, 8, 6);
  return { left: 36, right: w - 8, top: 24, bottom: h - 18 };
}

/** Lines of one or more series over their shared turns; legend with the latest values. */
export function lineChart(canvas, title, lines) {
  const { ctx, w, h } = prepare(canvas);
  const box = frame(ctx, w, h, title);
  let xmin = Infinity, xmax = -Infinity, ymax = 0;
  for (const { series } of lines) {
    if (!series.x.length) continue;
    const start = Math.max(0, series.x.length - series.capacity);
    xmin = Math.min(xmin, series.x[start]);
    xmax = Math.max(xmax, series.x[series.x.length - 1]);
    for (let i = start; i < series.y.length; i++) ymax = Math.max(ymax, series.y[i]);
  }
  ctx.textAlign = "right";
  let lx = w - 8;
  for (const { series, color, label } of [...lines].reverse()) {
    const text = `${label} ${fmt(series.last())}`;
    ctx.fillStyle = color;
    ctx.fillText(text, lx, 6);
    lx -= ctx.measureText(text).width + 12;
  }
  ctx.strokeStyle = AXIS;
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(box.left, box.top);
  ctx.lineTo(box.left, box.bottom);
  ctx.lineTo(box.right, box.bottom);
  ctx.stroke();
  if (!Number.isFinite(xmin)) return;
  ymax = ymax > 0 ? ymax * 1.1 : 1;
  const span = Math.max(1, xmax - xmin);
  ctx.fillStyle = MUTED;
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "right";
  ctx.fillText(fmt(ymax), box.left - 4, box.top - 2);
  ctx.fillText("0", box.left - 4, box.bottom - 8);
  ctx.textAlign = "left";
  ctx.fillText(`turn ${xmin}`, box.left, box.bottom + 4);
  ctx.textAlign = "right";
  ctx.fillText(`${xmax}`, box.right, box.bottom + 4);
  for (const { series, color, dash } of lines) {
    if (!series.x.length) continue;
    ctx.setLineDash(dash || []);
    const start = Math.max(0, series.x.length - series.capacity);
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.beginPath();
    for (let i = start; i < series.x.length; i++) {
      const px = box.left + ((series.x[i] - xmin) / span) * (box.right - box.left);
      const py = box.bottom - (series.y[i] / ymax) * (box.bottom - box.top);
      if (i === start) ctx.moveTo(px, py); else ctx.lineTo(px, py);
    }
    ctx.stroke();
  }
  ctx.setLineDash([]);
}

/** Bins of ``values`` as the server makes them (web/fitness.py): {lo, width, counts}, at
 * most ``bins`` bins, integer values one bin each while they fit. */
export function binValues(values, bins = 24) {
  if (!values.length) return { lo: 0, width: 1, counts: [] };
  let lo = Infinity, hi = -Infinity, ints = true;
  for (const v of values) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
    ints = ints && Number.isInteger(v);
  }
  const n = ints && hi - lo + 1 <= bins ? hi - lo + 1 : bins;
  const width = ints && n === hi - lo + 1 ? 1 : (hi - lo || 1) / n;
  const counts = new Array(n).fill(0);
  for (const v of values) counts[Math.min(n - 1, Math.floor((v - lo) / width))]++;
  return { lo, width, counts };
}

/** A histogram of binned values ({lo, width, counts}); the canvas keeps the counts in
 * data-counts so a test can read what is drawn. */
export function histogram(canvas, title, bins, color) {
  const { ctx, w, h } = prepare(canvas);
  const box = frame(ctx, w, h, title);
  ctx.strokeStyle = AXIS;
  ctx.beginPath();
  ctx.moveTo(box.left, box.bottom);
  ctx.lineTo(box.right, box.bottom);
  ctx.stroke();
  const { lo, width, counts } = bins;
  canvas.dataset.counts = counts.join(",");
  if (!counts.length) return;
  const n = counts.length;
  const hi = width === 1 && Number.isInteger(lo) ? lo + n - 1 : lo + width * n;
  const total = counts.reduce((a, b) => a + b, 0);
  const top = Math.max(...counts);
  const bw = (box.right - box.left) / n;
  ctx.fillStyle = color;
  counts.forEach((c, i) => {
    const bh = (c / top) * (box.bottom - box.top);
    ctx.fillRect(box.left + i * bw + 1, box.bottom - bh, Math.max(1, bw - 2), bh);
  });
  ctx.fillStyle = MUTED;
  ctx.font = "10px system-ui, sans-serif";
  ctx.textAlign = "right";
  ctx.fillText(String(top), box.left - 4, box.top - 2);
  ctx.textAlign = "left";
  ctx.fillText(fmt(lo), box.left, box.bottom + 4);
  ctx.textAlign = "right";
  ctx.fillText(fmt(hi), box.right, box.bottom + 4);
  ctx.textAlign = "center";
  ctx.fillText(`${total} organisms`, (box.left + box.right) / 2, box.bottom + 4);
}
