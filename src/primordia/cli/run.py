"""``primordia run WORLD``: run any registered world from flags or a TOML config into a run
directory, or resume a run. The commands are made from the world registry: each world's
options are the common ones plus its run's ``FLAGS``, and what is printed comes from its run
(``status``, ``report_rows``, ``highlight``, ``SPARKS``), so a new world needs nothing here."""

from __future__ import annotations

import inspect
import sys
import time
from pathlib import Path
from typing import Any, Optional

import click
import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from typer.core import TyperGroup

from primordia.core.config import key_value
from primordia.core.errors import ConfigError
from primordia.runs.checkpoint import read_meta
from primordia.runs.founders import load as load_founders
from primordia.runs.timeline import sparkline
from primordia.runs.world_run import CHECKPOINT, Flag, Reporter, WorldRun
from primordia.worlds.registry import WORLDS, WorldKind


class ConsoleReporter(Reporter):
    """Progress bar, CSV rows, a line per timeline sample and the world's picture every
    ``snap_every`` ticks, for any world's run."""

    def __init__(self, console: Console, csv_out: bool, verbose: bool,
                 snap_every: int = 0) -> None:
        self.console, self.csv_out, self.verbose = console, csv_out, verbose
        self.snap_every = snap_every
        self.progress: Progress | None = None
        self.header_done = False

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
            self.progress.update(self.task, completed=run.position(), status=run.status())
        if self.snap_every and run.position() % self.snap_every == 0:
            picture = run.picture()
            if picture is not None:
                self.console.print(picture, highlight=False, markup=False)

    def sampled(self, run: WorldRun, m: dict[str, Any]) -> None:
        if self.csv_out:
            if not self.header_done:
                print(",".join(m), flush=True)
                self.header_done = True
            print(",".join(str(v) for v in m.values()), flush=True)
        if self.verbose:
            self.console.print(run.sample_line(m), highlight=False)

    def finished(self, run: WorldRun) -> None:
        if self.progress is not None:
            self.progress.stop()


def print_report(console: Console, run: WorldRun) -> None:
    """The end of a run: totals, speed and state hash, the notable organisms and the
    timeline's sparklines."""
    console.rule(f"[bold]{run.headline()}")
    table = Table(show_header=False, box=None)
    for label, value in run.report_rows():
        table.add_row(label, value)
    console.print(table)
    h = run.highlight()
    if h is not None:
        t = Table(title=h.title, title_justify="left")
        for col in h.columns:
            t.add_column(col, justify="right")
        for row in h.rows:
            t.add_row(*row)
        console.print(t)
        console.print(h.note, highlight=False)
        console.print(h.text, highlight=False, markup=False)
    timeline(console, run.samples, run.SAMPLE_KEY, run.UNIT, run.SPARKS, run.CUMULATIVE)


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


def _finish(console: Console, run: WorldRun) -> None:
    run.execute()
    print_report(console, run)
    console.print(f"run directory: {run.out}", highlight=False)
    sys.stdout.flush()


def _start(kind: WorldKind, values: dict[str, Any]) -> None:
    """Run ``kind`` with the options of its command (see ``world_command``)."""
    run_class = kind.run_class
    overrides = config_overrides(kind, values)
    config, threads = values["config"], values["threads"]
    cfg = (kind.config_class.from_toml(config, overrides) if config is not None
           else kind.config_class.build(overrides, source="options"))
    if not 1 <= threads <= 256:
        raise ConfigError("--threads must be in 1..256")
    snap_every = values.get("snap_every") or 0
    if snap_every < 0 or values["timeline"] < 0:
        raise ConfigError("--snap-every and --timeline must be >= 0")
    console = Console(stderr=values["csv_out"])
    out = values["out"]
    if out is None:
        out = Path("runs") / f"{kind.name}-seed{cfg.seed}-{time.strftime('%Y%m%d-%H%M%S')}"
    founders = record = None
    if values.get("founder"):
        founders, record = load_founders(run_class, cfg, values["founder"])
    run = run_class(cfg, out=out, threads=threads, founders=founders, founder_record=record,
                    timeline=values["timeline"], record=values["record"],
                    record_every=values["record_every"],
                    checkpoint_every=values["checkpoint_every"],
                    reporters=[ConsoleReporter(console, values["csv_out"], values["verbose"],
                                               snap_every)])
    _finish(console, run)


def _flag_name(flag: Flag) -> str:
    """The parameter a world's flag is passed to the command as (``--classic-rate``:
    ``classic_rate``)."""
    return flag.option.lstrip("-").replace("-", "_")


