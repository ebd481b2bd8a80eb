"""Fuzz the micro-PSIL VMs: millions of random and mutated programs, zero crashes expected.

docs/architecture.md, "Bad input": on any byte string, any sensor values and any gas up to the
cap, both VMs return normally, within the gas budget, touching only that organism's state. This
script checks that claim on a corpus named by a seed:

* programs: 49.5% random bytes (lengths 0..256, 2% of them 257..4096; uniform bytes, a small
  random alphabet, or a soup of whole instructions looping back to the start; a quarter of
  them with random quotation bodies), 49.5% archetypes with 1-12 byte-level
  mutations, 1% well-formed structured programs with quotations (``generate.structured_program``);
  sensors over the whole int16 range (uniform, small, edge values, mixed); gas in 1..max-gas,
  60% of it at most 500. Program ``i`` depends only on (seed, i): rerun one with
  ``--first i --programs 1``.
* every program runs through a whole think (resumed after each yield) twice in the fast VM,
  through ``PsilBrain``: pass A in program order with serial rounds, pass B in a shuffled slot
  order with parallel rounds (``--threads``); inactive organisms (mid-think, garbage in their
  memory and stack) sit between them in both. Checked for each program: it returns
  (an exception is a crash), ends halted or failed, ``steps <= gas - 1``,
  ``steps + gas_left <= gas``, ``gas_left >= -254`` (``gas n`` may overdraw by its operand),
  ``0 <= sp <= MAX_STACK``, depth and error code in range, yields counted right; every state
  row of pass B equals pass A's (isolation), inactive rows and the code are untouched.
* a subsample (``--reference-every``) also runs in the reference VM (``reference.think``) and
  through ``think_batch``; every field (yields, Ring1, flags, gas, pc, stack, memory, steps)
  must equal the fast VM's, and the same invariants hold.
* hangs: the corpus is cut into chunks, each run by a worker process. Each phase of a batch
  arms ``faulthandler.dump_traceback_later`` with a bound from its gas (``--watchdog-us-per-gas``
  per unit of gas + ``--watchdog-base`` s; Python-level reference phases get 50x that); a stuck
  kernel makes the worker exit with a traceback. A worker that hangs or dies is bisected in
  fresh processes down to the program that does it. Workers check that the micro-PSIL sources
  are the ones the campaign started with (an edit mid-campaign stops it, exit status 2).

    python benchmarks/fuzz_psil.py --programs 10000000 --seed 1     # the full campaign
    python benchmarks/fuzz_psil.py --programs 200000 --json         # CI-sized sample
    python benchmarks/fuzz_psil.py --first 123456 --programs 1      # one program again

Exit status 0 when every count is zero, 1 otherwise (the first offenders are printed as hex
genomes with gas and sensors), 2 on bad arguments or when the campaign cannot run.
"""

from __future__ import annotations

import argparse
import faulthandler
import json
import math
import os
import subprocess
import sys
import tempfile
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from primordia.brains.psil import generate as gen
from primordia.brains.psil import kernels as k
from primordia.brains.psil import opcodes as op
from primordia.brains.psil.archetypes import ARCHETYPES
from primordia.brains.psil.brain import PsilBrain, think_batch
from primordia.brains.psil.genome import PsilGenome
from primordia.brains.psil.reference import think
from primordia.core.rng import key_word, random_u64_for, stream_id

# --- corpus ------------------------------------------------------------------------------------

RANDOM, MUTANT, STRUCTURED = 0, 1, 2
KIND_NAMES = ("random", "mutant", "structured")
STRUCTURED_EVERY = 100        # program i is structured when i % 100 == 99
QUOTATION_PERCENT = 25        # random programs given random quotation bodies
MAX_RANDOM_LEN = 256
LONG_PERCENT, LONG_LEN = 2, 4096   # a few random programs are long: 257..4096 bytes
MAX_MUTATIONS = 12

STREAM_PROGRAM = stream_id("psil.fuzz.program")
STREAM_MUTANT = stream_id("psil.fuzz.mutant")
STREAM_QUOTATIONS = stream_id("psil.fuzz.quotations")
STREAM_SENSORS = stream_id("psil.fuzz.sensors")
STREAM_GAS = stream_id("psil.fuzz.gas")
STREAM_REFERENCE = stream_id("psil.fuzz.reference")
STREAM_SHUFFLE = stream_id("psil.fuzz.shuffle")
STREAM_GARBAGE = stream_id("psil.fuzz.garbage")

_ARCH_NAMES = sorted(ARCHETYPES)
ARCH_FLAT = np.frombuffer(b"".join(ARCHETYPES[n] for n in _ARCH_NAMES), dtype=np.uint8).copy()
ARCH_OFFSETS = np.concatenate([[0], np.cumsum([len(ARCHETYPES[n]) for n in _ARCH_NAMES])]
                              ).astype(np.int64)

# A busy loop (sense, compute, write Ring1, jump back) for the inactive organisms: if a round
# ever ran one of them, its state would change.
DUMMY = PsilGenome(bytes.fromhex("8a0d2106 8c00 8a05 240a 8c01 860e".replace(" ", "")))
DUMMY_GAS = 1000

PARALLEL_MIN = 2000          # organisms still going for a parallel round in pass B
SENSORS = op.RING0_SLOTS
RING1 = op.RING1_BASE


