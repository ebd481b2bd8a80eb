"""Reading files a user names, bounded and with one-line errors: what every loader of
genomes, modules and sources shares."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import InputFileError


def read_bounded(path: str | Path, limit: int, name: str | None = None) -> bytes:
    """A file's bytes, refused before reading when it is larger than ``limit`` (and bounded
    while read, should it grow); InputFileError naming ``name`` (default: the path) when it
    is missing, a directory, unreadable or too big."""
    name = str(path) if name is None else name
    try:
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            if size > limit:
                raise InputFileError(f"{name}: {size} bytes; the limit is {limit}")
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise InputFileError(f"{name}: no such file") from None
    except IsADirectoryError:
        raise InputFileError(f"{name}: is a directory, expected a file") from None
    except (OSError, ValueError) as e:
        raise InputFileError(f"{name}: cannot read: {getattr(e, 'strerror', None) or e}"
                             ) from None
    if len(data) > limit:
        raise InputFileError(f"{name}: more than {limit} bytes; the limit is {limit}")
    return data


def is_file(path: str | Path) -> bool:
    """Whether ``path`` is a file; a name the OS cannot even look up (too long, a NUL) is
    not."""
    try:
        return Path(path).is_file()
    except (OSError, ValueError):
        return False


def exists(path: str | Path) -> bool:
    """Whether anything is at ``path`` (False for names the OS cannot look up)."""
    try:
        return Path(path).exists()
    except (OSError, ValueError):
        return False
