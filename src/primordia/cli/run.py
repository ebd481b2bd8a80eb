"""``primordia run WORLD``: run a world from flags or a TOML config into a run directory."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any, Optional

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from primordia.core.errors import ConfigError
from primordia.runs.hex_run import HexRun
from primordia.runs.sandbox_run import SandboxRun
from primordia.runs.world_run import Reporter, WorldRun
from primordia.runs.timeline import sparkline
from primordia.worlds.sandbox import constants as c
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.sandbox.config import SandboxConfig

app = typer.Typer(help="Run a world, or resume a run.")

SPARK_KEYS = ("alive", "trades", "teaches", "attacks", "heals", "gold", "stress",
              "best_fitness", "mean_fitness", "genome_mean")
CUMULATIVE = ("trades", "teaches", "attacks", "heals")
"""Counters shown per sample (the change since the previous one), not as running totals."""


class ConsoleReporter(Reporter):
    """Progress bar and CSV rows while any world's run goes; a world's reporter adds what it
    shows per tick (``show``) and per timeline sample (``line``)."""

    def __init__(self, console: Console, csv_out: bool, verbose: bool) -> None:
        self.console, self.csv_out, self.verbose = console, csv_out, verbose
        self.progress: Progress | None = None
        self.header_done = False

    def status(self, run: WorldRun) -> str:
        return ""

    def line(self, m: dict[str, Any]) -> str:
        return ""

    def show(self, run: WorldRun) -> None:
        pass

    def started(self, run: WorldRun) -> None:
        if self.console.is_terminal:
            self.progress = Progress(TextColumn(run.WORLD), BarColumn(), TextColumn(
                "{task.completed:,}/{task.total:,} " + run.UNIT + "s"),
                TextColumn("{task.fields[status]}"), TimeRemainingColumn(),
                console=self.console, transient=True)
            self.task = self.progress.add_task("run", total=run.limit, status="")
            self.progress.start()
        self.last = time.perf_counter()

    def ticked(self, run: WorldRun, delta: Any = None) -> None:
        if self.progress is not None and (time.perf_counter() - self.last > 0.1
                                          or run.position() == run.limit):
            self.last = time.perf_counter()
            self.progress.update(self.task, completed=run.position(), status=self.status(run))
        self.show(run)

    def sampled(self, run: WorldRun, m: dict[str, Any]) -> None:
        if self.csv_out:
            if not self.header_done:
                print(",".join(m), flush=True)
                self.header_done = True
            print(",".join(str(v) for v in m.values()), flush=True)
        if self.verbose:
            self.console.print(self.line(m), highlight=False)

    def finished(self, run: WorldRun) -> None:
        if self.progress is not None:
            self.progress.stop()


class SandboxReporter(ConsoleReporter):
    """The sandbox's: NPCs alive, ASCII maps every ``snap_every`` ticks."""

    def __init__(self, console: Console, csv_out: bool, snap_every: int, verbose: bool) -> None:
        super().__init__(console, csv_out, verbose)
        self.snap_every = snap_every

    def status(self, run: WorldRun) -> str:
        return f"{int(run.world.state.alive.sum())} alive"

    def show(self, run: WorldRun) -> None:
        w = run.world
        if self.snap_every and w.tick_no % self.snap_every == 0:
            self.console.print(f"tick {w.tick_no}", highlight=False)
            self.console.print(w.ascii_map(), highlight=False, markup=False)

    def line(self, m: dict[str, Any]) -> str:
        return (f"t={m['tick']} alive={m['alive']} food={m['food']} trades={m['trades']} "
                f"best={m['best_fitness']} genome={m['genome_mean']}")


class HexReporter(ConsoleReporter):
    """The hex world's: organisms alive."""

    def status(self, run: WorldRun) -> str:
        return f"{run.world.population} organisms"

    def line(self, m: dict[str, Any]) -> str:
        return (f"turn={m['turns']} organisms={m['organisms']} meals={m['meals_last_turn']} "
                f"starved={m['starvations_last_turn']} generation={m['max_generation']}")