@dataclass
class Batch:
    """Programs ``index`` with their genomes, sensors and gas."""

    seed: int
    index: np.ndarray          # int64 [n]
    kind: np.ndarray           # int8 [n]
    genomes: list[PsilGenome]
    sensors: np.ndarray        # int16 [n, 31]
    gas: np.ndarray            # int32 [n]

    def __len__(self) -> int:
        return len(self.genomes)

    def part(self, lo: int, hi: int) -> Batch:
        return Batch(self.seed, self.index[lo:hi], self.kind[lo:hi], self.genomes[lo:hi],
                     self.sensors[lo:hi], self.gas[lo:hi])


def _split(flat: np.ndarray, offsets: np.ndarray) -> list[bytes]:
    data = flat.tobytes()
    off = offsets.tolist()
    return [data[off[j]:off[j + 1]] for j in range(len(off) - 1)]


def make_batch(seed: int, first: int, n: int, max_gas: int) -> Batch:
    """Programs first..first+n-1 of the corpus named by ``seed``."""
    word = key_word(seed)
    index = np.arange(first, first + n, dtype=np.int64)
    kind = np.where(index % 2 == 0, RANDOM, MUTANT).astype(np.int8)
    kind[index % STRUCTURED_EVERY == STRUCTURED_EVERY - 1] = STRUCTURED
    genomes: list[PsilGenome | None] = [None] * n

    rnd = np.flatnonzero(kind == RANDOM)
    codes = _split(*gen.random_programs_flat(word, STREAM_PROGRAM, index[rnd], MAX_RANDOM_LEN,
                                             LONG_PERCENT, LONG_LEN))
    qflat, qoff, qidx, qfirst = gen.random_quotations_flat(word, STREAM_QUOTATIONS, index[rnd],
                                                           QUOTATION_PERCENT, 6, 48)
    bodies = _split(qflat, qoff)
    qidx_l, qfirst_l = qidx.tolist(), qfirst.tolist()
    for t, (j, code) in enumerate(zip(rnd.tolist(), codes)):
        a, b = qfirst_l[t], qfirst_l[t + 1]
        quots = tuple(zip(qidx_l[a:b], bodies[a:b])) if b > a else ()
        genomes[j] = PsilGenome(code, quots)

    mut = np.flatnonzero(kind == MUTANT)
    codes = _split(*gen.mutated_archetypes_flat(word, STREAM_MUTANT, index[mut], ARCH_FLAT,
                                                ARCH_OFFSETS, MAX_MUTATIONS))
    for j, code in zip(mut.tolist(), codes):
        genomes[j] = PsilGenome(code)

    for j in np.flatnonzero(kind == STRUCTURED).tolist():
        genomes[j] = gen.structured_program(seed, int(index[j]))

    sensors = gen.random_int16_rows(word, STREAM_SENSORS, index, SENSORS)
    gas = gen.random_gas_flat(word, STREAM_GAS, index, max_gas)
    return Batch(seed, index, kind, genomes, sensors, gas)


def reference_picks(seed: int, index: np.ndarray, every: int) -> np.ndarray:
    """Positions of the programs the reference VM checks: about one in ``every``, by hash."""
    if every <= 0 or len(index) == 0:
        return np.zeros(0, dtype=np.int64)
    words = random_u64_for(key_word(seed), STREAM_REFERENCE, 0, index, 0)
    return np.flatnonzero(words % np.uint64(every) == 0)


# --- driving the fast VM -----------------------------------------------------------------------

_ROW_ARRAYS: tuple[str, ...] | None = None


def row_arrays() -> tuple[str, ...]:
    """Names of PsilBrain's per-organism state arrays (found, so a new one is not missed)."""
    global _ROW_ARRAYS
    if _ROW_ARRAYS is None:
        probe = PsilBrain([], capacity=1237)
        _ROW_ARRAYS = tuple(sorted(
            name for name, v in vars(probe).items()
            if isinstance(v, np.ndarray) and v.shape[:1] == (1237,)
            and name not in ("code", "quots")))
        for need in ("org", "mem", "stack", "regs", "alive"):
            if need not in _ROW_ARRAYS:
                raise RuntimeError(f"PsilBrain has no per-organism array {need!r}")
    return _ROW_ARRAYS


def run_thinks(brain: PsilBrain, rows: np.ndarray, ids: np.ndarray, log: list) -> None:
    """Run organisms ``rows`` (thinks begun, sensors written) until none yields with gas left,
    logging each yield as (ids, Ring1 rows). Uses ``run_slots`` (cost per round proportional
    to the organisms still going) when the brain has it, else ``run_round`` with a mask."""
    by_slots = hasattr(brain, "run_slots")
    threads = brain.threads
    mask = np.zeros(brain.capacity, dtype=bool)
    mask[rows] = True
    while rows.size:
        # parallel rounds while many organisms go on; a long tail of yields runs serially
        # (a parallel launch per round would cost more than the round)
        brain.threads = threads if rows.size >= PARALLEL_MIN else 1
        if by_slots:
            brain.run_slots(rows)
        else:
            brain.run_round(mask)
        st = brain.regs[rows, k.STATUS]
        y = st == k.YIELDED
        if y.any():
            log.append((ids[y], brain.mem[rows[y], RING1:RING1 + op.RING1_SLOTS].copy()))
        go = y & (brain.regs[rows, k.GAS] > 0)
        if not go.all():
            mask[rows[~go]] = False
            rows, ids = rows[go], ids[go]
    brain.threads = threads


@dataclass
class Pass:
    """One fast-VM pass over a batch: the brain, where each program sits, and its yields."""

    brain: PsilBrain
    slots: np.ndarray                  # slot of program j
    dummies: np.ndarray                # slots of inactive organisms
    dummy_state: dict[str, np.ndarray]
    fixed: dict[str, np.ndarray]       # code, quots, org before the run
    yield_ids: np.ndarray
    yield_ring1: np.ndarray


