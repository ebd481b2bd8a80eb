"""Reading genomes named on a command line: hex text, ``.hex`` files, raw bytes or ``.mpsil``."""

from __future__ import annotations

import re
from pathlib import Path

from primordia.core.errors import GenomeError, InputFileError

from .genome import PsilGenome

_HEX_TEXT = re.compile(r"^[\s0-9a-fA-F;:]*$")
ASSEMBLY_SUFFIXES = (".mpsil", ".asm")
HEX_SUFFIXES = (".hex", ".txt")


def read_source(path: str) -> tuple[str, str]:
    """Text of a file, or of stdin for ``-``; returns (text, name for messages)."""
    if path == "-":
        import sys

        return sys.stdin.read(), "<stdin>"
    p = Path(path)
    try:
        return p.read_text(encoding="utf-8"), p.name
    except FileNotFoundError:
        raise InputFileError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{path}: is a directory, expected a file") from None
    except UnicodeDecodeError:
        raise InputFileError(f"{path}: not UTF-8 text") from None
    except OSError as e:
        raise InputFileError(f"{path}: {e.strerror or e}") from None


def load_genome(arg: str) -> PsilGenome:
    """A genome from a CLI argument: a file (``.mpsil`` assembled, ``.hex`` text, else raw
    bytes unless the file is plain hex text) or, if no such file exists, hex digits."""
    p = Path(arg)
    if arg == "-" or p.suffix.lower() in ASSEMBLY_SUFFIXES:
        from .asm import assemble

        text, name = read_source(arg)
        return assemble(text, source=name)
    if p.is_file():
        try:
            data = p.read_bytes()
        except OSError as e:
            raise InputFileError(f"{arg}: {e.strerror or e}") from None
        if p.suffix.lower() in HEX_SUFFIXES or _looks_like_hex(data):
            try:
                return PsilGenome.from_hex(data.decode("ascii"))
            except UnicodeDecodeError:
                raise GenomeError(f"{arg}: not hex text") from None
            except GenomeError as e:
                raise GenomeError(f"{arg}: {e}") from None
        return PsilGenome.from_bytes(data)
    if p.exists():
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
