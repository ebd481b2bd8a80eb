"""The Mycos tick in plain Python: the wavefront rounds K1-K5 (docs/brains/mycos.md), written for
reading. It is the oracle the batched numba evaluator is tested against, bit for bit.

One tick: the task writes its input bits; then rounds run until nothing is proposed:
- K1 edges: a bit that differs from its value at the last round rose (On) or fell (Off);
  either is a Toggle edge. Inputs and internals feed connections; outputs feed links.
- K2 expand: proposals (target, order tag, action) in a fixed emission order: trigger kind
  On, Off, Toggle; then chunk; then inputs before internals (outputs for links); then bit;
  then the source's genes in tag order. Links follow the connections.
- K3 resolve: per target bit the highest tag wins; on equal tags the later proposal.
- K4 commit: Enable sets, Disable clears, Toggle inverts; each winner is one effect.
- K5: what changed becomes the next round's edges. Link targets are inputs of other
  chunks, so a chain crosses chunks round by round within the tick.

Guards: at most ``max_rounds`` rounds per tick and ``max_effects`` effects per tick. A cycle
is found when the whole state (every bit, and the edges about to fire) repeats one of the
last ``window`` rounds; the period is how many rounds ago (Primordia compares the states
themselves where the Mycos design hashes them: the same answers, without collisions). Then the
policy decides:
- FREEZE (freeze_last_stable): internals and outputs go back to where the tick began (the
  last state the network settled in); the tick ends.
- CLAMP (clamp_commutative): from here on conflicts resolve without order tags: Disable if
  any, else Enable if any, else Toggle if the toggles are odd in number; if the state cycles
  again, the tick ends where it is.
- QUENCH (parity_quench): an odd period undoes the last round's changes to the internals;
  the tick ends.
"""

from __future__ import annotations

from dataclasses import dataclass

from .genome import DISABLE, ENABLE, FLIP, INPUT, INTERNAL, ON, OFF, OUTPUT, TOGGLE
from .genome import MycosGenome

FREEZE, CLAMP, QUENCH = 1, 2, 3
POLICY_NAMES = {FREEZE: "freeze_last_stable", CLAMP: "clamp_commutative",
                QUENCH: "parity_quench"}
MAX_ROUNDS = 1024
MAX_EFFECTS = 5_000_000
WINDOW = 8
SECTIONS = (INPUT, INTERNAL, OUTPUT)


@dataclass(frozen=True)
class Guards:
    """Limits of one tick and the oscillation policy."""

    max_rounds: int = MAX_ROUNDS
    max_effects: int = MAX_EFFECTS
    window: int = WINDOW
    policy: int = FREEZE


@dataclass
class Metrics:
    """Per episode: rounds and effects summed over its ticks; whether a cycle was found, the
    first period, and the policy that acted (0: none)."""

    rounds: int = 0
    effects_applied: int = 0
    oscillator: bool = False
    period: int = 0
    policy_applied: int = 0


class Network:
    """A genome ready to run: per source bit and trigger, its genes in tag order."""

    def __init__(self, genome: MycosGenome) -> None:
        self.sizes = [(ch.ni, ch.nn, ch.no) for ch in genome.chunks]
        self.init = [(ch.inputs_init, ch.internals_init, ch.outputs_init)
                     for ch in genome.chunks]
        self.fanout: dict[tuple[int, int, int, int], list[tuple[int, int, int, int, int]]] = {}
        for c, ch in enumerate(genome.chunks):
            for cn in ch.conns:                       # (tag, chunk, section, bit, action)
                self.fanout.setdefault((c, cn.from_section, cn.from_index, cn.trigger), []).append(
                    (cn.order_tag, c, cn.to_section, cn.to_index, cn.action))
        for ln in genome.links:
            self.fanout.setdefault((ln.from_chunk, OUTPUT, ln.from_out_idx, ln.trigger), []).append(
                (ln.order_tag, ln.to_chunk, INPUT, ln.to_in_idx, ln.action))
        for genes in self.fanout.values():
            genes.sort()

    def initial_state(self) -> list[list[list[int]]]:
        """state[chunk][section][bit] from the initial bit sets."""
        return [[[bits >> i & 1 for i in range(size)]
                 for bits, size in zip(self.init[c], self.sizes[c])]
                for c in range(len(self.sizes))]


def _edges(cur, last, kind, sections):
    """Bits of ``sections`` showing edge ``kind``, in emission order."""
    for c in range(len(cur)):
        for sec in sections:
            for i, (now, before) in enumerate(zip(cur[c][sec], last[c][sec])):
                if now != before and (kind == TOGGLE or (kind == ON) == (now == 1)):
                    yield c, sec, i