def _layout(n: int, dummy_pos: np.ndarray, order: np.ndarray):
    cap = n + len(dummy_pos)
    is_dummy = np.zeros(cap, dtype=bool)
    is_dummy[dummy_pos] = True
    free = np.flatnonzero(~is_dummy)
    slots = np.empty(n, dtype=np.int64)
    slots[order] = free                # the program at order[t] goes to the t-th free slot
    return cap, slots


def fast_pass(batch: Batch, threads: int, order: np.ndarray, dummy_pos: np.ndarray) -> Pass:
    """Run every program of the batch through a whole think in one brain."""
    n = len(batch)
    cap, slots = _layout(n, dummy_pos, order)
    placed: list[PsilGenome] = [DUMMY] * cap
    for j, s in enumerate(slots.tolist()):
        placed[s] = batch.genomes[j]
    brain = PsilBrain(placed, threads=threads)
    # inactive organisms: mid-think (running, gas left) with garbage in memory, stack, locals
    word = key_word(batch.seed)
    if len(dummy_pos):
        dmask = np.zeros(cap, dtype=bool)
        dmask[dummy_pos] = True
        brain.begin_think(DUMMY_GAS, active=dmask)
        cols = [op.MEMORY_SLOTS, op.MAX_STACK, op.LOCALS]
        junk = gen.random_int16_rows(word, STREAM_GARBAGE,
                                     batch.index[0] * 7 + np.arange(len(dummy_pos)) + threads,
                                     sum(cols))
        brain.mem[dummy_pos] = junk[:, :cols[0]]
        brain.stack[dummy_pos] = junk[:, cols[0]:cols[0] + cols[1]]
        if "locals" in row_arrays():
            brain.locals[dummy_pos] = junk[:, cols[0] + cols[1]:]
    dummy_state = {name: getattr(brain, name)[dummy_pos].copy() for name in row_arrays()}
    # code, decoded code, quotation tables, ...: whatever is not an organism's own state
    fixed = {name: v.copy() for name, v in vars(brain).items()
             if isinstance(v, np.ndarray) and (name == "org" or name not in row_arrays())}
    gas = np.ones(cap, dtype=np.int32)
    gas[slots] = batch.gas
    active = np.zeros(cap, dtype=bool)
    active[slots] = True
    brain.begin_think(gas, active=active)
    brain.mem[slots, :SENSORS] = batch.sensors
    log: list = []
    run_thinks(brain, slots.copy(), np.arange(n, dtype=np.int64), log)
    if log:
        ids = np.concatenate([a for a, _ in log])
        ring1 = np.concatenate([b for _, b in log])
        by = np.argsort(ids, kind="stable")
        ids, ring1 = ids[by], ring1[by]
    else:
        ids = np.zeros(0, dtype=np.int64)
        ring1 = np.zeros((0, op.RING1_SLOTS), dtype=np.int16)
    return Pass(brain, slots, dummy_pos, dummy_state, fixed, ids, ring1)


# --- checks ------------------------------------------------------------------------------------

COUNTS = ("crashes", "hangs", "budget_overruns", "invariant_failures", "isolation_failures",
          "mismatches")
MAX_OFFENDERS = 10


@dataclass
class Result:
    programs: int = 0
    instructions: int = 0
    yields: int = 0
    gas_given: int = 0
    reference_checked: int = 0
    reference_instructions: int = 0
    crashes: int = 0
    hangs: int = 0
    budget_overruns: int = 0
    invariant_failures: int = 0
    isolation_failures: int = 0
    mismatches: int = 0
    kinds: dict = field(default_factory=dict)
    outcomes: dict = field(default_factory=dict)
    max_steps: int = 0
    seconds: dict = field(default_factory=dict)
    offenders: list = field(default_factory=list)

    def add(self, other: Result) -> None:
        for name in ("programs", "instructions", "yields", "gas_given", "reference_checked",
                     "reference_instructions") + COUNTS:
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for mine, theirs in ((self.kinds, other.kinds), (self.outcomes, other.outcomes),
                             (self.seconds, other.seconds)):
            for key, v in theirs.items():
                mine[key] = mine.get(key, 0) + v
        self.max_steps = max(self.max_steps, other.max_steps)
        self.offenders.extend(other.offenders[:max(0, MAX_OFFENDERS - len(self.offenders))])

    def to_json(self) -> dict:
        return dict(vars(self))

    @classmethod
    def from_json(cls, d: dict) -> Result:
        return cls(**d)

    def offend(self, what: str, batch: Batch | None, j: int | None, detail: str,
               index: int | None = None) -> None:
        if len(self.offenders) >= MAX_OFFENDERS:
            return
        rec = {"what": what, "detail": detail[:2000]}
        if batch is not None and j is not None:
            g = batch.genomes[j]
            rec.update(index=int(batch.index[j]), kind=KIND_NAMES[batch.kind[j]],
                       genome=g.to_hex(), gas=int(batch.gas[j]),
                       sensors=[int(v) for v in batch.sensors[j]])
        elif index is not None:
            rec["index"] = index
        self.offenders.append(rec)


def _report_rows(res: Result, what: str, counter: str, batch: Batch, bad: np.ndarray,
                 detail: str) -> None:
    rows = np.flatnonzero(bad)
    if rows.size:
        setattr(res, counter, getattr(res, counter) + int(rows.size))
        for j in rows[:3].tolist():
            res.offend(what, batch, j, detail)


