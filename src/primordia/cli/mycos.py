"""``primordia mycos``: compile Mycos genomes to their binary phenotype, score them on tasks."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(help="Mycos bit networks: compile genomes to .myc files, score them.",
                  no_args_is_help=True)


@app.command(name="compile")
def compile_(
    genome: Path = typer.Argument(..., help="A genome JSON file."),
    output: Path = typer.Option(..., "-o", "--output",
                                help="Directory for chunk_NNN.myc and links.bin."),
    prune: bool = typer.Option(False, "--prune",
                               help="Leave out connections and links that can never fire."),
    no_caps: bool = typer.Option(False, "--no-caps",
                                 help="Accept genomes over evolution's size caps (64 chunks, "
                                      "256 connections and internal bits per chunk, 256 links)."),
) -> None:
    """Validate a genome and write one MycosChunk v1 file per chunk plus links.bin."""
    from primordia.brains.mycos.compiler import compile_genome, prune as prune_genome
    from primordia.brains.mycos.compiler import write_phenotype
    from primordia.brains.mycos.genome import DEFAULT_CAPS, NO_CAPS, load_genome

    caps = NO_CAPS if no_caps else DEFAULT_CAPS
    g = load_genome(genome, caps)
    kept = prune_genome(g) if prune else g
    paths = write_phenotype(compile_genome(g, caps, pruned=prune), output)
    dropped = g.n_connections - kept.n_connections + len(g.links) - len(kept.links)
    typer.echo(f"wrote {len(paths) - 1} chunk file(s) and links.bin to {output}: "
               f"{kept.n_connections} connections, {len(kept.links)} links"
               + (f" ({dropped} pruned)" if prune else ""))


@app.command(name="eval")
def eval_(
    genome: Path = typer.Argument(..., help="A genome JSON file."),
    task: str = typer.Option(..., "--task", help="A shipped task name or a task .json."),
    as_json: bool = typer.Option(False, "--json", help="One JSON object on stdout."),
) -> None:
    """Score a genome on a task: per-episode scores, outputs and metrics, and its fitness."""
    import json

    from primordia.brains.mycos.batch import METRIC_NAMES
    from primordia.brains.mycos.genome import load_genome
    from primordia.tasks.scoring import evaluate_task
    from primordia.tasks.task import load_task

    t = load_task(task)
    g = load_genome(genome)
    r = evaluate_task(t, [g])
    observed = t.observed(r.seen)[0]
    episodes = [{"score": float(r.scores[0, e]), "outputs": observed[e].tolist(),
                 "expected": ep.expected,
                 **{name: int(v) for name, v in zip(METRIC_NAMES, r.metrics[0, e].tolist())}}
                for e, ep in enumerate(t.episodes)]
    report = {"task": t.name, "score": float(r.scores[0].mean()),
              "fitness": float(r.fitness[0]), "objectives": r.objectives[0].tolist(),
              "episodes": episodes}
    if as_json:
        typer.echo(json.dumps(report))
        return
    typer.echo(f"{t.name}: score {report['score']:.4f}, fitness {report['fitness']:.6f}")
    for e, ep in enumerate(episodes):
        typer.echo(f"  episode {e}: score {ep['score']:.3f}  outputs {ep['outputs']}  expected "
                   f"{ep['expected']}  rounds {ep['rounds']}  effects {ep['effects_applied']}"
                   + (f"  oscillates (period {ep['period']})" if ep["oscillator"] else ""))
