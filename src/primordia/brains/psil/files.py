"""Reading genomes named on a command line: hex text, ``.hex`` files, raw bytes or ``.mpsil``."""

from __future__ import annotations

import re
from pathlib import Path

from primordia.core.errors import GenomeError, InputFileError
from primordia.core.files import exists, is_file, read_bounded

from .genome import MAX_CODE_BYTES, PsilGenome
from .opcodes import QUOTATION_TABLE

MAX_SOURCE_BYTES = 2 * 1024 * 1024
"""Largest ``.mpsil`` source or genome file read (checked before reading): a program of the
largest code the VM accepts, written one instruction a line, fits well within it."""

MAX_GENOME_TEXT = (1 + QUOTATION_TABLE) * (2 * MAX_CODE_BYTES + 8)
"""Longest hex text one genome can have: the code and every quotation at the byte limit."""

_HEX_TEXT = re.compile(r"^[\s0-9a-fA-F;:]*$")
ASSEMBLY_SUFFIXES = (".mpsil", ".asm")
HEX_SUFFIXES = (".hex", ".txt")


def read_source(path: str) -> tuple[str, str]:
    """Text of a file, or of stdin for ``-``; returns (text, name for messages)."""
    if path == "-":
        import sys

        data = sys.stdin.buffer.read(MAX_SOURCE_BYTES + 1)
        if len(data) > MAX_SOURCE_BYTES:
            raise InputFileError(f"<stdin>: more than {MAX_SOURCE_BYTES} bytes; the limit "
                                 f"is {MAX_SOURCE_BYTES}")
        try:
            return data.decode("utf-8"), "<stdin>"
        except UnicodeDecodeError:
            raise InputFileError("<stdin>: not UTF-8 text") from None
    p = Path(path)
    try:
        return read_bounded(p, MAX_SOURCE_BYTES, path).decode("utf-8"), p.name
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not UTF-8 text") from None


def load_genome(arg: str) -> PsilGenome:
    """A genome from a CLI argument: a file (``.mpsil`` assembled, ``.hex`` text, else raw
    bytes unless the file is plain hex text) or, if no such file exists, hex digits."""
    p = Path(arg)
    if arg == "-" or p.suffix.lower() in ASSEMBLY_SUFFIXES:
        from .asm import assemble

        text, name = read_source(arg)
        return assemble(text, source=name)
    if is_file(p):
        data = read_bounded(p, MAX_SOURCE_BYTES, arg)
        if p.suffix.lower() in HEX_SUFFIXES or _looks_like_hex(data):
            try:
                return PsilGenome.from_hex(data.decode("ascii"))
            except UnicodeDecodeError:
                raise GenomeError(f"{arg}: not hex text") from None
            except GenomeError as e:
                raise GenomeError(f"{arg}: {e}") from None
        return PsilGenome.from_bytes(data)
    if exists(p):
        raise InputFileError(f"{arg}: not a file")
    if p.suffix or "/" in arg:
        raise InputFileError(f"{arg}: no such file")
    try:
        return PsilGenome.from_hex(arg)
    except GenomeError as e:
        raise GenomeError(f"genome {_short(arg)!r} is not a file and not hex: {e}") from None


def _looks_like_hex(data: bytes) -> bool:
    try:
        text = data.decode("ascii")
    except UnicodeDecodeError:
        return False
    return bool(text.strip()) and _HEX_TEXT.match(text) is not None


def _short(text: str, n: int = 24) -> str:
    return text if len(text) <= n else text[:n] + "..."
