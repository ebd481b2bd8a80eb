"""Fuzz the wasm brains: compiled code agrees with the oracle, and every genome variation can
make validates, round-trips and compiles.

Two campaigns, each cut into chunks; chunk ``k`` depends only on (``--seed``, ``k``) and the
chunk size, so a campaign can be split or resumed with ``--start-chunk`` (keep ``--chunk``):

* programs (``--programs``): in each chunk, even positions are ``fuzz.arbitrary_genome``s (up
  to 8..128 instructions; every instruction kind, corner constants, runaway loops), odd ones
  are variations of those (``variation.mutate`` 1-3 times, ``variation.crossover`` with
  another, or both). A chunk goes through ``fuzz.compare`` -- one compiled round against the
  oracle from the same random memory, context and budget; action code, gas left, halting
  and every byte of memory must agree -- on a layout that rotates with the chunk
  (``LAYOUTS``: sensors, actions, radius, memory). Disagreements are printed and appended
  to ``--out`` (genome hex, budget, layout, chunk) as they are found.
* variation (``--variation``): chains ``random_genome`` -> ``mutate`` -> ``crossover`` with
  the previous chain's mutant, caps rotating through ``CAPS``. Every genome must pass
  ``ir.validate``, stay within its cap, round-trip ``ir.encode``/``ir.decode``, and compile:
  ``compiler.organisms_module`` then ``wasmtime.Module.validate``. A sample of each chunk
  (``--sample``) is also compiled, instantiated (``Population.set``) and stepped once.

    python benchmarks/fuzz_wasm.py                                    # both full campaigns
    python benchmarks/fuzz_wasm.py --variation 0 --start-chunk 2500   # programs, resumed
    python benchmarks/fuzz_wasm.py --programs 4000 --variation 3000 --json   # a sample
    python benchmarks/fuzz_wasm.py --programs 2000 --variation 0 --start-chunk 17  # one chunk

Exit status 0 when nothing failed, 1 on any disagreement or failure, 2 on bad arguments or
when src/primordia/brains/wasm/ changed during the run.
Everything runs on one core (compiling may use a second).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import wasmtime

from primordia.brains.wasm import fuzz, ir, runtime, variation
from primordia.brains.wasm.compiler import organisms_module
from primordia.brains.wasm.layout import Layout
from primordia.brains.wasm.runtime import Population
from primordia.core.rng import DrawStream, Rng, stream_id

LAYOUTS = (
    Layout(31, 4, radius=0, memory=4096),       # the sandbox's
    Layout(5, 3, radius=1, memory=1024),
    Layout(0, 0, radius=0, memory=2048),
    Layout(12, 6, radius=2, memory=8192),
    Layout(1, 1, radius=7, memory=65536),
    Layout(200, 100, radius=0, memory=8192),    # sensor and action indices wrap below 256
    Layout(64, 16, radius=3, memory=16384),
)
"""The layouts chunks rotate through (chunk k uses LAYOUTS[k % len])."""
PROGRAM_SIZES = (8, 32, 64, 64, 128)
"""``max_instrs`` of the arbitrary genomes, one drawn per genome."""
MUTANT_CAP = 256
CAPS = (4, 24, 100, 256, 1000)
"""``max_instrs`` of the variation chains, one drawn per chain."""

STREAM_PROGRAM = stream_id("wasm.fuzz.program")
STREAM_COMPARE = stream_id("wasm.fuzz.compare")
STREAM_CHAIN = stream_id("wasm.fuzz.chain")
STREAM_SAMPLE = stream_id("wasm.fuzz.sample")
SAMPLE_BUDGET = 1000


class Tallied(Population):
    """A population that keeps its last round's budgets and results, for the counts."""

    last: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def run(self, slots, budget):
        codes, left, halted = super().run(slots, budget)
        self.last = (np.asarray(budget, dtype=np.int64).copy(), codes, left, halted)
        return codes, left, halted


