"""Does anything evolve in the ecology world? Run seeds for many ticks from random founders,
sample the living as they go, then plot lifetime, net energy, offspring and diversity over
time and describe the lineages that dominate at the end (docs/worlds/ecology.md,
"Does anything evolve?").

    python benchmarks/study_ecology.py --seeds 1 2 3 --ticks 100000 --out runs/ecology-study \
        --png docs/images/ecology_study.png
    python benchmarks/study_ecology.py --seeds 1 --ticks 20000 --set min_organisms=0
    python benchmarks/study_ecology.py --seeds 1 2 3 --out runs/ecology-study --plot-only

Each seed is an ordinary run directory (``OUT/seed-N``: config.toml, metrics.csv,
phylogeny.csv, checkpoint.npz, ...) written by ``EcologyRun``, with the world's default
config unless ``--config`` (a TOML table of world settings) or ``--set KEY=VALUE`` change it.
Beside the run's own files the study writes:

* ``study.csv`` -- a row every ``--sample`` ticks about the living (``living_stats``):
  population, lineages, distinct genomes, lineage entropy, age, net energy (eaten + held -
  born with), offspring, generation, genome size, and behaviour per tick of life (steps,
  energy eaten, kills, signals).
* ``deaths.csv`` -- from phylogeny.csv, per window of ``--sample`` ticks, the organisms that
  died in it: how many, their mean lifetime and their mean number of children
  (``death_windows``).
* ``dominant.md`` -- the largest lineages at the end, each with its most common genome
  disassembled and what its members do (``dominant``).

A run already in ``OUT/seed-N`` is resumed from its checkpoint (checkpoints every
``--checkpoint-every`` ticks), so a long study can be stopped and continued; rows of
study.csv after the checkpoint are dropped and sampled again.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any, Sequence

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from primordia.core.config import key_value, read_toml  # noqa: E402
from primordia.core.errors import ConfigError  # noqa: E402
from primordia.runs.ecology_run import EcologyRun  # noqa: E402
from primordia.runs.world_run import Reporter  # noqa: E402
from primordia.worlds.ecology.config import EcologyConfig  # noqa: E402
from primordia.worlds.ecology.world import EcologyWorld  # noqa: E402

STUDY_FIELDS = ("tick", "organisms", "lineages", "genotypes", "lineage_entropy",
                "top_lineage_share", "mean_age", "mean_net_energy", "mean_offspring",
                "mean_generation", "max_generation", "mean_genome_bytes", "steps_per_tick",
                "eaten_per_tick", "kills", "signals_per_tick")
DEATH_FIELDS = ("tick", "deaths", "mean_lifetime", "mean_children")


# ---- what is measured ------------------------------------------------------------------------

def living_stats(world: EcologyWorld) -> dict[str, float]:
    """The living at this tick, summed up (``STUDY_FIELDS``). Rates per tick of life divide
    an organism's counters by its age + 1 (it has lived through age + 1 ticks' actions at
    most), then average over the living."""
    s, now = world.state, world.tick_count
    live = np.flatnonzero(s.alive)
    row: dict[str, float] = dict.fromkeys(STUDY_FIELDS, 0.0)
    row["tick"] = now
    if not live.size:
        return row
    lineage = s.lineage[live]
    _, counts = np.unique(lineage, return_counts=True)
    p = counts / live.size
    life = (now - s.born[live] + 1).astype(np.float64)
    encode = world.substrate.encode
    row.update(
        organisms=int(live.size), lineages=int(counts.size),
        genotypes=len({encode(world.genome(i)) for i in live.tolist()}),
        lineage_entropy=float(-(p * np.log2(p)).sum() + 0.0),     # + 0.0: no "-0.0"
        top_lineage_share=float(counts.max() / live.size),
        mean_age=float((now - s.born[live]).mean()),
        mean_net_energy=float((s.eaten[live] + s.energy[live] - s.birth_energy[live]).mean()),
        mean_offspring=float(s.offspring[live].mean()),
        mean_generation=float(s.generation[live].mean()),
        max_generation=int(s.generation[live].max()),
        mean_genome_bytes=float(s.genome_bytes[live].mean()),
        steps_per_tick=float((s.moved[live] / life).mean()),
        eaten_per_tick=float((s.eaten[live] / life).mean()),
        kills=int(s.kills[live].sum()),
        signals_per_tick=float((s.signals[live] / life).mean()))
    return row


def read_phylogeny(path: Path) -> dict[str, np.ndarray]:
    """phylogeny.csv (ALife data standard, one parent at most) as arrays: id, parent (-1 for
    none), origin and destruction (-1 while alive)."""
    ids, parents, origin, end = [], [], [], []
    with open(path, newline="") as f:
        for row in csv.DictReader(f):
            ids.append(int(row["id"]))
            inside = row["ancestor_list"].strip("[]").strip()
            parents.append(-1 if inside.lower() in ("none", "") else int(inside.split(",")[0]))
            origin.append(int(row["origin_time"]))
            d = row["destruction_time"].strip()
            end.append(-1 if d in ("", "inf", "none") else int(float(d)))
    as64 = lambda xs: np.array(xs, dtype=np.int64)  # noqa: E731 - local shorthand
    return {"id": as64(ids), "parent": as64(parents), "origin": as64(origin),
            "destruction": as64(end)}


def death_windows(phylo: dict[str, np.ndarray], window: int, until: int
                  ) -> list[dict[str, float]]:
    """Per window ``[k * window, (k + 1) * window)`` up to ``until``: how many organisms
    died in it, their mean lifetime (death - birth) and mean number of children. A row is
    labelled with its window's end; windows without deaths have 0 means."""
    ids, parent = phylo["id"], phylo["parent"]
    born, died = phylo["origin"], phylo["destruction"]
    order = np.argsort(ids)
    has = parent >= 0
    children = np.zeros(ids.size, dtype=np.int64)
    at = np.searchsorted(ids[order], parent[has])
    ok = (at < ids.size) & (ids[order][np.minimum(at, ids.size - 1)] == parent[has])
    np.add.at(children, order[at[ok]], 1)
    dead = died >= 0
    rows = []
    for k in range(max(0, math.ceil(until / window))):
        lo, hi = k * window, min((k + 1) * window, until + 1)
        sel = dead & (died >= lo) & (died < hi)
        n = int(sel.sum())
        rows.append({"tick": min((k + 1) * window, until), "deaths": n,
                     "mean_lifetime": float((died[sel] - born[sel]).mean()) if n else 0.0,
                     "mean_children": float(children[sel].mean()) if n else 0.0})
    return rows


