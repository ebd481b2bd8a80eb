"""Benchmark wasm brains: organism-steps/s of the population runtime beside one wasm call per
organism and the oracle, and what compiling new organisms costs.

The workload is typical evolved code: ``variation.random_genome(draws, 100)`` then
``MUTATIONS`` mutations each (about 80-100 IR instructions), a budget of 1,000 gas per step,
in a world laid out like the sandbox's (31 sensors, 4 actions, radius 0, 4 KiB of memory).
One organism-step is one call of an organism's ``step``; gas is IR instructions executed.

- runtime: ``Population.run`` over all organisms, one wasm call per round (contexts written
  between rounds, untimed); and the whole ``WasmBrain.step`` (contexts written, actions read).
- naive: one wasmtime call per organism from Python, each organism its own module, store,
  memory and gas/depth globals, called through the public ``Func.__call__``, on a sample.
- oracle: ``reference.run_step`` on a sample.
- compile: ms per organism when N never-seen genomes are added at once (``Population.set``
  with the runtime's module cache cleared), split into our codegen (``organisms_module``),
  wasmtime/Cranelift (``wasmtime.Module``) and instantiation + table (``set`` of the same
  genomes again, cached). CPU time is shown beside wall time: Cranelift compiles a module's
  functions on every core it may use, so CPU time is the one-core cost.
- module: a hand-written WAT forager (``modules.ModuleOrganism.step``), its ABI calls
  Python callbacks.

Every stepping path runs on one core: a round is one wasm call on the calling thread.

    python benchmarks/bench_wasm.py                     # 10,000 organisms, ~2 s per measurement
    python benchmarks/bench_wasm.py --json
    python benchmarks/bench_wasm.py --organisms 300 --seconds 0.2 --naive 20 --oracle 20 \\
        --compile-organisms 20 --compile-batches 1 10     # a smoke run, a few seconds
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import platform
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import wasmtime

from primordia.brains.wasm import modules, runtime, variation
from primordia.brains.wasm.brain import WasmBrain
from primordia.brains.wasm.compiler import organisms_module
from primordia.brains.wasm.context import write_contexts
from primordia.brains.wasm.ir import WasmGenome
from primordia.brains.wasm.layout import Layout
from primordia.brains.wasm.reference import run_step
from primordia.brains.wasm.runtime import Population
from primordia.core.rng import DrawStream, Rng, stream_id
from primordia.worlds.sandbox.world import SANDBOX_IO

BUDGET = 1000
RANDOM_INSTRS = 100
MUTATIONS = 3
MAX_INSTRS = 256                 # the brain's default ``max_instrs``
MEMORY = 4096
LAYOUT = Layout(SANDBOX_IO.n_sensors, SANDBOX_IO.n_actions, radius=0, memory=MEMORY)
STREAM_GENOME = stream_id("bench.wasm.genome")

TARGET_STEPS_PER_S = 3_000_000
TARGET_COMPILE_MS = 0.2

FORAGER = (Path(__file__).resolve().parents[1] / "src" / "primordia" / "examples"
           / "forager.wat").read_text()
"""The forager of tests/brains/wasm/test_modules.py: eats, or reads a tile and moves."""


def log(opts, text: str) -> None:
    if not opts.quiet:
        print(text, file=sys.stderr, flush=True)


# ---- workload ---------------------------------------------------------------------------------

def typical_genomes(n: int, seed: int) -> list[WasmGenome]:
    """Organism ``i``: a random genome of about ``RANDOM_INSTRS`` instructions mutated
    ``MUTATIONS`` times, all from draws keyed by (seed, i)."""
    out = []
    for i in range(n):
        draws = DrawStream(Rng(seed), STREAM_GENOME, 0, i)
        genome = variation.random_genome(draws, RANDOM_INSTRS)
        for _ in range(MUTATIONS):
            genome = variation.mutate(genome, draws, MAX_INSTRS)
        out.append(genome)
    return out


def fresh_contexts(mem: np.ndarray, slots: np.ndarray, tick: int, noise: np.random.Generator,
                   budget: int = BUDGET) -> None:
    """Write a round's contexts as a world would: new sensors and random bits."""
    n = len(slots)
    write_contexts(mem, LAYOUT, slots, noise.integers(-100, 100, (n, LAYOUT.sensors)),
                   tick=tick, ids=slots, rand=noise.integers(0, 1 << 32, n), budget=budget,
                   energy=noise.integers(0, 100, n), age=tick)


