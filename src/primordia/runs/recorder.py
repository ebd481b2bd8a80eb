"""Recordings of any world: gzip'd JSON lines, a header first, then what the world's recorder
writes (``sandbox_recorder.SandboxRecorder``: frames; ``hex_run.DeltaRecorder``: snapshots
and deltas). Checkpoints close the current gzip member, so a resumed run can cut the file back
to the checkpoint and append (gzip readers read concatenated members as one stream); reading
one back is bounded and checked line by line."""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path
from typing import Any, Iterator

import orjson

from primordia.core.errors import InputFileError

class Recorder:
    """Writes JSON lines to ``path``, a gzip member per checkpoint; a world's recorder says
    which lines (``every``: its ticks between frames or full snapshots)."""

    def __init__(self, path: str | Path, every: int, resume_at: int | None = None) -> None:
        self.path = Path(path)
        self.every = every
        try:
            if resume_at is None:
                self.raw = open(self.path, "wb")
            else:
                self.raw = open(self.path, "r+b")
                check_sealed(self.raw, resume_at, self.path)
                self.raw.truncate(resume_at)
                self.raw.seek(resume_at)
        except OSError as exc:
            raise InputFileError(f"{self.path}: cannot write the recording ({exc})") from None
        self.gz = gzip.GzipFile(fileobj=self.raw, mode="wb", mtime=0)
        self.frames = 0

    def _line(self, obj: dict[str, Any]) -> None:
        self.gz.write(orjson.dumps(obj) + b"\n")

    def seal(self) -> int:
        """Close the current gzip member (the file is complete up to here); returns its
        length in bytes. Later frames go into a new member."""
        self.gz.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        size = self.raw.tell()
        self.gz = gzip.GzipFile(fileobj=self.raw, mode="wb", mtime=0)
        return size

    def close(self) -> None:
        self.gz.close()
        self.raw.close()


def check_header(path: Path, world: str, seed: int) -> None:
    """Refuse to resume into a file that is not this run's recording: its first line must be
    the header of a ``world`` run with ``seed``. (A checkpoint names its recording's path;
    resuming cuts that file back, so it must never be some other file the path reaches.)"""
    try:
        first = next(read_recording(path, max_line=1 << 20), None)
    except InputFileError:        # cut or damaged: check_sealed says which, before any write
        return
    if first is None:
        return
    if not isinstance(first, dict) or first.get("type") != "header" \
            or first.get("world") != world or first.get("seed") != seed:
        raise InputFileError(f"{path}: not the recording of this run (its first line is not "
                             f"the header of a {world} run with seed {seed}); resume leaves "
                             "it untouched")


def check_sealed(f, length: Any, path: Path) -> None:
    """Refuse to resume a recording whose first ``length`` bytes (what the checkpoint sealed)
    are not whole gzip members: appending after a cut or damaged file would hide a gap."""
    if isinstance(length, bool) or not isinstance(length, int) or length < 0:
        raise InputFileError(f"{path}: the checkpoint's recording length {length!r} is not a "
                             "byte count")
    size = os.fstat(f.fileno()).st_size
    if size < length:
        f.close()
        raise InputFileError(f"{path}: {size:,} bytes, shorter than the {length:,} it held at "
                             "the checkpoint (the file was cut): restore it to resume")
    f.seek(0)
    left, z, whole = length, None, True             # z: the member being read, if any
    try:
        while left and whole:
            chunk = f.read(min(left, 1 << 20))
            left -= len(chunk)
            whole = bool(chunk)                     # the file shrank while being read
            while chunk:
                z = z or zlib.decompressobj(wbits=31)
                z.decompress(chunk, 1 << 16)        # output discarded, a bounded piece a call
                while z.unconsumed_tail:
                    z.decompress(z.unconsumed_tail, 1 << 16)
                chunk, z = (z.unused_data, None) if z.eof else (b"", z)
    except zlib.error:
        whole = False
    if z is not None or not whole:
        f.close()
        raise InputFileError(f"{path}: its first {length:,} bytes, sealed at the checkpoint, "
                             "are not whole gzip members (the file was damaged): restore it "
                             "to resume")


MAX_LINE_BYTES = 64 << 20
"""Longest line a recording may hold uncompressed: a snapshot of the largest world
(65,536 hex organisms) is about 12 MB."""


def read_recording(path: str | Path, max_line: int = MAX_LINE_BYTES,
                   max_total: int | None = None) -> Iterator[dict[str, Any]]:
    """The header and frames of a recording, one dict per line. Decompression is bounded:
    a line longer than ``max_line`` or a file that inflates past ``max_total`` bytes is
    refused once that much has been read, never held whole (a small file may inflate to
    gigabytes)."""
    total = 0
    try:
        with gzip.open(path, "rb") as f:
            n = 0
            while True:
                line = f.readline(max_line + 1)
                if not line:
                    return
                n += 1
                total += len(line)
                if len(line) > max_line:
                    raise InputFileError(f"{path}: line {n} is longer than {max_line:,} bytes "
                                         "uncompressed")
                if max_total is not None and total > max_total:
                    raise InputFileError(f"{path}: more than {max_total:,} bytes "
                                         "uncompressed, the limit")
                try:
                    yield orjson.loads(line)
                except orjson.JSONDecodeError:
                    raise InputFileError(f"{path}: line {n} is not JSON") from None
    except (OSError, EOFError, zlib.error) as exc:
        raise InputFileError(f"{path}: not a readable recording ({exc})") from None
