"""Random nets, mutation and crossover (docs/brains/neural.md, "Variation").

Every random number comes from the caller's ``DrawStream``, in a fixed order, so a child is a
pure function of its parents and the stream's key. Results are always valid genomes: weights
and biases are clamped to [-8, 8], and an operation that cannot apply (remove from an empty
list, add beyond ``max_inter``, add a synapse where every pair is taken) is skipped.

Whether a birth mutates at all (NeuroGenesis's ``mutation_chance``) is the world's decision;
``mutate`` always mutates.
"""

from __future__ import annotations

from typing import Sequence

from primordia.core.rng import DrawStream

from .genome import (ACTION_BASE, BIAS_LIMIT, INTER_BASE, MAX_INTER, WEIGHT_LIMIT,
                     NeuralGenome)

PAIR_TRIES = 32
"""Random (pre, post) picks before a new synapse is chosen from the list of free pairs."""


def uniform(draws: DrawStream, lo: float, hi: float) -> float:
    """U(lo, hi) from one draw."""
    return lo + (hi - lo) * draws.random()


def clamp(v: float, limit: float) -> float:
    return -limit if v < -limit else limit if v > limit else v


def round_half_up(x: float) -> int:
    """round() as NeuroGenesis's Rust f32::round does it for x >= 0 (halves away from zero), not
    Python's round-half-even."""
    return int(x + 0.5)


def _free_pair(draws: DrawStream, pres: Sequence[int], posts: Sequence[int],
               taken: dict[tuple[int, int], float]) -> tuple[int, int] | None:
    """A (pre, post) that is no self-loop and not yet a synapse: random picks first, then,
    if they keep hitting taken pairs, uniformly among the free ones; None if there are none."""
    if not pres or not posts:
        return None
    for _ in range(PAIR_TRIES):
        pair = (pres[draws.integer(0, len(pres))], posts[draws.integer(0, len(posts))])
        if pair[0] != pair[1] and pair not in taken:
            return pair
    free = [(p, q) for p in pres for q in posts if p != q and (p, q) not in taken]
    return free[draws.integer(0, len(free))] if free else None


def random_genome(draws: DrawStream, sensors: int, action_ids: Sequence[int], num_neurons: int,
                  num_synapses: int) -> NeuralGenome:
    """A new net: ``num_neurons`` inter neurons (ids 1000 ..) and the given action neurons with
    biases U(-1, 1), and ``num_synapses`` synapses (fewer if the net has no room for them)
    with weights U(-8, 8) between valid, distinct endpoints."""
    inter = [(INTER_BASE + i, uniform(draws, -1.0, 1.0)) for i in range(num_neurons)]
    actions = [(a, uniform(draws, -1.0, 1.0)) for a in action_ids]
    pres = list(range(sensors)) + [n for n, _ in inter]
    posts = [n for n, _ in inter] + list(action_ids)
    synapses: dict[tuple[int, int], float] = {}
    for _ in range(num_synapses):
        pair = _free_pair(draws, pres, posts, synapses)
        if pair is None:
            break
        synapses[pair] = clamp(uniform(draws, -WEIGHT_LIMIT, WEIGHT_LIMIT), WEIGHT_LIMIT)
    return NeuralGenome(sensors, tuple(inter), tuple(actions),
                        tuple((p, q, w) for (p, q), w in synapses.items()))