def check_invariants(res: Result, batch: Batch, vm: str, status, errc, gas_left, sp, depth,
                     steps, n_yields, reg_yields=None) -> None:
    """Record budget overruns and broken state invariants (arrays over the batch)."""
    gas = batch.gas.astype(np.int64)
    steps = np.asarray(steps, dtype=np.int64)
    gas_left = np.asarray(gas_left, dtype=np.int64)
    over = ((steps < 0) | (steps > gas - 1) | (steps + gas_left > gas) | (gas_left < -254))
    _report_rows(res, f"{vm}: budget overrun", "budget_overruns", batch, over,
                 "steps > gas - 1, steps + gas_left > gas or gas_left < -254")
    checks = [
        (~np.isin(status, (k.HALTED, k.FAILED)), "think did not end halted or failed"),
        ((sp < 0) | (sp > op.MAX_STACK), f"stack pointer outside 0..{op.MAX_STACK}"),
        ((depth < 0) | (depth >= op.MAX_FRAMES), f"frame depth outside 0..{op.MAX_FRAMES - 1}"),
        ((errc < 0) | (errc > op.ERR_QUOTATION), "error code outside 0..6"),
        (np.asarray(n_yields) > steps, "more yields than instructions"),
    ]
    if reg_yields is not None:
        checks.append((np.asarray(reg_yields) != np.asarray(n_yields),
                       "yield register disagrees with the yields seen"))
    for bad, detail in checks:
        _report_rows(res, f"{vm}: invariant", "invariant_failures", batch, np.asarray(bad),
                     detail)


def _rows_differ(a: np.ndarray, b: np.ndarray, chunk: int = 8192) -> np.ndarray:
    """Per row: does a[r] differ from b[r] anywhere? (chunked to bound memory)"""
    out = np.zeros(a.shape[0], dtype=bool)
    for lo in range(0, a.shape[0], chunk):
        x, y = a[lo:lo + chunk], b[lo:lo + chunk]
        out[lo:lo + chunk] = (x != y).reshape(x.shape[0], -1).any(axis=1)
    return out


def _fast_fields(p: Pass, j: int) -> dict:
    b, s = p.brain, int(p.slots[j])
    lo, hi = np.searchsorted(p.yield_ids, [j, j + 1])
    status = int(b.regs[s, k.STATUS])
    ring1 = [int(v) for v in b.mem[s, RING1:RING1 + op.RING1_SLOTS]]
    return {
        "yields": [[int(v) for v in row] for row in p.yield_ring1[lo:hi]],
        "final": [0] * op.RING1_SLOTS if status == k.YIELDED else ring1,
        "halted": status == k.HALTED,
        "error": int(b.regs[s, k.ERRC]) if status == k.FAILED else 0,
        "gas_left": int(b.regs[s, k.GAS]),
        "pc": int(b.pc()[s]),
        "stack": [int(v) for v in b.stack[s, :max(0, min(op.MAX_STACK, int(b.regs[s, k.SP])))]],
        "memory": [int(v) for v in b.mem[s]],
        "steps": int(b.steps[s]),
    }


def _diff(a: dict, b: dict) -> str:
    parts = []
    for key in a:
        if a[key] != b[key]:
            x, y = a[key], b[key]
            if key == "memory":
                slots = [i for i in range(len(x)) if x[i] != y[i]][:8]
                x = {i: a[key][i] for i in slots}
                y = {i: b[key][i] for i in slots}
            parts.append(f"{key}: fast {str(x)[:300]} vs other {str(y)[:300]}")
    return "; ".join(parts)


def _real_stderr():
    """A stream with a file descriptor for faulthandler (pytest swaps sys.stderr for one
    without)."""
    try:
        sys.stderr.fileno()
        return sys.stderr
    except (AttributeError, OSError, ValueError):
        return sys.__stderr__


class Watchdog:
    """Exit the process with a traceback if a phase outlives its bound (a hang)."""

    def __init__(self, us_per_gas: float, base: float, armed: bool) -> None:
        self.us_per_gas, self.base, self.armed = us_per_gas, base, armed

    def bound(self, gas: float, slowness: float = 1.0) -> float:
        """Seconds allowed for a phase that may spend ``gas`` (``slowness`` x the VM's rate)."""
        return self.base + slowness * self.us_per_gas * 1e-6 * gas

    def phase(self, name: str, batch: Batch, seconds: float) -> None:
        if not self.armed:
            return
        print(f"PHASE {name} programs {int(batch.index[0])}..{int(batch.index[-1])} "
              f"bound {seconds:.1f}s", file=sys.stderr, flush=True)
        faulthandler.dump_traceback_later(seconds, exit=True, file=_real_stderr())

    def done(self) -> None:
        if self.armed:
            faulthandler.cancel_dump_traceback_later()


