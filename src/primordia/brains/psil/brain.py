"""The micro-PSIL Brain: a compiled population that worlds step one action round at a time.

Genomes are packed into flat arrays (the executable phenotype); the bytes stay the source of
truth. A tick starts with ``begin_think`` (fresh stack, pc 0, the gas budget); each ``step`` runs
every active organism to its next yield (one action round) and returns Ring1 as actions.
Memory (other than Ring1) and locals persist per organism across ticks: they are its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple, Sequence

import numpy as np
from numba.extending import overload

from primordia.brains.base import BrainIO, slots_for
from primordia.brains.threads import spans
from primordia.brains.rounds import brain_round
from primordia.core.checks import ArraySpec
from primordia.core.errors import ConfigError

from . import kernels as k
from . import opcodes as op
from .genome import PsilGenome
from .reach import ring0_reach


SPANS_PER_THREAD = 8
"""Work slices per thread in a parallel round: small enough to balance uneven thinks."""
CACHE_LINE = 64

PSIL_IO = BrainIO(sensors=op.RING0_NAMES, actions=op.RING1_NAMES)
"""The full Ring0/Ring1 layout of micro-PSIL (31 sensors, 4 actions)."""


def _zeros(shape, dtype) -> np.ndarray:
    """Zeros whose first element starts a 64-byte cache line: a 512-byte memory row then holds
    Ring0's sensors in one line and Ring1 in another, and the VM touches fewer lines."""
    dtype = np.dtype(dtype)
    count = int(np.prod(shape))
    raw = np.zeros(count * dtype.itemsize + CACHE_LINE, dtype=np.uint8)
    skip = -raw.ctypes.data % CACHE_LINE
    return raw[skip:skip + count * dtype.itemsize].view(dtype).reshape(shape)


class PsilRound(NamedTuple):
    """What a world's kernel needs to run micro-PSIL action rounds (``brain_round``)."""

    spans: int
    alive: np.ndarray
    run: np.ndarray
    pdec: np.ndarray
    org: np.ndarray
    quots: np.ndarray
    mem: np.ndarray
    stack: np.ndarray
    locals: np.ndarray
    regs: np.ndarray
    frames: np.ndarray
    steps: np.ndarray


@overload(brain_round, jit_options={"cache": True, "nogil": True})
def _psil_round(state, slots, n, sensors, actions, more):
    if getattr(state, "instance_class", None) is not PsilRound:
        return None

    def impl(state, slots, n, sensors, actions, more):
        k.action_round(state.spans, slots, n, state.alive, sensors, actions, more, state.run,
                       state.pdec, state.org, state.quots, state.mem, state.stack,
                       state.locals, state.regs, state.frames, state.steps)
    return impl


def _blob_size(g: PsilGenome) -> int:
    return len(g.code) + sum(len(b) for _, b in g.quotations)


def _as_genome(g: PsilGenome | bytes | bytearray) -> PsilGenome:
    return g if isinstance(g, PsilGenome) else PsilGenome(bytes(g))


