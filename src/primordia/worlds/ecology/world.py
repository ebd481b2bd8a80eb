"""The ecology world: organisms on a toroidal island of regrowing resources, obstacles and
hazards, paying energy to live, think and act, and reproducing in place
(docs/worlds/ecology.md).

``tick`` runs the phases of "The tick": sensing and the rest of the rules are kernels in
``phases.py``; thinking is one brain call for everyone; Python work per organism happens
only for births and deaths (their genomes).
"""

from __future__ import annotations

import time
from typing import Any, Sequence

import numpy as np

from primordia.brains.base import (Brain, CountsGas, SpeaksAbi, Spawns, Substrate,
                                   genome_limit, load_state, offers, seed_brain, state_arrays,
                                   state_layout)
from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError
from primordia.core.hashing import state_digest
from primordia.core.rng import DrawStream, Rng, stream_id
from primordia.worlds.genomes import decode_genome_table, genome_table

from . import phases
from .config import EcologyConfig
from .io import intents_from_abi, intents_from_actions, io_of
from .snapshot import check, layout
from .state import TOTALS, Advance, EcologyState, empty_state
from .terrain import generate

STREAM_BRAIN = stream_id("ecology.brain")
STREAM_MUTATE = stream_id("ecology.mutate")
PHASES = ("sense", "think", "rules", "genomes")
"""Where a tick's time goes (``phase_seconds``): phase 1, phase 2 (the brain), phases 3-12
(kernels), and the genomes of births and deaths (Python, through the brain)."""


