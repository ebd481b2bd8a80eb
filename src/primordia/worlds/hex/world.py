"""The hex world: a bounded axial hex grid where every organism decides once per turn against
the same snapshot, moves are settled globally and committed at once, the hungry starve and
every death is refilled from a spawn queue (NeuroGenesis; docs/worlds/hex.md).

``tick`` is the reference shape of Primordia's phased turn (docs/architecture.md, "One tick");
each phase is one numba kernel in ``phases.py`` and is named where it runs. Genomes are the only
Python work per organism, and only for births.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from primordia.brains.base import (Brain, BrainIO, CountsWork, Spawns, Substrate,
                                   genome_limit, load_state, offers, seed_brain, state_arrays,
                                   state_layout)
from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError
from primordia.core.hashing import state_digest
from primordia.core.rng import DrawStream, Rng, stream_id
from primordia.worlds.genomes import decode_genome_table, genome_table

from .config import HexConfig
from .grid import FACING_NAMES
from .phases import (commit, intents, lifecycle, organism_table, resolve, sense,
                     spawn)
from .snapshot import check, layout
from .state import TOTALS, T_BIRTHS, T_REPLACEMENTS, T_SYNAPSE_OPS, HexState, empty_state

HEX_IO = BrainIO(sensors=("look",),
                 actions=("move_forward", "turn_left", "turn_right", "confidence"),
                 action_levels=(2, 2, 2, 2))
"""look: 1 if the faced cell holds another organism. An action is on when > 0; confidence
(16.16 fixed point) ranks movers that want the same cell."""
LOOK = 0
A_MOVE, A_LEFT, A_RIGHT, A_CONFIDENCE = range(4)

STREAM_PLACE = stream_id("hex.place")
STREAM_FACING = stream_id("hex.facing")
STREAM_BRAIN = stream_id("hex.brain")
STREAM_MUTATE = stream_id("hex.mutate")
METRIC_NAMES = ("turns", "organisms", "synapse_ops_last_turn", "actions_applied_last_turn",
                "meals_last_turn", "starvations_last_turn", "births_last_turn")


ORGANISM_FIELDS = ("id", "q", "r", "facing", "turns_since_last_meal", "meals_eaten",
                   "generation", "parent", "born")


def organism_rows(s: HexState, slots: np.ndarray) -> np.ndarray:
    """The organisms in ``slots`` as int64 rows of ORGANISM_FIELDS (facing as 0..5)."""
    return organism_table(s, np.asarray(slots, dtype=np.int64))


def organism_dicts(rows: np.ndarray) -> list[dict[str, Any]]:
    """Rows of ``organism_rows`` as the wire's OrganismState objects."""
    names = FACING_NAMES
    return [{"id": i, "q": q, "r": r, "facing": names[f], "turns_since_last_meal": h,
             "meals_eaten": m, "generation": g, "parent": p, "born": b}
            for i, q, r, f, h, m, g, p, b in rows.tolist()]


@dataclass
class TickDelta:
    """What one turn changed, for recorders and live clients: moves (id, from, to), removed
    ids (eaten in their eaters' id order, then the starved), spawned organisms, and the
    turn's metrics. Held as arrays; the lists are built only when someone reads them."""

    turn: int
    move_rows: np.ndarray = field(default_factory=lambda: np.zeros((0, 5), np.int64))
    """(id, from q, from r, to q, to r) per move (in slot order: the moves are a set)."""
    removed_ids: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    spawned_rows: np.ndarray = field(default_factory=lambda: np.zeros(
        (0, len(ORGANISM_FIELDS)), np.int64))
    metrics: dict[str, int] = field(default_factory=dict)

    @property
    def moves(self) -> list[tuple[int, tuple[int, int], tuple[int, int]]]:
        return [(i, (a, b), (c, d)) for i, a, b, c, d in self.move_rows.tolist()]

    @property
    def removed(self) -> list[int]:
        return self.removed_ids.tolist()

    @property
    def spawned(self) -> list[dict[str, Any]]:
        return organism_dicts(self.spawned_rows)

    def to_dict(self) -> dict[str, Any]:
        """The wire shape (docs/worlds/hex.md, "The turn"): moves as
        {id, from: [q, r], to: [q, r]}."""
        return {"turn": self.turn,
                "moves": [{"id": i, "from": [a, b], "to": [c, d]}
                          for i, a, b, c, d in self.move_rows.tolist()],
                "removed": self.removed, "spawned": self.spawned,
                "metrics": dict(self.metrics)}


