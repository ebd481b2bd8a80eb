"""Reading wasm organisms named on a command line or given as files: IR genomes as ``.wir``
text, ``PWIR`` bytes or hex, and hand-written modules as ``.wat`` text or ``.wasm`` bytes
(docs/brains/wasm.md). The CLI, a world's founders and the tests share these."""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

from primordia.core.errors import GenomeError, InputFileError
from primordia.core.files import exists, is_file, read_bounded

from . import ir, modules
from .check import MAX_WAT_BYTES
from .modules import ModuleGenome

SOURCE_SUFFIXES = (".wir",)
"""Files that hold IR text; a genome argument with this suffix is assembled."""
MODULE_SUFFIXES = (".wat", ".wasm")
"""Files that hold a hand-written module (WAT text or wasm bytes)."""
WASM_MAGIC = b"\0asm"

MAX_FILE_BYTES = MAX_WAT_BYTES
"""The largest file read as an organism (checked before reading): WAT text of the largest
module; IR text and genomes are far smaller and are held to their own limits."""


def read_source(arg: str) -> tuple[str, str]:
    """Text of a .wir file, or of stdin for ``-``; returns (text, name for messages)."""
    from .asm import MAX_TEXT

    limit = 4 * MAX_TEXT                  # bytes: the assembler then counts characters
    if arg == "-":
        data = sys.stdin.buffer.read(limit + 1)
        name = "<stdin>"
        if len(data) > limit:
            raise InputFileError(f"{name}: more than {limit} bytes; the limit is {limit}")
    else:
        name = Path(arg).name
        data = read_bounded(arg, limit)
    try:
        return data.decode("utf-8"), name
    except UnicodeDecodeError:
        raise InputFileError(f"{arg if arg != '-' else name}: not UTF-8 text") from None


def load_genome(arg: str) -> ir.WasmGenome:
    """A checked IR genome from a CLI argument: a .wir file or ``-`` (assembled), a file of
    raw ``PWIR`` bytes or of hex text, or else hex digits."""
    from .asm import assemble

    p = Path(arg)
    if arg == "-" or p.suffix.lower() in SOURCE_SUFFIXES:
        text, name = read_source(arg)
        return assemble(text, source=name)
    if is_file(p):
        data = read_bounded(arg, 3 * ir.MAX_GENOME_BYTES + 4096)   # hex with some spacing
        try:
            if data.startswith(ir.MAGIC):
                return ir.decode(data)
            return ir.decode(from_hex(data.decode("ascii")))
        except UnicodeDecodeError:
            raise GenomeError(f"{arg}: neither PWIR bytes nor hex text") from None
        except GenomeError as e:
            raise GenomeError(f"{arg}: {e}") from None
    if exists(p):
        raise InputFileError(f"{arg}: not a file")
    if p.suffix or "/" in arg:
        raise InputFileError(f"{arg}: no such file")
    try:
        return ir.decode(from_hex(arg))
    except GenomeError as e:
        shown = arg if len(arg) <= 24 else arg[:24] + "..."
        raise GenomeError(f"genome {shown!r} is not a file and not a genome's hex: {e}"
                          ) from None


def load_organism(arg: str) -> ir.WasmGenome | ModuleGenome:
    """What ``load_genome`` reads, or a hand-written module: a ``.wat``/``.wasm`` file, or
    any file that starts with the wasm header."""
    p = Path(arg)
    if arg != "-" and p.suffix.lower() not in SOURCE_SUFFIXES and is_file(p):
        if p.suffix.lower() in MODULE_SUFFIXES or _starts_with(p, WASM_MAGIC):
            data = read_bounded(arg, MAX_FILE_BYTES)
            try:
                return modules.parse(data)
            except GenomeError as e:
                raise GenomeError(f"{arg}: {e}") from None
    return load_genome(arg)


def from_bytes(data: bytes, name: str) -> ir.WasmGenome | ModuleGenome:
    """The organism a file's bytes hold, told by its name's suffix and then by its content:
    ``.wir`` text, a module (``.wat`` text, or wasm bytes), ``PWIR`` bytes, or hex text of
    either binary form. GenomeError naming ``name`` if it is none of them."""
    from .asm import assemble

    data = bytes(data)
    suffix = Path(name).suffix.lower()
    try:
        if suffix in SOURCE_SUFFIXES:
            try:
                text = data.decode("utf-8")
            except UnicodeDecodeError:
                raise GenomeError("not UTF-8 text") from None
            return assemble(text, source=name)
        if suffix in MODULE_SUFFIXES or data[:4] == WASM_MAGIC:
            return modules.parse(data)
        if data[:4] == ir.MAGIC:
            return ir.decode(data)
        try:
            text = data.decode("ascii")
        except UnicodeDecodeError:
            raise GenomeError("not a wasm organism: neither a wasm module, PWIR bytes nor "
                              "hex text") from None
        if text.lstrip().startswith(("(", ";;")):
            return modules.parse(text)            # WAT without its suffix
        try:
            raw = from_hex(text)
        except GenomeError as e:
            raise GenomeError(f"not a wasm organism ({e}); give .wir or .wat text, a .wasm "
                              "module, PWIR bytes or their hex") from None
        return modules.decode(raw) if raw[:4] == WASM_MAGIC else ir.decode(raw)
    except GenomeError as e:
        message = str(e)
        raise GenomeError(message if message.startswith(name) else f"{name}: {message}"
                          ) from None


_HEX = re.compile(r"^[0-9a-fA-F]*$")


def from_hex(text: str) -> bytes:
    """Bytes of hex digits (whitespace between them is ignored); GenomeError otherwise."""
    digits = "".join(text.split())
    if not _HEX.match(digits):
        raise GenomeError("not hex (digits 0-9 and a-f only)")
    if len(digits) % 2:
        raise GenomeError(f"an odd number of hex digits ({len(digits)})")
    if not digits:
        raise GenomeError("empty: no hex digits")
    return bytes.fromhex(digits)


def _starts_with(p: Path, magic: bytes) -> bool:
    try:
        with open(p, "rb") as f:
            return f.read(len(magic)) == magic
    except OSError:
        return False
