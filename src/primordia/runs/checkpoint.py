"""Checkpoint files: named numpy arrays plus a JSON document of metadata, in one .npz written
atomically and sealed with a digest of all of it.

A checkpoint is untrusted input when it is read back. Reading never unpickles; it reads the
zip directory and every array's header first (arrays must be plain bool, integer or float
data), bounds each array's shape by the caller's layout before reading its data (so a file
cannot make a run allocate more than its config allows), then checks the digest: a file
that was damaged or edited is refused as damaged. What the values mean is each world's to
check before it builds a world from them (``worlds/sandbox/snapshot.py``,
``worlds/hex/snapshot.py``). Every problem is a one-line InputFileError naming the file.
"""

from __future__ import annotations

import io
import json
import math
import struct
import tokenize
import warnings
import zipfile
import zlib
from pathlib import Path
from typing import Any, Mapping

import numpy as np
from numpy.lib import format as npy

from primordia.core.checks import PLAIN_KINDS, ArraySpec
from primordia.core.errors import InputFileError
from primordia.core.hashing import state_digest

from .rundir import write_atomic

META = "__meta__"
DIGEST = "digest"
"""The metadata key that holds the checkpoint's digest."""
MAX_META_BYTES = 64 * 2**20
"""Largest metadata document read: the timeline samples are most of it, and this is room
for about 100,000 of them (the default is about 80)."""
MAX_MEMBERS = 1024
"""More arrays than any world saves: a larger zip directory is not a checkpoint."""
MAX_UNBOUNDED_BYTES = 2**30
"""Largest total of array data read when the caller gives no layout to bound it by."""
READ_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
               NotImplementedError, RuntimeError, zlib.error, struct.error, OverflowError,
               KeyError, UnicodeDecodeError)
"""What zipfile, zlib and numpy's header parser raise on a damaged file."""
HEADER_ERRORS = READ_ERRORS + (SyntaxError, tokenize.TokenError, TypeError, RecursionError,
                               MemoryError)
"""What numpy's .npy header parser can also raise on a hostile header: it evaluates the
header as a Python literal (with a tokenizer fallback for old files), so an unclosed string
or bracket, or a dict whose keys cannot be sorted, escapes its own ValueError."""


