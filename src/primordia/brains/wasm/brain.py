"""The Brain worlds see for wasm organisms: the world's sensors go into each organism's
context, one wasm call steps every active organism (``runtime.Population``), and the
world's actions come back from the contexts and the action codes."""

from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np

from primordia.brains.base import BrainIO, slots_for, step_slots
from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError, GenomeError
from primordia.core.rng import random_u64_for, stream_id

from . import ir
from .context import energy_age_sensors, read_actions, write_contexts
from .layout import Layout
from .runtime import Population

STREAM_RAND = stream_id("wasm.rand")


class WasmBrain:
    """Compiled IR organisms in slots; each decides once per tick under its gas budget."""

    def __init__(self, genomes: Sequence[ir.WasmGenome], io: BrainIO, memory: int = 4096,
                 capacity: int | None = None) -> None:
        genomes = list(genomes)
        self.io = io
        self.layout = Layout(io.n_sensors, io.n_actions, memory=memory)
        cap = max(capacity or 0, len(genomes), 1)
        self.population = Population(self.layout, cap)
        self.alive = np.zeros(cap, dtype=bool)
        self.budget = np.zeros(cap, dtype=np.int64)
        self.gas_used = np.zeros(cap, dtype=np.int32)
        """Gas each organism used in its last step (worlds may charge for it)."""
        self.halted = np.zeros(cap, dtype=bool)
        """Whether each organism's last step ran out of gas (or call depth)."""
        self.steps = 0
        """Rounds stepped: the context's tick and the key of its random bits."""
        self._energy, self._age = energy_age_sensors(io.sensors)
        if genomes:
            self.add(genomes)

    @property
    def capacity(self) -> int:
        return self.population.capacity

    # ---- population ----------------------------------------------------------------------------

    def _grow(self, need: int) -> None:
        new = max(need, 2 * self.capacity)
        self.population = self.population.resized(new)
        for name in ("alive", "budget", "gas_used", "halted"):
            old = getattr(self, name)
            wider = np.zeros(new, dtype=old.dtype)
            wider[:len(old)] = old
            setattr(self, name, wider)

    def add(self, genomes: Sequence[ir.WasmGenome],
            slots: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """Place new organisms (zeroed memory) in the given free slots, or the lowest free
        ones; their slots. GenomeError if a genome is not a valid IR genome."""
        genomes = list(genomes)
        for genome in genomes:
            if not isinstance(genome, ir.WasmGenome):
                raise GenomeError(f"a wasm brain runs IR genomes, not {type(genome).__name__}")
            ir.validate(genome)
        slots = slots_for(self, len(genomes), slots, self._grow)
        self.population.set(slots, genomes)
        self.alive[slots] = True
        self.gas_used[slots] = 0
        self.halted[slots] = False
        return slots

    def remove(self, slots: Sequence[int] | np.ndarray) -> None:
        slots = np.asarray(slots, dtype=np.int64).reshape(-1)
        for slot in slots:
            if self.alive[slot]:
                self.population.clear(int(slot))
        self.alive[slots] = False

    def genome(self, slot: int) -> ir.WasmGenome | None:
        return self.population.genomes[slot]

    # ---- a tick ---------------------------------------------------------------------------------

    def begin_tick(self, budget: np.ndarray, active: np.ndarray | None = None) -> None:
        """Each organism's gas for its one step this tick."""
        self.budget[:] = np.asarray(budget, dtype=np.int64).reshape(-1)[:self.capacity]

    def step(self, sensors: np.ndarray, actions: np.ndarray,
             active: np.ndarray | None = None) -> np.ndarray:
        """One step of every active organism: sensors in, actions out (action 0 is the code
        ``step`` returned). Returns all False: an organism acts once per tick."""
        sensors, slots = step_slots(self, sensors, actions, active)
        n = self.capacity
        if len(slots):
            lay = self.layout
            budget = self.budget[slots]
            rand = random_u64_for(0, STREAM_RAND, self.steps, slots, 0) & np.uint64(0xFFFFFFFF)
            rows = sensors[slots]
            write_contexts(self.population.memory, lay, slots, rows, tick=self.steps, ids=slots,
                           rand=rand.astype(np.int64), budget=budget,
                           energy=None if self._energy is None else rows[:, self._energy],
                           age=None if self._age is None else rows[:, self._age])
            codes, left, halted = self.population.run(slots, budget)
            actions[slots] = read_actions(self.population.memory, lay, slots, codes)
            self.gas_used[slots] = np.clip(budget, 0, None) - left
            self.halted[slots] = halted
        self.steps += 1
        return np.zeros(n, dtype=bool)

    # ---- state ----------------------------------------------------------------------------------

    def state_arrays(self) -> dict[str, np.ndarray]:
        """What an organism carries from tick to tick: its memory (zero in free slots), and
        the round count."""
        return {"memory": self.population.memory.copy(),
                "steps": np.array([self.steps], dtype=np.int64)}

    def state_layout(self) -> dict[str, ArraySpec]:
        return {"memory": ArraySpec.exact(np.uint8, self.capacity, self.layout.memory),
                "steps": ArraySpec.exact(np.int64, 1)}

    def load_state_arrays(self, arrays: Mapping[str, np.ndarray]) -> None:
        for key in ("memory", "steps"):
            if key not in arrays:
                raise ConfigError(f"brain state: missing {key}")
        memory = np.asarray(arrays["memory"])
        if memory.shape != self.population.memory.shape or memory.dtype != np.uint8:
            raise ConfigError(f"brain memory: shape {memory.shape} and dtype {memory.dtype}; "
                              f"expected {self.population.memory.shape} uint8")
        steps = np.asarray(arrays["steps"]).reshape(-1)
        if steps.shape != (1,) or steps.dtype.kind not in "iu" or int(steps[0]) < 0:
            raise ConfigError("brain steps: one count >= 0")
        self.population.memory[:] = memory
        self.population.memory[~self.alive] = 0
        self.steps = int(steps[0])
