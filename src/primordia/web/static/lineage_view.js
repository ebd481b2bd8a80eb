// The focused organism's ancestry as a tree over time: each organism a horizontal line from
// its birth to its death (or now), joined to its parent at its birth turn; the path from the
// oldest known ancestor to the focus drawn bright, colours by lineage.

import { prepare } from "./charts.js";
import { lineageColor } from "./palette.js";

export function drawLineage(canvas, tree, now) {
  const { ctx, w, h } = prepare(canvas);
  ctx.font = "11px system-ui, sans-serif";
  ctx.textBaseline = "top";
  ctx.fillStyle = "#6e7681";
  if (!tree) {
    ctx.fillText("Click an organism to see its ancestry.", 8, 8);
    return 0;
  }
  // rows: leaves in depth-first order, parents centred over their children
  const row = new Map();
  let next = 0;
  const place = (id) => {
    const ks = tree.kids(id);
    if (!ks.length) { row.set(id, next++); return; }
    ks.sort((a, b) => (tree.path.has(b) ? 1 : 0) - (tree.path.has(a) ? 1 : 0) || a - b);
    for (const k of ks) place(k);
    row.set(id, (row.get(ks[0]) + row.get(ks[ks.length - 1])) / 2);
  };
  place(tree.root);
  const first = tree.node(tree.root).born;
  const span = Math.max(1, now - first);
  const left = 10, right = w - 46, top = 22, bottom = h - 18;
  const X = (t) => left + ((t - first) / span) * (right - left);
  const Y = (r) => top + (next <= 1 ? (bottom - top) / 2 : (r / (next - 1)) * (bottom - top));
  for (const [id, r] of row) {
    const n = tree.node(id);
    const on = tree.path.has(id);
    ctx.strokeStyle = lineageColor(n.lineage);
    ctx.globalAlpha = on ? 1 : 0.45;
    ctx.lineWidth = on ? 2.5 : 1;
    ctx.beginPath();
    ctx.moveTo(X(n.born), Y(r));
    ctx.lineTo(X(n.died ?? now), Y(r));
    if (n.parent >= 0 && row.has(n.parent)) {
      ctx.moveTo(X(n.born), Y(row.get(n.parent)));
      ctx.lineTo(X(n.born), Y(r));
    }
    ctx.stroke();
  }
  ctx.globalAlpha = 1;
  const f = tree.node(tree.focus);
  ctx.fillStyle = "#ffffff";
  ctx.beginPath();
  ctx.arc(X(f.died ?? now), Y(row.get(tree.focus)), 4, 0, 2 * Math.PI);
  ctx.fill();
  ctx.fillStyle = "#c9d1d9";
  ctx.textAlign = "left";
  const gens = tree.path.size - 1;
  ctx.fillText(`#${tree.focus} · ${gens} generation${gens === 1 ? "" : "s"} to ` +
    `#${tree.root}${tree.unknownParent ? " · older unseen" : ""}`, 8, 4);
  ctx.fillStyle = "#6e7681";
  ctx.textBaseline = "bottom";
  ctx.fillText(`turn ${first}`, left, h - 2);
  ctx.textAlign = "right";
  ctx.fillText(`${now}`, w - 4, h - 2);
  return row.size;
}