def _print_summary(console: Console, run: SandboxRun) -> None:
    w, summary = run.world, run.summary()
    m = summary["final"]
    console.rule(f"[bold]sandbox: {m['tick']:,} ticks, seed {run.config.seed}")
    table = Table(show_header=False, box=None)
    for key in ("alive", "food", "trades", "teaches", "attacks", "kills", "heals", "harvests",
                "terraforms", "crafts", "gold"):
        table.add_row(key, f"{m[key]:,}")
    table.add_row("live NPC-ticks", f"{w.live_npc_ticks:,}")
    rate = summary["npc_ticks_per_second"]
    table.add_row("speed", f"{rate:,} NPC-ticks/s, {run.wall_seconds:.2f} s "
                  f"(+{run.jit_seconds:.1f} s JIT)" if rate else f"{run.wall_seconds:.2f} s")
    table.add_row("state hash", summary["state_hash"][:32])
    console.print(table)
    live = w.alive_slots()
    if live.size:
        s = w.state
        top = live[__import__("numpy").lexsort((s.npc_id[live], -s.fitness[live]))][:5]
        t = Table(title="Top NPCs", title_justify="left")
        for col in ("id", "fitness", "age", "food", "gold", "item", "crafts", "teaches",
                    "genome"):
            t.add_column(col, justify="right")
        for i in top.tolist():
            t.add_row(str(s.npc_id[i]), str(s.fitness[i]), str(s.age[i]), str(s.food_eaten[i]),
                      str(s.gold[i]), c.ITEM_NAMES[s.item[i]], str(s.crafts[i]),
                      str(s.teaches[i]), f"{len(w.substrate.encode(w.genomes[i]))} B")
        console.print(t)
        best = int(top[0])
        console.print(f"best NPC {s.npc_id[best]} (fitness {s.fitness[best]}), its genome:",
                      highlight=False)
        console.print(w.substrate.to_text(w.genomes[best]), highlight=False, markup=False)
    timeline(console, run.samples, "tick", "tick", SPARK_KEYS, CUMULATIVE)


def timeline(console: Console, samples: list[dict[str, Any]], clock: str, unit: str,
             keys: tuple[str, ...], cumulative: tuple[str, ...] = ()) -> None:
    """The run's samples as one sparkline per metric, with its range; ``cumulative`` metrics
    (running totals) are shown per sample instead."""
    if len(samples) < 2:
        return
    t = Table(title=f"Timeline ({len(samples)} samples, {unit} {samples[0][clock]:,} to "
              f"{samples[-1][clock]:,})", title_justify="left")
    t.add_column("metric", no_wrap=True)
    t.add_column("min", justify="right", no_wrap=True)
    t.add_column("", no_wrap=True)
    t.add_column("max", justify="right", no_wrap=True)
    width = max(16, min(80, console.width - 46))
    for key in keys:
        vals = [float(x[key]) for x in samples]
        if key in cumulative:
            vals = [b - a for a, b in zip(vals, vals[1:])]
            key = f"{key}/sample"
        t.add_row(key, f"{min(vals):.6g}", sparkline(vals, width), f"{max(vals):.6g}")
    console.print(t)