class _Net:
    """A genome being edited: dicts for neurons and synapses, frozen again at the end."""

    def __init__(self, g: NeuralGenome) -> None:
        self.sensors = g.sensors
        self.inter = dict(g.inter)
        self.actions = dict(g.actions)
        self.synapses = {(p, q): w for p, q, w in g.synapses}

    def pres(self) -> list[int]:
        return list(range(self.sensors)) + sorted(self.inter)

    def posts(self) -> list[int]:
        return sorted(self.inter) + sorted(self.actions)

    def new_inter_id(self) -> int:
        """Max inter id + 1 (1000 for the first); the lowest free id if that would run into
        the action ids."""
        nid = max(self.inter) + 1 if self.inter else INTER_BASE
        if nid < ACTION_BASE:
            return nid
        return next(i for i in range(INTER_BASE, ACTION_BASE) if i not in self.inter)

    def freeze(self) -> NeuralGenome:
        return NeuralGenome(self.sensors, tuple(self.inter.items()), tuple(self.actions.items()),
                            tuple((p, q, w) for (p, q), w in self.synapses.items()))

    # --- the six operations ----------------------------------------------------------------
    def add_neuron(self, draws: DrawStream, max_inter: int) -> None:
        """A new inter neuron (bias U(-1, 1)) wired in by one random synapse: from a random
        sensory or inter neuron into it, or out of it into a random inter or action neuron
        (1/2 each), weight U(-8, 8)."""
        if len(self.inter) >= min(max_inter, MAX_INTER):
            return
        nid = self.new_inter_id()
        self.inter[nid] = uniform(draws, -1.0, 1.0)
        if draws.chance(0.5):
            ends = [p for p in self.pres() if p != nid]
            pair = (ends[draws.integer(0, len(ends))], nid) if ends else None
        else:
            ends = [q for q in self.posts() if q != nid]
            pair = (nid, ends[draws.integer(0, len(ends))]) if ends else None
        if pair is not None:
            self.synapses[pair] = uniform(draws, -WEIGHT_LIMIT, WEIGHT_LIMIT)

    def remove_neuron(self, draws: DrawStream) -> None:
        """A random inter neuron goes, with every synapse that touches it."""
        if not self.inter:
            return
        ids = sorted(self.inter)
        nid = ids[draws.integer(0, len(ids))]
        del self.inter[nid]
        self.synapses = {pq: w for pq, w in self.synapses.items() if nid not in pq}

    def nudge_bias(self, draws: DrawStream) -> None:
        """An action neuron's bias (1/2) or else an inter neuron's moves by U(-1, 1)."""
        table = self.actions if draws.chance(0.5) else self.inter
        if not table:
            return
        ids = sorted(table)
        nid = ids[draws.integer(0, len(ids))]
        table[nid] = clamp(table[nid] + uniform(draws, -1.0, 1.0), BIAS_LIMIT)

    def add_synapse(self, draws: DrawStream) -> None:
        pair = _free_pair(draws, self.pres(), self.posts(), self.synapses)
        if pair is not None:
            self.synapses[pair] = uniform(draws, -WEIGHT_LIMIT, WEIGHT_LIMIT)

    def remove_synapse(self, draws: DrawStream) -> None:
        if self.synapses:
            pairs = sorted(self.synapses)
            del self.synapses[pairs[draws.integer(0, len(pairs))]]

    def perturb_weight(self, draws: DrawStream, magnitude: float) -> None:
        """A random synapse's weight moves by U(-magnitude, magnitude), clamped to +-8."""
        if self.synapses:
            pairs = sorted(self.synapses)
            pq = pairs[draws.integer(0, len(pairs))]
            self.synapses[pq] = clamp(self.synapses[pq] + uniform(draws, -magnitude, magnitude),
                                      WEIGHT_LIMIT)


def mutate(genome: NeuralGenome, draws: DrawStream, magnitude: float = 1.0,
           max_inter: int = 20) -> NeuralGenome:
    """round(max(1, magnitude)) operations, each a topology change (add or remove an inter
    neuron, or nudge a bias) or a synapse change (add, remove, or perturb a weight) with
    probability 1/2, the three kinds of each uniformly."""
    net = _Net(genome)
    for _ in range(round_half_up(max(1.0, magnitude))):
        topology = draws.chance(0.5)
        kind = draws.integer(0, 3)
        if topology:
            if kind == 0:
                net.add_neuron(draws, max_inter)
            elif kind == 1:
                net.remove_neuron(draws)
            else:
                net.nudge_bias(draws)
        elif kind == 0:
            net.add_synapse(draws)
        elif kind == 1:
            net.remove_synapse(draws)
        else:
            net.perturb_weight(draws, magnitude)
    return net.freeze()


def crossover(a: NeuralGenome, b: NeuralGenome, draws: DrawStream) -> NeuralGenome:
    """A child with parent ``a``'s neurons and synapses; where ``b`` has the same neuron (by
    id) or synapse (by (pre, post)), the bias or weight comes from either parent with
    probability 1/2 (one draw each, neurons in id order, then synapses in canonical order).
    Structure only ``b`` has is not inherited, so the child is always as valid as ``a``."""
    b_bias = dict(b.inter) | dict(b.actions)
    b_weight = {(p, q): w for p, q, w in b.synapses}

    def mix(own: float, other: float | None) -> float:
        return own if other is None or draws.chance(0.5) else other

    inter = tuple((n, mix(x, b_bias.get(n))) for n, x in a.inter)
    actions = tuple((n, mix(x, b_bias.get(n))) for n, x in a.actions)
    synapses = tuple((p, q, mix(w, b_weight.get((p, q)))) for p, q, w in a.synapses)
    return NeuralGenome(a.sensors, inter, actions, synapses)