class HexWorld:
    """A running hex world: ``tick()`` advances it by one turn; ``state`` holds it as arrays."""

    io = HEX_IO

    def __init__(self, config: HexConfig, substrate: Substrate, threads: int = 1,
                 founders: Sequence[Any] | None = None) -> None:
        """``founders``: genomes for the first organisms (an island's founders). They are placed
        by the normal founding spawn, whose genomes they then replace, so positions, facings
        and the other organisms are the same as without them."""
        n = config.num_organisms
        if founders is not None and len(founders) > n:
            raise ConfigError(f"founders: {len(founders)} do not fit in a population of {n}")
        self._init_empty(config, substrate)
        self.brain: Brain = substrate.compile([], HEX_IO, threads=threads,
                                              capacity=config.cells)
        seed_brain(self.brain, config.seed)
        placed = self._spawn(np.full(n, -1, dtype=np.int64), 0)    # turn 0: the founders
        if founders:
            slots = placed[:len(founders)]
            self.brain.remove(slots)
            self.brain.add(list(founders), slots=slots)
            for slot, g in zip(slots.tolist(), founders):
                self.genomes[slot] = g
        self.last_delta = TickDelta(0, spawned_rows=organism_rows(self.state, placed))

    def _init_empty(self, config: HexConfig, substrate: Substrate) -> None:
        self.config = config
        self.substrate = substrate
        self.rng = Rng(config.seed)
        self.seed = self.rng.seed_word
        cap, w = config.cells, config.world_width
        self.state: HexState = empty_state(cap, w)
        self.turn = 0
        self.next_id = 0
        self.genomes = np.full(cap, None, dtype=object)   # by slot; None: none, or not built
        self._order: np.ndarray | None = None
        self._population = 0
        self.sensors = np.zeros((cap, HEX_IO.n_sensors), dtype=np.int32)
        self.actions = np.zeros((cap, HEX_IO.n_actions), dtype=np.int32)
        self._budget = np.full(cap, config.gas, dtype=np.int32)
        # the turn's scratch, 32-bit where it is read at random (half the cache lines)
        self._facing = np.zeros(cap, dtype=np.int64)
        self._target = np.full(cap, -1, dtype=np.int32)
        self._confidence = np.zeros(cap, dtype=np.int32)
        self._best = np.full(w * w, -1, dtype=np.int32)
        self._winner = np.zeros(cap, dtype=np.int64)
        self._kind = np.zeros(cap, dtype=np.int8)
        self._victim = np.zeros(cap, dtype=np.int64)
        self._moves = np.zeros((cap, 5), dtype=np.int64)
        self._moving = np.zeros(cap, dtype=np.bool_)
        self._removed = np.zeros(cap, dtype=np.int64)
        self._parents = np.zeros(cap, dtype=np.int64)
        self._ate = np.zeros(cap, dtype=np.bool_)
        self._placed = np.zeros(cap, dtype=np.int64)

    # ---- the turn ------------------------------------------------------------------------------
    def alive_slots(self) -> np.ndarray:
        """Living organisms' slots in id order (built when asked, kept until the next turn)."""
        if self._order is None:
            live = np.flatnonzero(self.state.alive)
            self._order = live[np.argsort(self.state.oid[live], kind="stable")]
        return self._order

    @property
    def population(self) -> int:
        """How many organisms are alive."""
        return self._population

    def tick(self) -> TickDelta:
        """One turn, phase by phase; returns (and keeps as ``last_delta``) what it changed."""
        s, cfg, w = self.state, self.config, self.config.world_width
        live = np.flatnonzero(s.alive)     # slot order: every phase walks memory in order
        self._order = None
        # 1-2. snapshot and sense: the occupancy table is the snapshot (nothing moves before 5)
        sense(s, live, w, LOOK, self.sensors)
        # 3. think: every organism decides against the same snapshot, one decision per turn
        active = s.alive != 0
        self.actions.fill(0)
        self.brain.begin_tick(self._budget, active)
        self.brain.step(self.sensors, self.actions, active)
        synapse_ops = self.brain.synapse_ops_last_step if offers(self.brain, CountsWork) \
            else 0
        intents(s, live, self.actions, w, A_MOVE, A_LEFT, A_RIGHT, A_CONFIDENCE, self._facing,
                self._target, self._confidence)
        # 4. resolve: one winner per target cell; move in, or eat and replace
        k = resolve(s, live, self._target, self._confidence, self._best, self._moving,
                    self._winner, self._kind, self._victim)
        # 5. commit, all at once
        eaten = commit(s, live, self._facing, self._target, self._winner, self._kind,
                       self._victim, k, w, self._moves, self._removed, self._parents,
                       self._ate)
        moved = self._moves[:k].copy()
        # 6. lifecycle: starvation
        n_removed = lifecycle(s, live, self._ate, cfg.turns_to_starve, w, self._removed,
                              eaten)
        self._ate[self._parents[:eaten]] = False
        removed = self._removed[:n_removed].copy()
        removed_ids = s.oid[removed]
        self.genomes[removed] = None
        if n_removed:
            self.brain.remove(removed)
        self._population -= n_removed
        # 7. spawn: reproductions (eaters, in id order), then a replacement per starvation
        queue = np.concatenate([self._parents[:eaten],
                                np.full(n_removed - eaten, -1, dtype=np.int64)])
        placed = self._spawn(queue, self.turn + 1)
        # 8. metrics and delta
        self.turn += 1
        s.totals[T_SYNAPSE_OPS] += synapse_ops
        delta = TickDelta(self.turn, moved, removed_ids, organism_rows(s, placed))
        delta.metrics = {"turns": self.turn, "organisms": self._population,
                         "synapse_ops_last_turn": synapse_ops,
                         "actions_applied_last_turn": k, "meals_last_turn": eaten,
                         "starvations_last_turn": n_removed - eaten,
                         "births_last_turn": int(placed.size)}
        self.last_delta = delta
        return delta

    def _spawn(self, parents: np.ndarray, turn: int) -> np.ndarray:
        """Place the queue's organisms (kernel), then give each its genome: an offspring the
        parent's, mutated with ``mutation_chance``; a replacement a new random one. A brain
        that offers ``spawn`` makes them itself, in one call; otherwise genomes are made here
        one by one through the substrate (the same genomes, from the same draws)."""
        s, cfg = self.state, self.config
        n = parents.shape[0]
        if n == 0:
            return np.zeros(0, dtype=np.int64)
        free = np.flatnonzero(s.alive == 0)[:n]
        count = spawn(s, parents, n, free, self.next_id, turn, self.seed, STREAM_PLACE,
                      STREAM_FACING, cfg.world_width, cfg.spawn_sigma, cfg.spawn_attempts,
                      self._placed)
        placed = self._placed[:count].copy()
        mothers = parents[:count]
        s.totals[T_BIRTHS] += int((mothers >= 0).sum())
        s.totals[T_REPLACEMENTS] += int((mothers < 0).sum())
        if offers(self.brain, Spawns) and count:
            self.brain.spawn(placed, mothers, self.next_id + np.arange(count, dtype=np.int64), self.seed,
                  STREAM_BRAIN, STREAM_MUTATE, turn, cfg.mutation_chance)
        elif count:
            genomes = []
            for j, slot in enumerate(placed.tolist()):
                new_id = self.next_id + j
                if mothers[j] < 0:
                    g = self.substrate.random(DrawStream(self.rng, STREAM_BRAIN, turn, new_id),
                                              cfg.max_genome)
                else:
                    d = DrawStream(self.rng, STREAM_MUTATE, turn, new_id)
                    g = self.genome(int(mothers[j]))
                    if d.random() <= cfg.mutation_chance:
                        g = self.substrate.mutate(g, d, cfg.max_genome)
                self.genomes[slot] = g
                genomes.append(g)
            self.brain.add(genomes, slots=placed)
        self.next_id += count
        self._population += count
        return placed

    def genome(self, slot: int) -> Any:
        """The genome of the organism in ``slot`` (None for a free slot). Brains that breed
        their own organisms build the object only when asked."""
        g = self.genomes[slot]
        if g is None and self.state.alive[slot]:
            g = self.genomes[slot] = self.brain.genome(slot)
        return g

    def run(self, turns: int) -> None:
        for _ in range(turns):
            self.tick()

    # ---- views ---------------------------------------------------------------------------------
    def metrics(self) -> dict[str, int]:
        """The last turn's metrics (docs/worlds/hex.md, "The turn") and the running totals."""
        out = dict(self.last_delta.metrics) if self.last_delta.metrics else {
            "turns": self.turn, "organisms": self._population,
            "synapse_ops_last_turn": 0, "actions_applied_last_turn": 0, "meals_last_turn": 0,
            "starvations_last_turn": 0, "births_last_turn": 0}
        out.update({f"total_{name}": int(v) for name, v in zip(TOTALS,
                                                                self.state.totals.tolist())})
        live = self.alive_slots()
        out["max_generation"] = int(self.state.generation[live].max()) if live.size else 0
        return out

    def snapshot_view(self) -> dict[str, Any]:
        """The wire's Snapshot: turn, seed, config, organisms (by id), occupancy, metrics."""
        s, w = self.state, self.config.world_width
        live = self.alive_slots()
        cells = np.flatnonzero(s.occupancy >= 0)
        return {"turn": self.turn, "rng_seed": self.config.seed,
                "config": self.config.model_dump(),
                "organisms": organism_dicts(organism_rows(s, live)),
                "occupancy": [{"q": q, "r": r, "organism_ids": [i]} for q, r, i in
                              zip((cells % w).tolist(), (cells // w).tolist(),
                                  s.oid[s.occupancy[cells]].tolist())],
                "metrics": self.metrics()}

    # ---- fingerprint and checkpoints -----------------------------------------------------------
    def arrays(self) -> dict[str, np.ndarray]:
        """Everything that decides the future as named arrays (no pickle): the state, the
        turn and next id, the genomes and the brain's own state (e.g. activations)."""
        out = {f"state.{k}": np.array(v) for k, v in self.state._asdict().items()}
        out["scalars"] = np.array([self.turn, self.next_id], dtype=np.int64)
        out["genome_bytes"], out["genome_lengths"] = genome_table(
            [self.genome(i) for i in range(len(self.genomes))], self.substrate)
        out.update({f"brain.{k}": np.asarray(v) for k, v in state_arrays(self.brain).items()})
        return out

    def state_hash(self) -> str:
        """Digest of ``arrays()``: same config and seed, same hash, on any machine."""
        return state_digest(self.arrays())

    @classmethod
    def snapshot_layout(cls, config: HexConfig, substrate: Substrate) -> dict[str, ArraySpec]:
        """Every array ``arrays()`` gives for ``config``, at its largest (``snapshot.py``)."""
        brain = substrate.compile([], HEX_IO, capacity=config.cells)
        return layout(config, state_layout(brain), genome_limit(substrate))

    @classmethod
    def restore(cls, config: HexConfig, substrate: Substrate, arrays: dict[str, np.ndarray],
                threads: int = 1, source: str = "checkpoint") -> "HexWorld":
        """The world ``arrays()`` describes. The arrays are untrusted: every rule of
        ``snapshot.check`` is checked, and every genome decoded by the substrate's validating
        decoder, before the world is built (ConfigError or GenomeError naming ``source``)."""
        w = cls.__new__(cls)
        w._init_empty(config, substrate)
        brain = substrate.compile([], HEX_IO, threads=threads, capacity=config.cells)
        seed_brain(brain, config.seed)
        a = check(config, arrays, state_layout(brain), genome_limit(substrate), source)
        decode_genome_table(a["genome_bytes"], a["genome_lengths"], substrate, w.genomes, source)
        for name, target in w.state._asdict().items():
            target[...] = a[f"state.{name}"]
        w.turn, w.next_id = (int(v) for v in a["scalars"].tolist())
        w._population = int(np.count_nonzero(w.state.alive))
        live = np.flatnonzero(w.state.alive)
        w.brain = brain
        w.brain.add([w.genomes[i] for i in live.tolist()], slots=live)
        load_state(w.brain, a, source)
        w.last_delta = TickDelta(w.turn)
        return w