@app.command("sandbox")
def sandbox(
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file of settings."),
    npcs: Optional[int] = typer.Option(None, "--npcs", help="Initial population (20)."),
    world: Optional[int] = typer.Option(None, "--world", help="World side; 0 = auto."),
    ticks: Optional[int] = typer.Option(None, "--ticks", help="Ticks to run (10000)."),
    gas: Optional[int] = typer.Option(None, "--gas", help="Base gas per think (200)."),
    evolve_every: Optional[int] = typer.Option(None, "--evolve-every", help="GA every N (100)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed (42)."),
    crossover: Optional[str] = typer.Option(None, "--crossover", help="growth | classic."),
    classic_rate: Optional[float] = typer.Option(None, "--classic-rate", help="(0.20)"),
    max_genome: Optional[int] = typer.Option(None, "--max-genome", help="Bytes (128)."),
    genome_grow: Optional[int] = typer.Option(None, "--genome-grow", help="Bytes (64)."),
    genome_grow_every: Optional[int] = typer.Option(None, "--genome-grow-every"),
    gas_grow: Optional[int] = typer.Option(None, "--gas-grow", help="(10)"),
    gas_grow_every: Optional[int] = typer.Option(None, "--gas-grow-every"),
    snap_every: int = typer.Option(0, "--snap-every", help="Print the map every N ticks."),
    timeline: int = typer.Option(0, "--timeline", help="Sample every N ticks; 0 = ~80."),
    csv_out: bool = typer.Option(False, "--csv", help="Timeline as CSV on stdout."),
    verbose: bool = typer.Option(False, "--verbose", help="A line per timeline sample."),
    record: Optional[Path] = typer.Option(None, "--record",
                                          help="Recording path (default OUT/record.jsonl.gz)."),
    record_every: int = typer.Option(100, "--record-every", help="Ticks between frames."),
    checkpoint_every: int = typer.Option(0, "--checkpoint-every",
                                         help="Ticks between checkpoints (0: at the end)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory to write."),
    threads: int = typer.Option(1, "--threads", help="Threads for the brains."),
) -> None:
    """Run the NPC sandbox: micro-PSIL brains that sense, act, trade and evolve."""
    given = {"npcs": npcs, "world": world, "ticks": ticks, "gas": gas,
             "evolve_every": evolve_every, "seed": seed, "crossover": crossover,
             "classic_rate": classic_rate, "max_genome": max_genome,
             "genome_grow": genome_grow, "genome_grow_every": genome_grow_every,
             "gas_grow": gas_grow, "gas_grow_every": gas_grow_every}
    overrides = {k: v for k, v in given.items() if v is not None}
    cfg = (SandboxConfig.from_toml(config, overrides) if config is not None
           else SandboxConfig.build(overrides, source="options"))
    if not 1 <= threads <= 256:
        raise ConfigError("--threads must be in 1..256")
    if snap_every < 0 or timeline < 0:
        raise ConfigError("--snap-every and --timeline must be >= 0")
    console = Console(stderr=csv_out)
    if out is None:
        out = Path("runs") / f"sandbox-seed{cfg.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    run = SandboxRun(cfg, out=out, threads=threads, timeline=timeline, record=record,
                     record_every=record_every, checkpoint_every=checkpoint_every,
                     reporters=[SandboxReporter(console, csv_out, snap_every, verbose)])
    _finish(console, run)


def _finish(console: Console, run: SandboxRun) -> None:
    run.execute()
    _print_summary(console, run)
    console.print(f"run directory: {run.out}", highlight=False)
    sys.stdout.flush()


HEX_SPARKS = ("organisms", "actions_applied_last_turn", "meals_last_turn",
              "starvations_last_turn", "births_last_turn", "synapse_ops_last_turn",
              "max_generation")


def _print_hex_summary(console: Console, run: HexRun) -> None:
    summary = run.summary()
    m = summary["final"]
    console.rule(f"[bold]hex: {m['turns']:,} turns, {run.brain} brains, seed "
                 f"{run.config.seed}")
    table = Table(show_header=False, box=None)
    for key in ("organisms", "total_moves", "total_meals", "total_starvations",
                "total_births", "total_replacements", "total_synapse_ops", "max_generation"):
        table.add_row(key.removeprefix("total_"), f"{m[key]:,}")
    table.add_row("organism-turns", f"{run.organism_turns:,}")
    rate = summary["organism_turns_per_second"]
    table.add_row("speed", f"{rate:,} organism-turns/s, {run.wall_seconds:.2f} s "
                  f"(+{run.jit_seconds:.1f} s JIT)" if rate else f"{run.wall_seconds:.2f} s")
    table.add_row("state hash", summary["state_hash"][:32])
    console.print(table)
    w = run.world
    live = w.alive_slots()
    if live.size:
        s = w.state
        top = live[__import__("numpy").lexsort((s.oid[live], -s.meals[live]))][:5]
        t = Table(title="Most meals", title_justify="left")
        for col in ("id", "meals", "hunger", "generation", "born", "q", "r"):
            t.add_column(col, justify="right")
        for i in top.tolist():
            t.add_row(*(str(v) for v in (s.oid[i], s.meals[i], s.hunger[i], s.generation[i],
                                         s.born[i], s.q[i], s.r[i])))
        console.print(t)
        console.print(f"organism {s.oid[top[0]]}'s brain:", highlight=False)
        console.print(w.substrate.to_text(w.genome(int(top[0]))), highlight=False,
                      markup=False)
    timeline(console, run.samples, "turns", "turn", HEX_SPARKS)