def _proposals(net: Network, cur, last):
    """K1 + K2: every proposal of this round, in emission order."""
    out = []
    for sections in ((INPUT, INTERNAL), (OUTPUT,)):   # connections, then links
        for kind in (ON, OFF, TOGGLE):
            for c, sec, i in _edges(cur, last, kind, sections):
                for tag, tc, tsec, ti, action in net.fanout.get((c, sec, i, kind), ()):
                    out.append(((tc, tsec, ti), tag, action))
    return out


def _resolve(proposals, commutative: bool):
    """K3: the winning action per target."""
    if not commutative:
        best: dict[tuple[int, int, int], tuple[int, int]] = {}
        for target, tag, action in proposals:
            if target not in best or tag >= best[target][0]:
                best[target] = (tag, action)
        return {t: a for t, (_, a) in best.items()}
    seen: dict[tuple[int, int, int], list[int]] = {}
    for target, _, action in proposals:
        seen.setdefault(target, [0, 0, 0])[action] += 1
    return {t: DISABLE if n[DISABLE] else ENABLE if n[ENABLE] else FLIP
            for t, n in seen.items() if n[DISABLE] or n[ENABLE] or n[FLIP] % 2}


def _snapshot(state):
    return [[list(bits) for bits in chunk] for chunk in state]


def run_tick(net: Network, cur, last, writes, guards: Guards, metrics: Metrics) -> None:
    """One tick in place: ``writes`` are (chunk, input bit, value); ``cur`` and ``last`` are
    the state and its value at the last round (equal between ticks)."""
    for c, i, v in writes:
        if c < len(cur) and i < len(cur[c][INPUT]):     # a bit the network lacks is ignored
            cur[c][INPUT][i] = v
    start = _snapshot(cur)
    ring: list[tuple] = []
    commutative = False
    effects = 0
    for _ in range(guards.max_rounds):
        proposals = _proposals(net, cur, last)
        for c in range(len(cur)):
            for sec in SECTIONS:
                last[c][sec][:] = cur[c][sec]
        if not proposals or effects >= guards.max_effects:
            break
        before = _snapshot(cur)
        winners = _resolve(proposals, commutative)
        for (c, sec, i), action in winners.items():
            cur[c][sec][i] = (1 if action == ENABLE else 0 if action == DISABLE
                              else cur[c][sec][i] ^ 1)
        effects += len(winners)
        metrics.rounds += 1
        metrics.effects_applied += len(winners)
        key = (tuple(tuple(map(tuple, ch)) for ch in cur),
               tuple(tuple(map(tuple, ch)) for ch in before))     # the state and its edges
        if key in ring:
            period = len(ring) - ring.index(key)
            if not metrics.oscillator:
                metrics.oscillator, metrics.period = True, period
            metrics.policy_applied = guards.policy
            if guards.policy == CLAMP and not commutative:
                commutative, ring = True, []
                ring.append(key)
                continue
            if guards.policy == FREEZE:
                for c in range(len(cur)):
                    cur[c][INTERNAL][:] = start[c][INTERNAL]
                    cur[c][OUTPUT][:] = start[c][OUTPUT]
            elif guards.policy == QUENCH and period % 2 == 1:
                for c in range(len(cur)):
                    cur[c][INTERNAL][:] = before[c][INTERNAL]
            break
        ring.append(key)
        if len(ring) > guards.window:
            ring.pop(0)
    for c in range(len(cur)):                          # Prev = Curr for every section
        for sec in SECTIONS:
            last[c][sec][:] = cur[c][sec]


def run_episode(genome: MycosGenome, schedule: list[list[tuple[int, int, int]]],
                observe: list[tuple[int, int]], guards: Guards = Guards(),
                internals: list[tuple[int, int, int]] = ()) -> tuple[list[list[int]], Metrics]:
    """Run ``len(schedule)`` ticks; tick t writes ``schedule[t]`` ((chunk, input, value)
    triples). ``internals`` override initial internal bits ((chunk, bit, value); the last
    one given for a bit wins). Returns the observed output bits ((chunk, output) pairs) after
    each tick, and the metrics. Inputs, internal bits and outputs the network does not have
    are ignored (outputs read as 0)."""
    net = Network(genome)
    cur = net.initial_state()
    for c, i, v in internals:
        if c < len(cur) and i < len(cur[c][INTERNAL]):
            cur[c][INTERNAL][i] = 1 if v else 0
    last = _snapshot(cur)
    metrics = Metrics()
    seen = []
    for writes in schedule:
        run_tick(net, cur, last, writes, guards, metrics)
        seen.append([cur[c][OUTPUT][o] if c < len(cur) and o < len(cur[c][OUTPUT]) else 0
                     for c, o in observe])
    return seen, metrics