def dominant(world: EcologyWorld, top: int = 3) -> str:
    """Markdown about the ``top`` largest lineages alive: size, generations, what their
    members do per tick of life, and their most common genome, disassembled (for brains
    whose substrate has ``disassemble``, else its encoded size)."""
    s, now = world.state, world.tick_count
    live = np.flatnonzero(s.alive)
    lines = [f"# Dominant lineages at tick {now}", "",
             f"{live.size} organisms alive in {np.unique(s.lineage[live]).size} lineages.", ""]
    if not live.size:
        return "\n".join(lines + ["Nothing is alive."]) + "\n"
    lineages, counts = np.unique(s.lineage[live], return_counts=True)
    for rank, k in enumerate(np.argsort(-counts, kind="stable")[:top], start=1):
        members = live[s.lineage[live] == lineages[k]]
        life = (now - s.born[members] + 1).astype(np.float64)
        genomes = Counter(world.substrate.encode(world.genome(i)) for i in members.tolist())
        best, copies = genomes.most_common(1)[0]
        genome = world.substrate.decode(best)
        text = describe_genome(world, genome)
        lines += [f"## {rank}. lineage {int(lineages[k])}: {members.size} organisms "
                  f"({members.size / live.size:.0%})", "",
                  f"- generations {int(s.generation[members].min())}-"
                  f"{int(s.generation[members].max())}; {len(genomes)} distinct genomes; "
                  f"mean age {float((now - s.born[members]).mean()):.0f} ticks",
                  f"- per tick of life: {float((s.moved[members] / life).mean()):.2f} steps, "
                  f"{float((s.eaten[members] / life).mean()):.2f} energy eaten, "
                  f"{float((s.signals[members] / life).mean()):.2f} signals; "
                  f"{int(s.kills[members].sum())} kills, "
                  f"{int(s.assists[members].sum())} assists in all",
                  f"- mean energy {float(s.energy[members].mean()):.0f}, mean children "
                  f"{float(s.offspring[members].mean()):.2f}",
                  f"- its most common genome ({copies} copies, {len(best)} bytes):", "",
                  "```", text.rstrip(), "```", ""]
    return "\n".join(lines)


