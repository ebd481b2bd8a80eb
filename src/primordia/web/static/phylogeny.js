// Who descends from whom, as far as this client has seen: every organism of a snapshot or
// born in a delta, with its parent, birth and death turns, and the focused organism's
// ancestors as the server names them. Pruned to the living and their
// ancestors, so memory follows the population rather than the run's length.

export class Phylogeny {
  constructor() {
    this.nodes = new Map();
    this.living = new Set();
  }

  clear() {
    this.nodes.clear();
    this.living.clear();
  }

  fromSnapshot(snap) {
    const alive = new Set();
    for (const o of snap.organisms) {
      alive.add(o.id);
      this._see(o, o.born ?? o.birth ?? snap.turn);
    }
    for (const [id, n] of this.nodes) if (!alive.has(id) && n.died === null) n.died = snap.turn;
    this.living = alive;
    this._prune();
  }

  delta(d) {
    for (const id of d.removed) {
      const n = this.nodes.get(id);
      if (n) n.died = d.turn;
      this.living.delete(id);
    }
    for (const o of d.spawned) {
      this._see(o, d.turn);
      this.living.add(o.id);
    }
    this._prune();
  }

  /** The focused organism's ancestor chain as the server keeps it (FocusBrain.ancestors,
   * parent first): it names ancestors that died before this page opened, so the tree reaches
   * back further than the births the page has seen. */
  adopt(o, ancestors, older) {
    if (!o) return;
    this._see(o, o.born ?? o.birth ?? 0);
    ancestors.forEach((a, i) => {
      const n = this.nodes.get(a.id);
      const parent = i + 1 < ancestors.length ? ancestors[i + 1].id : (older ? -2 : -1);
      const died = a.alive ? null : a.died;
      if (n) {
        n.born = a.born;
        n.died = died;
        if (parent !== -2 || n.parent < 0) n.parent = parent;
      } else {
        this.nodes.set(a.id, { id: a.id, parent, born: a.born, died,
          lineage: o.lineage ?? o.id, generation: null });
      }
    });
    if (ancestors.length) this.nodes.get(o.id).parent = ancestors[0].id;
  }

  _see(o, born) {
    if (this.nodes.has(o.id)) return;
    this.nodes.set(o.id, { id: o.id, parent: o.parent ?? -1, born, died: null,
      lineage: o.lineage ?? o.id, generation: o.generation ?? null });
  }

  _prune(keepAlso = null) {
    const limit = Math.max(5000, 4 * this.living.size);
    if (this.nodes.size <= limit) return;
    const keep = new Set();
    const walk = (id) => {
      while (id >= 0 && !keep.has(id) && this.nodes.has(id)) {
        keep.add(id);
        id = this.nodes.get(id).parent;
      }
    };
    for (const id of this.living) walk(id);
    if (keepAlso !== null) walk(keepAlso);
    for (const id of [...this.nodes.keys()]) if (!keep.has(id)) this.nodes.delete(id);
  }

  /** The tree around ``id``: its known ancestors up to ``depth`` generations back, and the
   * descendants of the oldest of them, at most ``maxNodes`` (the ancestry path first). */
  tree(id, depth = 32, maxNodes = 90) {
    if (!this.nodes.has(id)) return null;
    const path = [id];
    let cur = this.nodes.get(id);
    while (path.length <= depth && cur.parent >= 0 && this.nodes.has(cur.parent)) {
      path.push(cur.parent);
      cur = this.nodes.get(cur.parent);
    }
    const root = path[path.length - 1];
    const children = new Map();
    for (const n of this.nodes.values()) {
      if (n.parent < 0) continue;
      let list = children.get(n.parent);
      if (!list) children.set(n.parent, (list = []));
      list.push(n.id);
    }
    const onPath = new Set(path);
    const included = new Set(path);
    const queue = [root];
    while (queue.length && included.size < maxNodes) {
      const p = queue.shift();
      for (const c of children.get(p) || []) {
        if (included.size >= maxNodes) break;
        if (!included.has(c)) included.add(c);
        queue.push(c);
      }
    }
    const kids = (p) => (children.get(p) || []).filter((c) => included.has(c));
    return { root, focus: id, path: onPath, kids, node: (i) => this.nodes.get(i),
      unknownParent: cur.parent !== -1 };
  }
}
