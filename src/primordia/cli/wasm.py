"""``primordia wasm``: assemble, disassemble, check, compile and run wasm organisms
(docs/brains/wasm.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Optional

import orjson
import typer

from primordia.core.errors import ConfigError, GenomeError, InputFileError

app = typer.Typer(help="WebAssembly brains: assemble, disassemble, check, compile and run "
                       "organisms.", no_args_is_help=True)

MAX_STEPS = 100_000
MAX_BUDGET = (1 << 31) - 1


@app.command()
def asm(
    file: str = typer.Argument(..., help="A .wir file, or - for stdin."),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="Write the raw genome bytes to this file."),
) -> None:
    """Assemble .wir text; print the genome's canonical bytes as lowercase hex."""
    from primordia.brains.wasm.asm import assemble
    from primordia.brains.wasm.files import read_source
    from primordia.brains.wasm.ir import encode

    text, name = read_source(file)
    data = encode(assemble(text, source=name))
    if output is None:
        typer.echo(data.hex())
        return
    _write_atomic(output, data)


@app.command()
def disasm(genome: str = typer.Argument(..., help="Hex digits, or a file of hex text, raw "
                                                  "PWIR bytes or .wir text.")) -> None:
    """Print a genome's canonical text; assembling it gives the same genome."""
    from primordia.brains.wasm.asm import disassemble
    from primordia.brains.wasm.files import load_genome

    typer.echo(disassemble(load_genome(genome)), nl=False)


@app.command()
def check(
    module: str = typer.Argument(..., help="A .wasm or .wat file."),
    world: Optional[str] = typer.Option(None, "--world", help="Place the context as this "
                                        "world's (for the data-segment check); default: the "
                                        "smallest any world gives."),
) -> None:
    """Does a module keep the ABI? Prints ok, or a line per violation (exit 2)."""
    from primordia.brains.wasm.check import MAX_WAT_BYTES, check_module, load_module_bytes
    from primordia.core.files import read_bounded

    layout = None if world is None else world_layout(world, 65536)
    data = read_bounded(module, MAX_WAT_BYTES)
    name = Path(module).name
    problems = check_module(data, layout=layout)
    if problems:
        for problem in problems:
            print(f"{name}: {problem}", file=sys.stderr)
        raise typer.Exit(2)
    wasm = load_module_bytes(data)
    imports = _imports(wasm)
    typer.echo(f"ok: {name} keeps the ABI ({len(wasm):,} bytes of wasm; imports "
               f"{', '.join(imports) if imports else 'nothing'})")


@app.command(name="compile")
def compile_(
    genome: str = typer.Argument(..., help="A .wir file, a file of PWIR bytes or hex text, "
                                           "or hex digits."),
    output: Path = typer.Option(..., "-o", "--output", help="The .wasm file to write."),
    world: str = typer.Option("sandbox", "--world", help="The world whose context the "
                              "module reads (its sensors and actions)."),
    memory: int = typer.Option(4096, "--memory", help="Bytes of organism memory the code "
                               "addresses (a power of two, 1024..65536)."),
) -> None:
    """Compile an IR genome into a module of its own that keeps the ABI."""
    from primordia.brains.wasm.check import check_module
    from primordia.brains.wasm.compiler import standalone_module
    from primordia.brains.wasm.files import load_genome

    g = load_genome(genome)
    layout = world_layout(world, memory)
    wasm = standalone_module(g, layout)
    problems = check_module(wasm, layout=layout)
    if problems:                          # the compiler's bug, not the user's
        raise GenomeError(f"the compiled module breaks the ABI: {problems[0]}")
    _write_atomic(output, wasm)
    typer.echo(f"{output}: {len(wasm):,} bytes, a module for the {world} world "
               f"({_count(layout.sensors, 'sensor')}, {_count(layout.actions, 'action')}, "
               f"{memory} bytes of memory)")