def describe_genome(world: EcologyWorld, genome: Any) -> str:
    """The genome as text: the wasm IR's disassembly, or what the substrate can say."""
    try:
        from primordia.brains.wasm.asm import disassemble
        from primordia.brains.wasm.ir import WasmGenome
        if isinstance(genome, WasmGenome):
            return disassemble(genome)
    except ImportError:      # pragma: no cover - the wasm brain is part of the package
        pass
    return f"({type(genome).__name__}, {len(world.substrate.encode(genome))} bytes encoded)"


# ---- one seed ---------------------------------------------------------------------------------

class StudySampler(Reporter):
    """Appends ``living_stats`` to ``study.csv`` at every sample of the run's timeline."""

    def __init__(self, path: Path, keep_until: int | None) -> None:
        self.path = path
        rows = []
        if keep_until is not None and path.exists():
            with open(path, newline="") as f:
                rows = [r for r in csv.DictReader(f) if float(r["tick"]) <= keep_until]
        write_rows(path, STUDY_FIELDS, rows)

    def sampled(self, run: Any, metrics: dict[str, Any]) -> None:
        row = living_stats(run.world)
        with open(self.path, "a", newline="") as f:
            csv.DictWriter(f, STUDY_FIELDS).writerow(row)


def read_rows(path: Path) -> list[dict[str, float]]:
    with open(path, newline="") as f:
        return [{k: float(v) for k, v in row.items()} for row in csv.DictReader(f)]