def config_overrides(kind: WorldKind, values: dict[str, Any]) -> dict[str, Any]:
    """The config keys the command's options set: the seed, the length, the world's flags
    (a key ``brain.X`` sets the brain's setting X), ``--brain`` (``brain.kind``) and every
    ``--brain-setting KEY=VALUE``."""
    out: dict[str, Any] = {k: values[k] for k in ("seed", kind.length_key)
                           if values.get(k) is not None}
    brain: dict[str, Any] = {}
    for flag in kind.run_class.FLAGS:
        value = values.get(_flag_name(flag))
        if value is None:
            continue
        if flag.key.startswith("brain."):
            brain[flag.key.removeprefix("brain.")] = value
        else:
            out[flag.key] = value
    for text in values.get("brain_setting") or ():
        key, value = key_value(text, "--brain-setting")
        brain[key] = value
    if values.get("brain") is not None:
        brain["kind"] = values["brain"]
    if brain:
        out["brain"] = brain
    return out


def _option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                             annotation=annotation)


def world_command(kind: WorldKind) -> click.Command:
    """``primordia run NAME``: the common options, then the world's own (its run's
    ``FLAGS``), each setting a config key over the defaults or the --config file."""
    run_class = kind.run_class
    unit, key = run_class.UNIT, kind.length_key
    length = kind.config_class.model_fields[key].default
    seed = kind.config_class.model_fields["seed"].default
    params = [
        _option("config", Optional[Path], typer.Option(None, "--config",
                                                       help="TOML file of settings.")),
        _option(key, Optional[int], typer.Option(None, f"--{key}",
                                                 help=f"{unit.title()}s to run ({length}).")),
        _option("seed", Optional[int], typer.Option(None, "--seed", help=f"Seed ({seed}).")),
        _option("brain", Optional[str], typer.Option(
            None, "--brain", help=" | ".join(run_class.brains()) + " (the first is the "
            "default; docs/brains/).")),
        _option("brain_setting", Optional[list[str]], typer.Option(
            None, "--brain-setting", help="KEY=VALUE: one of the brain's settings (its "
            "table `brain` in a config file); repeat for more.")),
        _option("founder", Optional[list[str]], typer.Option(
            None, "--founder", help="FILE[:COUNT]: a genome for the brain (COUNT copies) "
            "among the first organisms; repeat for more."))]
    params += [_option(_flag_name(f), Optional[f.type], typer.Option(None, f.option,
                                                                      help=f.help))
               for f in run_class.FLAGS]
    if run_class.picture is not WorldRun.picture:
        params.append(_option("snap_every", int, typer.Option(
            0, "--snap-every", help=f"Print the world every N {unit}s.")))
    params += [
        _option("timeline", int, typer.Option(0, "--timeline",
                                              help=f"Sample every N {unit}s; 0 = ~80.")),
        _option("csv_out", bool, typer.Option(False, "--csv",
                                              help="Timeline as CSV on stdout.")),
        _option("verbose", bool, typer.Option(False, "--verbose",
                                              help="A line per timeline sample.")),
        _option("record", Optional[Path], typer.Option(
            None, "--record", help="Recording path (default OUT/record.jsonl.gz).")),
        _option("record_every", int, typer.Option(
            100, "--record-every", help=f"{unit.title()}s between full snapshots in the "
            "recording.")),
        _option("checkpoint_every", int, typer.Option(
            0, "--checkpoint-every", help=f"{unit.title()}s between checkpoints (0: at the "
            "end).")),
        _option("out", Optional[Path], typer.Option(None, "--out",
                                                    help="Run directory to write.")),
        _option("threads", int, typer.Option(1, "--threads", help="Threads for the brains.")),
    ]

    def command(**values: Any) -> None:
        _start(kind, values)

    command.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    command.__doc__ = f"Run {kind.title}."
    single = typer.Typer(add_completion=False)
    single.command(name=kind.name)(command)
    return typer.main.get_command(single)


class WorldCommands(TyperGroup):
    """``primordia run``'s subcommands: one per registered world, made when asked for (so
    a world registered after import, by a plugin or a test, has its command too)."""

    def _sync(self) -> None:
        for name in WORLDS.names():
            if name not in self.commands:
                self.commands[name] = world_command(WORLDS.get(name))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._sync()

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._sync()
        return WORLDS.names()

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        self._sync()
        return self.commands.get(name) if name in WORLDS else None


app = typer.Typer(cls=WorldCommands, help="Run a world, or resume a run.")


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
    """Run a world (``primordia run WORLD ...``) or resume a run (``--resume DIR``)."""
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
    kind = WORLDS.get(_world_of(resume))
    run = kind.run_class.resume(resume, ticks, threads,
                                [ConsoleReporter(console, False, False)])
    console.print(f"resuming {resume} at {run.UNIT} {run.position():,} of {run.limit:,}",
                  highlight=False)
    _finish(console, run)


def _world_of(run_dir: Path) -> str:
    """The world a run directory's checkpoint belongs to (from its metadata)."""
    return str(read_meta(Path(run_dir) / CHECKPOINT).get("world", "sandbox"))