class EcologyWorld:
    """A running ecology world: ``tick()`` advances it by one tick; ``state`` holds it as
    arrays, ``genomes`` the genome of every living slot."""

    def __init__(self, config: EcologyConfig, substrate: Substrate, threads: int = 1,
                 founders: Sequence[Any] | None = None) -> None:
        """``founders``: genomes for the first organisms placed (the rest are random)."""
        n = config.num_organisms
        if founders is not None and len(founders) > n:
            raise ConfigError(f"founders: {len(founders)} do not fit in a population of {n}")
        self._init_empty(config, substrate, threads)
        self.state.kind[:], self.state.resource[:] = generate(config, self.seed)
        placed, self.next_id = phases.place_random(self.state, config, self.seed, 0, n, 0, 0)
        given = list(founders or ())[:len(placed)]     # founders take the first places
        self._give_genomes(placed[:len(given)], given)
        self._random_genomes(0, placed[len(given):])

    def _init_empty(self, config: EcologyConfig, substrate: Substrate, threads: int) -> None:
        self.config = config
        self.substrate = substrate
        self.io = io_of(config)
        self.rng = Rng(config.seed)
        self.seed = self.rng.seed_word
        cap = config.max_organisms
        self.state: EcologyState = empty_state(cap, config.width, config.height)
        self.buffers = phases.buffers(self.state, config)
        self.tick_count = 0
        self.next_id = 0
        self.genomes = np.full(cap, None, dtype=object)
        try:
            self.brain: Brain = substrate.compile([], self.io, threads=threads, capacity=cap)
        except ConfigError as exc:      # a brain with fewer sensor slots than the world senses
            raise ConfigError(f"{exc} (radius {config.radius} with {config.neighbor_records} "
                              f"neighbour records: 8 + {config.view_side}^2 + 4 x "
                              f"{config.neighbor_records} sensors; lower radius or "
                              "neighbor_records)") from None
        seed_brain(self.brain, config.seed)
        self._budget = np.full(cap, config.gas, dtype=np.int64)
        self.actions = np.zeros((cap, self.io.n_actions), dtype=np.int32)
        self.gas_used = np.zeros(cap, dtype=np.int64)
        self.last: Advance | None = None
        """What the last tick's phases 3-12 did (slots), and the ids of those that died."""
        self.last_died_ids = np.zeros(0, dtype=np.int64)
        self.phase_seconds = dict.fromkeys(PHASES, 0.0)

    # ---- genomes ---------------------------------------------------------------------------

    def genome(self, slot: int) -> Any:
        """The genome of the organism in ``slot`` (None for a free slot). A brain that breeds
        in place (``Spawns``) builds the object only when asked."""
        g = self.genomes[slot]
        if g is None and self.state.alive[slot]:
            g = self.genomes[slot] = self.brain.genome(slot)
        return g

    def _give_genomes(self, slots: np.ndarray, genomes: list[Any]) -> None:
        """Put new organisms' genomes in their slots, in the brain and in the state's sizes."""
        if not len(genomes):
            return
        self.brain.add(genomes, slots=slots)
        for slot, genome in zip(slots.tolist(), genomes):
            self.genomes[slot] = genome
            self.state.genome_bytes[slot] = self.substrate.size(genome)

    def _random_genomes(self, tick: int, slots: np.ndarray) -> None:
        """New random organisms in ``slots``: organism k's genome from the draws keyed
        (STREAM_BRAIN, tick, k)."""
        if not len(slots):
            return
        ids = self.state.oid[slots]
        if offers(self.brain, Spawns):
            self._spawned(slots, np.full(len(slots), -1, dtype=np.int64), ids, tick,
                          np.zeros(len(slots), dtype=np.int64))
            return
        cap = self.config.max_genome
        self._give_genomes(slots, [self.substrate.random(
            DrawStream(self.rng, STREAM_BRAIN, tick, oid), cap) for oid in ids.tolist()])

    def _children(self, tick: int, births: np.ndarray) -> None:
        """Births' genomes: child k gets its parent's, mutated ``rounds`` times in turn from
        the draws keyed (STREAM_MUTATE, tick, k)."""
        if not len(births):
            return
        parents, children, rounds = births[:, 0], births[:, 1], births[:, 2]
        if offers(self.brain, Spawns):
            self._spawned(children, parents, self.state.oid[children], tick, rounds)
            return
        out = []
        cap = self.config.max_genome
        for parent, child, n in births.tolist():
            genome = self.genome(parent)
            draws = DrawStream(self.rng, STREAM_MUTATE, tick, int(self.state.oid[child]))
            for _ in range(n):
                genome = self.substrate.mutate(genome, draws, cap)
            out.append(genome)
        self._give_genomes(children, out)

    def _spawned(self, slots: np.ndarray, parents: np.ndarray, ids: np.ndarray, tick: int,
                 rounds: np.ndarray) -> None:
        """The same genomes as the Python paths above, made by the brain in one call
        (``Spawns``): their objects are built only when asked (``genome``)."""
        self.brain.spawn(slots, parents, ids, self.seed, STREAM_BRAIN, STREAM_MUTATE, tick,
                         -1.0, rounds)
        self.genomes[slots] = None
        self.state.genome_bytes[slots] = self.brain.genome_sizes(slots)

    # ---- the tick --------------------------------------------------------------------------

    @property
    def population(self) -> int:
        return int(np.count_nonzero(self.state.alive))

    def alive_slots(self) -> np.ndarray:
        """The slots of the living, in slot order."""
        return np.flatnonzero(self.state.alive)

    def tick(self) -> Advance:
        """One tick (docs/worlds/ecology.md, "The tick"); returns what phases 3-12 did."""
        s, cfg, t = self.state, self.config, self.tick_count
        clock = time.perf_counter
        t0 = clock()
        # 1. sense
        sensors, nb_slots = phases.sense(s, cfg, t, self.buffers)
        t1 = clock()
        # 2. think: one brain call for every living organism
        active = s.alive != 0
        self.actions.fill(0)
        self.brain.begin_tick(self._budget, active)
        self.brain.step(sensors, self.actions, active)
        if offers(self.brain, CountsGas):
            self.gas_used[:] = np.where(active, self.brain.gas_used, 0)
        else:
            self.gas_used.fill(0)
        if offers(self.brain, SpeaksAbi):   # wasm organisms: what their ABI calls asked for
            live = np.flatnonzero(active)
            intents = intents_from_abi(self.brain.abi_actions(live), live, len(active),
                                       cfg.mutation_rounds)
        else:
            intents = intents_from_actions(self.actions, cfg.attack_amount,
                                           cfg.mutation_rounds, self.buffers.intents)
        t2 = clock()
        # 3-12. the rules (a parent is alive after them: deaths come before births)
        ids_before = s.oid.copy()       # a dead organism's slot may hold a child by the end
        out = phases.advance(s, cfg, self.seed, t, intents, self.gas_used, nb_slots,
                             self.next_id, self.buffers)
        t3 = clock()
        if len(out.died):
            self.brain.remove(out.died)
            self.genomes[out.died] = None
        self._children(t, out.births)
        self._random_genomes(t, out.placed)
        self.next_id = out.next_id
        self.tick_count = t + 1
        self.last = out
        self.last_died_ids = ids_before[out.died]
        for name, dt in zip(PHASES, (t1 - t0, t2 - t1, t3 - t2, clock() - t3)):
            self.phase_seconds[name] += dt
        return out

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.tick()

    # ---- views -------------------------------------------------------------------------------

    def metrics(self) -> dict[str, int]:
        s = self.state
        live = np.flatnonzero(s.alive)
        out = {"ticks": self.tick_count, "organisms": int(live.size),
               "lineages": int(np.unique(s.lineage[live]).size) if live.size else 0,
               "max_generation": int(s.generation[live].max()) if live.size else 0,
               "energy": int(s.energy[live].sum()) if live.size else 0,
               "resource": int(s.resource.sum() >> 8), "corpse": int(s.corpse.sum())}
        out.update({f"total_{name}": int(v) for name, v in zip(TOTALS, s.totals.tolist())})
        return out

    # ---- fingerprint ---------------------------------------------------------------------------

    def arrays(self) -> dict[str, np.ndarray]:
        """Everything that decides the future, as named arrays: the state, the tick and next
        id, the genomes and the brain's own state."""
        out = {f"state.{k}": np.array(v) for k, v in self.state._asdict().items()}
        out["scalars"] = np.array([self.tick_count, self.next_id], dtype=np.int64)
        for slot in self.alive_slots().tolist():
            self.genome(slot)                   # spawned organisms' genomes, built now
        out["genome_bytes"], out["genome_lengths"] = genome_table(self.genomes,
                                                                   self.substrate)
        out.update({f"brain.{k}": np.asarray(v) for k, v in state_arrays(self.brain).items()})
        return out

    def state_hash(self) -> str:
        """Digest of ``arrays()``: same config and seed, same hash, on any machine."""
        return state_digest(self.arrays())

    @classmethod
    def snapshot_layout(cls, config: EcologyConfig, substrate: Substrate
                        ) -> dict[str, ArraySpec]:
        """Every array ``arrays()`` gives for ``config``, at its largest."""
        brain = substrate.compile([], io_of(config), capacity=config.max_organisms)
        return layout(config, state_layout(brain), genome_limit(substrate))

    @classmethod
    def restore(cls, config: EcologyConfig, substrate: Substrate,
                arrays: dict[str, np.ndarray], threads: int = 1,
                source: str = "checkpoint") -> "EcologyWorld":
        """The world ``arrays()`` describes. The arrays are untrusted: every rule of
        ``snapshot.check`` holds and every genome is decoded by the substrate's validating
        decoder before the world is built (ConfigError or GenomeError naming ``source``)."""
        w = cls.__new__(cls)
        w._init_empty(config, substrate, threads)
        a = check(config, w.seed, arrays, state_layout(w.brain), genome_limit(substrate),
                  source)
        decode_genome_table(a["genome_bytes"], a["genome_lengths"], substrate, w.genomes, source)
        live = np.flatnonzero(a["state.alive"])
        for slot in live.tolist():
            size = substrate.size(w.genomes[slot])
            if size != int(a["state.genome_bytes"][slot]):
                raise ConfigError(f"{source}: state.genome_bytes[{slot}] is "
                                  f"{int(a['state.genome_bytes'][slot])}; the genome there is "
                                  f"{size} bytes (an organism's genome size is its genome's)")
        for name, target in w.state._asdict().items():
            target[...] = a[f"state.{name}"]
        w.tick_count, w.next_id = (int(v) for v in a["scalars"].tolist())
        w.brain.add([w.genomes[i] for i in live.tolist()], slots=live)
        load_state(w.brain, a, source)
        return w
