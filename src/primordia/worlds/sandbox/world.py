"""The sandbox world: state, brain and the phased tick (docs/architecture.md, "One tick").

A tick: every NPC starts a think with its gas; then action rounds run until no brain wants to
act again -- each round senses (numba), steps the brain, and applies the round's actions in id
order. Then teachings rewrite genomes, metabolism and death, trades, the world's own turn
(spawning, decay), fitness, and every ``evolve_every`` ticks the GA.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, Protocol, Sequence

import numpy as np

from primordia.brains.base import (Brain, BrainIO, KnowsReach, Substrate, Teaches,
                                   genome_limit, load_state, offers, seed_brain, state_arrays,
                                   state_layout)
from primordia.brains.rounds import round_state_of
from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import DrawStream, Rng, stream_id

from . import constants as c
from .actions import act, set_item
from .config import SandboxConfig
from .lifecycle import end_of_tick, living_in_id_order, score
from .rounds import action_rounds
from .sensors import ALL_SENSORS, effective_gas_all, list_limit, new_sense_cache, sense
from .snapshot import SCALARS, check, layout
from .tile_index import index_tiles, new_tile_index
from .state import SandboxState, empty_state, state_hash

SENSOR_NAMES = ("self", "health", "energy", "hunger", "fear", "food_dist", "danger",
                "near_dist", "x", "y", "day", "unused", "near_id", "food_dir", "gold", "item",
                "item_dist", "trust", "near_dir", "item_dir", "random", "stress", "gas",
                "on_forge", "life_left", "taught", "biome", "tile", "similarity", "tile_ahead",
                "cooldown")
ACTION_NAMES = ("move", "action", "target", "emotion")
SANDBOX_IO = BrainIO(sensors=SENSOR_NAMES, actions=ACTION_NAMES,
                     action_levels=(5, c.N_ACTIONS, 4, 4))
"""move: 0 stay, 1-4 N E S W; action: one of c.ACTION_NAMES. target is an NPC id and emotion
a free code: substrates that map levels write 0-3 there (bytecode writes any int32)."""
"""What a sandbox NPC senses (Ring0 slots 0-30) and does (Ring1 slots 0-3)."""

ITEM_TILES = np.array([c.TOOL_TILE, c.WEAPON_TILE, c.TREASURE_TILE, c.CRYSTAL_TILE])

STREAM_SETUP = stream_id("sandbox.setup")
STREAM_GA = stream_id("sandbox.ga")
STREAM_TEACH = stream_id("sandbox.teach")
STREAM_PLACE = stream_id("sandbox.place")

ROLE_ITEMS = {"trader": (c.TOOL, c.WEAPON, c.TREASURE), "crafter": (c.TOOL,),
              "teacher": (c.TOOL, c.WEAPON, c.TREASURE)}
"""Roles of the starting population that begin with an item (one drawn from the tuple)."""


@dataclass
class Lineage:
    """Phylogeny rows (ALife data standard): parents, birth tick, death tick (-1 alive)."""

    ancestors: dict[int, tuple[int, ...]] = field(default_factory=dict)
    origin: dict[int, int] = field(default_factory=dict)
    destruction: dict[int, int] = field(default_factory=dict)

    def born(self, npc_id: int, parents: tuple[int, ...], tick: int) -> None:
        self.ancestors[npc_id] = parents
        self.origin[npc_id] = tick

    def died(self, npc_id: int, tick: int) -> None:
        self.destruction[npc_id] = tick


@dataclass(frozen=True)
class TickDelta:
    """Who one tick removed and who it brought: the ids of the NPCs that died (of the
    world's causes, then the GA's places) and the slots of those born (the GA's children,
    then the refill). Moves and changed tiles are read off the state by whoever wants them
    (the live view: ``web/adapters/sandbox.py``); births and deaths only the tick knows
    without a comparison."""

    tick: int
    removed_ids: tuple[int, ...]
    spawned_slots: tuple[int, ...]


class Evolves(Protocol):
    """What the world hands its GA round to: an ask/tell evolver (``evolve.evolver.Evolver``,
    made for a sandbox by ``runs.sandbox_run.SandboxRun.evolver``). The world never imports
    ``evolve``: whoever builds the world passes one in."""

    def tell(self, fitness: np.ndarray, *, places: np.ndarray) -> Any: ...

    def ask(self, draws: Any, vary: Any, genome: Any) -> list[Any]: ...

    def state(self) -> dict[str, Any]: ...

    def load_state(self, data: Any) -> None: ...


class SandboxWorld:
    """A running sandbox: ``tick()`` advances it; ``state`` holds everything as arrays."""

    io = SANDBOX_IO

    def __init__(self, config: SandboxConfig, substrate: Substrate, threads: int = 1,
                 founders: Sequence[Any] | None = None, *, evolver: Evolves) -> None:
        """``founders``: genomes for the first NPCs (an island's founders); the rest of the start
        (positions, items, the other NPCs) comes from the same draws as without them.
        ``evolver``: runs the GA round (``SandboxRun.build`` makes a world with the right one)."""
        if founders is not None and len(founders) > config.npcs:
            raise ConfigError(f"founders: {len(founders)} do not fit in a population of "
                              f"{config.npcs}")
        self._init_empty(config, substrate, evolver)
        draws = DrawStream(self.rng, STREAM_SETUP, 0, 0)
        self._build_terrain(draws)
        genomes, items = self._starting_population(draws)
        if founders:
            genomes[:len(founders)] = list(founders)
        self.brain: Brain = substrate.compile(genomes, SANDBOX_IO, threads=threads,
                                              capacity=config.npcs)
        seed_brain(self.brain, config.seed)
        for slot, (g, item) in enumerate(zip(genomes, items)):
            self._place_newborn(slot, g, (), draws, item)
        score(self.state)

    def _init_empty(self, config: SandboxConfig, substrate: Substrate,
                    evolver: Evolves) -> None:
        self.config = config
        self.substrate = substrate
        self.evolver = evolver
        self.rng = Rng(config.seed)
        self.seed = self.rng.seed_word
        n, size = config.npcs, config.size
        self.state: SandboxState = empty_state(n, size)
        self.tick_no = 0
        self.food_rate = config.food_rate
        self.max_genome = config.max_genome
        self.base_gas = config.gas
        self.next_id = 1
        self.refill_turn = 0
        self.live_npc_ticks = 0
        self.rounds_last_tick = 0
        self._removed: list[int] = []                 # this tick's, for its TickDelta
        self._spawned: list[int] = []
        self.lineage = Lineage()
        self.genomes: list[Any] = [None] * n
        self._encoded: list[bytes] = [b""] * n
        self._pool_dirty = True
        self._rows = np.zeros((n, 0), dtype=np.uint8)       # genome bytes by slot (sensing)
        self._row_len = np.zeros(n, dtype=np.int64)
        self._order: np.ndarray | None = None                # living slots in id order
        self.sensors = np.zeros((n, c.N_SENSORS), dtype=np.int32)
        self.actions = np.zeros((n, c.N_ACTION_SLOTS), dtype=np.int32)
        self._index = new_tile_index(size, size)     # where food, items and poison lie
        self._sense_cache = new_sense_cache(n)
        self._pool_version = 0
        self._list_max = list_limit(size * size)
        self._teach_from = np.zeros(4 * n, dtype=np.int64)   # a few rounds' teachings
        self._teach_to = np.zeros(4 * n, dtype=np.int64)
        self._more = np.zeros(n, dtype=bool)
        self._all_sensors = np.full(n, ALL_SENSORS, dtype=np.int64)
        self._dead = np.zeros(n, dtype=np.int64)
        self._budget = np.ones(n, dtype=np.int32)        # gas per slot for this tick's think

    # ---- set-up ------------------------------------------------------------------------------
    def _build_terrain(self, draws: DrawStream) -> None:
        s, size = self.state, self.config.size
        for _ in range(self.config.forges):
            for _ in range(c.SPAWN_TRIES):
                x, y = draws.integer(0, size), draws.integer(0, size)
                if s.tile[y, x] == c.EMPTY:
                    s.tile[y, x] = c.FORGE
                    break
        for _ in range(max(size, self.config.npcs)):
            x, y = draws.integer(0, size), draws.integer(0, size)
            if s.tile[y, x] == c.EMPTY:
                s.tile[y, x] = c.FOOD

    def _starting_population(self, draws: DrawStream) -> tuple[list[Any], list[int]]:
        """Traders, foragers, crafters and teachers in the reference sandbox's shares; the rest
        random."""
        n, cfg = self.config.npcs, self.config
        roles = (["trader"] * int(n * cfg.traders) + ["forager"] * (n // 4)
                 + ["crafter"] * (n // 10) + ["teacher"] * max(1, n // 20))[:n]
        roles += ["random"] * (n - len(roles))
        genomes, items = [], []
        for role in roles:
            g = self.substrate.archetypes.get(role) if role != "random" else None
            genomes.append(g if g is not None else
                           self.substrate.random(draws, self.max_genome))
            choices = ROLE_ITEMS.get(role)
            items.append(draws.choice(choices) if choices else c.NO_ITEM)
        return genomes, items

    def _free_cell(self, draws: DrawStream) -> tuple[int, int]:
        """A random empty (or forge) unoccupied cell: 100 random tries, then a raster scan."""
        s, size = self.state, self.config.size
        ok = lambda x, y: (s.tile[y, x] in (c.EMPTY, c.FORGE)  # noqa: E731
                           and s.occupant[y, x] < 0)
        for _ in range(100):
            x, y = draws.integer(0, size), draws.integer(0, size)
            if ok(x, y):
                return x, y
        free = np.flatnonzero(((s.tile == c.EMPTY) | (s.tile == c.FORGE)) & (s.occupant < 0))
        if free.size == 0:
            free = np.flatnonzero(s.occupant < 0)
        k = int(free[draws.integer(0, free.size)])
        return k % size, k // size

    def _place_newborn(self, slot: int, genome: Any, parents: tuple[int, ...],
                       draws: DrawStream | None, item: int = c.NO_ITEM,
                       at: tuple[int, int] | None = None) -> None:
        """Fill a slot with a fresh NPC (health 100, energy 100) at a free cell (found with
        ``draws``) or ``at``."""
        s = self.state
        x, y = at if at is not None else self._free_cell(draws)
        npc_id = self.next_id
        self.next_id += 1
        for arr in (s.age, s.hunger, s.food_eaten, s.gold, s.stress, s.crafts, s.taught,
                    s.teaches, s.item):
            arr[slot] = 0
        for arr in (s.mod_kind, s.mod_mag, s.mod_left, s.mod_source):
            arr[slot] = 0
        s.alive[slot] = 1
        s.npc_id[slot] = npc_id
        s.birth[slot] = self.tick_no
        s.x[slot], s.y[slot] = x, y
        s.heading[slot] = 1
        s.health[slot] = c.START_HEALTH
        s.energy[slot] = c.START_ENERGY
        s.fitness[slot] = 0
        s.trade_with[slot] = -1
        s.occupant[y, x] = slot
        if item != c.NO_ITEM:
            set_item(s, slot, item)
        self._set_genome(slot, genome)
        self._order = None                         # a new id: the order is built afresh
        self.lineage.born(npc_id, parents, self.tick_no)

    # ---- the tick ----------------------------------------------------------------------------
    def alive_slots(self) -> np.ndarray:
        """Living NPCs' slots in id order (the order every rule that needs one uses). Kept
        between calls: deaths only remove slots from it; a birth rebuilds it."""
        alive = self.state.alive
        if self._order is None:
            self._order = living_in_id_order(alive, self.state.npc_id)
        elif not alive[self._order].all():
            self._order = self._order[alive[self._order] != 0]
        return self._order

    def tick(self) -> TickDelta:
        """Advance the world by one tick; who died and who was born in it."""
        s, cfg, t = self.state, self.config, self.tick_no
        self._removed, self._spawned = [], []
        order = self.alive_slots()
        self.live_npc_ticks += order.size
        pool, off, length = self._sensed_genomes()
        alive = s.alive != 0
        effective_gas_all(s, order, self.base_gas, self._budget)   # read for living slots only
        self.brain.begin_tick(self._budget, alive)
        brain_state = round_state_of(self.brain)
        if brain_state is not None:
            round_no, teach_events = self._rounds_in_kernel(order, brain_state, pool, off,
                                                            length)
        else:
            round_no, teach_events = self._rounds_stepped(alive, pool, off, length)
        self.rounds_last_tick = round_no
        if teach_events:
            self._apply_teachings(teach_events)
        n_dead = end_of_tick(s, order, self._dead, self._index, t, self.seed, self.food_rate,
                             cfg.item_rate, cfg.max_food, cfg.max_items)
        if n_dead:
            dead = self._dead[:n_dead].copy()
            for slot in dead.tolist():
                self.lineage.died(int(s.npc_id[slot]), t)
                self._removed.append(int(s.npc_id[slot]))
                self._set_genome(slot, None)
            self.brain.remove(dead)
        if t % c.FOOD_DECAY_EVERY == 0:
            self.food_rate = max(c.FOOD_RATE_FLOOR, self.food_rate * c.FOOD_RATE_DECAY)
        self.tick_no = t = t + 1
        if cfg.genome_grow and t % cfg.genome_grow_every == 0:
            self.max_genome += cfg.genome_grow
        if cfg.gas_grow and t % cfg.gas_grow_every == 0:
            self.base_gas = min(c.GAS_LIMIT, self.base_gas + cfg.gas_grow)
        if t % cfg.evolve_every == 0 and int(s.alive.sum()) >= 4:
            self.evolve()
        return TickDelta(t, tuple(self._removed), tuple(self._spawned))

    def _rounds_in_kernel(self, order, brain_state, pool, off, length):
        """All of this tick's action rounds in kernel calls (one, unless teachings fill the
        lists). Returns the rounds run and the teachings (teacher slot, learner slot)."""
        s = self.state
        active = order.copy()
        n, round_no, events = active.shape[0], 0, []
        if self._teach_from.shape[0] < n:     # every call must have room for one round
            self._teach_from = np.zeros(4 * n, dtype=np.int64)
            self._teach_to = np.zeros(4 * n, dtype=np.int64)
        while n:
            n, round_no, k = action_rounds(
                s, active, n, round_no, self.tick_no, self.seed, self.base_gas, pool, off,
                length, self._pool_version, self._index, self._list_max, self._sense_cache,
                self._reach(), self.sensors, self.actions, brain_state, self._more,
                self._teach_from, self._teach_to)
            events += zip(self._teach_from[:k].tolist(), self._teach_to[:k].tolist())
        return round_no, events

    def _reach(self) -> np.ndarray:
        """Per slot, the sensors its brain can read (bit k: sensor k); all of them for brains
        that do not say (``sensor_reach``)."""
        if offers(self.brain, KnowsReach):
            return self.brain.sensor_reach
        return self._all_sensors

    def _rounds_stepped(self, alive, pool, off, length):
        """The same rounds through ``Brain.step``, for brains that only offer that."""
        s, t = self.state, self.tick_no
        active = alive.copy()
        events: list[tuple[int, int]] = []
        round_no = 0
        while True:
            slots = np.flatnonzero(active)
            if slots.size == 0:
                return round_no, events
            index_tiles(s.tile, self._index)                      # actions change tiles
            sense(s, slots, t, round_no, self.seed, self.base_gas, pool, off, length,
                  self._pool_version, self._index, self._list_max, self._sense_cache,
                  self._reach(), self.sensors)
            self.actions[slots] = 0
            more = self.brain.step(self.sensors, self.actions, active)
            ordered = slots[np.argsort(s.npc_id[slots], kind="stable")]
            k = act(s, ordered, self.actions, t, round_no, self.seed, self._teach_from,
                    self._teach_to)
            events += zip(self._teach_from[:k].tolist(), self._teach_to[:k].tolist())
            active = more & (s.health > 0) & (s.alive != 0)
            round_no += 1

    def run(self, ticks: int) -> None:
        for _ in range(ticks):
            self.tick()

    # ---- genomes -------------------------------------------------------------------------------
    def _pool(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every slot's encoded genome packed in one byte array, with offsets and lengths
        (what checkpoints and the state hash hold)."""
        if self._pool_dirty:
            lengths = np.array([len(b) for b in self._encoded], dtype=np.int64)
            self._off = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
            self._len = lengths
            self._bytes = np.frombuffer(b"".join(self._encoded) + b"\0", dtype=np.uint8)
            self._pool_dirty = False
        return self._bytes, self._off, self._len

    def _sensed_genomes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The genomes as the similarity sensor reads them: one row per slot, so that a
        changed genome rewrites its row rather than the whole pool."""
        n, width = self._rows.shape
        return (self._rows.reshape(n * width), np.arange(n, dtype=np.int64) * width,
                self._row_len)

    def _set_genome(self, slot: int, genome: Any) -> None:
        """Give a slot its genome (None: the slot is empty)."""
        raw = b"" if genome is None else self.substrate.encode(genome)
        self.genomes[slot] = genome
        self._encoded[slot] = raw
        self._pool_dirty = True
        self._pool_version += 1                  # similarities must be read afresh
        if len(raw) > self._rows.shape[1]:       # widen every row (genome caps grow)
            rows = np.zeros((self._rows.shape[0], max(len(raw), 2 * self._rows.shape[1])),
                            dtype=np.uint8)
            rows[:, :self._rows.shape[1]] = self._rows
            self._rows = rows
        self._rows[slot, :len(raw)] = np.frombuffer(raw, dtype=np.uint8)
        self._row_len[slot] = len(raw)

    def _apply_teachings(self, events: list[tuple[int, int]]) -> None:
        """Each successful teaching copies a fragment of the teacher's genome into the
        student's (in the order they happened); the student's brain restarts on it."""
        if not offers(self.substrate, Teaches):
            return
        transfer = self.substrate.transfer
        s, changed = self.state, {}
        for k, (teacher, student) in enumerate(events):
            if not s.alive[student]:
                continue
            draws = DrawStream(self.rng, STREAM_TEACH, self.tick_no, k)
            new = transfer(self.genomes[teacher], self.genomes[student], draws)
            self._set_genome(student, new)
            changed[student] = new
        if changed:
            slots = np.array(sorted(changed), dtype=np.int64)
            self.brain.remove(slots)
            self.brain.add([changed[k] for k in slots.tolist()], slots=slots)

    # ---- evolution -----------------------------------------------------------------------------
    def evolve(self) -> None:
        """The periodic GA: the evolver is told the living NPCs' fitness (in id order, which
        settles its ties) and asked for children, which take the places it chose (the
        bottom quarter, in slot order); then the population is refilled to half its size
        from the archetypes. One draw stream serves the whole round, in that order."""
        s, live = self.state, self.alive_slots()
        draws = DrawStream(self.rng, STREAM_GA, self.tick_no, 0)
        self.evolver.tell(s.fitness[live], places=live)
        brood = self.evolver.ask(lambda k: draws, self, genome=lambda i: self.genomes[live[i]])
        self.replace(live[np.array([o.place for o in brood], dtype=np.int64)],
                     [o.genome for o in brood],
                     [tuple(live[list(o.parents)].tolist()) for o in brood])
        self._refill(draws)

    def crossover(self, a: Any, b: Any, draws: DrawStream) -> Any:
        """A child of two genomes, as the GA makes it (under the current genome cap)."""
        return self.substrate.crossover(a, b, draws, self.max_genome)

    def mutate(self, genome: Any, draws: DrawStream) -> Any:
        """A mutant, as the GA makes it (under the current genome cap)."""
        return self.substrate.mutate(genome, draws, self.max_genome)

    def replace(self, slots: np.ndarray, children: list[Any],
                parents: list[tuple[int, ...]]) -> None:
        """The NPCs in ``slots`` die and ``children`` (of the NPCs in ``parents``' slots) are
        born in their cells, each with a quarter of its parents' gold."""
        s, t = self.state, self.tick_no
        slots = np.asarray(slots, dtype=np.int64)
        self.brain.remove(slots)
        gold = [sum(int(s.gold[p]) for p in pair) // 4 for pair in parents]
        ids = [tuple(int(s.npc_id[p]) for p in pair) for pair in parents]
        for slot, child, g, pid in zip(slots.tolist(), children, gold, ids):
            self.lineage.died(int(s.npc_id[slot]), t)
            self._removed.append(int(s.npc_id[slot]))
            self._spawned.append(slot)
            s.occupant[s.y[slot], s.x[slot]] = -1
            self._place_newborn(slot, child, pid, None, at=(int(s.x[slot]), int(s.y[slot])))
            s.gold[slot] = g
            s.stats[c.C_BIRTHS] += 1
        self.brain.add(children, slots=slots)

    def _refill(self, draws: DrawStream) -> None:
        """While fewer than half the NPCs live, add archetypes in turn."""
        s = self.state
        names = sorted(self.substrate.archetypes) or [None]
        free = np.flatnonzero(s.alive == 0)[:max(0, self.config.npcs // 2
                                                   - int(s.alive.sum()))].tolist()
        genomes = []
        for slot in free:                      # the lowest free slots, in turn
            name = names[self.refill_turn % len(names)]
            self.refill_turn += 1
            g = (self.substrate.archetypes[name] if name is not None
                 else self.substrate.random(draws, self.max_genome))
            self._place_newborn(slot, g, (), draws)
            self._spawned.append(slot)
            genomes.append(g)
            s.stats[c.C_BIRTHS] += 1
        if genomes:
            self.brain.add(genomes, slots=np.array(free, dtype=np.int64))

    # ---- checkpoints -----------------------------------------------------------------------------
    def snapshot(self) -> dict[str, np.ndarray]:
        """Everything needed to continue this run bit for bit, as named arrays (no pickle)."""
        out = {f"state.{k}": np.array(v) for k, v in self.state._asdict().items()}
        out["scalars"] = np.array([getattr(self, k) for k in SCALARS], dtype=np.int64)
        out["food_rate"] = np.array([self.food_rate], dtype=np.float64)
        pool, _, lengths = self._pool()
        out["genome_bytes"] = np.array(pool[:-1])
        out["genome_lengths"] = lengths.copy()
        out["genome_present"] = np.array([g is not None for g in self.genomes], dtype=bool)
        ids = np.array(sorted(self.lineage.origin), dtype=np.int64)
        out["lineage.id"] = ids
        out["lineage.origin"] = np.array([self.lineage.origin[i] for i in ids.tolist()],
                                         dtype=np.int64)
        out["lineage.destruction"] = np.array(
            [self.lineage.destruction.get(i, -1) for i in ids.tolist()], dtype=np.int64)
        parents = [self.lineage.ancestors.get(i, ()) for i in ids.tolist()]
        out["lineage.parent_count"] = np.array([len(p) for p in parents], dtype=np.int64)
        out["lineage.parents"] = np.array([q for p in parents for q in p], dtype=np.int64)
        out.update({f"brain.{k}": v for k, v in state_arrays(self.brain).items()})
        return out

    @classmethod
    def snapshot_layout(cls, config: SandboxConfig, substrate: Substrate
                        ) -> dict[str, ArraySpec]:
        """Every array a ``snapshot`` for ``config`` holds, at its largest (``snapshot.py``)."""
        brain = substrate.compile([], SANDBOX_IO, capacity=config.npcs)
        return layout(config, state_layout(brain), genome_limit(substrate))

    @classmethod
    def restore(cls, config: SandboxConfig, substrate: Substrate, arrays: dict[str, np.ndarray],
                threads: int = 1, source: str = "checkpoint", *,
                evolver: Evolves) -> "SandboxWorld":
        """The world a ``snapshot`` describes. The arrays are untrusted: every rule of
        ``snapshot.check`` is checked, and every genome decoded by the substrate's validating
        decoder, before the world is built (ConfigError or GenomeError naming ``source``)."""
        w = cls.__new__(cls)
        w._init_empty(config, substrate, evolver)
        brain = substrate.compile([], SANDBOX_IO, threads=threads, capacity=config.npcs)
        seed_brain(brain, config.seed)
        a = check(config, arrays, state_layout(brain), genome_limit(substrate), source)
        lengths, present = a["genome_lengths"], a["genome_present"]
        data = a["genome_bytes"].tobytes()
        ends = np.cumsum(lengths).tolist()
        genomes: dict[int, Any] = {}
        for slot in np.flatnonzero(present).tolist():
            try:
                genomes[slot] = substrate.decode(data[ends[slot] - int(lengths[slot]):ends[slot]])
            except GenomeError as exc:
                raise GenomeError(f"{source}: the genome of slot {slot}: {exc}") from None
        for name, target in w.state._asdict().items():
            target[...] = a[f"state.{name}"]
        for name, value in zip(SCALARS, a["scalars"].tolist()):
            setattr(w, name, int(value))
        w.food_rate = float(a["food_rate"][0])
        for slot, genome in genomes.items():
            w._set_genome(slot, genome)
        counts = a["lineage.parent_count"].tolist()
        parents = a["lineage.parents"].tolist()
        starts = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64).tolist()
        for k, (oid, born, died) in enumerate(zip(a["lineage.id"].tolist(),
                                                  a["lineage.origin"].tolist(),
                                                  a["lineage.destruction"].tolist())):
            w.lineage.born(oid, tuple(parents[starts[k]:starts[k + 1]]), born)
            if died >= 0:
                w.lineage.died(oid, died)
        w.brain = brain
        live = np.flatnonzero(present)
        w.brain.add([w.genomes[i] for i in live.tolist()], slots=live)
        load_state(w.brain, a, source)
        return w

    # ---- views ---------------------------------------------------------------------------------
    def metrics(self) -> dict[str, float]:
        """The timeline's numbers at this tick: population, economy, conflict, fitness."""
        s = self.state
        live = s.alive.astype(bool)
        n = int(live.sum())
        lengths = self._pool()[2][live]
        fit = s.fitness[live]
        out: dict[str, float] = {"tick": self.tick_no, "alive": n,
                                 "food": int((s.tile == c.FOOD).sum()),
                                 "items": int(np.isin(s.tile, ITEM_TILES).sum())}
        out.update({name: int(v) for name, v in zip(c.STAT_NAMES, s.stats.tolist())})
        out.update({
            "gold": int(s.gold[live].sum()),
            "stress": round(float(s.stress[live].mean()), 3) if n else 0.0,
            "best_fitness": int(fit.max()) if n else 0,
            "mean_fitness": round(float(fit.mean()), 3) if n else 0.0,
            "genome_mean": round(float(lengths.mean()), 3) if n else 0.0,
            "genome_min": int(lengths.min()) if n else 0,
            "genome_max": int(lengths.max()) if n else 0,
            "food_rate": round(self.food_rate, 6),
            "max_genome": self.max_genome,
            "gas": self.base_gas,
        })
        return out

    def best_slot(self) -> int:
        """The fittest living NPC (ties: lower id), or -1."""
        live = self.alive_slots()
        if live.size == 0:
            return -1
        return int(live[np.lexsort((self.state.npc_id[live], -self.state.fitness[live]))[0]])

    def ascii_map(self) -> str:
        """The grid, one character per cell: tiles as TILE_CHARS, NPCs as '@'."""
        s = self.state
        chars = np.array(list(c.TILE_CHARS))[s.tile]
        chars[s.occupant >= 0] = "@"
        return "\n".join("".join(row) for row in chars)

    def state_hash(self) -> str:
        """Digest of everything that decides the future: the state, genomes, brain state,
        the tick, the food rate and the growth schedule."""
        extra = {
            "tick": np.array([self.tick_no, self.next_id, self.max_genome, self.base_gas,
                              self.refill_turn], dtype=np.int64),
            "food_rate": np.frombuffer(struct.pack("<d", self.food_rate), dtype=np.uint8),
            "genome_lengths": self._pool()[2],
            "genomes": self._pool()[0],
        }
        for name, arr in state_arrays(self.brain).items():
            extra["brain." + name] = arr
        return state_hash(self.state, extra)