def check_batch(batch: Batch, opts, dog: Watchdog) -> Result:
    """Run one batch through both fast passes and the reference subsample; raise on a crash."""
    res = Result()
    n = len(batch)
    res.programs = n
    total_gas = float(batch.gas.astype(np.int64).sum())
    word = key_word(batch.seed)
    t0 = time.perf_counter()

    d = max(2, n // 2000)
    dummy_a = np.unique(np.linspace(0, n + d - 1, d).astype(np.int64))
    keys = random_u64_for(word, STREAM_SHUFFLE, 0, batch.index, 0)
    order_b = np.argsort(keys, kind="stable")               # a shuffled slot order
    dkeys = random_u64_for(word, STREAM_SHUFFLE, 1, batch.index[0] + np.arange(n + d), 0)
    dummy_b = np.sort(np.argsort(dkeys, kind="stable")[:d])

    dog.phase("fast-A", batch, dog.bound(total_gas))
    inject_fault(batch, opts)
    pa = fast_pass(batch, threads=1, order=np.arange(n), dummy_pos=dummy_a)
    dog.done()
    t1 = time.perf_counter()
    dog.phase("fast-B", batch, dog.bound(total_gas))
    pb = fast_pass(batch, threads=opts.threads, order=order_b, dummy_pos=dummy_b)
    dog.done()
    t2 = time.perf_counter()

    ba, sa = pa.brain, pa.slots
    regs = ba.regs[sa]
    status, errc = regs[:, k.STATUS], regs[:, k.ERRC]
    gas_left, sp, depth = regs[:, k.GAS], regs[:, k.SP], regs[:, k.DEPTH]
    steps = ba.steps[sa].astype(np.int64)
    n_yields = np.bincount(pa.yield_ids, minlength=n)
    reg_yields = regs[:, k.YIELDS] if hasattr(k, "YIELDS") else None
    check_invariants(res, batch, "fast", status, errc, gas_left, sp, depth, steps, n_yields,
                     reg_yields)

    # isolation: pass B (other slots, other neighbours, parallel rounds) equals pass A
    differ = np.zeros(n, dtype=bool)
    what = []
    for name in row_arrays():
        if name == "org":                 # code offsets differ by layout
            continue
        bad = _rows_differ(getattr(ba, name)[sa], getattr(pb.brain, name)[pb.slots])
        if bad.any():
            what.append(name)
        differ |= bad
    if not (np.array_equal(pa.yield_ids, pb.yield_ids)
            and np.array_equal(pa.yield_ring1, pb.yield_ring1)):
        nb = np.bincount(pb.yield_ids, minlength=n)
        bad = n_yields != nb
        for j in np.flatnonzero(~bad).tolist():
            lo, hi = np.searchsorted(pa.yield_ids, [j, j + 1])
            if not np.array_equal(pa.yield_ring1[lo:hi], pb.yield_ring1[lo:hi]):
                bad[j] = True
        what.append("yields")
        differ |= bad
    _report_rows(res, "isolation: pass B differs from pass A", "isolation_failures", batch,
                 differ, f"state differs in {what}")
    for p, label in ((pa, "A"), (pb, "B")):
        for name, before in p.dummy_state.items():
            now = getattr(p.brain, name)[p.dummies]
            if not np.array_equal(before, now):
                res.isolation_failures += 1
                res.offend(f"isolation: inactive organisms changed in pass {label}", None, None,
                           f"array {name}, batch from {int(batch.index[0])}",
                           index=int(batch.index[0]))
        for name, before in p.fixed.items():
            if not np.array_equal(before, getattr(p.brain, name)):
                res.isolation_failures += 1
                res.offend(f"isolation: {name} changed by pass {label}", None, None,
                           f"batch from {int(batch.index[0])}", index=int(batch.index[0]))

    res.instructions = int(steps.sum())
    res.max_steps = int(steps.max()) if n else 0
    res.yields = int(n_yields.sum())
    res.gas_given = int(total_gas)
    for kk in range(3):
        c = int((batch.kind == kk).sum())
        if c:
            res.kinds[KIND_NAMES[kk]] = c
    res.outcomes["halted"] = int((status == k.HALTED).sum())
    failed = status == k.FAILED
    for code in range(op.ERR_QUOTATION + 1):
        c = int((failed & (errc == code)).sum())
        if c:
            name = "failed: truncated/bare flag" if code == 0 else \
                f"failed: {op.ERROR_NAMES[code]}"
            res.outcomes[name] = c
    other = int((~np.isin(status, (k.HALTED, k.FAILED))).sum())
    if other:
        res.outcomes["other"] = other

    # the reference VM and think_batch on a subsample
    picks = reference_picks(batch.seed, batch.index, opts.reference_every)
    t3 = time.perf_counter()
    if picks.size:
        # the reference VM is Python: allow 50x the fast VM's time per unit of gas
        dog.phase("reference", batch, dog.bound(float(batch.gas[picks].astype(np.int64).sum()),
                                                50.0))
        refs = []
        for j in picks.tolist():
            r = think(batch.genomes[j], batch.sensors[j].tolist(), int(batch.gas[j]))
            refs.append(r)
        sub = Batch(batch.seed, batch.index[picks], batch.kind[picks],
                    [batch.genomes[j] for j in picks.tolist()], batch.sensors[picks],
                    batch.gas[picks])
        tb = think_batch(sub.genomes, sub.sensors, sub.gas)
        dog.done()
        check_invariants(res, sub, "reference",
                         np.array([k.HALTED if r.halted else k.FAILED for r in refs]),
                         np.array([r.error for r in refs]), np.array([r.gas_left for r in refs]),
                         np.array([len(r.stack) for r in refs]), np.zeros(len(refs)),
                         np.array([r.steps for r in refs]), np.array([len(r.yields) for r in refs]))
        for t, (j, r) in enumerate(zip(picks.tolist(), refs)):
            fast = _fast_fields(pa, j)
            ref = {"yields": r.yields, "final": list(r.final), "halted": bool(r.halted),
                   "error": int(r.error), "gas_left": int(r.gas_left), "pc": int(r.pc),
                   "stack": list(r.stack), "memory": list(r.memory), "steps": int(r.steps)}
            viab = {"yields": tb.yields[t], "final": [int(v) for v in tb.final[t]],
                    "halted": bool(tb.halted[t]), "error": int(tb.error[t]),
                    "gas_left": int(tb.gas_left[t]), "pc": int(tb.pc[t]),
                    "stack": list(tb.stacks[t]), "memory": [int(v) for v in tb.memory[t]],
                    "steps": int(tb.steps[t])}
            if fast != ref:
                res.mismatches += 1
                res.offend("mismatch: fast VM vs reference VM", batch, j, _diff(fast, ref))
            elif fast != viab:
                res.mismatches += 1
                res.offend("mismatch: fast VM vs think_batch", batch, j, _diff(fast, viab))
            res.reference_instructions += r.steps
        res.reference_checked = int(picks.size)
    t4 = time.perf_counter()
    res.seconds = {"fast_A": t1 - t0, "fast_B": t2 - t1, "checks": t3 - t2, "reference": t4 - t3}
    return res


def check_batch_safe(batch: Batch, opts, dog: Watchdog) -> Result:
    """``check_batch``; on an exception, bisect the batch to the programs that raise."""
    try:
        return check_batch(batch, opts, dog)
    except Exception:                                   # noqa: BLE001 - a crash is the finding
        dog.done()
        err = traceback.format_exc()
    if len(batch) == 1:
        res = Result(programs=1, crashes=1, kinds={KIND_NAMES[batch.kind[0]]: 1})
        res.offend("crash", batch, 0, err)
        return res
    mid = len(batch) // 2
    res = check_batch_safe(batch.part(0, mid), opts, dog)
    res.add(check_batch_safe(batch.part(mid, len(batch)), opts, dog))
    if res.crashes == 0:                     # only together: report the batch
        res.crashes += 1
        res.offend("crash (batch only, not in halves)", None, None, err,
                   index=int(batch.index[0]))
    return res


def run_range(first: int, count: int, opts, dog: Watchdog, sink=None) -> Result:
    """Programs first..first+count-1 in batches; each batch's result goes to ``sink`` too."""
    total = Result()
    for lo in range(first, first + count, opts.batch):
        n = min(opts.batch, first + count - lo)
        t = time.perf_counter()
        dog.phase("generate", Batch(opts.seed, np.array([lo, lo + n - 1]), None, [], None, None),
                  dog.base + 1e-3 * n)                      # 1 ms a program (most take ~2 us)
        batch = make_batch(opts.seed, lo, n, opts.max_gas)
        dog.done()
        gen_s = time.perf_counter() - t
        res = check_batch_safe(batch, opts, dog)
        res.seconds["generate"] = res.seconds.get("generate", 0.0) + gen_s
        if sink is not None:
            sink(res)
        total.add(res)
    return total


def inject_fault(batch: Batch, opts) -> None:
    """Test hook (``--inject KIND:INDEX``): misbehave when program INDEX is in the batch, to show
    that hangs, crashes and dying workers are caught and bisected to that program."""
    if not opts.inject:
        return
    what, _, at = opts.inject.partition(":")
    if not np.any(batch.index == int(at)):
        return
    if what == "hang":
        while True:
            pass
    if what == "crash":
        raise RuntimeError(f"injected crash at program {at}")
    if what == "abort":
        os.abort()


# --- the coordinator: chunks in worker processes, hangs bisected -------------------------------

class HarnessError(Exception):
    """The campaign itself cannot go on (not a finding about the VMs): exit status 2."""


WORKER_READY = "WORKER READY"
SOURCES_CHANGED = "SOURCES CHANGED"


def source_hash() -> str:
    """A hash of the micro-PSIL sources (VMs, brain, generators): workers started after an
    edit would run other code than the rest of the campaign."""
    import hashlib
    folder = os.path.dirname(os.path.abspath(k.__file__))
    h = hashlib.sha256()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".py"):
            with open(os.path.join(folder, name), "rb") as f:
                h.update(name.encode() + b"\0" + f.read())
    return h.hexdigest()[:16]


