"""Variation of Mycos genomes (docs/brains/mycos.md, "Variation"): twelve mutation operators
with the Mycos design's default probabilities, crossover by gene alignment, and
random starting genomes. Every result is a valid genome within the caps: an operator that
would break an invariant or a cap is retried (up to 3 attempts) and otherwise skipped.

All randomness comes from the DrawStream given (``primordia.core.rng``).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable, Sequence

import numpy as np

from primordia.core.errors import GenomeError
from primordia.core.rng import DrawStream

from .genome import (ALLOWED_EDGES, DEFAULT_CAPS, DISABLE, ENABLE, INPUT, INTERNAL, OFF, ON,
                     OUTPUT, U32, Caps, ChunkGene, ConnGene, LinkGene, MycosGenome, validate)

RETRIES = 3
MAX_NEW_BITS = 8


def _with_chunk(g: MycosGenome, c: int, chunk: ChunkGene) -> MycosGenome:
    return replace(g, chunks=g.chunks[:c] + (chunk,) + g.chunks[c + 1:])


def _next_tag(genes, source) -> int:
    return max((x.order_tag for x in genes if x.source == source), default=0) + 1


def _random_conn(ch: ChunkGene, d: DrawStream) -> ConnGene | None:
    sizes = (ch.ni, ch.nn, ch.no)
    edges = sorted(e for e in ALLOWED_EDGES if sizes[e[0]] and sizes[e[1]])
    if not edges:
        return None
    f, t = d.choice(edges)
    fi = d.integer(0, sizes[f])
    return ConnGene(from_section=f, from_index=fi, order_tag=_next_tag(ch.conns, (f, fi)),
                    to_section=t, to_index=d.integer(0, sizes[t]), trigger=d.integer(0, 3),
                    action=d.integer(0, 3))


def _pick_chunk(g: MycosGenome, d: DrawStream, ok: Callable[[ChunkGene], bool]) -> int | None:
    fit = [c for c, ch in enumerate(g.chunks) if ok(ch)]
    return d.choice(fit) if fit else None


def _edit_conn(g: MycosGenome, d: DrawStream, edit) -> MycosGenome | None:
    c = _pick_chunk(g, d, lambda ch: bool(ch.conns))
    if c is None:
        return None
    ch = g.chunks[c]
    k = d.integer(0, len(ch.conns))
    new = edit(ch, ch.conns[k], d)
    if new is None:
        return None
    return _with_chunk(g, c, replace(ch, conns=ch.conns[:k] + (new,) + ch.conns[k + 1:]))


# ---- the twelve operators (each returns a genome, or None when it does not apply) ------------

def add_connection(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """A random allowed connection; its tag is one above its source's highest."""
    c = d.integer(0, len(g.chunks))
    new = _random_conn(g.chunks[c], d)
    if new is None:
        return None
    return _with_chunk(g, c, replace(g.chunks[c], conns=g.chunks[c].conns + (new,)))


