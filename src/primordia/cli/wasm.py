"""``primordia wasm``: assemble and disassemble wasm IR genomes (docs/brains/wasm.md)."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path
from typing import Optional

import typer

from primordia.core.errors import GenomeError, InputFileError

app = typer.Typer(help="WebAssembly brains: assemble, disassemble IR genomes.",
                  no_args_is_help=True)

SOURCE_SUFFIXES = (".wir",)
"""Files that hold IR text; a genome argument with this suffix is assembled."""


@app.command()
def asm(
    file: str = typer.Argument(..., help="A .wir file, or - for stdin."),
    output: Optional[Path] = typer.Option(None, "-o", "--output",
                                          help="Write the raw genome bytes to this file."),
) -> None:
    """Assemble .wir text; print the genome's canonical bytes as lowercase hex."""
    from primordia.brains.wasm.asm import assemble
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

    typer.echo(disassemble(load_genome(genome)), nl=False)


# --- reading genomes named on the command line (shared by the commands of this group) ----------

def read_source(arg: str) -> tuple[str, str]:
    """Text of a .wir file, or of stdin for ``-``; returns (text, name for messages)."""
    from primordia.brains.wasm.asm import MAX_TEXT

    limit = 4 * MAX_TEXT                  # bytes: the assembler then counts characters
    if arg == "-":
        data = sys.stdin.buffer.read(limit + 1)
        name = "<stdin>"
        if len(data) > limit:
            raise InputFileError(f"{name}: more than {limit} bytes; the limit is {limit}")
    else:
        name = Path(arg).name
        data = _read_file(arg, limit)
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError:
        raise InputFileError(f"{arg if arg != '-' else name}: not UTF-8 text") from None


def load_genome(arg: str):
    """A checked genome from a CLI argument: a .wir file or ``-`` (assembled), a file of raw
    ``PWIR`` bytes or of hex text, or else hex digits."""
    from primordia.brains.wasm.asm import assemble
    from primordia.brains.wasm.ir import MAGIC, MAX_GENOME_BYTES, decode

    p = Path(arg)
    if arg == "-" or p.suffix.lower() in SOURCE_SUFFIXES:
        text, name = read_source(arg)
        return assemble(text, source=name)
    if _is_file(p):
        data = _read_file(arg, 3 * MAX_GENOME_BYTES + 4096)   # hex with some spacing
        try:
            if data.startswith(MAGIC):
                return decode(data)
            return decode(_from_hex(data.decode("ascii")))
        except UnicodeDecodeError:
            raise GenomeError(f"{arg}: neither PWIR bytes nor hex text") from None
        except GenomeError as e:
            raise GenomeError(f"{arg}: {e}") from None
    if _exists(p):
        raise InputFileError(f"{arg}: not a file")
    if p.suffix or "/" in arg:
        raise InputFileError(f"{arg}: no such file")
    try:
        return decode(_from_hex(arg))
    except GenomeError as e:
        shown = arg if len(arg) <= 24 else arg[:24] + "..."
        raise GenomeError(f"genome {shown!r} is not a file and not a genome's hex: {e}"
                          ) from None


_HEX = re.compile(r"^[0-9a-fA-F]*$")


def _from_hex(text: str) -> bytes:
    digits = "".join(text.split())
    if not _HEX.match(digits):
        raise GenomeError("not hex (digits 0-9 and a-f only)")
    if len(digits) % 2:
        raise GenomeError(f"an odd number of hex digits ({len(digits)})")
    if not digits:
        raise GenomeError("empty: no hex digits")
    return bytes.fromhex(digits)


def _read_file(arg: str, limit: int) -> bytes:
    """A file's bytes, refused before reading when it is larger than ``limit``."""
    try:
        with open(arg, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise InputFileError(f"{arg}: {size} bytes; the limit is {limit}")
            data = f.read(limit + 1)      # a file that grows while read stays bounded
    except FileNotFoundError:
        raise InputFileError(f"{arg}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{arg}: is a directory, expected a file") from None
    except (OSError, ValueError) as e:
        raise InputFileError(f"{arg}: cannot read: {getattr(e, 'strerror', None) or e}"
                             ) from None
    if len(data) > limit:
        raise InputFileError(f"{arg}: more than {limit} bytes; the limit is {limit}")
    return data


def _is_file(p: Path) -> bool:
    """Whether ``p`` is a file; a name the OS cannot even look up (too long, a NUL) is not."""
    try:
        return p.is_file()
    except (OSError, ValueError):
        return False


def _exists(p: Path) -> bool:
    try:
        return p.exists()
    except (OSError, ValueError):
        return False


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    except OSError as e:
        raise InputFileError(f"{path}: cannot write: {e.strerror or e}") from None