def worker_command(opts, first: int, count: int, out: str) -> list[str]:
    cmd = [sys.executable, os.path.abspath(__file__), "--worker", "--out", out,
           "--first", str(first), "--programs", str(count), "--seed", str(opts.seed),
           "--batch", str(min(opts.batch, count)), "--reference-every", str(opts.reference_every),
           "--max-gas", str(opts.max_gas), "--threads", str(opts.threads),
           "--watchdog-us-per-gas", str(opts.watchdog_us_per_gas),
           "--watchdog-base", str(opts.watchdog_base)]
    if opts.inject:
        cmd += ["--inject", opts.inject]
    if opts.source_hash:
        cmd += ["--source-hash", opts.source_hash]
    return cmd


def worker_env(opts) -> dict:
    env = dict(os.environ)
    if opts.boundscheck:
        env["NUMBA_BOUNDSCHECK"] = "1"
        env["NUMBA_CACHE_DIR"] = opts.boundscheck_cache
    return env


def worker_main(opts) -> int:
    """A worker: compile/load the kernels unwatched, then run the range with the watchdog armed,
    appending one JSON line per finished batch to ``--out`` (so a hang loses one batch)."""
    faulthandler.enable()
    if opts.source_hash and source_hash() != opts.source_hash:
        print(f"{SOURCES_CHANGED}: the micro-PSIL sources changed since the campaign started",
              file=sys.stderr, flush=True)
        return 3
    compile_all(opts)
    print(WORKER_READY, file=sys.stderr, flush=True)
    dog = Watchdog(opts.watchdog_us_per_gas, opts.watchdog_base, armed=True)
    with open(opts.out, "a") as f:
        def sink(res: Result) -> None:
            f.write(json.dumps(res.to_json()) + "\n")
            f.flush()
        run_range(opts.first, opts.programs, opts, dog, sink)
        f.write(json.dumps({"done": True}) + "\n")
    return 0