class PsilBrain:
    """A population of micro-PSIL organisms, stepped together by the numba VM."""

    def __init__(self, genomes: Sequence[PsilGenome | bytes], io: BrainIO = PSIL_IO,
                 threads: int = 1, capacity: int | None = None) -> None:
        if io.n_sensors > op.RING0_SLOTS or io.n_actions > op.RING1_SLOTS:
            raise ConfigError(f"micro-PSIL has {op.RING0_SLOTS} sensor and {op.RING1_SLOTS} "
                              f"action slots; the world asks for {io.n_sensors} and "
                              f"{io.n_actions}")
        self.io = io
        self.threads = threads
        n = max(capacity or 0, len(genomes), 1)
        self._alloc(n)
        self.genomes: list[PsilGenome | None] = [None] * n
        self.add(list(genomes))

    # --- storage -----------------------------------------------------------------------------
    def _alloc(self, n: int) -> None:
        self.code = np.zeros(1024, dtype=np.uint8)
        self.pdec = _zeros(1024, np.int64)
        self.code_used = 0
        self.live_code = 0
        self.org = _zeros((n, k.ORG_COLS), np.int64)
        self.quots = np.zeros((0, 3), dtype=np.int32)
        self.mem = _zeros((n, op.MEMORY_SLOTS), np.int16)
        self.stack = _zeros((n, op.MAX_STACK), np.int16)
        self.locals = np.zeros((n, op.LOCALS), dtype=np.int16)
        self.regs = _zeros((n, k.REG_COLS), np.int32)
        self.regs[:, k.STATUS] = k.HALTED
        self.frames = np.zeros((n, op.MAX_FRAMES, k.FRAME_COLS), dtype=np.int32)
        self.steps = _zeros(n, np.int64)
        self._round_slots = np.zeros(n, dtype=np.int64)
        self.sensor_reach = np.zeros(n, dtype=np.int64)
        self.alive = np.zeros(n, dtype=bool)

    @property
    def capacity(self) -> int:
        return self.org.shape[0]

    def _grow(self, need: int) -> None:
        old = self.capacity
        new = max(need, 2 * old)

        def widen(a: np.ndarray, fill=0) -> np.ndarray:
            b = _zeros((new,) + a.shape[1:], a.dtype)
            b[old:] = fill
            b[:old] = a
            return b

        self.org = widen(self.org)
        self.mem = widen(self.mem)
        self.stack = widen(self.stack)
        self.locals = widen(self.locals)
        self.regs = widen(self.regs)
        self.regs[old:, k.STATUS] = k.HALTED
        self.frames = widen(self.frames)
        self.steps = widen(self.steps)
        self._round_slots = np.zeros(new, dtype=np.int64)
        self.sensor_reach = widen(self.sensor_reach)
        self.alive = widen(self.alive, False)
        self.genomes.extend([None] * (new - old))

    def _append_code(self, blob: bytes) -> int:
        """Append a genome's blob (main code, then quotation bodies); returns its start."""
        start = self.code_used
        end = start + len(blob)
        if end > self.code.shape[0]:
            size = max(end, 2 * self.code.shape[0])
            code = np.zeros(size, dtype=np.uint8)
            code[:self.code_used] = self.code[:self.code_used]
            pdec = _zeros(size, np.int64)
            pdec[:self.code_used] = self.pdec[:self.code_used]
            self.code, self.pdec = code, pdec
        self.code[start:end] = np.frombuffer(blob, dtype=np.uint8)
        self.code_used = end
        return start

    def add(self, genomes: Sequence[PsilGenome | bytes],
            slots: np.ndarray | Sequence[int] | None = None) -> np.ndarray:
        """Place new organisms in the given free slots, or the lowest free ones; returns
        their slots."""
        genomes = [_as_genome(g) for g in genomes]
        slots = slots_for(self, len(genomes), slots, self._grow)
        new_quots = [self.quots]
        regions: list[tuple[int, int]] = []
        q_row = self.quots.shape[0]
        for slot, g in zip(slots, genomes):
            blob = bytearray(g.code)
            rows = []
            for idx, body in g.quotations:
                rows.append((idx, len(blob), len(body)))
                blob += body
            start = self._append_code(bytes(blob))
            regions.append((start, len(g.code)))
            regions.extend((start + off, ln) for _, off, ln in rows)
            self.live_code += len(blob)
            self.org[slot] = (start, len(g.code), q_row, len(rows))
            if rows:
                new_quots.append(np.asarray(rows, dtype=np.int32))
                q_row += len(rows)
            self.genomes[slot] = g
            self.sensor_reach[slot] = ring0_reach(g)
        self.alive[slots] = True
        for state in (self.mem, self.locals, self.stack, self.regs, self.frames, self.steps):
            state[slots] = 0
        self.regs[slots, k.STATUS] = k.HALTED
        if len(new_quots) > 1:
            self.quots = np.concatenate(new_quots)
        if regions:
            r = np.asarray(regions, dtype=np.int64)
            k.predecode_regions(self.code, r[:, 0], r[:, 1], self.pdec)
        return slots

    def remove(self, slots: Sequence[int] | np.ndarray) -> None:
        """Free the slots of organisms that died; their code space is reclaimed by compaction."""
        slots = np.asarray(slots, dtype=np.int64)
        self.alive[slots] = False
        self.regs[slots, k.STATUS] = k.HALTED
        for s in slots:
            g = self.genomes[int(s)]
            if g is not None:
                self.live_code -= _blob_size(g)
            self.genomes[int(s)] = None
        if self.code_used > 4096 and self.live_code * 2 < self.code_used:
            self._compact()

    def _compact(self) -> None:
        """Repack the code of living organisms (frames hold blob-relative offsets, so it is safe)."""
        code_parts, pdec_parts, quot_rows, pos, q_row = [], [], [], 0, 0
        for slot in np.flatnonzero(self.alive):
            start, main_len, q_first, q_count = self.org[slot]
            size = _blob_size(self.genomes[slot])
            code_parts.append(self.code[start:start + size])
            pdec_parts.append(self.pdec[start:start + size])
            quot_rows.append(self.quots[q_first:q_first + q_count])
            self.org[slot, k.START] = pos
            self.org[slot, k.Q_FIRST] = q_row
            pos += size
            q_row += q_count
        self.code = np.concatenate(code_parts + [np.zeros(1024, dtype=np.uint8)])
        self.pdec = _zeros(pos + 1024, np.int64)
        if pdec_parts:
            self.pdec[:pos] = np.concatenate(pdec_parts)
        self.code_used = pos
        self.quots = (np.concatenate(quot_rows) if quot_rows
                      else np.zeros((0, 3), dtype=np.int32)).astype(np.int32)

    # --- running -----------------------------------------------------------------------------
    def _mask(self, active: np.ndarray | None) -> np.ndarray:
        if active is None:
            return self.alive.copy()
        active = np.asarray(active, dtype=bool)
        if active.shape != (self.capacity,):
            raise ConfigError(f"active mask has shape {active.shape}; expected ({self.capacity},)")
        return active & self.alive

    def _slots(self, active: np.ndarray | None) -> np.ndarray:
        return np.flatnonzero(self._mask(active)).astype(np.int64)

    def begin_think(self, gas: int | np.ndarray, active: np.ndarray | None = None) -> None:
        """Start a tick's think: fresh stack and pc, the gas budget, Ring1 cleared.

        ``gas`` is one budget for all, or one per slot (length ``capacity``).
        """
        gas_arr = np.broadcast_to(np.asarray(gas, dtype=np.int32), (self.capacity,))
        if gas_arr.size and (gas_arr.min() < 1 or gas_arr.max() > op.GAS_CAP):
            raise ConfigError(f"gas must be in 1..{op.GAS_CAP}")
        slots = self._slots(active)
        k.begin_think(slots, np.ascontiguousarray(gas_arr[slots]), self.regs, self.mem)

    def run_round(self, active: np.ndarray | None = None) -> None:
        """Run every active organism until its next yield, halt, error or gas end."""
        self.run_slots(self._slots(active))

    def run_slots(self, slots: np.ndarray) -> np.ndarray:
        """Run the organisms in ``slots`` (distinct, alive) for one round; return the slots
        that yielded and can resume. Costs O(len(slots)), so long tails of rounds are cheap."""
        slots = np.array(slots, dtype=np.int64)     # a copy: it returns the yielded ones
        self._run(slots)
        return slots[:k.keep_yielded(slots, slots.shape[0], self.regs)]

    def _run(self, slots: np.ndarray) -> None:
        """One round of the VM for ``slots`` (serial, or spread over the threads)."""
        self._call(k.run_round_serial, k.run_round_parallel, slots)

    def _call(self, serial, parallel, slots: np.ndarray) -> None:
        """Run a VM kernel over ``slots`` and the population's arrays, on one thread or in
        slices over several."""
        args = (slots, self.pdec, self.org, self.quots, self.mem, self.stack, self.locals,
                self.regs, self.frames, self.steps)
        parts = spans(self.threads, SPANS_PER_THREAD)
        if parts > 1:
            parallel(parts, *args)
        else:
            serial(*args)

    def run_thinks(self, slots: np.ndarray) -> None:
        """Run whole thinks with the sensors as they are: resume after every yield until each
        organism halts, errs or spends its gas (sensors do not change between rounds).
        One kernel call runs every round."""
        slots = np.array(slots, dtype=np.int64)     # a copy: the kernel uses it as scratch
        self._call(k.run_thinks_serial, k.run_thinks_parallel, slots)

    def begin_tick(self, budget: np.ndarray, active: np.ndarray | None = None) -> None:
        """The Brain interface's start of a tick: a think with ``budget`` gas per slot (clipped
        to 1..GAS_CAP)."""
        budget = np.asarray(budget)
        if budget.shape != (self.capacity,):
            raise ConfigError(f"budget has shape {budget.shape}; expected ({self.capacity},)")
        mask = self._mask(active)
        k.begin_tick(mask, budget, self.regs, self.mem)
        self._given = np.where(mask, np.clip(budget, 1, op.GAS_CAP), 0).astype(np.int64)

    @property
    def gas_used(self) -> np.ndarray:
        """Gas each organism has used since ``begin_tick`` (``CountsGas``: a world may charge
        for thinking); 0 before the first tick."""
        given = getattr(self, "_given", None)
        if given is None or given.shape != (self.capacity,):
            return np.zeros(self.capacity, dtype=np.int64)
        return np.where(given > 0, given - self.regs[:self.capacity, k.GAS], 0)

    def step(self, sensors: np.ndarray, actions: np.ndarray,
             active: np.ndarray | None = None) -> np.ndarray:
        """One action round: write sensors, run to the next yield, read Ring1 into ``actions``.
        Returns the slots that yielded and can act again this tick."""
        if sensors.shape != (self.capacity, self.io.n_sensors) or \
                actions.shape != (self.capacity, self.io.n_actions):
            raise ConfigError(f"step: sensors {sensors.shape} and actions {actions.shape} do "
                              f"not fit {self.capacity} slots of {self.io}")
        slots = self._slots(active)
        more = np.zeros(self.capacity, dtype=bool)
        r = self.round_state()
        k.action_round(r.spans, slots, slots.shape[0], r.alive, sensors, actions, more, r.run,
                       r.pdec, r.org, r.quots, r.mem, r.stack, r.locals, r.regs, r.frames,
                       r.steps)
        return more

    def round_state(self) -> PsilRound:
        """The arrays a world's kernel runs action rounds on (``primordia.brains.rounds``)."""
        return PsilRound(spans(self.threads, SPANS_PER_THREAD), self.alive,
                         self._round_slots, self.pdec, self.org,
                         self.quots, self.mem, self.stack, self.locals, self.regs,
                         self.frames, self.steps)

    # --- state views -------------------------------------------------------------------------
    @property
    def status(self) -> np.ndarray:
        return self.regs[:, k.STATUS]

    @property
    def thinking_or_yielded(self) -> np.ndarray:
        """Organisms whose think can go on: running, or paused at a yield."""
        st = self.status
        return self.alive & ((st == k.RUNNING) | (st == k.YIELDED))

    @property
    def ring1(self) -> np.ndarray:
        return self.mem[:, op.RING1_BASE:op.RING1_BASE + op.RING1_SLOTS]

    def error_codes(self) -> np.ndarray:
        """Error code per organism (0 when the error flag is not set)."""
        return np.where(self.status == k.FAILED, self.regs[:, k.ERRC], 0)

    def pc(self) -> np.ndarray:
        """Main-program counter per organism."""
        return self.regs[:, k.PC]

    def state_arrays(self) -> dict[str, np.ndarray]:
        """What an organism carries from one tick to the next (memory and locals; the stack
        and registers start afresh with every think), zeroed in free slots. The sensor slots
        are left out: a world rewrites every one an organism can reach before it runs again,
        and an organism never touches the others (``sensor_reach``)."""
        live = self.alive[:, None]
        memory = np.where(live, self.mem, 0)
        memory[:, :self.io.n_sensors] = 0
        return {"memory": memory, "locals": np.where(live, self.locals, 0)}

    def state_layout(self) -> dict[str, ArraySpec]:
        """The arrays ``state_arrays`` gives (what a checkpoint may hold for this brain)."""
        return {"memory": ArraySpec.exact(self.mem.dtype, *self.mem.shape),
                "locals": ArraySpec.exact(self.locals.dtype, *self.locals.shape)}

    def load_state_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore ``state_arrays`` (from a checkpoint) into the living slots."""
        for name, target in (("memory", self.mem), ("locals", self.locals)):
            if name not in arrays:
                raise ConfigError(f"brain state: missing {name}")
            a = np.asarray(arrays[name])
            if a.shape != target.shape:
                raise ConfigError(f"brain {name}: shape {a.shape}, expected {target.shape}")
            if not np.can_cast(a.dtype, target.dtype, casting="safe"):
                raise ConfigError(f"brain {name}: dtype {a.dtype}, expected {target.dtype}")
            target[:] = np.where(self.alive[:, None], a, 0).astype(target.dtype)

    def stack_of(self, slot: int) -> list[int]:
        return [int(v) for v in self.stack[slot, :self.regs[slot, k.SP]]]


@dataclass
class ThinkBatch:
    """Results of running a batch of organisms through whole thinks (see ``think_batch``)."""

    yields: list[list[list[int]]]
    final: np.ndarray        # [N, 4]
    halted: np.ndarray       # [N] bool
    error: np.ndarray        # [N] error code, 0 if none
    gas_left: np.ndarray     # [N]
    pc: np.ndarray           # [N]
    stacks: list[list[int]]
    memory: np.ndarray       # [N, 256]
    steps: np.ndarray        # [N] instructions executed


def think_batch(genomes: Sequence[PsilGenome | bytes], sensors: np.ndarray | Sequence[int],
                gas: int | np.ndarray = 200, threads: int = 1) -> ThinkBatch:
    """Run fresh organisms through whole thinks, resuming after each yield with the same sensors.

    This is the conformance procedure, batched: one numba call per action round.
    """
    brain = PsilBrain(genomes, threads=threads)
    n = len(genomes)
    sens = np.asarray(sensors, dtype=np.int64)
    if sens.ndim == 1:
        sens = np.broadcast_to(sens, (n, sens.shape[0]))
    gas_arr = np.broadcast_to(np.asarray(gas, dtype=np.int32), (n,))
    brain.begin_think(np.resize(gas_arr, brain.capacity) if brain.capacity != n else gas_arr)
    if sens.shape[1]:
        brain.mem[:n, :sens.shape[1]] = sens.astype(np.int16)
    yields: list[list[list[int]]] = [[] for _ in range(n)]
    slots = np.arange(n, dtype=np.int64)
    while len(slots):
        slots = brain.run_slots(slots)
        for i, row in zip(slots.tolist(), brain.ring1[slots].tolist()):
            yields[i].append(row)
    # (a yield always leaves gas: yielding costs one unit, and a step needs one more to run)
    st = brain.status[:n]
    return ThinkBatch(
        yields=yields,
        final=brain.ring1[:n].astype(np.int32),
        halted=st == k.HALTED,
        error=brain.error_codes()[:n],
        gas_left=brain.regs[:n, k.GAS].copy(),
        pc=brain.pc()[:n].copy(),
        stacks=[brain.stack_of(i) for i in range(n)],
        memory=brain.mem[:n].astype(np.int32),
        steps=brain.steps[:n].copy(),
    )