def canonical_json(value: Any) -> bytes:
    """The one byte form of a JSON document: sorted keys, no spaces, ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=True).encode("ascii")


def checkpoint_digest(arrays: Mapping[str, np.ndarray], meta: Mapping[str, Any]) -> str:
    """Blake2b-256 (``core.hashing.state_digest``) of every array -- name, dtype, shape and
    bytes, in name order -- and of the canonical JSON of the metadata without its digest."""
    body = {k: v for k, v in meta.items() if k != DIGEST}
    doc = np.frombuffer(canonical_json(body), dtype=np.uint8)
    return state_digest({**arrays, META: doc})


def save_checkpoint(path: Path, arrays: dict[str, np.ndarray], meta: dict[str, Any]) -> None:
    """Write ``arrays`` and ``meta`` (plain JSON data) to ``path`` atomically, sealed with
    their digest (``meta["digest"]``)."""
    arrays = {name: np.asarray(a) for name, a in arrays.items()}
    if META in arrays or DIGEST in meta:
        raise ValueError(f"checkpoint names {META!r} and {DIGEST!r} are reserved")
    meta = json.loads(json.dumps(meta))              # exactly what a reader will see
    meta[DIGEST] = checkpoint_digest(arrays, meta)
    payload = dict(arrays)
    # stored in its own key order (a timeline's columns keep theirs); the digest sorts keys
    payload[META] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **payload)
    write_atomic(path, buf.getvalue())


class _Entry:
    """One array of the file as its header describes it."""

    def __init__(self, info: zipfile.ZipInfo, shape: tuple[int, ...], fortran: bool,
                 dtype: np.dtype, offset: int) -> None:
        self.info, self.shape, self.fortran, self.dtype = info, shape, fortran, dtype
        self.offset = offset                       # bytes of the .npy header

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize


class CheckpointFile:
    """An open checkpoint: its metadata (``meta``, without the digest) and its arrays'
    names, dtypes and shapes, read from the headers alone; ``read`` reads and checks the
    arrays. Use it as a context manager (it holds the file open)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            raise InputFileError(f"{self.path}: no checkpoint here") from None
        except OSError as exc:
            raise InputFileError(f"{self.path}: cannot read ({exc.strerror or exc})") from None
        if not self.path.is_file():
            raise InputFileError(f"{self.path}: not a file, expected a checkpoint")
        if size == 0:
            raise InputFileError(f"{self.path}: an empty file, not a checkpoint")
        try:
            self._zip = zipfile.ZipFile(self.path)
        except READ_ERRORS as exc:
            raise self._unreadable(exc) from None
        try:
            self._entries = self._index()
            meta = self._meta()
        except BaseException:
            self._zip.close()
            raise
        digest = meta.pop(DIGEST, None)
        if not isinstance(digest, str):
            self._zip.close()
            raise InputFileError(
                f"{self.path}: has no digest, so it cannot be checked (an older Primordia or "
                "another program wrote it); start the run again")
        self.meta: dict[str, Any] = meta
        self._digest = digest

    def __enter__(self) -> "CheckpointFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self._zip.close()

    # ---- reading ------------------------------------------------------------------------------
    def _unreadable(self, exc: BaseException) -> InputFileError:
        # zipfile quotes what it read (a member's header, its name): the file's own bytes
        said = str(exc)
        said = said if len(said) <= 160 else said[:160] + "..."
        if (isinstance(exc, zipfile.BadZipFile) and "CRC" in said) or \
                isinstance(exc, zlib.error):
            return InputFileError(f"{self.path} is damaged ({said})")
        return InputFileError(f"{self.path}: not a readable checkpoint ({said})")

    def _index(self) -> dict[str, _Entry]:
        infos = self._zip.infolist()
        if len(infos) > MAX_MEMBERS:
            raise InputFileError(f"{self.path}: {len(infos)} entries; a checkpoint holds at "
                                 f"most {MAX_MEMBERS} arrays")
        entries: dict[str, _Entry] = {}
        for info in infos:
            if not info.filename.endswith(".npy") or info.is_dir():
                raise InputFileError(f"{self.path}: holds {info.filename!r}, which is not a "
                                     "numpy array")
            name = info.filename[:-len(".npy")]
            if name in entries:
                raise InputFileError(f"{self.path}: holds {name!r} twice")
            try:
                with self._zip.open(info) as fp, warnings.catch_warnings():
                    # an old (Python 2) header parses, with a warning nobody can act on
                    warnings.simplefilter("ignore", UserWarning)
                    version = npy.read_magic(fp)
                    if version == (1, 0):
                        shape, fortran, dtype = npy.read_array_header_1_0(fp)
                    elif version == (2, 0):
                        shape, fortran, dtype = npy.read_array_header_2_0(fp)
                    else:
                        raise ValueError(f"{name}: .npy format version {version}")
                    offset = fp.tell()
            except HEADER_ERRORS as exc:
                raise self._unreadable(exc) from None
            if any(int(d) < 0 for d in shape):
                # numpy's parser allows negative sizes; their product can still look right
                raise InputFileError(f"{self.path}: not a readable checkpoint ({name!r} has "
                                     f"shape {tuple(shape)})")
            if dtype.hasobject or dtype.kind not in PLAIN_KINDS or dtype.fields is not None:
                raise InputFileError(f"{self.path}: {name} has dtype {dtype}; a checkpoint "
                                     "holds only bool, integer and float arrays")
            entry = _Entry(info, tuple(int(d) for d in shape), bool(fortran), dtype, offset)
            if info.file_size != offset + entry.nbytes:
                raise InputFileError(f"{self.path} is damaged: {name} has {info.file_size} "
                                     f"bytes, its header says {offset + entry.nbytes}")
            entries[name] = entry
        if META not in entries:
            raise InputFileError(f"{self.path}: not a readable checkpoint (no metadata)")
        return entries

    def _array(self, entry: _Entry) -> np.ndarray:
        try:
            raw = self._zip.read(entry.info)
        except READ_ERRORS as exc:
            raise self._unreadable(exc) from None
        if len(raw) != entry.offset + entry.nbytes:
            raise InputFileError(f"{self.path} is damaged: an array is cut short")
        count = math.prod(entry.shape)
        flat = np.frombuffer(raw, dtype=entry.dtype, count=count, offset=entry.offset)
        return flat.reshape(entry.shape, order="F" if entry.fortran else "C")

    def _meta(self) -> dict[str, Any]:
        entry = self._entries[META]
        if entry.dtype != np.uint8 or len(entry.shape) != 1:
            raise InputFileError(f"{self.path}: not a readable checkpoint (metadata is "
                                 f"{entry.dtype}{entry.shape}, not bytes)")
        if entry.nbytes > MAX_META_BYTES:
            raise InputFileError(f"{self.path}: {entry.nbytes} bytes of metadata; a "
                                 f"checkpoint holds at most {MAX_META_BYTES}")
        try:
            meta = json.loads(self._array(entry).tobytes().decode("utf-8"))
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise InputFileError(f"{self.path}: not a readable checkpoint (metadata: "
                                 f"{str(exc)[:120]})") from None
        if not isinstance(meta, dict):
            raise InputFileError(f"{self.path}: not a readable checkpoint (bad metadata)")
        return meta

    def read(self, layout: Mapping[str, ArraySpec] | None = None) -> dict[str, np.ndarray]:
        """Every array, after checking that each is one ``layout`` names and no larger than
        it allows (without a layout: at most MAX_UNBOUNDED_BYTES in all), and that the file
        matches its digest. The arrays are read-only views of the file's bytes."""
        entries = {name: e for name, e in self._entries.items() if name != META}
        if layout is not None:
            for name, e in entries.items():
                spec = layout.get(name)
                if spec is None:
                    raise InputFileError(f"{self.path}: holds an unexpected array {name!r}")
                if len(e.shape) != len(spec.most) or any(
                        d > hi for d, hi in zip(e.shape, spec.most)):
                    raise InputFileError(f"{self.path}: {name} has shape {e.shape}, more "
                                         f"than the config allows ({spec.wanted()})")
        elif sum(e.nbytes for e in entries.values()) > MAX_UNBOUNDED_BYTES:
            raise InputFileError(f"{self.path}: more than {MAX_UNBOUNDED_BYTES} bytes of "
                                 "arrays")
        arrays = {name: self._array(e) for name, e in entries.items()}
        if checkpoint_digest(arrays, self.meta) != self._digest:
            raise InputFileError(f"{self.path} is damaged: its digest does not match its "
                                 "contents")
        return arrays


def read_meta(path: str | Path) -> dict[str, Any]:
    """A checkpoint's metadata (without reading its arrays or checking its digest)."""
    with CheckpointFile(path) as f:
        return f.meta


def load_checkpoint(path: str | Path, layout: Mapping[str, ArraySpec] | None = None
                    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """A checkpoint's arrays and metadata, bounded by ``layout`` and checked against its
    digest (see ``CheckpointFile.read``)."""
    with CheckpointFile(path) as f:
        return f.read(layout), f.meta
