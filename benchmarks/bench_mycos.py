"""Benchmark Mycos: network-episodes per second of the batched evaluator next to the
reference evaluator in the same run, and XOR (T01_xor2) solved from many seeds at the
default hyperparameters and at the tuned configuration (``TUNED``: novelty 0.8): success
rate, generations and evaluations to reach 0.95, wall time.

    python benchmarks/bench_mycos.py                      # throughput, then 20 XOR seeds
                                                          # at the defaults and tuned
    python benchmarks/bench_mycos.py --seeds 5 --threads 1 2 --json
    python benchmarks/bench_mycos.py --neat               # also neat-python's XOR, same seeds

``--neat`` needs neat-python (``pip install neat-python``; not a dependency of Primordia):
its XOR example (``benchmarks/neat-xor.ini``: population 150, fitness 4 minus the squared
error, threshold 3.9) runs from the same seeds, side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from primordia.brains.mycos import variation as var  # noqa: E402
from primordia.brains.mycos.batch import evaluate  # noqa: E402
from primordia.brains.mycos.reference import Guards, run_episode  # noqa: E402
from primordia.core.rng import DrawStream, Rng, stream_id  # noqa: E402
from primordia.runs.mycos_run import MycosEvolveConfig, evolve  # noqa: E402
from primordia.tasks.task import load_task  # noqa: E402

STREAM = stream_id("bench.mycos")


def workload(pop: int, episodes: int, ticks: int):
    """Random starting networks of T01's shape (up to 8 internal bits and 12 connections),
    random inputs for ``ticks`` ticks per episode."""
    task = load_task("T01_xor2")
    nets = [var.random_genome(DrawStream(Rng(7), STREAM, 0, i), task.io.inputs,
                              task.io.outputs) for i in range(pop)]
    rng = np.random.default_rng(7)                       # benchmark inputs only
    return task, nets, rng.integers(0, 2, (episodes, ticks, 2)).astype(np.uint8)


def reference_seconds(task, nets, values) -> float:
    """Seconds per network-episode of the reference over the first 32 networks."""
    t = time.perf_counter()
    for g in nets[:32]:
        for e in range(values.shape[0]):
            schedule = [[(0, k, int(values[e, tick, k])) for k in range(2)]
                        for tick in range(values.shape[1])]
            run_episode(g, schedule, task.io.outputs, Guards())
    return (time.perf_counter() - t) / (len(nets[:32]) * values.shape[0])


def throughput(task, nets, values, threads: int, repeats: int) -> dict:
    """Each repeat times the reference and then the batched evaluator (packing included),
    back to back, so that the host's drifting speed touches both alike; the speed-up is the
    median of the repeats' ratios."""
    evaluate(nets[:2], task.io.inputs, task.io.outputs, values, Guards(), threads=threads)
    fast, ratios, refs = [], [], []
    for _ in range(repeats):
        ref = reference_seconds(task, nets, values)
        t = time.perf_counter()
        evaluate(nets, task.io.inputs, task.io.outputs, values, Guards(), threads=threads)
        seconds = (time.perf_counter() - t) / (len(nets) * values.shape[0])
        fast.append(seconds)
        refs.append(ref)
        ratios.append(ref / seconds)
    return {"pop": len(nets), "episodes": values.shape[0], "ticks": values.shape[1],
            "threads": threads, "episodes_per_second": round(1 / statistics.median(fast)),
            "reference_episodes_per_second": round(1 / statistics.median(refs)),
            "speedup": round(statistics.median(ratios), 1),
            "speedup_min": round(min(ratios), 1), "speedup_max": round(max(ratios), 1)}


TUNED = {"novelty": 0.8}
"""The tuned configuration: selection sees 0.8 x fitness + 0.2 x novelty of behaviour."""


def xor_seeds(seeds: list[int], gens: int, overrides: dict | None = None) -> dict:
    rows = []
    for seed in seeds:
        t = time.perf_counter()
        run = evolve(MycosEvolveConfig(seed=seed, gens=gens, **(overrides or {})),
                     load_task("T01_xor2"))
        wall = time.perf_counter() - t
        solved = run.generation_solved
        rows.append({"seed": seed, "generation_solved": solved,
                     "evaluations": run.evaluations if solved is not None else None,
                     "wall_seconds": round(wall, 2)})
        print(f"  seed {seed:>3}: " + (f"solved at generation {solved}, {run.evaluations:,} "
                                       f"evaluations" if solved is not None else "not solved")
              + f", {wall:.1f} s", file=sys.stderr, flush=True)
    summary = _summary(rows, gens)
    return {"summary": summary, "runs": rows}