@app.command()
def run(
    organism: str = typer.Argument(..., help="An IR genome (.wir, PWIR bytes, hex) or a "
                                             "module (.wat, .wasm)."),
    world: str = typer.Option("sandbox", "--world", help="The world whose sensors and "
                              "actions the organism has."),
    sensor: list[str] = typer.Option([], "--sensor", "-s", help="NAME=VALUE: one of the "
                                     "world's sensors (the others are 0); repeat for more."),
    steps: int = typer.Option(1, "--steps", help=f"Steps to run (1..{MAX_STEPS:,})."),
    budget: int = typer.Option(1000, "--budget", help="Gas (fuel, for a module) per step."),
    memory: int = typer.Option(4096, "--memory", help="Bytes of memory of an IR organism "
                               "(a power of two, 1024..65536)."),
    json_out: bool = typer.Option(False, "--json", help="One JSON object per step."),
) -> None:
    """Run one organism for a few steps: its actions, the ABI calls it made, its gas."""
    import numpy as np

    from primordia.brains.wasm.brain import WasmBrain
    from primordia.brains.wasm.files import load_organism

    if not 1 <= steps <= MAX_STEPS:
        raise ConfigError(f"--steps {steps}: must be in 1..{MAX_STEPS}")
    if not 0 <= budget <= MAX_BUDGET:
        raise ConfigError(f"--budget {budget}: must be in 0..{MAX_BUDGET}")
    io = world_io(world)
    world_layout(world, memory)           # the memory fits the world's context
    values = parse_sensors(sensor, io.sensors)
    genome = load_organism(organism)
    brain = WasmBrain([genome], io, memory=memory, capacity=1)
    watch = _ModuleWatch(brain)
    sensors = np.array([values], dtype=np.int32).reshape(1, io.n_sensors)
    records = []
    for k in range(steps):
        actions = np.zeros((1, io.n_actions), dtype=np.int32)
        faults = brain.population.faults
        brain.begin_tick(np.array([budget], dtype=np.int64))
        brain.step(sensors, actions)
        record = step_record(k, brain, actions[0], watch.fault(brain.population.faults
                                                                > faults))
        records.append(record)
        if json_out:
            typer.echo(orjson.dumps(record).decode())
    if not json_out:
        _print_steps(Path(organism).name if organism != "-" else "<stdin>", genome, world,
                     io, budget, records, watch.broken)


# ---- what run shows --------------------------------------------------------------------------

def step_record(step: int, brain: Any, actions: Any, fault: str | None) -> dict[str, Any]:
    """The JSON object of one step (docs/brains/wasm.md, "Command line")."""
    from primordia.brains.wasm.context import read_records

    code = int(actions[0]) if len(actions) else 0
    rec = [int(v) for v in read_records(brain.population.memory, brain.layout, [0])[0]]
    halted = bool(brain.halted[0])
    return {"step": step, "code": code,
            "actions": {name: int(v) for name, v in zip(brain.io.actions, actions.tolist())},
            "record": record_fields(rec),
            "gas_used": int(brain.gas_used[0]), "budget": int(brain.budget[0]),
            "halted": halted, "fault": (fault or "out of gas or call depth") if halted
            else None}


def record_fields(rec: list[int]) -> dict[str, Any]:
    """The action record's words as what the step asked for: the flags word and, per ABI
    action, its fields (None if it did not ask for it)."""
    from primordia.brains.wasm import layout as lay

    flags = rec[lay.R_FLAGS]

    def asked(flag: int, **fields: int) -> dict[str, int] | None:
        return fields if flags & flag else None

    return {"flags": flags,
            "move": asked(lay.F_MOVE, dx=rec[lay.R_MOVE_DX], dy=rec[lay.R_MOVE_DY]),
            "eat": bool(flags & lay.F_EAT),
            "attack": asked(lay.F_ATTACK, slot=rec[lay.R_ATTACK_SLOT],
                            amount=rec[lay.R_ATTACK_AMOUNT]),
            "reproduce": asked(lay.F_REPRODUCE, ptr=rec[lay.R_REPRO_PTR],
                               len=rec[lay.R_REPRO_LEN]),
            "signal": asked(lay.F_SIGNAL, channel=rec[lay.R_SIGNAL_CHANNEL],
                            value=rec[lay.R_SIGNAL_VALUE])}


def _asked_text(record: dict[str, Any]) -> str:
    parts = []
    if record["move"]:
        parts.append(f"move ({record['move']['dx']}, {record['move']['dy']})")
    if record["eat"]:
        parts.append("eat")
    if record["attack"]:
        parts.append(f"attack slot {record['attack']['slot']} by {record['attack']['amount']}")
    if record["reproduce"]:
        parts.append(f"reproduce ({record['reproduce']['len']} bytes at "
                     f"{record['reproduce']['ptr']})")
    if record["signal"]:
        parts.append(f"signal {record['signal']['value']} on {record['signal']['channel']}")
    return ", ".join(parts) or "-"


