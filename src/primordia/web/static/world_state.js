// A client's copy of a world: a StateSnapshot replaces it, each TickDelta is applied in
// place (moves, then removals, then births, then changed tiles), as the server made them.

export class WorldState {
  constructor() {
    this.organisms = new Map();
    this.lineageCounts = new Map();
    this.turn = 0;
    this.grid = null;
    this.coords = ["x", "y"];
    this.tiles = null;          // Uint8Array, row-major, or null (worlds without terrain)
    this.biomes = null;
    this.tileNames = [];
    this.biomeNames = [];
    this.metrics = {};
    this.world = "";
    this.version = 0;           // bumps on every change, so views redraw only when needed
    this.tilesVersion = 0;
  }

  /** No world (before a session opens). */
  clear() {
    this.organisms = new Map();
    this.lineageCounts = new Map();
    this.turn = 0;
    this.grid = null;
    this.tiles = this.biomes = null;
    this.metrics = {};
    this.fitness = null;
    this.version++;
  }

  fromSnapshot(snap) {
    this.world = snap.world;
    this.grid = snap.grid;
    this.coords = snap.grid.coords;
    this.turn = snap.turn;
    this.tableTurn = snap.turn;   // deltas move organisms; their other numbers date from here
    this.metrics = snap.metrics || {};
    this.fitness = snap.fitness ?? null;   // the server's histogram, or null: bin the table
    this.fitnessTurn = snap.turn;
    this.organisms = new Map();
    this.lineageCounts = new Map();
    for (const o of snap.organisms) this._add(o);
    const t = snap.terrain;
    if (t) {
      this.tiles = decodeCells(t.tiles);
      this.biomes = t.biomes ? decodeCells(t.biomes) : null;
      this.tileNames = t.tile_names || [];
      this.biomeNames = t.biome_names || [];
    } else {
      this.tiles = this.biomes = null;
    }
    this.tilesVersion++;
    this.version++;
  }

  applyDelta(d) {
    const [a, b] = this.coords;
    for (const m of d.moves) {
      const o = this.organisms.get(m.id);
      if (o) { o[a] = m.to[0]; o[b] = m.to[1]; }
    }
    for (const id of d.removed) this._remove(id);
    for (const o of d.spawned) this._add(o);
    if (d.tiles && d.tiles.length && this.tiles) {
      const w = this.grid.width;
      for (const [x, y, t] of d.tiles) this.tiles[y * w + x] = t;
      this.tilesVersion++;
    }
    this.turn = d.turn;
    if (d.metrics) this.metrics = d.metrics;
    if (d.fitness) { this.fitness = d.fitness; this.fitnessTurn = d.turn; }
    this.version++;
  }

  _add(o) {
    const lineage = o.lineage ?? o.id;
    o.lineage = lineage;
    this.organisms.set(o.id, o);
    this.lineageCounts.set(lineage, (this.lineageCounts.get(lineage) || 0) + 1);
  }

  _remove(id) {
    const o = this.organisms.get(id);
    if (!o) return;
    this.organisms.delete(id);
    const n = this.lineageCounts.get(o.lineage) - 1;
    if (n > 0) this.lineageCounts.set(o.lineage, n);
    else this.lineageCounts.delete(o.lineage);
  }

  /** Shannon index over lineages, H = -sum p ln p (0: one lineage left). */
  diversity() {
    const n = this.organisms.size;
    if (n === 0) return 0;
    let h = 0;
    for (const c of this.lineageCounts.values()) {
      const p = c / n;
      h -= p * Math.log(p);
    }
    return h;
  }

  /** The per-organism number the world offers as a fitness proxy, and its name. */
  fitnessKey() {
    for (const o of this.organisms.values()) {
      for (const k of ["fitness", "meals_eaten", "energy", "age"]) if (k in o) return k;
      break;
    }
    return null;
  }
}

/** The server's compact grid string: one char per cell, value = char code - 48. */
export function decodeCells(s) {
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i) - 48;
  return out;
}
