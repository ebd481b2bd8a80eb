// The world on a canvas: hex tiles (axial q, r, pointy-top) or square tiles, organisms as
// dots coloured by lineage, zoom with the wheel about the cursor, pan by dragging, click to
// pick an organism. The grid is drawn once into an offscreen layer and scaled, so a frame
// costs one image and one dot per organism.

import { BACKGROUND, HEX_CELL, lineageColor, tileRgb } from "./palette.js";

const SQRT3 = Math.sqrt(3);
const DRAG_PIXELS = 4;            // a press that moves less than this is a click
const LAYER_MAX_PIXELS = 4096;

export class WorldView {
  constructor(canvas, state) {
    this.canvas = canvas;
    this.state = state;
    this.ctx = canvas.getContext("2d");
    this.scale = 10;              // CSS pixels per world unit
    this.ox = 0;
    this.oy = 0;
    this.focus = null;
    this.dirty = true;
    this.onPick = null;           // (organism id or null) => void
    this._layer = null;
    this._layerKey = "";
    this._gridKey = "";
    this._listen();
    new ResizeObserver(() => { this.dirty = true; }).observe(canvas);
  }

  get hex() {
    return this.state.grid?.kind === "hex";
  }

  /** Centre of a cell in world units (hex: unit circumradius; square: unit cells). */
  center(a, b) {
    if (this.hex) return [SQRT3 * (a + b / 2), 1.5 * b];
    return [a + 0.5, b + 0.5];
  }

  bounds() {
    const { width: w, height: h } = this.state.grid;
    if (this.hex) {
      return { x0: -SQRT3 / 2, y0: -1, x1: SQRT3 * (w - 1 + (h - 1) / 2) + SQRT3 / 2, y1: 1.5 * (h - 1) + 1 };
    }
    return { x0: 0, y0: 0, x1: w, y1: h };
  }

  /** Show the whole grid, centred. */
  fit() {
    const { x0, y0, x1, y1 } = this.bounds();
    const w = this.canvas.clientWidth || 1, h = this.canvas.clientHeight || 1;
    this.scale = 0.96 * Math.min(w / (x1 - x0), h / (y1 - y0));
    this.ox = (w - (x1 - x0) * this.scale) / 2 - x0 * this.scale;
    this.oy = (h - (y1 - y0) * this.scale) / 2 - y0 * this.scale;
    this.dirty = true;
  }

  toScreen(x, y) {
    return [x * this.scale + this.ox, y * this.scale + this.oy];
  }

  toWorld(sx, sy) {
    return [(sx - this.ox) / this.scale, (sy - this.oy) / this.scale];
  }

  /** Where organism ``id`` is drawn, in CSS pixels from the canvas's top-left corner. */
  screenOf(id) {
    const o = this.state.organisms.get(id);
    if (!o) return null;
    const [a, b] = this.state.coords;
    const [x, y] = this.toScreen(...this.center(o[a], o[b]));
    return { x, y };
  }

  /** The organism nearest to a canvas point, if it is within its cell. */
  organismAt(sx, sy) {
    const [wx, wy] = this.toWorld(sx, sy);
    const [a, b] = this.state.coords;
    const reach = this.hex ? 1 : 0.75;
    let best = null, bestD = reach * reach;
    for (const o of this.state.organisms.values()) {
      const [x, y] = this.center(o[a], o[b]);
      const d = (x - wx) ** 2 + (y - wy) ** 2;
      if (d < bestD) { bestD = d; best = o.id; }
    }
    return best;
  }

  _listen() {
    const c = this.canvas;
    c.addEventListener("wheel", (ev) => {
      ev.preventDefault();
      const r = c.getBoundingClientRect();
      const sx = ev.clientX - r.left, sy = ev.clientY - r.top;
      const [wx, wy] = this.toWorld(sx, sy);
      this.scale = Math.max(0.05, Math.min(400, this.scale * Math.exp(-ev.deltaY * 0.0015)));
      this.ox = sx - wx * this.scale;
      this.oy = sy - wy * this.scale;
      this.dirty = true;
    }, { passive: false });
    let press = null;
    c.addEventListener("pointerdown", (ev) => {
      press = { x: ev.clientX, y: ev.clientY, ox: this.ox, oy: this.oy, moved: false };
      c.setPointerCapture(ev.pointerId);
    });
    c.addEventListener("pointermove", (ev) => {
      if (!press) return;
      const dx = ev.clientX - press.x, dy = ev.clientY - press.y;
      if (!press.moved && Math.hypot(dx, dy) < DRAG_PIXELS) return;
      press.moved = true;
      this.ox = press.ox + dx;
      this.oy = press.oy + dy;
      this.dirty = true;
      c.classList.add("dragging");
    });
    c.addEventListener("pointerup", (ev) => {
      if (press && !press.moved && this.state.grid) {
        const r = c.getBoundingClientRect();
        this.onPick?.(this.organismAt(ev.clientX - r.left, ev.clientY - r.top));
      }
      press = null;
      c.classList.remove("dragging");
    });
  }