def _print_steps(name: str, genome: Any, world: str, io: Any, budget: int,
                 records: list[dict[str, Any]], broken: str | None) -> None:
    from rich.console import Console
    from rich.table import Table

    from primordia.brains.wasm.modules import ModuleGenome

    console = Console()
    if isinstance(genome, ModuleGenome):
        what = f"a module of {len(genome.wasm):,} bytes"
    else:
        what = f"an IR genome of {_count(len(genome.functions), 'function')}"
    console.print(f"{name}: {what}, in the {world} world, {budget:,} gas a step",
                  highlight=False)
    if broken:
        console.print(f"it cannot start ({broken}): every step is lost", highlight=False)
    table = Table(title_justify="left")
    table.add_column("step", justify="right")
    for i, action in enumerate(io.actions):
        table.add_column(f"{action} (code)" if i == 0 else action, justify="right")
    for col in ("asked", "gas", "end"):
        table.add_column(col, justify="left" if col != "gas" else "right", no_wrap=True)
    for r in records:
        end = f"lost: {r['fault']}" if r["halted"] else "returned"
        table.add_row(str(r["step"]), *(str(v) for v in r["actions"].values()),
                      _asked_text(r["record"]), f"{r['gas_used']:,}", end)
    console.print(table)


class _ModuleWatch:
    """Why a hand-written organism's step was lost: the brain says only that it was
    (``halted``), so the run keeps each step's result (``ModuleOrganism.step``)."""

    def __init__(self, brain: Any) -> None:
        self.last = None
        self.broken = None
        organism = brain.modules.get(0)
        if organism is None:
            return
        self.broken = organism.fault if organism.broken else None
        step = organism.step

        def watched(ctx: bytes, fuel: int):
            self.last = step(ctx, fuel)
            return self.last

        organism.step = watched

    def fault(self, trapped: bool) -> str | None:
        """The last step's fault: a module's trap, or a trap in compiled IR."""
        if self.last is not None:
            if self.last.fault == "broken" and self.broken:
                return f"cannot start: {self.broken}"
            return self.last.fault
        return "trapped" if trapped else None


def parse_sensors(items: list[str], names: tuple[str, ...]) -> list[int]:
    """``NAME=VALUE`` strings to a full sensor vector in the world's order (unset ones 0);
    NAME is a sensor's name or index."""
    values = [0] * len(names)
    lower = [n.lower() for n in names]
    for item in items:
        key, sep, text = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise ConfigError(f"--sensor {item!r}: expected NAME=VALUE, e.g. "
                              f"{names[0] if names else 'energy'}=3")
        if key.isascii() and key.isdigit() and len(key) < 6 and int(key) < len(names):
            index = int(key)
        elif key in lower:
            index = lower.index(key)
        else:
            raise ConfigError(f"--sensor {item!r}: unknown sensor {key!r}; the world's are "
                              + (", ".join(names) or "none"))
        try:
            value = int(text.strip(), 0)
        except ValueError:
            raise ConfigError(f"--sensor {item!r}: {text.strip()!r} is not an integer"
                              ) from None
        if not -(1 << 31) <= value < (1 << 31):
            raise ConfigError(f"--sensor {item!r}: the value must fit in 32 bits")
        values[index] = value
    return values


# ---- worlds ----------------------------------------------------------------------------------

def world_io(name: str) -> Any:
    """A registered world's ``BrainIO`` (its run's ``IO``)."""
    from primordia.worlds.registry import WORLDS

    io = WORLDS.get(name).run_class.IO
    if io is None:
        raise ConfigError(f"--world {name}: the world publishes no sensors and actions")
    return io


def world_layout(name: str, memory: int) -> Any:
    """The context layout of a world's organisms with ``memory`` bytes each."""
    from primordia.brains.wasm.context import layout_of

    io = world_io(name)
    try:
        return layout_of(io, memory)
    except ValueError as e:
        raise ConfigError(f"--memory {memory}: {e}") from None


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _imports(wasm: bytes) -> list[str]:
    from primordia.brains.wasm.check import compiled

    return [imp.name or "" for imp in compiled(wasm).imports]


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as e:
        raise InputFileError(f"{path}: cannot write: {e.strerror or e}") from None
