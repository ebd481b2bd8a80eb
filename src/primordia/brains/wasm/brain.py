"""The Brain worlds see for wasm organisms: the world's sensors go into each organism's
context, one wasm call steps every active organism (``runtime.Population``), and the
world's actions come back from the contexts and the action codes."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from primordia.brains.base import AbiActions, BrainIO, slots_for, step_slots
from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import random_u64_for, random_u64_py, stream_id

from . import ir
from .context import (energy_age_sensors, layout_of, read_actions, read_records,
                      surroundings_sensors, write_contexts_from_sensors)
from .layout import (F_ATTACK, F_EAT, F_MOVE, F_REPRODUCE, F_SIGNAL, H_MEMORY, R_ATTACK_AMOUNT,
                     R_ATTACK_SLOT, R_FLAGS, R_MOVE_DX, R_MOVE_DY, R_REPRO_LEN, R_REPRO_PTR,
                     R_SIGNAL_CHANNEL, R_SIGNAL_VALUE)
from .modules import PAGE, ModuleGenome, ModuleOrganism
from .runtime import Population

STREAM_RAND = stream_id("wasm.rand")
STREAM_INIT = stream_id("wasm.init")
ROOM = 16
"""Slots of memory a new brain starts with (it grows by doubling as slots are used)."""
Genome = ir.WasmGenome | ModuleGenome


class WasmBrain:
    """wasm organisms in slots; each decides once per tick under its gas budget. IR genomes
    run compiled, a population per wasm call; hand-written modules (``ModuleGenome``) run
    one call each in their own stores (the slow path, docs/brains/wasm.md)."""

    def __init__(self, genomes: Sequence[Genome], io: BrainIO, memory: int = 4096,
                 capacity: int | None = None) -> None:
        genomes = list(genomes)
        self.io = io
        self._around = surroundings_sensors(io.sensors)
        try:
            self.layout = layout_of(io, memory)
        except ValueError as exc:
            raise ConfigError(f"brain.memory: {exc}") from None
        cap = max(capacity or 0, len(genomes), 1)
        self._capacity = cap
        self.population = Population(self.layout, min(cap, max(len(genomes), ROOM)))
        """The memory and code behind the slots, as many as the highest slot used needs
        (a world's slot count can be far above its population)."""
        self.alive = np.zeros(cap, dtype=bool)
        self.budget = np.zeros(cap, dtype=np.int64)
        self.gas_used = np.zeros(cap, dtype=np.int32)
        """Gas each organism used in its last step (worlds may charge for it)."""
        self.halted = np.zeros(cap, dtype=bool)
        """Whether each organism's last step ran out of gas (or call depth)."""
        self.last_actions = np.zeros((cap, io.n_actions), dtype=np.int32)
        """The actions each organism's last step gave the world (its dashboard view)."""
        self.steps = 0
        """Rounds stepped: the context's tick and the key of its random bits."""
        self.seed = 0
        """The world's seed (``reseed``), which keys the random bits too."""
        self._energy, self._age = energy_age_sensors(io.sensors)
        self.modules: dict[int, ModuleOrganism] = {}
        self.is_module = np.zeros(cap, dtype=bool)
        """Hand-written organisms by slot (their rows of the population's memory only
        carry their contexts in and out)."""
        if genomes:
            self.add(genomes)

    @property
    def capacity(self) -> int:
        return self._capacity

    def reseed(self, seed: int) -> None:
        """Key the contexts' random bits (and modules' ``init`` seeds) by the world's seed.
        Modules placed before the first step (a world's founders) start again with seeds
        of the world's."""
        self.seed = int(seed) & 0x7FFFFFFFFFFFFFFF
        if self.steps == 0:
            for slot, organism in list(self.modules.items()):
                self._start_module(slot, organism.genome, self._module_seed(slot))

    def _module_seed(self, slot: int) -> int:
        return random_u64_py(self.seed, STREAM_INIT, self.steps, slot, 0)

    def _start_module(self, slot: int, genome: ModuleGenome, seed: int) -> None:
        self.modules[slot] = ModuleOrganism(genome, self.layout, seed)
        self.is_module[slot] = True

    # ---- population ----------------------------------------------------------------------------

    def _grow(self, need: int) -> None:
        new = max(need, 2 * self.capacity)
        self._capacity = new
        for name in ("alive", "budget", "gas_used", "halted", "last_actions", "is_module"):
            old = getattr(self, name)
            wider = np.zeros((new,) + old.shape[1:], dtype=old.dtype)
            wider[:len(old)] = old
            setattr(self, name, wider)

    def add(self, genomes: Sequence[Genome],
            slots: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """Place new organisms (zeroed memory) in the given free slots, or the lowest free
        ones; their slots. GenomeError if a genome is neither a valid IR genome nor a
        module that keeps the ABI."""
        genomes = list(genomes)
        for genome in genomes:
            if isinstance(genome, ir.WasmGenome):
                ir.validate(genome)
            elif not isinstance(genome, ModuleGenome):
                raise GenomeError(f"a wasm brain runs IR genomes and modules, not "
                                  f"{type(genome).__name__}")
        slots = slots_for(self, len(genomes), slots, self._grow)
        if len(slots) and int(slots.max()) >= self.population.capacity:
            room = max(int(slots.max()) + 1, 2 * self.population.capacity)
            self.population = self.population.resized(min(room, self.capacity))
        placed = [(int(s), g) for s, g in zip(slots, genomes)]
        compiled = [(s, g) for s, g in placed if isinstance(g, ir.WasmGenome)]
        if compiled:
            self.population.set([s for s, _ in compiled], [g for _, g in compiled])
        for slot, genome in placed:
            if isinstance(genome, ModuleGenome):
                self._start_module(slot, genome, self._module_seed(slot))
        self.alive[slots] = True
        self.last_actions[slots] = 0
        self.gas_used[slots] = 0
        self.halted[slots] = False
        return slots

    def remove(self, slots: Sequence[int] | np.ndarray) -> None:
        slots = np.asarray(slots, dtype=np.int64).reshape(-1)
        for slot in slots:
            if self.alive[slot] and slot < self.population.capacity:
                self.population.clear(int(slot))
                self.modules.pop(int(slot), None)
                self.is_module[slot] = False
        self.alive[slots] = False

    def genome(self, slot: int) -> Genome | None:
        organism = self.modules.get(slot)
        return organism.genome if organism is not None else self.population.genomes[slot]

    # ---- a tick ---------------------------------------------------------------------------------

    def begin_tick(self, budget: np.ndarray, active: np.ndarray | None = None) -> None:
        """Each organism's gas for its one step this tick."""
        budget = np.asarray(budget)
        if budget.shape != (self.capacity,) or budget.dtype.kind not in "iu":
            raise ConfigError(f"begin_tick: budget {budget.shape} {budget.dtype}; expected "
                              f"({self.capacity},) integers")
        self.budget[:] = budget

    def step(self, sensors: np.ndarray, actions: np.ndarray,
             active: np.ndarray | None = None) -> np.ndarray:
        """One step of every active organism: sensors in, actions out (action 0 is the code
        ``step`` returned). Returns all False: an organism acts once per tick."""
        sensors, slots = step_slots(self, sensors, actions, active)
        n = self.capacity
        if len(slots):
            lay = self.layout
            budget = self.budget[slots]
            rand = random_u64_for(self.seed, STREAM_RAND, self.steps, slots, 0) \
                & np.uint64(0xFFFFFFFF)
            write_contexts_from_sensors(self.population.memory, lay, slots, sensors,
                                        self._around, tick=self.steps, ids=slots,
                                        rand=rand.astype(np.int64), budget=budget,
                                        energy=self._energy, age=self._age)
            hand = self.is_module[slots]
            codes = np.zeros(len(slots), dtype=np.int32)
            left = np.zeros(len(slots), dtype=np.int64)
            halted = np.zeros(len(slots), dtype=bool)
            ir_rows = np.flatnonzero(~hand)
            if len(ir_rows):
                codes[ir_rows], left[ir_rows], halted[ir_rows] = \
                    self.population.run(slots[ir_rows], budget[ir_rows])
            for row in np.flatnonzero(hand).tolist():
                codes[row], left[row], halted[row] = self._step_module(int(slots[row]),
                                                                       int(budget[row]))
            out = read_actions(self.population.memory, lay, slots, codes)
            actions[slots] = out
            self.last_actions[slots] = out
            self.gas_used[slots] = np.clip(budget, 0, None) - left
            self.halted[slots] = halted
        self.steps += 1
        return np.zeros(n, dtype=bool)

    def abi_actions(self, slots: np.ndarray) -> AbiActions:
        """What the organisms in ``slots`` asked for through the ABI's action calls in their
        last step: their contexts' action records (``SpeaksAbi``), with the first byte of a
        reproduction payload read from the organism's memory."""
        slots = np.asarray(slots, dtype=np.int64)
        rec = read_records(self.population.memory, self.layout, slots).astype(np.int64)
        flags = rec[:, R_FLAGS]
        on = [((flags & flag) != 0).astype(np.int64)
              for flag in (F_MOVE, F_EAT, F_ATTACK, F_REPRODUCE, F_SIGNAL)]
        payload = np.full(len(slots), -1, dtype=np.int64)
        asked = np.flatnonzero((on[3] == 1) & (rec[:, R_REPRO_LEN] > 0))
        ptrs = rec[asked, R_REPRO_PTR]
        payload[asked] = self.population.memory[slots[asked], ptrs & (self.layout.memory - 1)]
        if self.modules:                # hand-written modules keep their own memory
            for row, ptr in zip(asked.tolist(), ptrs.tolist()):
                organism = self.modules.get(int(slots[row]))
                if organism is not None:
                    image = organism.memory()
                    payload[row] = image[ptr & (len(image) - 1)] if image else -1
        return AbiActions(move=on[0], dx=rec[:, R_MOVE_DX] * on[0], dy=rec[:, R_MOVE_DY] * on[0],
                          eat=on[1], attack=on[2], slot=rec[:, R_ATTACK_SLOT] * on[2],
                          amount=rec[:, R_ATTACK_AMOUNT] * on[2], reproduce=on[3],
                          payload=payload, signal=on[4],
                          channel=rec[:, R_SIGNAL_CHANNEL] * on[4],
                          value=rec[:, R_SIGNAL_VALUE] * on[4])

    def _step_module(self, slot: int, budget: int) -> tuple[int, int, bool]:
        """A hand-written organism's step: its context goes from its row to its own memory
        and back. Returns the action code, the fuel left and whether it faulted."""
        row = self.population.memory[slot]
        size = self.layout.bytes
        row.view("<i4")[H_MEMORY] = PAGE
        organism = self.modules[slot]
        result = organism.step(row[:size].tobytes(), budget)
        row[:size] = np.frombuffer(organism.context(), dtype=np.uint8)
        return result.code, max(budget, 0) - result.fuel_used, result.fault is not None

    # ---- state ----------------------------------------------------------------------------------

    def _top(self) -> int:
        """One past the highest living slot: the rows the state holds."""
        living = np.flatnonzero(self.alive)
        return int(living[-1]) + 1 if len(living) else 0

    def state_arrays(self) -> dict[str, np.ndarray]:
        """What an organism carries from tick to tick: its memory (a row per slot up to the
        highest living one, zero in free slots; a hand-written organism's in
        ``module_memory``, by ``module_slots``, with the seeds their ``init`` had in
        ``module_seeds``), and the round count. (A module's mutable
        globals are not part of it: see the docs.)"""
        hand = sorted(self.modules)
        images = [np.frombuffer(self.modules[s].memory() or bytes(PAGE), dtype=np.uint8)
                  for s in hand]
        return {"memory": self.population.memory[:self._top()].copy(),
                "steps": np.array([self.steps], dtype=np.int64),
                "module_slots": np.array(hand, dtype=np.int64),
                "module_seeds": np.array([self.modules[s].seed for s in hand], dtype=np.uint64),
                "module_memory": (np.stack(images) if images
                                  else np.zeros((0, PAGE), dtype=np.uint8))}

    def state_layout(self) -> dict[str, ArraySpec]:
        return {"memory": ArraySpec.upto(np.uint8, self.capacity, self.layout.memory,
                                         least=(0, self.layout.memory)),
                "steps": ArraySpec.exact(np.int64, 1),
                "module_slots": ArraySpec.upto(np.int64, self.capacity),
                "module_seeds": ArraySpec.upto(np.uint64, self.capacity),
                "module_memory": ArraySpec.upto(np.uint8, self.capacity, PAGE,
                                                least=(0, PAGE))}

    def load_state_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        for key in ("memory", "steps"):
            if key not in arrays:
                raise ConfigError(f"brain state: missing {key}")
        memory = np.asarray(arrays["memory"])
        rows = memory.shape[0] if memory.ndim == 2 else -1
        if memory.dtype != np.uint8 or memory.ndim != 2 or memory.shape[1] != self.layout.memory \
                or not self._top() <= rows <= self.capacity:
            raise ConfigError(f"brain memory: shape {memory.shape} and dtype {memory.dtype}; "
                              f"expected {self._top()} to {self.capacity} rows of "
                              f"{self.layout.memory} bytes (uint8)")
        steps = np.asarray(arrays["steps"]).reshape(-1)
        if steps.shape != (1,) or steps.dtype.kind not in "iu" or int(steps[0]) < 0:
            raise ConfigError("brain steps: one count >= 0")
        hand_slots = np.asarray(arrays.get("module_slots", np.zeros(0, np.int64))).reshape(-1)
        images = np.asarray(arrays.get("module_memory", np.zeros((0, PAGE), np.uint8)))
        seeds = np.asarray(arrays.get("module_seeds", np.zeros(0, np.uint64))).reshape(-1)
        if sorted(hand_slots.tolist()) != sorted(self.modules) \
                or images.shape != (len(hand_slots), PAGE) or images.dtype != np.uint8 \
                or (len(seeds) and (seeds.shape != hand_slots.shape or seeds.dtype != np.uint64)):
            raise ConfigError("brain module memory: one 64 KiB image (and seed) per "
                              "hand-written organism, by slot")
        top = self._top()
        self.population.memory[:top] = memory[:top]
        self.population.memory[top:] = 0
        self.population.memory[np.flatnonzero(~self.alive[:top])] = 0
        for k, slot in enumerate(hand_slots.tolist()):
            organism = self.modules[int(slot)]
            if len(seeds) and int(seeds[k]) != organism.seed:  # init as it was at birth
                self._start_module(int(slot), organism.genome, int(seeds[k]))
                organism = self.modules[int(slot)]
            if organism.memory():  # a module that never started has none
                organism.load_memory(images[k].tobytes())
        self.steps = int(steps[0])