def repeat(seconds: float, min_rounds: int, body) -> tuple[int, float]:
    """Call ``body()`` (which returns the seconds it wants counted) until at least
    ``seconds`` are counted and ``min_rounds`` calls made; (rounds, counted seconds)."""
    rounds, counted = 0, 0.0
    while counted < seconds or rounds < min_rounds:
        counted += body()
        rounds += 1
    return rounds, counted


def rate_row(path: str, organisms: int, steps: int, seconds: float, gas: int | None,
             halted: int | None, **extra) -> dict:
    row = {"path": path, "organisms": organisms, "steps": steps, "seconds": round(seconds, 4),
           "steps_per_s": steps / seconds, "us_per_step": 1e6 * seconds / steps}
    if gas is not None:
        row["gas_per_step"] = gas / steps
        row["gas_per_s"] = gas / seconds
        row["halted_share"] = halted / steps
    row.update(extra)
    return row


# ---- the population runtime -------------------------------------------------------------------

def bench_runtime(brain: WasmBrain, opts, noise: np.random.Generator) -> tuple[dict, dict]:
    """``Population.run`` alone (contexts rewritten between rounds, untimed), then the whole
    ``WasmBrain.step``."""
    n = brain.capacity
    pop = brain.population
    slots = np.arange(n, dtype=np.int64)
    budget = np.full(n, BUDGET, dtype=np.int64)
    tally = {"gas": 0, "halted": 0, "tick": 0}

    def run_round() -> float:
        fresh_contexts(pop.memory, slots, tally["tick"], noise)
        tally["tick"] += 1
        t0 = time.perf_counter()
        _, left, halted = pop.run(slots, budget)
        dt = time.perf_counter() - t0
        tally["gas"] += int(BUDGET * n - left.sum())
        tally["halted"] += int(halted.sum())
        return dt

    run_round()                                              # warm-up
    tally.update(gas=0, halted=0)
    rounds, seconds = repeat(opts.seconds, 3, run_round)
    run = rate_row("runtime: Population.run", n, rounds * n, seconds, tally["gas"],
                   tally["halted"], rounds=rounds, ms_per_round=1e3 * seconds / rounds,
                   faults=pop.faults)

    sensors = noise.integers(-100, 100, (n, LAYOUT.sensors)).astype(np.int32)
    actions = np.zeros((n, LAYOUT.actions), dtype=np.int32)
    tally.update(gas=0, halted=0)

    def brain_round() -> float:
        t0 = time.perf_counter()
        brain.begin_tick(budget)
        brain.step(sensors, actions)
        dt = time.perf_counter() - t0
        tally["gas"] += int(brain.gas_used.sum())
        tally["halted"] += int(brain.halted.sum())
        return dt

    brain_round()
    tally.update(gas=0, halted=0)
    rounds, seconds = repeat(opts.seconds, 3, brain_round)
    step = rate_row("runtime: WasmBrain.step", n, rounds * n, seconds, tally["gas"],
                    tally["halted"], rounds=rounds, ms_per_round=1e3 * seconds / rounds)
    return run, step


# ---- one call per organism, and the oracle ---------------------------------------------------

