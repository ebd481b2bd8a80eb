"""``primordia psil``: assemble, disassemble and run micro-PSIL genomes."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Optional

import orjson
import typer
from rich.console import Console
from rich.table import Table

from primordia.brains.psil import opcodes as op
from primordia.core.errors import ConfigError, GenomeError, InputFileError

app = typer.Typer(help="micro-PSIL bytecode: assemble, disassemble, run.", no_args_is_help=True)

ACTION_NAMES = ("idle", "eat", "attack", "share", "trade", "craft", "teach", "heal", "harvest",
                "terraform")
MOVE_NAMES = ("stay", "north", "east", "south", "west")


@app.command()
def asm(
    file: str = typer.Argument(..., help="A .mpsil file, or - for stdin."),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="Write raw code bytes to this file."),
) -> None:
    """Assemble .mpsil text; print the genome as lowercase hex."""
    from primordia.brains.psil.asm import assemble
    from primordia.brains.psil.files import read_source

    text, name = read_source(file)
    genome = assemble(text, source=name)
    if output is None:
        typer.echo(genome.to_hex())
        return
    if genome.quotations:
        raise GenomeError("the program defines quotations, which raw bytes cannot hold; "
                          "omit -o to print the hex form (code;index:body...)")
    _write_atomic(output, genome.code)


@app.command()
def disasm(genome: str = typer.Argument(..., help="Hex digits, or a .hex/.bin/.mpsil file.")
           ) -> None:
    """Disassemble a genome: address, bytes, mnemonic and operand per line."""
    from primordia.brains.psil.asm import disassemble
    from primordia.brains.psil.files import load_genome

    typer.echo(disassemble(load_genome(genome)), nl=False)


@app.command()
def run(
    genome: Optional[str] = typer.Argument(None, help="Hex digits, a .hex file or a .mpsil file."),
    sensor: list[str] = typer.Option([], "--sensor", "-s",
                                     help="Ring0 value: SLOT=VALUE, SLOT a number 0-30 or a "
                                          "name like food_dir."),
    gas: int = typer.Option(200, "--gas", help=f"Gas budget of the think (1-{op.GAS_CAP})."),
    trace: bool = typer.Option(False, "--trace", help="Print every executed instruction."),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object."),
    batch: Optional[Path] = typer.Option(None, "--batch",
                                         help="Run one hex genome per line; JSON line each."),
) -> None:
    """Run one think and print the Ring1 result (move, action, target, emotion)."""
    from primordia.brains.psil.files import load_genome
    from primordia.brains.psil.reference import think

    if not 1 <= gas <= op.GAS_CAP:
        raise ConfigError(f"--gas {gas}: must be in 1..{op.GAS_CAP}")
    sensors = parse_sensors(sensor)
    if batch is not None:
        if genome is not None:
            raise ConfigError("give either GENOME or --batch FILE, not both")
        _run_batch(batch, sensors, gas)
        return
    if genome is None:
        raise ConfigError("missing GENOME (hex, a .hex file or a .mpsil file), or --batch FILE")
    g = load_genome(genome)
    steps: list | None = [] if trace else None
    result = think(g, sensors, gas, trace=steps)
    record = result_record(result.yields, result.final, gas, result.gas_left, result.error,
                           result.halted)
    if steps:
        out = sys.stderr if json_out else sys.stdout
        for s in steps:
            print(_trace_line(s), file=out)
    if json_out:
        typer.echo(orjson.dumps(record).decode())
        return
    _print_result(record, result.steps, result.stack)


def parse_sensors(items: list[str]) -> list[int]:
    """``SLOT=VALUE`` strings to a full Ring0 vector (unset slots are 0)."""
    values = [0] * op.RING0_SLOTS
    for item in items:
        slot_text, sep, value_text = item.partition("=")
        if not sep:
            raise ConfigError(f"--sensor {item!r}: expected SLOT=VALUE, e.g. food_dir=3")
        slot_text = slot_text.strip().lower()
        if slot_text.lstrip("-").isdigit():
            slot = int(slot_text)
            if not 0 <= slot < op.RING0_SLOTS:
                raise ConfigError(f"--sensor {item!r}: slot {slot} is out of range "
                                  f"0..{op.RING0_SLOTS - 1}")
        elif slot_text in op.RING0_NAMES:
            slot = op.RING0_NAMES.index(slot_text)
        else:
            raise ConfigError(f"--sensor {item!r}: unknown slot {slot_text!r}; names are "
                              + ", ".join(op.RING0_NAMES))
        try:
            value = int(value_text.strip(), 0)
        except ValueError:
            raise ConfigError(f"--sensor {item!r}: {value_text!r} is not an integer") from None
        if not -32768 <= value <= 32767:
            raise ConfigError(f"--sensor {item!r}: value must fit in 16 bits (-32768..32767)")
        values[slot] = value
    return values


def result_record(yields: list[list[int]], final: list[int], gas: int, gas_left: int,
                  error: int, halted: bool) -> dict:
    """The JSON object of one think: Ring1 of the first action round, and the whole think."""
    rounds = [list(map(int, r)) for r in yields] + [list(map(int, final))]
    first = rounds[0]
    return {
        "move": first[0], "action": first[1], "target": first[2], "emotion": first[3],
        "gas_used": int(gas - gas_left), "error": int(error), "yields": len(yields),
        "halted": bool(halted), "rounds": rounds,
    }


BATCH_CHUNK = 1024
"""Genomes run per call in ``--batch``: results stream out a chunk at a time, so a file of
any length runs in bounded memory."""

BATCH_CHUNK_BYTES = 8 * 1024 * 1024
"""A chunk also ends once its genomes hold this many bytes (long genomes, fewer per call)."""


def _run_batch(path: Path, sensors: list[int], gas: int) -> None:
    from primordia.brains.psil.files import MAX_GENOME_TEXT

    try:
        f = path.open("rb")
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except OSError as e:
        raise InputFileError(f"{path}: cannot read: {e.strerror or e}") from None
    with f:
        chunk: list = []
        size = 0
        for genome in _batch_genomes(f, path, MAX_GENOME_TEXT):
            chunk.append(genome)
            size += len(genome.code) + sum(len(b) for _, b in genome.quotations)
            if len(chunk) >= BATCH_CHUNK or size >= BATCH_CHUNK_BYTES:
                _think_chunk(chunk, sensors, gas)
                chunk, size = [], 0
        if chunk:
            _think_chunk(chunk, sensors, gas)


def _batch_genomes(f, path: Path, max_line: int):
    """The genomes of a batch file, one per line, read a line at a time; an overlong line
    is refused after reading at most ``max_line`` bytes of it."""
    from primordia.brains.psil.genome import PsilGenome

    number = 0
    while True:
        raw = f.readline(max_line + 2)
        if not raw:
            return
        number += 1
        if len(raw) > max_line + 1:
            raise GenomeError(f"{path}:line {number}: longer than {max_line} characters, "
                              "the longest genome text")
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise InputFileError(f"{path}:line {number}: not UTF-8 text") from None
        if not line or line.startswith("#"):
            continue
        try:
            yield PsilGenome.from_hex(line)
        except GenomeError as e:
            raise GenomeError(f"{path}:line {number}: {e}") from None


def _think_chunk(genomes: list, sensors: list[int], gas: int) -> None:
    import numpy as np

    from primordia.brains.psil.brain import think_batch

    r = think_batch(genomes, np.asarray(sensors), gas)
    lines = []
    for i in range(len(genomes)):
        rec = result_record(r.yields[i], r.final[i].tolist(), gas, int(r.gas_left[i]),
                            int(r.error[i]), bool(r.halted[i]))
        lines.append(orjson.dumps(rec).decode())
    sys.stdout.write("\n".join(lines) + "\n")
    sys.stdout.flush()


def _print_result(record: dict, steps: int, stack: list[int]) -> None:
    console = Console()
    table = Table(title="Ring1 per action round", title_justify="left")
    for col in ("round", "move", "action", "target", "emotion"):
        table.add_column(col, justify="right" if col != "action" else "left")
    n = len(record["rounds"])
    for i, (mv, ac, tg, em) in enumerate(record["rounds"]):
        label = f"yield {i + 1}" if i < n - 1 else "end"
        table.add_row(label, _name(MOVE_NAMES, mv), _name(ACTION_NAMES, ac), str(tg), str(em))
    console.print(table)
    err = record["error"]
    status = "halted" if record["halted"] else (
        f"stopped: {op.ERROR_NAMES.get(err, 'error')}" if err else "stopped by error flag")
    console.print(f"{status} after {steps} instructions; gas used {record['gas_used']}; "
                  f"{record['yields']} yields; stack {stack}")


def _trace_line(s) -> str:
    """One executed instruction: where (block and depth for nested code), bytes, text, gas,
    and the top of the stack before it ran."""
    from primordia.brains.psil.asm import instruction_text

    where = f"{s.pc:04x}" if s.depth == 0 else f"{s.block}{s.depth}:{s.pc:04x}"
    top = " ".join(str(v) for v in s.stack[-6:])
    more = "... " if len(s.stack) > 6 else ""
    return (f"{where:<10} {s.raw.hex(' '):<9} {instruction_text(s.raw):<16} gas {s.gas:<5} "
            f"[{more}{top}]")


def _name(names: tuple[str, ...], v: int) -> str:
    return f"{v} ({names[v]})" if 0 <= v < len(names) else str(v)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as e:
        raise InputFileError(f"{path}: cannot write: {e.strerror or e}") from None
