"""``primordia evolve``: evolve genomes on tasks (generational runs)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

app = typer.Typer(help="Evolve genomes on tasks.", no_args_is_help=True)


@app.command()
def mycos(
    task: str = typer.Option("T01_xor2", "--task", help="A shipped task name or a task .json."),
    pop: int = typer.Option(512, "--pop", help="Population size."),
    gens: Optional[int] = typer.Option(None, "--gens", help="Generations at most (200; with "
                                       "--resume, the total to reach)."),
    seed: int = typer.Option(0, "--seed", help="Run seed."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory to write."),
    threads: int = typer.Option(1, "--threads", help="Threads for the batched evaluator."),
    selection: str = typer.Option("species", "--selection", help="species (tournaments and "
                                  "elites within species) or nsga2 (Pareto fronts of score "
                                  "and size)."),
    novelty: float = typer.Option(1.0, "--novelty", help="Weight of fitness against novelty "
                                  "of behaviour: 1 fitness only, 0 novelty only."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress lines."),
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the run in this "
                                          "directory from its checkpoint."),
) -> None:
    """Evolve Mycos networks on a task until it is solved or the generations run out."""
    from pydantic import ValidationError

    from primordia.core.config import describe
    from primordia.core.errors import ConfigError
    from primordia.runs.mycos_run import MycosEvolveConfig, load_checkpoint, timed_evolve
    from primordia.runs.rundir import RunDirectory
    from primordia.tasks.task import load_task

    console = Console(stderr=True, highlight=False)
    run = None
    if resume is not None:
        run = load_checkpoint(resume)
        if gens is not None:
            run.config = run.config.model_copy(update={"gens": gens})
        cfg, t, out = run.config, run.task, resume
    else:
        try:
            cfg = MycosEvolveConfig(pop=pop, gens=200 if gens is None else gens, seed=seed,
                                    threads=threads, selection=selection, novelty=novelty)
        except ValidationError as exc:
            raise ConfigError(f"--{describe(exc)}") from None
        t = load_task(task)
        if out is None:
            out = Path("runs") / f"mycos-{t.name}-seed{seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    rundir = RunDirectory(out)

    def report(s) -> None:
        if not quiet:
            console.print(f"gen {s.generation:>4}  best {s.best_fitness:.4f}  mean "
                          f"{s.mean_fitness:.4f}  score {s.best_score:.3f}  "
                          + (f"front {s.front:>4}" if cfg.selection == "nsga2"
                             else f"species {s.species:>3}")
                          + f"  evaluations {s.evaluations:,}")

    run, summary = timed_evolve(cfg, t, rundir, report, run=run)
    solved = summary["generation_solved"]
    console.print(f"{t.name}: " + (f"solved at generation {solved}" if solved is not None
                                   else f"not solved in {run.generation} generations")
                  + f"; best score {summary['best_score']:.3f}, fitness "
                  f"{summary['best_fitness']:.4f}, {summary['evaluations']:,} evaluations, "
                  f"{summary['wall_seconds']:.1f} s")
    console.print(f"run directory: {out}")


@app.command()
def islands(
    experiment: Path = typer.Argument(..., help="Experiment TOML (see examples/)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory (default: "
                                       "runs/islands-<name>); an existing one resumes."),
    procs: int = typer.Option(0, "--procs", help="Islands at once (0: one per core)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress lines."),
) -> None:
    """Run an island experiment on this machine: coordinator, database and workers."""
    import os

    from primordia.core.errors import ConfigError
    from primordia.distributed.embedded import run_embedded
    from primordia.distributed.experiment import load_experiment

    exp = load_experiment(experiment)
    if procs < 0 or procs > 1024:
        raise ConfigError("--procs must be in 0..1024")
    procs = procs or os.cpu_count() or 1
    out = out or Path("runs") / f"islands-{exp.name}"
    console = Console(stderr=True, highlight=False)
    shown: dict[str, object] = {}

    def on_status(status: dict) -> None:
        e = next(x for x in status["experiments"] if x["name"] == exp.name)
        line = (f"generation {e['generation'] + (e['status'] == 'done')}/{e['generations']}"
                f"  closed {e['closed']}  jobs "
                + ", ".join(f"{k} {v}" for k, v in sorted(e["jobs"].items()))
                + f"  genomes {e['genomes']}")
        if not quiet and shown.get("line") != line:
            shown["line"] = line
            console.print(line)

    summary = run_embedded(exp, out, procs=procs, source_text=experiment.read_text(),
                           on_status=on_status)
    console.print(f"{exp.name}: {summary['generations']} generations, "
                  f"{summary['islands_run']} islands in {summary['wall_seconds']:.1f} s "
                  f"({summary['islands_per_hour']:,} islands/hour on {procs} processes); "
                  f"{len(summary['front'])} genomes on the last front")
    console.print(f"run directory: {out}")
    if summary["terminated"]:
        console.print("terminated (SIGTERM): started again, the run resumes")
        raise typer.Exit(143)