class Solo:
    """One organism the naive way: its own module, store, one-page memory and globals."""

    def __init__(self, genome: WasmGenome) -> None:
        eng = runtime.engine()
        module = wasmtime.Module(eng, organisms_module([genome], LAYOUT))
        self.store = wasmtime.Store(eng)
        self.memory = wasmtime.Memory(self.store, wasmtime.MemoryType(wasmtime.Limits(1, 1)))
        i32 = wasmtime.GlobalType(wasmtime.ValType.i32(), True)
        self.gas = wasmtime.Global(self.store, i32, wasmtime.Val.i32(0))
        self.depth = wasmtime.Global(self.store, i32, wasmtime.Val.i32(0))
        instance = wasmtime.Instance(self.store, module, [self.memory, self.gas, self.depth])
        self.step_func = instance.exports(self.store)["o0"]
        raw = ctypes.cast(self.memory.data_ptr(self.store), ctypes.POINTER(ctypes.c_ubyte))
        self.bytes = np.ctypeslib.as_array(raw, shape=(MEMORY,))  # the organism's memory

    def step(self, budget: int) -> tuple[int, int]:
        """One step through the public API: set the budget, call, read the gas left.
        Returns (action code, gas used)."""
        store = self.store
        self.gas.set_value(store, budget)
        self.depth.set_value(store, 0)
        code = self.step_func(store, 0)
        g = self.gas.value(store)
        return (0, budget + g + 1) if g < 0 else (code, budget - g)  # halted: g is ~left


def bench_naive_and_oracle(genomes: list[WasmGenome], opts, noise: np.random.Generator
                           ) -> tuple[dict, dict]:
    """The same sample from the same memories, one call per organism and in the oracle; the
    first round of each is checked against the other (code and gas)."""
    n = max(opts.naive, opts.oracle)
    rows = np.zeros((n, MEMORY), dtype=np.uint8)
    fresh_contexts(rows, np.arange(n), 0, noise)
    sample = genomes[:n]

    solos = [Solo(g) for g in sample[:opts.naive]]
    for solo, row in zip(solos, rows):
        solo.bytes[:] = row
    tally = {"gas": 0, "halted": 0, "first": None}

    def naive_round() -> float:
        out = []
        t0 = time.perf_counter()
        for solo in solos:
            out.append(solo.step(BUDGET))
        dt = time.perf_counter() - t0
        if tally["first"] is None:
            tally["first"] = out
        tally["gas"] += sum(g for _, g in out)
        return dt

    rounds, seconds = repeat(opts.seconds, 2, naive_round)
    naive = rate_row("naive: one Func call per organism", len(solos), rounds * len(solos),
                     seconds, tally["gas"], 0, rounds=rounds)
    del naive["halted_share"]
    naive_first = tally["first"]

    memories = [bytearray(row.tobytes()) for row in rows[:opts.oracle]]
    tally = {"gas": 0, "halted": 0, "first": None}

    def oracle_round() -> float:
        work = [bytearray(m) for m in memories]
        t0 = time.perf_counter()
        out = [run_step(g, m, LAYOUT, BUDGET) for g, m in zip(sample, work)]
        dt = time.perf_counter() - t0
        if tally["first"] is None:
            tally["first"] = out
        tally["gas"] += sum(o.gas_used for o in out)
        tally["halted"] += sum(o.halted for o in out)
        return dt

    rounds, seconds = repeat(opts.seconds, 1, oracle_round)
    oracle = rate_row("oracle: reference.run_step", len(memories), rounds * len(memories),
                      seconds, tally["gas"], tally["halted"], rounds=rounds)
    both = min(len(naive_first), len(tally["first"]))
    naive["mismatches_vs_oracle"] = sum(
        (code, gas) != (o.code, o.gas_used)
        for (code, gas), o in zip(naive_first[:both], tally["first"][:both]))
    naive["checked_vs_oracle"] = both
    return naive, oracle


# ---- compiling --------------------------------------------------------------------------------