def neat_xor(seeds: list[int], gens: int) -> dict:
    """neat-python's XOR example from each seed (its randomness is Python's ``random``)."""
    import random

    import neat

    cases = [((0.0, 0.0), 0.0), ((0.0, 1.0), 1.0), ((1.0, 0.0), 1.0), ((1.0, 1.0), 0.0)]
    rows = []
    for seed in seeds:
        evaluations = [0]

        def eval_genomes(genomes, config):
            for _, g in genomes:
                net = neat.nn.FeedForwardNetwork.create(g, config)
                g.fitness = 4.0 - sum((net.activate(x)[0] - y) ** 2 for x, y in cases)
                evaluations[0] += 1

        random.seed(seed)
        config = neat.Config(neat.DefaultGenome, neat.DefaultReproduction,
                             neat.DefaultSpeciesSet, neat.DefaultStagnation,
                             str(Path(__file__).with_name("neat-xor.ini")))
        population = neat.Population(config)
        t = time.perf_counter()
        winner = population.run(eval_genomes, gens)
        wall = time.perf_counter() - t
        solved = winner.fitness >= config.fitness_threshold
        rows.append({"seed": seed, "generation_solved": population.generation if solved
                     else None, "evaluations": evaluations[0] if solved else None,
                     "wall_seconds": round(wall, 2)})
        print(f"  neat-python seed {seed:>3}: " + (
            f"solved at generation {population.generation}, {evaluations[0]:,} evaluations"
            if solved else "not solved") + f", {wall:.1f} s", file=sys.stderr, flush=True)
    return {"summary": _summary(rows, gens), "runs": rows}


def _summary(rows: list[dict], gens: int) -> dict:
    done = [r for r in rows if r["generation_solved"] is not None]
    summary = {"seeds": len(rows), "solved": len(done), "generations_max": gens}
    if done:
        gens_ = [r["generation_solved"] for r in done]
        evals = [r["evaluations"] for r in done]
        summary.update({"generation_mean": round(statistics.mean(gens_), 2),
                        "generation_max": max(gens_),
                        "evaluations_mean": round(statistics.mean(evals)),
                        "evaluations_max": max(evals),
                        "wall_mean_seconds": round(statistics.mean(r["wall_seconds"]
                                                                   for r in done), 2)})
    return summary


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pop", type=int, default=512)
    ap.add_argument("--episodes", type=int, default=16)
    ap.add_argument("--ticks", type=int, default=4)
    ap.add_argument("--threads", type=int, nargs="+", default=[1])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--seeds", type=int, default=20)
    ap.add_argument("--gens", type=int, default=100)
    ap.add_argument("--no-tuned", action="store_true", help="Skip the tuned configuration.")
    ap.add_argument("--neat", action="store_true", help="Also run neat-python's XOR example.")
    ap.add_argument("--neat-gens", type=int, default=300)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    out = {"machine": {"python": platform.python_version(), "cores": os.cpu_count(),
                       "date": date.today().isoformat()}, "throughput": [], "xor": None}
    task, nets, values = workload(args.pop, args.episodes, args.ticks)
    for threads in args.threads:
        row = throughput(task, nets, values, threads, args.repeats)
        out["throughput"].append(row)
        print(f"{args.pop} networks x {args.episodes} episodes x {args.ticks} ticks, "
              f"{threads} thread(s): {row['episodes_per_second']:,} network-episodes/s; "
              f"reference {row['reference_episodes_per_second']:,}/s; "
              f"{row['speedup']}x (repeats {row['speedup_min']}-{row['speedup_max']}x)",
              file=sys.stderr, flush=True)
    configs = [("xor", "defaults", {})] + ([] if args.no_tuned else
                                           [("xor_tuned", f"tuned {TUNED}", TUNED)])
    for key, label, overrides in (configs if args.seeds else []):
        print(f"T01_xor2, {args.seeds} seeds, {label} (population 512), at most {args.gens} "
              "generations:", file=sys.stderr)
        out[key] = xor_seeds(list(range(1, args.seeds + 1)), args.gens, overrides)
        out[key]["config"] = overrides
        s = out[key]["summary"]
        print(f"solved {s['solved']} of {s['seeds']}"
              + (f"; generations mean {s['generation_mean']}, max {s['generation_max']}; "
                 f"evaluations mean {s['evaluations_mean']:,}, max {s['evaluations_max']:,}"
                 if s["solved"] else ""), file=sys.stderr)
    if args.neat and args.seeds:
        out["neat"] = neat_xor(list(range(1, args.seeds + 1)), args.neat_gens)
        s, m = out["neat"]["summary"], out["xor"]["summary"]
        print(f"neat-python: solved {s['solved']} of {s['seeds']}"
              + (f"; generations mean {s['generation_mean']}, evaluations mean "
                 f"{s['evaluations_mean']:,}, wall mean {s['wall_mean_seconds']} s"
                 if s["solved"] else ""), file=sys.stderr)
        if s["solved"] and m["solved"]:
            print(f"Primordia vs neat-python, mean wall time per solved run: "
                  f"{m['wall_mean_seconds']} s vs {s['wall_mean_seconds']} s", file=sys.stderr)
    if args.json:
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