@app.command("hex")
def hex_world(
    config: Optional[Path] = typer.Option(None, "--config", help="TOML file of settings."),
    turns: Optional[int] = typer.Option(None, "--turns", help="Turns to run (1000)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Seed (42)."),
    width: Optional[int] = typer.Option(None, "--width", help="Cells per side (20)."),
    organisms: Optional[int] = typer.Option(None, "--organisms", help="Population (200)."),
    brain: str = typer.Option("neural", "--brain", help="neural | psil."),
    timeline: int = typer.Option(0, "--timeline", help="Sample every N turns; 0 = ~80."),
    csv_out: bool = typer.Option(False, "--csv", help="Timeline as CSV on stdout."),
    verbose: bool = typer.Option(False, "--verbose", help="A line per timeline sample."),
    record: Optional[Path] = typer.Option(None, "--record",
                                          help="Recording path (default OUT/record.jsonl.gz)."),
    record_every: int = typer.Option(100, "--record-every",
                                     help="Turns between full snapshots in the recording."),
    checkpoint_every: int = typer.Option(0, "--checkpoint-every",
                                         help="Turns between checkpoints (0: at the end)."),
    out: Optional[Path] = typer.Option(None, "--out", help="Run directory to write."),
    threads: int = typer.Option(1, "--threads", help="Threads for the brains."),
) -> None:
    """Run the NeuroGenesis hex world: organisms that see, turn, move, eat and starve."""
    given = {"turns": turns, "seed": seed, "world_width": width, "num_organisms": organisms}
    overrides = {k: v for k, v in given.items() if v is not None}
    cfg = (HexConfig.from_toml(config, overrides) if config is not None
           else HexConfig.build(overrides, source="options"))
    if not 1 <= threads <= 256:
        raise ConfigError("--threads must be in 1..256")
    console = Console(stderr=csv_out)
    if out is None:
        out = Path("runs") / f"hex-seed{cfg.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    run = HexRun(cfg, out=out, brain=brain, threads=threads, timeline=timeline, record=record,
                 record_every=record_every, checkpoint_every=checkpoint_every,
                 reporters=[HexReporter(console, csv_out, verbose)])
    _finish_hex(console, run)


def _finish_hex(console: Console, run: HexRun) -> None:
    run.execute()
    _print_hex_summary(console, run)
    console.print(f"run directory: {run.out}", highlight=False)
    sys.stdout.flush()


@app.callback(invoke_without_command=True)
def run_group(
    ctx: typer.Context,
    resume: Optional[Path] = typer.Option(None, "--resume", help="Continue the run saved in "
                                          "this run directory from its last checkpoint."),
    ticks: Optional[int] = typer.Option(None, "--ticks", help="With --resume: ticks (turns) "
                                        "in total."),
    turns: Optional[int] = typer.Option(None, "--turns", help="With --resume: the same as "
                                        "--ticks, for turn-based worlds."),
    threads: int = typer.Option(1, "--threads", help="With --resume: threads for the brains."),
) -> None:
    """Run a world (``primordia run sandbox|hex ...``) or resume a run (``--resume DIR``)."""
    if ctx.invoked_subcommand is not None:
        if resume is not None:
            raise ConfigError("--resume takes no world: primordia run --resume RUN_DIR")
        return
    if resume is None:
        typer.echo(ctx.get_help())
        raise typer.Exit(0)
    ticks = turns if ticks is None else ticks
    if ticks is not None and ticks < 0:
        raise ConfigError("--ticks must be >= 0")
    console = Console()
    if _world_of(resume) == "hex":
        hex_run = HexRun.resume(resume, turns=ticks, threads=threads,
                                reporters=[HexReporter(console, False, False)])
        console.print(f"resuming {resume} at turn {hex_run.world.turn:,} "
                      f"of {hex_run.config.turns:,}", highlight=False)
        _finish_hex(console, hex_run)
        return
    run = SandboxRun.resume(resume, ticks=ticks, threads=threads,
                            reporters=[SandboxReporter(console, False, 0, False)])
    console.print(f"resuming {resume} at tick {run.world.tick_no:,} "
                  f"of {run.config.ticks:,}", highlight=False)
    _finish(console, run)


def _world_of(run_dir: Path) -> str:
    """The world a run directory's checkpoint belongs to (from its metadata)."""
    from primordia.runs.checkpoint import read_meta
    from primordia.runs.sandbox_run import CHECKPOINT

    return str(read_meta(Path(run_dir) / CHECKPOINT).get("world", "sandbox"))