def remove_connection(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    c = _pick_chunk(g, d, lambda ch: bool(ch.conns))
    if c is None:
        return None
    ch = g.chunks[c]
    k = d.integer(0, len(ch.conns))
    return _with_chunk(g, c, replace(ch, conns=ch.conns[:k] + ch.conns[k + 1:]))


def rewire_target(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """Keep the source; a new target bit in the same section."""
    return _edit_conn(g, d, lambda ch, cn, d: replace(
        cn, to_index=d.integer(0, ch.section_size(cn.to_section))))


def flip_trigger(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """On -> Off -> Toggle -> On."""
    return _edit_conn(g, d, lambda ch, cn, d: replace(cn, trigger=(cn.trigger + 1) % 3))


def flip_action(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """Enable -> Disable -> Toggle -> Enable."""
    return _edit_conn(g, d, lambda ch, cn, d: replace(cn, action=(cn.action + 1) % 3))


def bump_order(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """Raise a connection's tag by 1-5, then past any tag of its source it lands on."""
    def bump(ch: ChunkGene, cn: ConnGene, d: DrawStream) -> ConnGene | None:
        taken = {x.order_tag for x in ch.conns if x.source == cn.source and x is not cn}
        tag = cn.order_tag + d.integer(1, 6)
        while tag in taken:
            tag += 1
        return replace(cn, order_tag=tag) if tag <= U32 else None
    return _edit_conn(g, d, bump)


def add_internal_bits(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """1-8 more internal bits, appended (starting at 0): no index moves."""
    c = d.integer(0, len(g.chunks))
    return _with_chunk(g, c, replace(g.chunks[c], nn=g.chunks[c].nn + d.integer(1, 9)))


def remove_unused_internal_bits(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """Remove up to 1-8 internal bits that no connection touches; later bits move down."""
    def unused(ch: ChunkGene) -> list[int]:
        used = {cn.from_index for cn in ch.conns if cn.from_section == INTERNAL}
        used |= {cn.to_index for cn in ch.conns if cn.to_section == INTERNAL}
        return [i for i in range(ch.nn) if i not in used]

    c = _pick_chunk(g, d, lambda ch: bool(unused(ch)))
    if c is None:
        return None
    ch = g.chunks[c]
    free = unused(ch)
    drop = set(free[d.integer(0, len(free)):][:d.integer(1, MAX_NEW_BITS + 1)])
    keep = [i for i in range(ch.nn) if i not in drop]
    moved = {old: new for new, old in enumerate(keep)}
    conns = tuple(replace(
        cn, from_index=moved[cn.from_index] if cn.from_section == INTERNAL else cn.from_index,
        to_index=moved[cn.to_index] if cn.to_section == INTERNAL else cn.to_index)
        for cn in ch.conns)
    init = sum((ch.internals_init >> old & 1) << new for new, old in enumerate(keep))
    return _with_chunk(g, c, replace(ch, nn=len(keep), conns=conns, internals_init=init))


def add_link(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """A link from an output of one chunk to an input of another."""
    outs = [(c, o) for c, ch in enumerate(g.chunks) for o in range(ch.no)]
    if not outs:
        return None
    fc, fo = d.choice(outs)
    ins = [(c, i) for c, ch in enumerate(g.chunks) if c != fc for i in range(ch.ni)]
    if not ins:
        return None
    tc, ti = d.choice(ins)
    return replace(g, links=g.links + (LinkGene(
        from_chunk=fc, from_out_idx=fo, order_tag=_next_tag(g.links, (fc, fo)), to_chunk=tc,
        to_in_idx=ti, trigger=d.integer(0, 3), action=d.integer(0, 3)),))


def remove_link(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    if not g.links:
        return None
    k = d.integer(0, len(g.links))
    return replace(g, links=g.links[:k] + g.links[k + 1:])


def init_state_tweak(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """Flip one internal bit's starting value."""
    c = _pick_chunk(g, d, lambda ch: ch.nn > 0)
    if c is None:
        return None
    ch = g.chunks[c]
    return _with_chunk(g, c, replace(ch, internals_init=ch.internals_init
                                     ^ (1 << d.integer(0, ch.nn))))


def _relay_links(fc, fo, tc, ti, tag) -> tuple[LinkGene, LinkGene]:
    """Two links that make input (tc, ti) follow output (fc, fo)."""
    return (LinkGene(from_chunk=fc, from_out_idx=fo, order_tag=tag, to_chunk=tc, to_in_idx=ti,
                     trigger=ON, action=ENABLE),
            LinkGene(from_chunk=fc, from_out_idx=fo, order_tag=tag + 1, to_chunk=tc,
                     to_in_idx=ti, trigger=OFF, action=DISABLE))


def gate_insert(g: MycosGenome, d: DrawStream) -> MycosGenome | None:
    """Splice a gate chunk into the network: a new chunk whose one internal bit follows its
    input and drives its output, fed by an existing chunk's output and feeding an existing
    chunk's input (each through an On/Enable and an Off/Disable link). Evolution can then
    rewire the gate's inside."""
    outs = [(c, o) for c, ch in enumerate(g.chunks) for o in range(ch.no)]
    ins = [(c, i) for c, ch in enumerate(g.chunks) for i in range(ch.ni)]
    if not outs or not ins:
        return None
    new = len(g.chunks)
    gate = ChunkGene(ni=1, no=1, nn=1, conns=(
        ConnGene(from_section=INPUT, from_index=0, order_tag=1, to_section=INTERNAL,
                 to_index=0, trigger=ON, action=ENABLE),
        ConnGene(from_section=INPUT, from_index=0, order_tag=2, to_section=INTERNAL,
                 to_index=0, trigger=OFF, action=DISABLE),
        ConnGene(from_section=INTERNAL, from_index=0, order_tag=1, to_section=OUTPUT,
                 to_index=0, trigger=ON, action=ENABLE),
        ConnGene(from_section=INTERNAL, from_index=0, order_tag=2, to_section=OUTPUT,
                 to_index=0, trigger=OFF, action=DISABLE)))
    fc, fo = d.choice(outs)
    tc, ti = d.choice(ins)
    links = (_relay_links(fc, fo, new, 0, _next_tag(g.links, (fc, fo)))
             + _relay_links(new, 0, tc, ti, 1))
    return replace(g, chunks=g.chunks + (gate,), links=g.links + links)


MUTATIONS: tuple[tuple[str, float, Callable], ...] = (
    ("add_connection", 0.20, add_connection),
    ("remove_connection", 0.15, remove_connection),
    ("rewire_target", 0.15, rewire_target),
    ("flip_trigger", 0.05, flip_trigger),
    ("flip_action", 0.05, flip_action),
    ("bump_order", 0.05, bump_order),
    ("add_internal_bits", 0.05, add_internal_bits),
    ("remove_unused_internal_bits", 0.03, remove_unused_internal_bits),
    ("add_link", 0.10, add_link),
    ("remove_link", 0.07, remove_link),
    ("init_state_tweak", 0.05, init_state_tweak),
    ("gate_insert", 0.02, gate_insert),
)
"""(name, default probability, operator), in the Mycos design's order."""
DEFAULT_RATES = {name: p for name, p, _ in MUTATIONS}


def _valid(g: MycosGenome | None, caps: Caps) -> bool:
    if g is None:
        return False
    try:
        validate(g, caps)
    except GenomeError:
        return False
    return True


def apply(operator: Callable, g: MycosGenome, d: DrawStream, caps: Caps) -> MycosGenome:
    """One operator with the Mycos design's retry rule: up to 3 attempts at a valid result
    within the caps; otherwise the genome is returned unchanged (the operation is rolled
    back)."""
    for _ in range(RETRIES):
        out = operator(g, d)
        if _valid(out, caps):
            return out
    return g


def mutate(g: MycosGenome, d: DrawStream, caps: Caps = DEFAULT_CAPS,
           rates: dict[str, float] | None = None) -> MycosGenome:
    """Each operator, in the Mycos design's order, with its probability (``rates`` overrides)."""
    rates = DEFAULT_RATES if rates is None else {**DEFAULT_RATES, **rates}
    for name, _, operator in MUTATIONS:
        if d.chance(rates[name]):
            g = apply(operator, g, d, caps)
    return g


# ---- crossover ------------------------------------------------------------------------------

def _conn_key(cn: ConnGene) -> tuple[int, int, int, int]:
    return cn.from_section, cn.from_index, cn.to_section, cn.to_index


def _link_key(ln: LinkGene) -> tuple[int, int, int, int]:
    return ln.from_chunk, ln.from_out_idx, ln.to_chunk, ln.to_in_idx


def _align(a_genes, b_genes, key, d: DrawStream) -> list:
    """Genes of both parents matched by key (the k-th of a key with the k-th): a matched pair
    gives trigger and action from either parent and the larger tag; an unmatched gene is
    kept with probability 1/2."""
    def by_key(genes):
        out: dict = {}
        for x in genes:
            out.setdefault(key(x), []).append(x)
        return out

    ka, kb = by_key(a_genes), by_key(b_genes)
    child = []
    for k in sorted(set(ka) | set(kb)):
        xs, ys = ka.get(k, []), kb.get(k, [])
        for j in range(max(len(xs), len(ys))):
            if j < len(xs) and j < len(ys):
                x, y = xs[j], ys[j]
                pick = x if d.chance(0.5) else y
                child.append(replace(x, trigger=pick.trigger, action=pick.action,
                                     order_tag=max(x.order_tag, y.order_tag)))
            elif d.chance(0.5):
                child.append(xs[j] if j < len(xs) else ys[j])
    return child


def _distinct_tags(genes: list) -> list:
    """Raise tags that repeat within a source to one above the previous (sorted order)."""
    out, last = [], {}
    for x in sorted(genes, key=lambda x: (x.source, x.order_tag)):
        if x.source in last and x.order_tag <= last[x.source]:
            x = replace(x, order_tag=last[x.source] + 1)
        last[x.source] = x.order_tag
        out.append(x)
    return out


def _fits(cn: ConnGene, ch: ChunkGene) -> bool:
    return cn.from_index < ch.section_size(cn.from_section) and \
        cn.to_index < ch.section_size(cn.to_section)


def crossover(a: MycosGenome, b: MycosGenome, d: DrawStream,
              caps: Caps = DEFAULT_CAPS) -> MycosGenome:
    """A child of ``a`` and ``b``: A's chunk list, each chunk's shape and starting bits taken
    from B's chunk of the same place with probability 1/2; connections and links aligned
    (``_align``); genes that no longer fit the child's chunks dropped; tags made distinct
    per source. Falls back to a copy of A when no valid child comes in 3 attempts."""
    for _ in range(RETRIES):
        chunks = []
        for c, ca in enumerate(a.chunks):
            cb = b.chunks[c] if c < len(b.chunks) else None
            base = cb if cb is not None and d.chance(0.5) else ca
            genes = (_align(ca.conns, cb.conns, _conn_key, d) if cb is not None
                     else list(ca.conns))
            genes = _distinct_tags([cn for cn in genes if _fits(cn, base)])
            chunks.append(replace(base, conns=tuple(genes)))
        links = _align(a.links, b.links, _link_key, d)
        links = _distinct_tags([ln for ln in links
                                if ln.from_chunk < len(chunks) and ln.to_chunk < len(chunks)
                                and ln.from_out_idx < chunks[ln.from_chunk].no
                                and ln.to_in_idx < chunks[ln.to_chunk].ni])
        child = replace(a, chunks=tuple(chunks), links=tuple(links))
        if _valid(child, caps):
            return child
    return a


# ---- starting genomes ---------------------------------------------------------------------------

def random_genome(d: DrawStream, inputs: list[tuple[int, int]], outputs: list[tuple[int, int]],
                  seed: int = 0, caps: Caps = DEFAULT_CAPS, max_internal: int = 8,
                  max_conns: int = 12) -> MycosGenome:
    """A small random network with the chunks and bits a task's IO names (every chunk has at
    least one input and one output, so that links can join them): 0-``max_internal``
    internal bits and up to ``max_conns`` random connections per chunk."""
    n_chunks = max(c for c, _ in list(inputs) + list(outputs)) + 1
    chunks = []
    for c in range(n_chunks):
        ni = max([i + 1 for cc, i in inputs if cc == c], default=1)
        no = max([o + 1 for cc, o in outputs if cc == c], default=1)
        nn = min(caps.max_nn_per_chunk, d.integer(0, max_internal + 1))
        ch = ChunkGene(ni=ni, no=no, nn=nn)
        for _ in range(d.integer(0, max_conns + 1)):
            new = _random_conn(ch, d)
            if new is not None and len(ch.conns) < caps.max_conns_per_chunk:
                ch = replace(ch, conns=ch.conns + (new,))
        chunks.append(ch)
    g = MycosGenome(chunks=tuple(chunks), seed=seed)
    validate(g, caps)
    return g


# ---- compatibility distance (speciation) ------------------------------------------------------

def _histogram(g: MycosGenome) -> list[float]:
    """Share of connections and links per (trigger, action) pair."""
    counts = [0] * 9
    for gene in [cn for ch in g.chunks for cn in ch.conns] + list(g.links):
        counts[3 * gene.trigger + gene.action] += 1
    total = sum(counts)
    return [x / total for x in counts] if total else counts


def features(g: MycosGenome) -> tuple:
    """What the compatibility distance reads of a genome: chunk, connection and link counts
    and the trigger/action histogram (computed once per genome per generation)."""
    return (len(g.chunks), g.n_connections, len(g.links), _histogram(g))


def feature_distance(fa: tuple, fb: tuple, w_chunks: float = 1.0, w_conns: float = 1.0,
                     w_links: float = 0.5, w_hist: float = 1.0) -> float:
    """``distance`` from two genomes' ``features``."""
    ca, cb = fa[1], fb[1]
    return (w_chunks * abs(fa[0] - fb[0]) + w_conns * abs(ca - cb) / max(ca, cb, 1)
            + w_links * abs(fa[2] - fb[2])
            + w_hist * sum(abs(x - y) for x, y in zip(fa[3], fb[3])))


def feature_rows(genomes: Sequence[MycosGenome]) -> np.ndarray:
    """``features`` of many genomes as float rows: chunks, connections, links, histogram."""
    out = np.zeros((len(genomes), 12))
    for i, g in enumerate(genomes):
        chunks, conns, links, hist = features(g)
        out[i, :3] = chunks, conns, links
        out[i, 3:] = hist
    return out


def row_distances(row: np.ndarray, block: np.ndarray) -> np.ndarray:
    """``feature_distance`` from one ``feature_rows`` row to each row of ``block``, with
    the same operations in the same order (so the same floats) at the default weights."""
    ca, cb = row[1], block[:, 1]
    out = (np.abs(row[0] - block[:, 0]) + np.abs(ca - cb) / np.maximum(np.maximum(ca, cb), 1.0)
           + 0.5 * np.abs(row[2] - block[:, 2]))
    hist = np.abs(row[3:] - block[:, 3:])
    total = np.zeros(block.shape[0])
    for j in range(hist.shape[1]):                     # left to right, as Python's sum
        total = total + hist[:, j]
    return out + total


def distance(a: MycosGenome, b: MycosGenome) -> float:
    """The Mycos design's D = wC x |chunks difference| + wK x |connections difference| / the larger
    count + wL x |links difference| + wTA x L1 distance of the trigger/action histograms
    (weights 1, 1, 0.5, 1)."""
    return feature_distance(features(a), features(b))