def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(t: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - t[0], time.process_time() - t[1]


def bench_compile(pool: list[WasmGenome], batch: int, organisms: int) -> dict:
    """Add ``organisms`` never-seen genomes (at least one batch) ``batch`` at a time."""
    count = max(1, -(-organisms // batch))
    parts = {key: [0.0, 0.0] for key in ("total", "codegen", "cranelift", "instantiate")}

    def add(key: str, t: tuple[float, float]) -> None:
        wall, cpu = _since(t)
        parts[key][0] += wall
        parts[key][1] += cpu

    eng = runtime.engine()
    for b in range(count):
        genomes = [pool[(b * batch + j) % len(pool)] for j in range(batch)]
        slots = np.arange(batch)
        runtime._MODULES.clear()
        pop = Population(LAYOUT, batch)
        t = _clock()
        pop.set(slots, genomes)                       # everything, from a cold cache
        add("total", t)
        again = Population(LAYOUT, batch)
        t = _clock()
        again.set(slots, genomes)                     # cached: instantiation and table only
        add("instantiate", t)
        t = _clock()
        code = organisms_module(genomes, LAYOUT)
        add("codegen", t)
        t = _clock()
        wasmtime.Module(eng, code)
        add("cranelift", t)
        del pop, again
    runtime._MODULES.clear()
    n = count * batch
    row = {"batch": batch, "batches": count, "organisms": n}
    for key, (wall, cpu) in parts.items():
        row[f"{key}_ms"] = 1e3 * wall / n
        row[f"{key}_cpu_ms"] = 1e3 * cpu / n
    return row


# ---- engine settings -----------------------------------------------------------------------

ENGINES = {"cranelift-speed": ("cranelift", "speed"), "cranelift-none": ("cranelift", "none"),
           "winch": ("winch", None)}
"""The settings ``--engines`` compares: the runtime's, Cranelift unoptimised, and Winch
(wasmtime's baseline compiler, which the Python API does not name: strategy 2 of the C API)."""


def make_engine(strategy: str, opt_level: str | None) -> wasmtime.Engine:
    config = wasmtime.Config()
    config.parallel_compilation = False  # one core: wall time is CPU time
    if strategy == "winch":
        from wasmtime import _ffi
        _ffi.wasmtime_config_strategy_set(config.ptr(), 2)
    else:
        config.strategy = strategy
        config.cranelift_opt_level = opt_level
    return wasmtime.Engine(config)


def bench_engines(opts) -> list[dict]:
    """Each engine setting: compile ``--compile-organisms`` never-seen genomes in batches of
    1,000, then step ``--organisms`` of them with ``Population.run``."""
    genomes = typical_genomes(max(opts.organisms, opts.compile_organisms), opts.seed)
    rows = []
    saved = runtime._ENGINE
    try:
        for name, (strategy, level) in ENGINES.items():
            log(opts, f"engine {name} ...")
            runtime._ENGINE = make_engine(strategy, level)
            runtime._MODULES.clear()
            row = bench_compile(genomes, min(1000, opts.compile_organisms),
                                opts.compile_organisms)
            brain = WasmBrain(genomes[:opts.organisms], SANDBOX_IO, memory=MEMORY)
            run_row, _ = bench_runtime(brain, opts, np.random.default_rng(opts.seed))
            del brain
            rows.append({"engine": name, "compile_ms": row["total_ms"],
                         "engine_ms": row["cranelift_ms"], "codegen_ms": row["codegen_ms"],
                         "steps_per_s": run_row["steps_per_s"]})
    finally:
        runtime._ENGINE = saved
        runtime._MODULES.clear()
    return rows


def print_engines(rows: list[dict]) -> None:
    print("| engine | compile ms/organism | of it, the engine | Population.run steps/s |")
    print("|---|---:|---:|---:|")
    for r in rows:
        print(f"| {r['engine']} | {r['compile_ms']:.2f} | {r['engine_ms']:.2f} | "
              f"{r['steps_per_s']:,.0f} |")


# ---- a hand-written module --------------------------------------------------------------------

def bench_module(opts, noise: np.random.Generator) -> dict:
    organism = modules.ModuleOrganism(modules.parse(FORAGER), LAYOUT, seed=1)
    rows = np.zeros((64, MEMORY), dtype=np.uint8)
    fresh_contexts(rows, np.arange(64), 0, noise)
    contexts = [row[:LAYOUT.bytes].tobytes() for row in rows]
    tally = {"fuel": 0, "faults": 0}

    def module_round() -> float:
        t0 = time.perf_counter()
        out = [organism.step(ctx, BUDGET) for ctx in contexts]
        dt = time.perf_counter() - t0
        tally["fuel"] += sum(r.fuel_used for r in out)
        tally["faults"] += sum(r.fault is not None for r in out)
        return dt

    module_round()
    tally.update(fuel=0, faults=0)
    rounds, seconds = repeat(opts.seconds, 2, module_round)
    steps = rounds * len(contexts)
    row = rate_row("module: ModuleOrganism.step (WAT forager)", 1, steps, seconds, None, None,
                   rounds=rounds, fuel_per_step=tally["fuel"] / steps, faults=tally["faults"])
    return row


# ---- the run ----------------------------------------------------------------------------------

def run(opts) -> dict:
    noise = np.random.default_rng(opts.seed)
    t0 = time.perf_counter()
    log(opts, f"making {opts.organisms:,} genomes ...")
    genomes = typical_genomes(opts.organisms, opts.seed)
    made_s = time.perf_counter() - t0
    log(opts, f"  {made_s:.1f} s; compiling them into a WasmBrain ...")
    runtime._MODULES.clear()
    t = _clock()
    brain = WasmBrain(genomes, SANDBOX_IO, memory=MEMORY)
    build_wall, build_cpu = _since(t)
    log(opts, f"  {build_wall:.1f} s; stepping ...")
    results = list(bench_runtime(brain, opts, noise))
    del brain
    runtime._MODULES.clear()
    log(opts, f"one call per organism ({opts.naive:,}) and the oracle ({opts.oracle:,}) ...")
    results += bench_naive_and_oracle(genomes, opts, noise)
    log(opts, "the hand-written module ...")
    results.append(bench_module(opts, noise))
    fastest = results[0]["steps_per_s"]
    for row in results:
        row["vs_runtime"] = row["steps_per_s"] / fastest
    compile_rows = []
    for batch in opts.compile_batches:
        log(opts, f"compiling batches of {batch:,} ...")
        compile_rows.append(bench_compile(genomes, batch, opts.compile_organisms))
    sizes = [len(g) for g in genomes]
    return {
        "machine": {"cpu": _cpu(), "cores": os.cpu_count(), "python": platform.python_version(),
                    "wasmtime": _version("wasmtime"), "numpy": np.__version__,
                    "date": date.today().isoformat()},
        "threads": "one core: a round is one wasm call on the calling thread; only Cranelift "
                   "may compile on several (compare CPU and wall ms)",
        "workload": {"organisms": opts.organisms, "seed": opts.seed, "budget": BUDGET,
                     "random_instrs": RANDOM_INSTRS, "mutations": MUTATIONS,
                     "max_instrs": MAX_INSTRS, "sensors": LAYOUT.sensors,
                     "actions": LAYOUT.actions, "memory": MEMORY,
                     "mean_instrs": float(np.mean(sizes)), "max_instrs_seen": max(sizes),
                     "make_s": round(made_s, 2), "brain_build_s": round(build_wall, 2),
                     "brain_build_cpu_s": round(build_cpu, 2)},
        "steps": results,
        "compile": compile_rows,
        "targets": {"runtime_steps_per_s": TARGET_STEPS_PER_S,
                    "compile_ms_per_organism": TARGET_COMPILE_MS},
    }


def print_text(rep: dict) -> None:
    m, w = rep["machine"], rep["workload"]
    print(f"# {m['cpu']}, {m['cores']} cores, Python {m['python']}, wasmtime {m['wasmtime']}, "
          f"{m['date']}")
    print(f"# {w['organisms']:,} organisms of {w['mean_instrs']:.0f} IR instructions on "
          f"average (random {w['random_instrs']}, {w['mutations']} mutations), budget "
          f"{w['budget']:,}, {w['sensors']} sensors, {w['actions']} actions, memory "
          f"{w['memory']:,}; {rep['threads']}")
    print()
    print("| path | organisms | organism-steps/s | us/step | gas/step | M gas/s | halted | "
          "vs runtime | target |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    target = rep["targets"]["runtime_steps_per_s"]
    for r in rep["steps"]:
        gas = f"{r['gas_per_step']:.0f}" if "gas_per_step" in r else \
            f"{r['fuel_per_step']:.0f} fuel" if "fuel_per_step" in r else "-"
        mgas = f"{r['gas_per_s'] / 1e6:.1f}" if "gas_per_s" in r else "-"
        halted = f"{100 * r['halted_share']:.1f}%" if "halted_share" in r else "-"
        goal = ""
        if r["path"].startswith("runtime"):
            goal = f">= {target / 1e6:.0f} M: " + ("met" if r["steps_per_s"] >= target
                                                   else "not met")
        print(f"| {r['path']} | {r['organisms']:,} | {r['steps_per_s']:,.0f} | "
              f"{r['us_per_step']:.2f} | {gas} | {mgas} | {halted} | "
              f"{r['vs_runtime']:.4g}x | {goal} |")
    naive = next(r for r in rep["steps"] if r["path"].startswith("naive"))
    print(f"\nnaive vs oracle, first round: {naive['mismatches_vs_oracle']} mismatches in "
          f"{naive['checked_vs_oracle']} organisms")
    print(f"making the genomes {w['make_s']:.1f} s; building the WasmBrain (compiling all) "
          f"{w['brain_build_s']:.1f} s wall, {w['brain_build_cpu_s']:.1f} s CPU")
    if rep["compile"]:
        goal = rep["targets"]["compile_ms_per_organism"]
        print("\nms per organism, amortised (wall / CPU), never-seen genomes added at once:\n")
        print("| batch | organisms | total | codegen (ours) | Cranelift | instantiate + table "
              f"| target <= {goal} ms |")
        print("|---:|---:|---:|---:|---:|---:|---|")
        for r in rep["compile"]:
            cells = " | ".join(f"{r[k + '_ms']:.3f} / {r[k + '_cpu_ms']:.3f}"
                               for k in ("total", "codegen", "cranelift", "instantiate"))
            print(f"| {r['batch']:,} | {r['organisms']:,} | {cells} | "
                  f"{'met' if r['total_ms'] <= goal else 'not met'} |")


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(package: str) -> str:
    from importlib.metadata import PackageNotFoundError, version
    try:
        return version(package)
    except PackageNotFoundError:
        return "unknown"


def parse(argv: list[str] | None = None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--organisms", type=int, default=10_000,
                    help="organisms stepped per round by the runtime")
    ap.add_argument("--seconds", type=float, default=2.0,
                    help="at least this long per stepping measurement")
    ap.add_argument("--naive", type=int, default=1_000,
                    help="organisms in the one-call-per-organism sample")
    ap.add_argument("--oracle", type=int, default=300, help="organisms in the oracle sample")
    ap.add_argument("--compile-batches", type=int, nargs="*", default=[1, 10, 100, 1000],
                    help="organisms added at once in the compile measurement")
    ap.add_argument("--compile-organisms", type=int, default=1_000,
                    help="organisms compiled per batch size (at least one batch)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--engines", action="store_true",
                    help="instead: compare engine settings (Cranelift speed/none, Winch) on "
                         "compiling and stepping")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--quiet", action="store_true", help="no progress on stderr")
    opts = ap.parse_args(argv)
    if min(opts.organisms, opts.naive, opts.oracle, opts.compile_organisms) < 1 \
            or opts.seconds <= 0 or any(b < 1 for b in opts.compile_batches):
        ap.error("sizes must be positive")
    if max(opts.naive, opts.oracle) > opts.organisms:
        ap.error("--naive and --oracle take samples of --organisms")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    if opts.engines:
        rows = bench_engines(opts)
        print(json.dumps(rows, indent=1)) if opts.json else print_engines(rows)
        return 0
    rep = run(opts)
    if opts.json:
        print(json.dumps(rep, indent=1))
    else:
        print_text(rep)
    return 0


if __name__ == "__main__":
    sys.exit(main())