  /** The grid (and terrain) as an image in world units times ``k`` pixels. */
  _gridLayer() {
    const s = this.state, g = s.grid;
    const key = `${g.kind}:${g.width}:${g.height}:${s.tilesVersion}`;
    if (key === this._layerKey) return this._layer;
    const { x0, y0, x1, y1 } = this.bounds();
    let layer;
    if (!this.hex) {
      layer = new OffscreenCanvas(g.width, g.height);
      const ctx = layer.getContext("2d");
      const img = ctx.createImageData(g.width, g.height);
      const n = g.width * g.height;
      for (let i = 0; i < n; i++) {
        const tile = s.tiles ? s.tileNames[s.tiles[i]] : "empty";
        const biome = s.biomes ? s.biomeNames[s.biomes[i]] : undefined;
        const [r, gg, b] = tileRgb(tile, biome);
        img.data[4 * i] = r; img.data[4 * i + 1] = gg; img.data[4 * i + 2] = b; img.data[4 * i + 3] = 255;
      }
      ctx.putImageData(img, 0, 0);
      layer.k = 1;
    } else {
      const k = Math.max(2, Math.min(24, LAYER_MAX_PIXELS / Math.max(x1 - x0, y1 - y0)));
      layer = new OffscreenCanvas(Math.ceil((x1 - x0) * k), Math.ceil((y1 - y0) * k));
      const ctx = layer.getContext("2d");
      ctx.fillStyle = HEX_CELL;
      ctx.beginPath();
      const r = 0.92 * k;
      for (let b = 0; b < g.height; b++) {
        for (let a = 0; a < g.width; a++) {
          const [cx, cy] = this.center(a, b);
          const px = (cx - x0) * k, py = (cy - y0) * k;
          for (let i = 0; i < 6; i++) {
            const ang = Math.PI / 6 + (i * Math.PI) / 3;
            const vx = px + r * Math.cos(ang), vy = py + r * Math.sin(ang);
            if (i === 0) ctx.moveTo(vx, vy); else ctx.lineTo(vx, vy);
          }
          ctx.closePath();
        }
      }
      ctx.fill();
      layer.k = k;
    }
    this._layer = layer;
    this._layerKey = key;
    return layer;
  }

  /** Faint lines between square tiles, once they are large enough to tell apart. */
  _gridLines(ctx, w, h) {
    const g = this.state.grid;
    ctx.strokeStyle = "rgba(14, 17, 23, 0.55)";
    ctx.lineWidth = 1;
    ctx.beginPath();
    const [x0, y0] = this.toScreen(0, 0), [x1, y1] = this.toScreen(g.width, g.height);
    for (let x = 0; x <= g.width; x++) {
      const sx = Math.round(x0 + x * this.scale) + 0.5;
      if (sx < 0 || sx > w) continue;
      ctx.moveTo(sx, Math.max(0, y0));
      ctx.lineTo(sx, Math.min(h, y1));
    }
    for (let y = 0; y <= g.height; y++) {
      const sy = Math.round(y0 + y * this.scale) + 0.5;
      if (sy < 0 || sy > h) continue;
      ctx.moveTo(Math.max(0, x0), sy);
      ctx.lineTo(Math.min(w, x1), sy);
    }
    ctx.stroke();
  }

  draw() {
    const c = this.canvas, s = this.state;
    const dpr = window.devicePixelRatio || 1;
    const w = c.clientWidth, h = c.clientHeight;
    if (c.width !== Math.round(w * dpr) || c.height !== Math.round(h * dpr)) {
      c.width = Math.round(w * dpr);
      c.height = Math.round(h * dpr);
    }
    const ctx = this.ctx;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.fillStyle = BACKGROUND;
    ctx.fillRect(0, 0, w, h);
    this.dirty = false;
    if (!s.grid) return;
    const gridKey = `${s.grid.kind}:${s.grid.width}:${s.grid.height}`;
    if (gridKey !== this._gridKey) {   // a new world: show all of it
      this._gridKey = gridKey;
      this.fit();
    }
    const { x0, y0, x1, y1 } = this.bounds();
    const layer = this._gridLayer();
    ctx.imageSmoothingEnabled = this.hex;
    const [lx, ly] = this.toScreen(x0, y0);
    ctx.drawImage(layer, lx, ly, (x1 - x0) * this.scale, (y1 - y0) * this.scale);
    if (!this.hex && this.scale >= 6) this._gridLines(ctx, w, h);

    const [a, b] = s.coords;
    const radius = (this.hex ? 0.62 : 0.42) * this.scale;
    const dots = radius >= 2;
    const half = Math.max(0.5, radius);
    let focused = null;
    for (const o of s.organisms.values()) {
      const [x, y] = this.center(o[a], o[b]);
      const sx = x * this.scale + this.ox, sy = y * this.scale + this.oy;
      if (sx < -radius || sy < -radius || sx > w + radius || sy > h + radius) continue;
      ctx.fillStyle = lineageColor(o.lineage);
      if (dots) {
        ctx.beginPath();
        ctx.arc(sx, sy, radius, 0, 2 * Math.PI);
        ctx.fill();
      } else {
        ctx.fillRect(sx - half, sy - half, 2 * half, 2 * half);
      }
      if (o.id === this.focus) focused = [sx, sy];
    }
    if (focused) {
      ctx.strokeStyle = "#ffffff";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.arc(focused[0], focused[1], Math.max(6, radius + 4), 0, 2 * Math.PI);
      ctx.stroke();
    }
  }
}