def run_worker(opts, first: int, count: int) -> tuple[Result, int, str, str]:
    """Run programs first..first+count-1 in a fresh process.

    Returns (results of the batches that finished, number of programs they hold, failure kind
    ("" / "hang" / "crash"), log). On a failure the batch after the finished ones is the one
    that hung or died."""
    res = Result()
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "result.jsonl")
        kind = ""
        try:
            p = subprocess.run(worker_command(opts, first, count, out), capture_output=True,
                               text=True, env=worker_env(opts), timeout=opts.worker_timeout)
            log = p.stderr or ""
            status = p.returncode
        except subprocess.TimeoutExpired as e:
            err = e.stderr or ""
            log = err.decode("utf-8", "replace") if isinstance(err, bytes) else err
            status, kind = None, "hang"
        lines = []
        if os.path.exists(out):
            with open(out) as f:
                lines = [json.loads(line) for line in f if line.strip()]
    done = bool(lines) and lines[-1].get("done") is True
    for d in lines:
        if "done" not in d:
            res.add(Result.from_json(d))
    if status == 0 and done:
        return res, res.programs, "", ""
    if SOURCES_CHANGED in log:
        raise HarnessError("the micro-PSIL sources were edited during the campaign, so its "
                         "chunks would test different code: rerun it on a stable tree")
    if WORKER_READY not in log:
        raise HarnessError(f"fuzz worker failed before its first batch (exit status {status}):\n"
                         + log[-3000:])
    if not kind:
        kind = "hang" if "Timeout (" in log else "crash"
    tail = "\n".join(line for line in log.splitlines() if not line.startswith("PHASE"))
    return res, res.programs, kind, f"worker exit status {status}\n" + tail[-3000:]


