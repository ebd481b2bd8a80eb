// Colours: organisms by lineage (a stable hue from the founder id, spread by the golden
// angle so neighbouring ids differ), tiles and biomes by name.

const lineageCache = new Map();

export function lineageHue(lineage) {
  return (((lineage * 137.508) % 360) + 360) % 360;
}

export function lineageColor(lineage) {
  let c = lineageCache.get(lineage);
  if (c === undefined) {
    c = `hsl(${lineageHue(lineage).toFixed(1)}, 80%, 62%)`;
    if (lineageCache.size > 50000) lineageCache.clear();
    lineageCache.set(lineage, c);
  }
  return c;
}

export const BACKGROUND = "#0e1117";
export const HEX_CELL = "#1a2130";
export const HEX_EDGE = "#242d3f";

const TILE_RGB = {
  empty: null, wall: [92, 96, 110], food: [70, 150, 70], water: [40, 90, 160],
  tool: [160, 140, 90], weapon: [170, 80, 80], treasure: [210, 180, 60],
  crystal: [140, 110, 200], forge: [200, 110, 40], poison: [120, 160, 40],
  // the ecology world: fixed kinds, a fertile tile's resource by quarters of r_max, corpses
  open: null, obstacle: [92, 96, 110], hazard: [150, 60, 50], radiation: [150, 70, 150],
  fertile: [30, 52, 36], resource_low: [38, 82, 44], resource_mid: [50, 116, 54],
  resource_high: [66, 156, 66], corpse: [120, 90, 60],
};

const BIOME_RGB = {
  clearing: [28, 34, 44], forest: [24, 48, 34], mountain: [52, 50, 56], swamp: [36, 46, 38],
  village: [54, 44, 34], river: [24, 40, 66], bridge: [70, 56, 40],
};

const FALLBACK = [60, 60, 80];

/** RGB of a square tile: its own colour, or on empty ground the biome's. */
export function tileRgb(tileName, biomeName) {
  const t = TILE_RGB[tileName];
  if (t) return t;
  if (tileName !== undefined && !(tileName in TILE_RGB)) return FALLBACK;
  return BIOME_RGB[biomeName] || BIOME_RGB.clearing;
}

/** Colour of a neuron activation in [-1, 1]: blue below zero, amber above. */
export function activationColor(a) {
  const x = Math.max(-1, Math.min(1, a || 0));
  if (x >= 0) return `rgb(${Math.round(70 + 185 * x)}, ${Math.round(76 + 110 * x)}, ${Math.round(90 - 40 * x)})`;
  return `rgb(${Math.round(70 + 10 * x)}, ${Math.round(76 - 10 * x)}, ${Math.round(90 - 150 * x)})`;
}