def write_rows(path: Path, fields: Sequence[str], rows: list[dict[str, Any]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="") as f:
        out = csv.DictWriter(f, fields)
        out.writeheader()
        out.writerows(rows)


def run_seed(seed: int, opts: argparse.Namespace, overrides: dict[str, Any]) -> Path:
    """Run (or resume, or leave alone if finished) seed ``seed``; its run directory."""
    out = Path(opts.out) / f"seed-{seed}"
    study = out / "study.csv"
    if (out / "checkpoint.npz").exists():
        run = EcologyRun.resume(out, opts.ticks)
        at = run.position()
        if at >= opts.ticks and study.exists() and (out / "summary.json").exists():
            print(f"seed {seed}: finished at tick {at}", flush=True)
            return out
        run.reporters.append(StudySampler(study, at))
        print(f"seed {seed}: resuming at tick {at}", flush=True)
    else:
        config = EcologyConfig.build({**overrides, "seed": seed, "ticks": opts.ticks},
                                     source="study settings")
        run = EcologyRun(config, out=out, timeline=opts.sample,
                         record_every=max(opts.sample, opts.ticks // 50),
                         checkpoint_every=opts.checkpoint_every,
                         reporters=[StudySampler(study, None)])
    run.reporters.append(Progress(seed, opts.ticks, opts.progress))
    run.execute()
    write_rows(out / "deaths.csv", DEATH_FIELDS,
               death_windows(read_phylogeny(out / "phylogeny.csv"), opts.sample, opts.ticks))
    (out / "dominant.md").write_text(dominant(run.world))
    return out


class Progress(Reporter):
    """A line every ``every`` ticks: where the run is and how fast it goes."""

    def __init__(self, seed: int, ticks: int, every: int) -> None:
        self.seed, self.ticks, self.every, self.t0 = seed, ticks, every, time.perf_counter()

    def sampled(self, run: Any, metrics: dict[str, Any]) -> None:
        at = run.position()
        if self.every and at % self.every == 0:
            print(f"seed {self.seed}: tick {at:,}/{self.ticks:,}, {metrics['organisms']:,} "
                  f"organisms, {metrics['lineages']:,} lineages, generation "
                  f"{metrics['max_generation']:,}, {time.perf_counter() - self.t0:,.0f} s",
                  flush=True)


# ---- all seeds: plots and a table ------------------------------------------------------------

PANELS = (("organisms", "organisms alive", "study"),
          ("mean_lifetime", "lifetime of those that died (ticks)", "deaths"),
          ("mean_net_energy", "net energy of the living (eaten + held - born with)", "study"),
          ("mean_children", "children of those that died", "deaths"),
          ("genotypes", "distinct genomes alive", "study"),
          ("lineage_entropy", "lineage entropy (bits)", "study"),
          ("max_generation", "highest generation alive", "study"),
          ("steps_per_tick", "steps per tick of life (mean of the living)", "study"))


def plot(runs: dict[int, Path], png: Path) -> None:
    """One panel per measure over time, a line per seed."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(4, 2, figsize=(11, 12), sharex=True)
    for seed, out in sorted(runs.items()):
        tables = {"study": read_rows(out / "study.csv"), "deaths": read_rows(out / "deaths.csv")}
        for ax, (key, title, table) in zip(axes.flat, PANELS):
            rows = tables[table]
            ax.plot([r["tick"] for r in rows], [r[key] for r in rows], label=f"seed {seed}",
                    linewidth=1)
            ax.set_title(title, fontsize=10)
    for ax in axes[-1]:
        ax.set_xlabel("tick")
    axes.flat[0].legend(fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=90)
    plt.close(fig)


def summary_table(runs: dict[int, Path]) -> str:
    """Markdown: per seed, the last sample and the means over the last tenth of the run."""
    head = ("| seed | organisms | lineages | genomes | max generation | lifetime | children "
            "| net energy | steps/tick |")
    lines = [head, "|---:" * (head.count("|") - 1) + "|"]
    for seed, out in sorted(runs.items()):
        study, deaths = read_rows(out / "study.csv"), read_rows(out / "deaths.csv")
        last = study[-1]
        tail = deaths[-max(1, len(deaths) // 10):]
        lived = [r for r in tail if r["deaths"]]
        mean = lambda key: (sum(r[key] * r["deaths"] for r in lived)  # noqa: E731
                            / max(1, sum(r["deaths"] for r in lived)))
        lines.append(f"| {seed} | {last['organisms']:.0f} | {last['lineages']:.0f} | "
                     f"{last['genotypes']:.0f} | {last['max_generation']:.0f} | "
                     f"{mean('mean_lifetime'):.0f} | {mean('mean_children'):.2f} | "
                     f"{last['mean_net_energy']:.0f} | {last['steps_per_tick']:.2f} |")
    return "\n".join(lines)


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``--set KEY=VALUE`` world settings (``key_value``: values read as TOML values)."""
    return dict(key_value(item, "--set") for item in items)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    ap.add_argument("--ticks", type=int, default=100_000)
    ap.add_argument("--sample", type=int, default=500, help="ticks between samples")
    ap.add_argument("--checkpoint-every", type=int, default=10_000)
    ap.add_argument("--progress", type=int, default=5000, help="ticks between progress lines")
    ap.add_argument("--config", type=Path, help="TOML of world settings")
    ap.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--out", type=Path, default=Path("runs/ecology-study"))
    ap.add_argument("--png", type=Path, help="plot path (default OUT/ecology_study.png)")
    ap.add_argument("--plot-only", action="store_true", help="plot runs already in OUT")
    opts = ap.parse_args(argv)
    if opts.ticks < 1 or opts.sample < 1 or opts.checkpoint_every < 0:
        ap.error("--ticks and --sample must be at least 1; --checkpoint-every at least 0")
    runs = {}
    try:
        overrides = read_toml(opts.config) if opts.config else {}
        overrides.update(parse_sets(opts.sets))
        for seed in opts.seeds:
            out = opts.out / f"seed-{seed}"
            runs[seed] = out if opts.plot_only else run_seed(seed, opts, overrides)
    except ConfigError as exc:          # a bad setting or a damaged run directory
        print(f"error: {exc}", file=sys.stderr)
        return 2
    png = opts.png or opts.out / "ecology_study.png"
    plot(runs, png)
    print(summary_table(runs))
    print(f"plots: {png}")
    for seed, out in sorted(runs.items()):
        print(f"seed {seed}: {out / 'dominant.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