@dataclass
class Counts:
    """What a campaign (or one chunk of it) came to."""

    chunks: int = 0
    programs: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    failures: int = 0
    halted: int = 0
    gas_used: int = 0
    faults: int = 0
    sampled: int = 0
    seconds: dict[str, float] = field(default_factory=dict)
    offenders: list[dict] = field(default_factory=list)

    def add(self, other: Counts) -> None:
        for name in ("chunks", "programs", "failures", "halted", "gas_used", "faults",
                     "sampled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for key, v in other.kinds.items():
            self.kinds[key] = self.kinds.get(key, 0) + v
        for key, v in other.seconds.items():
            self.seconds[key] = self.seconds.get(key, 0.0) + v
        self.offenders += other.offenders

    def clock(self, key: str, t0: float) -> float:
        now = time.perf_counter()
        self.seconds[key] = self.seconds.get(key, 0.0) + now - t0
        return now


def _hex(genome) -> str | None:
    try:
        return ir.encode(genome).hex()
    except Exception:  # an invalid genome may not encode: report it without its bytes
        return None


def _error(e: BaseException) -> str:
    return "".join(traceback.format_exception_only(type(e), e)).strip()


# ---- the programs campaign ----------------------------------------------------------------------

def make_programs(seed: int, chunk: int, n: int) -> tuple[list, list[str], list[dict]]:
    """Chunk ``chunk``'s ``n`` genomes and their kinds; generation failures as offenders."""
    genomes: list = []
    kinds: list[str] = []
    bad: list[dict] = []
    rng = Rng(seed)
    for j in range(n):
        draws = DrawStream(rng, STREAM_PROGRAM, chunk, j)
        randoms = [g for g in genomes[0:j:2] if g is not None]
        try:
            if j % 2 == 0 or not randoms:
                genome = fuzz.arbitrary_genome(draws, draws.choice(PROGRAM_SIZES))
                kind = "random"
            else:
                genome = draws.choice(randoms)
                roll = draws.integer(0, 3)
                if roll != 1:
                    for _ in range(draws.integer(1, 4)):
                        genome = variation.mutate(genome, draws, MUTANT_CAP)
                if roll != 0:
                    genome = variation.crossover(genome, draws.choice(randoms), draws,
                                                 MUTANT_CAP)
                kind = ("mutated", "crossed", "mutated+crossed")[roll]
            ir.validate(genome)
        except Exception as e:  # an operator or generator that breaks is a finding
            bad.append({"campaign": "programs", "seed": seed, "chunk": chunk, "index": j,
                        "what": f"generating: {_error(e)}"})
            genome, kind = None, "broken"
        genomes.append(genome)
        kinds.append(kind)
    return genomes, kinds, bad


def program_chunk(seed: int, chunk: int, n: int) -> Counts:
    """Generate chunk ``chunk`` and compare it compiled against the oracle."""
    counts = Counts(chunks=1, programs=n)
    t = time.perf_counter()
    genomes, kinds, bad = make_programs(seed, chunk, n)
    for kind in kinds:
        counts.kinds[kind] = counts.kinds.get(kind, 0) + 1
    counts.offenders += bad
    t = counts.clock("generate", t)
    layout = LAYOUTS[chunk % len(LAYOUTS)]
    where = [j for j, g in enumerate(genomes) if g is not None]
    good = [genomes[j] for j in where]
    pop = Tallied(layout, max(1, len(good)))
    try:
        disagreements = fuzz.compare(good, layout, DrawStream(Rng(seed), STREAM_COMPARE,
                                                              chunk, 0), population=pop)
    except Exception as e:  # the comparison itself broke: the whole chunk counts as failed
        counts.offenders.append({"campaign": "programs", "seed": seed, "chunk": chunk,
                                 "what": f"compare raised: {_error(e)}"})
        counts.failures = len(counts.offenders)
        counts.clock("compare", t)
        return counts
    counts.clock("compare", t)
    budget, _, left, halted = pop.last
    counts.halted = int(halted.sum())
    counts.gas_used = int((np.clip(budget, 0, None) - left).sum())
    counts.faults = pop.faults
    index_of = {id(g): j for j, g in zip(where, good)}
    for d in disagreements:
        counts.offenders.append({
            "campaign": "programs", "seed": seed, "chunk": chunk,
            "index": index_of[id(d.genome)], "kind": kinds[index_of[id(d.genome)]],
            "layout": asdict(layout), "budget": d.budget, "genome": _hex(d.genome),
            "what": d.what})
    if pop.faults and not disagreements:
        counts.offenders.append({"campaign": "programs", "seed": seed, "chunk": chunk,
                                 "what": f"{pop.faults} rounds trapped (Population.faults)"})
    counts.failures = len(counts.offenders)
    return counts


# ---- the variation campaign ---------------------------------------------------------------------

def check_genome(genome, cap: int, layout: Layout, engine: wasmtime.Engine,
                 counts: Counts) -> str | None:
    """What is wrong with a genome variation made (None if nothing)."""
    t = time.perf_counter()
    try:
        ir.validate(genome)
    except Exception as e:
        counts.clock("checks", t)
        return f"ir.validate: {_error(e)}"
    if len(genome) > min(cap, ir.MAX_INSTRS):
        counts.clock("checks", t)
        return f"{len(genome)} instructions; the cap was {cap}"
    try:
        back = ir.decode(ir.encode(genome))
    except Exception as e:
        counts.clock("checks", t)
        return f"encode/decode: {_error(e)}"
    if back != genome:
        counts.clock("checks", t)
        return "decode(encode(g)) != g"
    t = counts.clock("checks", t)
    try:
        code = organisms_module([genome], layout)
    except Exception as e:
        counts.clock("codegen", t)
        return f"organisms_module: {_error(e)}"
    t = counts.clock("codegen", t)
    try:
        wasmtime.Module.validate(engine, code)
    except Exception as e:
        return f"wasmtime.Module.validate: {_error(e)}"
    finally:
        counts.clock("wasm_validate", t)
    return None


def variation_chunk(seed: int, chunk: int, n: int, sample: int) -> Counts:
    """``n`` genomes of chains random -> mutant -> child, each checked; then a sample of
    them compiled, instantiated and stepped once."""
    counts = Counts(chunks=1)
    layout = LAYOUTS[chunk % len(LAYOUTS)]
    engine = runtime.engine()
    rng = Rng(seed)
    made: list = []
    partner = None
    chain = 0
    while counts.programs < n:
        draws = DrawStream(rng, STREAM_CHAIN, chunk, chain)
        cap = draws.choice(CAPS)
        genome = None
        for kind in ("random", "mutated", "crossed"):
            if counts.programs >= n:
                break
            t = time.perf_counter()
            parent = genome
            try:
                if kind == "random":
                    genome = variation.random_genome(draws, cap)
                elif kind == "mutated":
                    for _ in range(draws.integer(1, 4)):
                        genome = variation.mutate(genome, draws, cap)
                else:
                    genome = variation.crossover(
                        genome, genome if partner is None else partner, draws, cap)
            except Exception as e:
                counts.clock("operators", t)
                counts.programs += 1
                counts.kinds[kind] = counts.kinds.get(kind, 0) + 1
                counts.offenders.append({"campaign": "variation", "seed": seed, "chunk": chunk,
                                         "chain": chain, "kind": kind, "cap": cap,
                                         "parent": _hex(parent), "what": _error(e)})
                break
            counts.clock("operators", t)
            counts.programs += 1
            counts.kinds[kind] = counts.kinds.get(kind, 0) + 1
            problem = check_genome(genome, cap, layout, engine, counts)
            if problem:
                counts.offenders.append({"campaign": "variation", "seed": seed, "chunk": chunk,
                                         "chain": chain, "kind": kind, "cap": cap,
                                         "layout": asdict(layout), "genome": _hex(genome),
                                         "parent": _hex(parent), "what": problem})
                break
            made.append(genome)
            if kind == "mutated":
                partner = genome
        chain += 1
    t = time.perf_counter()
    if made and sample:
        pick = DrawStream(rng, STREAM_SAMPLE, chunk, 0)
        chosen = [made[pick.integer(0, len(made))] for _ in range(min(sample, len(made)))]
        try:
            pop = Population(layout, len(chosen))
            slots = np.arange(len(chosen))
            pop.set(slots, chosen)
            pop.run(slots, np.full(len(chosen), SAMPLE_BUDGET))
            counts.faults += pop.faults
            if pop.faults:
                counts.offenders.append({"campaign": "variation", "seed": seed, "chunk": chunk,
                                         "what": f"sample: {pop.faults} rounds trapped"})
        except Exception as e:
            counts.offenders.append({"campaign": "variation", "seed": seed, "chunk": chunk,
                                     "layout": asdict(layout),
                                     "what": f"sample of {len(chosen)} through "
                                             f"Population.set/run: {_error(e)}"})
        counts.sampled += len(chosen)
    counts.clock("sample", t)
    counts.failures = len(counts.offenders)
    return counts


# ---- driving ------------------------------------------------------------------------------------

def campaign(name: str, total: int, opts, one_chunk) -> Counts:
    """Run chunks ``start_chunk ..`` of ``opts.chunk`` programs until ``total`` are done."""
    counts = Counts()
    if total <= 0:
        return counts
    t0 = time.perf_counter()
    last_note = t0
    chunk = opts.start_chunk
    while counts.programs < total:
        n = min(opts.chunk, total - counts.programs)
        part = one_chunk(chunk, n)
        counts.add(part)
        if part.offenders:
            save(opts, part.offenders)
            for off in part.offenders[:3]:
                print(f"  ! {name} chunk {chunk}: {describe(off)}", file=sys.stderr, flush=True)
        now = time.perf_counter()
        if not opts.quiet and (now - last_note >= opts.progress or counts.programs >= total):
            last_note = now
            el = now - t0
            print(f"  {name}: chunk {chunk} done, {counts.programs:,}/{total:,} in {el:.0f} s "
                  f"({counts.programs / el:,.0f}/s), failures {counts.failures}; resume with "
                  f"--start-chunk {chunk + 1}", file=sys.stderr, flush=True)
        chunk += 1
    counts.seconds["wall"] = time.perf_counter() - t0
    return counts


def describe(off: dict) -> str:
    where = ", ".join(f"{k} {off[k]}" for k in ("index", "chain", "kind", "budget", "cap")
                      if k in off)
    text = off["what"] + (f" ({where})" if where else "")
    if off.get("genome"):
        text += f"\n      genome {off['genome']}"
    return text


def save(opts, offenders: list[dict]) -> None:
    """Append offenders to ``--out``, one JSON object a line, as they are found."""
    with open(opts.out, "a") as f:
        for off in offenders:
            f.write(json.dumps(off) + "\n")


def summary(name: str, counts: Counts) -> dict:
    wall = counts.seconds.get("wall", 0.0)
    out = {"programs": counts.programs, "chunks": counts.chunks, "failures": counts.failures,
           "kinds": counts.kinds, "faults": counts.faults,
           "wall_s": round(wall, 2),
           "per_s": round(counts.programs / wall, 1) if wall else None,
           "seconds": {k: round(v, 2) for k, v in counts.seconds.items() if k != "wall"},
           "offenders": counts.offenders[:20]}
    if name == "variation":
        out["sampled"] = counts.sampled
    if name == "programs":
        compared = counts.programs - counts.kinds.get("broken", 0)
        out["disagreements"] = sum(1 for o in counts.offenders if "genome" in o)
        out["halted_share"] = counts.halted / compared if compared else None
        out["mean_gas_used"] = counts.gas_used / compared if compared else None
        out["gas_used"] = counts.gas_used
    return out


def source_hash() -> str:
    """The wasm brain's sources: a campaign whose chunks tested different code says so."""
    digest = hashlib.sha256()
    for path in sorted(Path(fuzz.__file__).parent.glob("*.py")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def run(opts) -> dict:
    t0 = time.perf_counter()
    sources = source_hash()
    programs = campaign("programs", opts.programs, opts,
                        lambda k, n: program_chunk(opts.seed, k, n))
    chains = campaign("variation", opts.variation, opts,
                      lambda k, n: variation_chunk(opts.seed, k, n, opts.sample))
    rep = {"seed": opts.seed, "start_chunk": opts.start_chunk, "chunk": opts.chunk,
           "programs": summary("programs", programs),
           "variation": summary("variation", chains),
           "ok": programs.failures == 0 and chains.failures == 0,
           "out": opts.out if programs.failures or chains.failures else None,
           "source_hash": sources, "sources_changed": source_hash() != sources,
           "wall_s": round(time.perf_counter() - t0, 2)}
    return rep


def print_text(rep: dict) -> None:
    p, v = rep["programs"], rep["variation"]
    print(f"wasm fuzz: seed {rep['seed']}, chunks of {rep['chunk']:,} from chunk "
          f"{rep['start_chunk']}")
    if p["programs"]:
        print(f"  programs   {p['programs']:,} (" + ", ".join(
            f"{k} {n:,}" for k, n in p["kinds"].items()) + f"), {p['chunks']} chunks")
        print(f"             disagreements {p['disagreements']}, failures {p['failures']}, "
              f"halted {100 * (p['halted_share'] or 0):.1f}%, mean gas used "
              f"{p['mean_gas_used'] or 0:.1f}")
        print(f"             {p['wall_s']:.1f} s, {p['per_s'] or 0:,.0f} programs/s ("
              + ", ".join(f"{k} {s:.1f} s" for k, s in p["seconds"].items()) + ")")
    if v["programs"]:
        print(f"  variation  {v['programs']:,} genomes (" + ", ".join(
            f"{k} {n:,}" for k, n in v["kinds"].items()) + f"), {v['chunks']} chunks")
        print(f"             failures {v['failures']}; {v['sampled']:,} also compiled, "
              "instantiated and stepped")
        print(f"             {v['wall_s']:.1f} s, {v['per_s'] or 0:,.0f} genomes/s ("
              + ", ".join(f"{k} {s:.1f} s" for k, s in v["seconds"].items()) + ")")
    for off in (p["offenders"] + v["offenders"])[:5]:
        print(f"  ! {off['campaign']} chunk {off['chunk']}: {describe(off)}")
    if rep["out"]:
        print(f"  offenders saved to {rep['out']}; rerun one chunk with --start-chunk K "
              f"--chunk {rep['chunk']} and its campaign's count set to {rep['chunk']}")
    if rep["sources_changed"]:
        print("  ! the wasm brain's sources changed during the run: chunks may have tested "
              "different code; rerun on a stable tree")
    print(f"time {rep['wall_s']:.1f} s")
    print("OK: no disagreements or failures" if rep["ok"] else "FAILED")


def parse(argv: list[str] | None = None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--programs", type=int, default=10_000_000,
                    help="programs compared against the oracle (0: skip)")
    ap.add_argument("--variation", type=int, default=1_000_000,
                    help="genomes made by variation chains and checked (0: skip)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--chunk", type=int, default=2_000, help="programs or genomes per chunk")
    ap.add_argument("--start-chunk", type=int, default=0,
                    help="first chunk (chunk k depends only on the seed, k and --chunk)")
    ap.add_argument("--sample", type=int, default=64,
                    help="variation genomes per chunk compiled, instantiated and stepped")
    ap.add_argument("--out", default="fuzz_wasm_failures.jsonl",
                    help="where offenders are appended (written only if there are any)")
    ap.add_argument("--progress", type=float, default=30.0,
                    help="seconds between progress lines on stderr")
    ap.add_argument("--json", action="store_true", help="print the report as JSON")
    ap.add_argument("--quiet", action="store_true", help="no progress lines")
    opts = ap.parse_args(argv)
    if opts.programs < 0 or opts.variation < 0 or opts.chunk < 1 or opts.start_chunk < 0 \
            or opts.sample < 0:
        ap.error("counts must not be negative, --chunk must be positive")
    return opts


def main(argv: list[str] | None = None) -> int:
    opts = parse(argv)
    rep = run(opts)
    if opts.json:
        print(json.dumps(rep, indent=1))
    else:
        print_text(rep)
    if not rep["ok"]:
        return 1
    return 2 if rep["sources_changed"] else 0


if __name__ == "__main__":
    sys.exit(main())