def run_isolating(opts, first: int, count: int, budget: list[int]) -> Result:
    """Run a range in workers; when one hangs or dies, keep its finished batches, bisect the
    batch it was in down to the program that does it, and go on with the rest."""
    res, finished, kind, log = run_worker(opts, first, count)
    if not kind:
        return res
    a = first + finished
    n = min(opts.batch, first + count - a)
    if n == 1 or budget[0] <= 0:
        part = Result(programs=n)
        if n == 1:
            part.kinds = {KIND_NAMES[make_batch(opts.seed, a, 1, opts.max_gas).kind[0]]: 1}
        setattr(part, "crashes" if kind == "crash" else "hangs", 1)
        if n == 1:
            part.offend(kind, make_batch(opts.seed, a, 1, opts.max_gas), 0, log)
        else:
            part.offend(f"{kind} in programs {a}..{a + n - 1} (not bisected further)",
                        None, None, log, index=a)
        res.add(part)
    else:
        budget[0] -= 1
        sub = argparse.Namespace(**{**vars(opts), "batch": max(1, n // 2)})
        part = run_isolating(sub, a, n // 2, budget)
        part.add(run_isolating(sub, a + n // 2, n - n // 2, budget))
        if part.hangs + part.crashes == 0:          # only as a whole batch: report the batch
            setattr(part, "crashes" if kind == "crash" else "hangs", 1)
            part.offend(f"{kind} in programs {a}..{a + n - 1} together, not in halves",
                        None, None, log, index=a)
        res.add(part)
    if a + n < first + count:
        res.add(run_isolating(opts, a + n, first + count - a - n, budget))
    return res


def warm_up(opts) -> None:
    """Compile (or load) every kernel once before workers start, so they do not all compile."""
    if opts.boundscheck:
        # bounds-checked code is compiled into its own numba cache by a first worker
        run_worker(argparse.Namespace(**{**vars(opts), "inject": None}), opts.first, 1)
        return
    compile_all(opts)


def compile_all(opts) -> None:
    """Run a small batch unwatched, serial and parallel rounds alike, so every kernel is
    compiled or loaded from numba's cache before any watchdog is armed."""
    global PARALLEL_MIN
    keep = PARALLEL_MIN
    PARALLEL_MIN = 1
    try:
        check_batch(make_batch(opts.seed, 0, 100, op.GAS_CAP),
                    argparse.Namespace(**{**vars(opts), "inject": None}),
                    Watchdog(0, 0, armed=False))
    finally:
        PARALLEL_MIN = keep


def coordinate(opts) -> Result:
    t0 = time.perf_counter()
    opts.source_hash = source_hash()
    row_arrays()
    warm_up(opts)
    warm_s = time.perf_counter() - t0
    chunk = opts.chunk or max(opts.batch, min(1_000_000, math.ceil(
        opts.programs / max(1, opts.workers) / opts.batch) * opts.batch))
    ranges = [(a, min(chunk, opts.first + opts.programs - a))
              for a in range(opts.first, opts.first + opts.programs, chunk)]
    total = Result()
    budget = [opts.bisect_budget]
    t1 = time.perf_counter()
    done = 0

    def one(r):
        return run_isolating(opts, r[0], r[1], budget)

    if opts.workers <= 0:
        dog = Watchdog(opts.watchdog_us_per_gas, opts.watchdog_base, armed=True)
        results = (run_range(a, n, opts, dog) for a, n in ranges)
        pool = None
    else:
        pool = ThreadPoolExecutor(max_workers=opts.workers)
        results = pool.map(one, ranges)
    for (a, n), res in zip(ranges, results):
        total.add(res)
        done += n
        if not opts.quiet:
            el = time.perf_counter() - t1
            bad = sum(getattr(total, c) for c in COUNTS)
            print(f"  {done:,}/{opts.programs:,} programs, {total.instructions:,} instructions, "
                  f"{el:.0f} s, offences so far {bad}", file=sys.stderr, flush=True)
    if pool is not None:
        pool.shutdown()
    if source_hash() != opts.source_hash:
        raise HarnessError("the micro-PSIL sources were edited during the campaign, so its "
                         "chunks may have tested different code: rerun it on a stable tree")
    total.seconds["wall"] = time.perf_counter() - t0
    total.seconds["warm_up"] = warm_s
    return total


def report(total: Result, opts) -> dict:
    wall = total.seconds["wall"]
    return {
        "seed": opts.seed, "first": opts.first, "programs": total.programs,
        "batch": opts.batch, "reference_every": opts.reference_every, "max_gas": opts.max_gas,
        "workers": opts.workers, "threads": opts.threads, "boundscheck": opts.boundscheck,
        "instructions": total.instructions, "yields": total.yields, "gas_given": total.gas_given,
        "max_steps": total.max_steps, "reference_checked": total.reference_checked,
        "reference_instructions": total.reference_instructions,
        **{c: getattr(total, c) for c in COUNTS},
        "ok": all(getattr(total, c) == 0 for c in COUNTS),
        "wall_s": round(wall, 2),
        "programs_per_s": round(total.programs / wall, 1) if wall else None,
        "instructions_per_s": round(total.instructions / wall, 1) if wall else None,
        "cpu_s": {key: round(v, 2) for key, v in total.seconds.items() if key != "wall"},
        "kinds": total.kinds, "outcomes": total.outcomes, "offenders": total.offenders,
    }


def print_text(rep: dict) -> None:
    print(f"micro-PSIL fuzz: seed {rep['seed']}, programs {rep['first']:,}.."
          f"{rep['first'] + rep['programs'] - 1:,} ("
          + ", ".join(f"{k_} {v:,}" for k_, v in rep["kinds"].items()) + ")")
    print(f"  instructions executed  {rep['instructions']:,} (fast VM, per pass; "
          f"max {rep['max_steps']:,} in one think, {rep['yields']:,} yields)")
    print(f"  reference checks       {rep['reference_checked']:,} programs, "
          f"{rep['reference_instructions']:,} instructions (reference VM and think_batch)")
    print("  " + " | ".join(f"{c.replace('_', ' ')} {rep[c]}" for c in COUNTS))
    n = max(1, rep["programs"])
    print("  outcomes: " + ", ".join(f"{k_} {100 * v / n:.1f}%"
                                     for k_, v in sorted(rep["outcomes"].items(),
                                                         key=lambda kv: -kv[1])))
    print(f"  wall time {rep['wall_s']:.1f} s ({rep['workers']} workers), "
          f"{rep['programs_per_s']:,.0f} programs/s, "
          f"{rep['instructions_per_s'] / 1e6:,.1f} M instructions/s (one pass)")
    for off in rep["offenders"][:5]:
        print(f"  ! {off['what']}" + (f" -- program {off['index']}" if "index" in off else ""))
        if "genome" in off:
            print(f"      genome  {off['genome']}\n      gas     {off['gas']}\n"
                  f"      sensors {off['sensors']}")
        print("      " + off["detail"].strip().replace("\n", "\n      ")[:1500])
    print("OK: no crashes, hangs, budget overruns or mismatches" if rep["ok"] else "FAILED")


def parse(argv: list[str] | None = None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--first", type=int, default=0, help="index of the first program")
    ap.add_argument("--batch", type=int, default=100_000, help="programs per fast-VM batch")
    ap.add_argument("--reference-every", type=int, default=50,
                    help="check about one program in N against the reference VM (0: none)")
    ap.add_argument("--max-gas", type=int, default=op.GAS_CAP)
    ap.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                    help="worker processes (0: run in this process, no hang isolation)")
    ap.add_argument("--threads", type=int, default=2, help="numba threads in pass B")
    ap.add_argument("--chunk", type=int, default=0, help="programs per worker process")
    ap.add_argument("--boundscheck", action="store_true",
                    help="run workers with NUMBA_BOUNDSCHECK=1 (compiles into a fresh cache)")
    ap.add_argument("--watchdog-us-per-gas", type=float, default=1.0)
    ap.add_argument("--watchdog-base", type=float, default=5.0)
    ap.add_argument("--worker-timeout", type=float, default=4 * 3600.0)
    ap.add_argument("--bisect-budget", type=int, default=64)
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--boundscheck-cache", help=argparse.SUPPRESS)
    ap.add_argument("--inject", help=argparse.SUPPRESS)      # test hook, see inject_fault
    ap.add_argument("--source-hash", help=argparse.SUPPRESS)
    opts = ap.parse_args(argv)
    if not 1 <= opts.max_gas <= op.GAS_CAP:
        ap.error(f"--max-gas must be in 1..{op.GAS_CAP}")
    if opts.programs < 1 or opts.batch < 1 or opts.first < 0:
        ap.error("--programs and --batch must be positive, --first not negative")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    if opts.worker:
        return worker_main(opts)
    try:
        if opts.boundscheck and not opts.boundscheck_cache:
            with tempfile.TemporaryDirectory() as cache:
                opts.boundscheck_cache = cache
                total = coordinate(opts)
        else:
            total = coordinate(opts)
    except HarnessError as e:
        print(f"fuzz_psil: {e}", file=sys.stderr)
        return 2
    rep = report(total, opts)
    if opts.json:
        print(json.dumps(rep, indent=1))
    else:
        print_text(rep)
    return 0 if rep["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
