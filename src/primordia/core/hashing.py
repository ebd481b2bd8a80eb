"""Stable digests of state: the same values give the same hex string on every machine.

``state_digest`` hashes named numpy arrays canonically: sorted by name, little-endian,
C order, with each array's name, dtype and shape in the stream, so neither dict order nor
byte order nor memory layout changes a digest, and arrays that differ only in dtype or shape
never share one. Values are hashed as raw bits: -0.0 and 0.0, or two NaN payloads, differ.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

import numpy as np

DIGEST_SIZE = 32
# Domain tag for state digests; bump the digit if the encoding below ever changes.
STATE_PERSON = b"primordia.state1"
# Fixed-layout kinds only: bool, ints, uints, floats, complex, bytes and unicode strings.
HASHABLE_KINDS = frozenset("biufcSU")


def digest_bytes(b: bytes) -> str:
    """Plain blake2b-256 of bytes as hex, the same as ``b2sum -l 256``."""
    return hashlib.blake2b(b, digest_size=DIGEST_SIZE).hexdigest()


def _u64(n: int) -> bytes:
    """A length or dimension as 8 little-endian bytes, so fields cannot run into each other."""
    return n.to_bytes(8, "little")


def _canonical(name: str, value: object) -> np.ndarray:
    """The array as C-contiguous little-endian data, or a TypeError naming what is wrong."""
    if not isinstance(value, (np.ndarray, np.generic)):
        raise TypeError(f"state_digest: {name!r} is a {type(value).__name__}, "
                        "not a numpy array; convert it with an explicit dtype")
    array = np.asarray(value)
    if array.dtype.kind not in HASHABLE_KINDS or array.dtype.fields is not None:
        raise TypeError(f"state_digest: {name!r} has dtype {array.dtype}, which has no "
                        "canonical bytes; use bool, integer, float, complex or string arrays")
    # np.asarray, not np.ascontiguousarray: the latter turns a 0-d array into shape (1,).
    return np.asarray(array, dtype=array.dtype.newbyteorder("<"), order="C")


def state_digest(arrays: Mapping[str, np.ndarray] | Iterable[tuple[str, np.ndarray]]) -> str:
    """Blake2b-256 hex digest of named arrays, independent of order, byte order and layout."""
    items = list(arrays.items()) if isinstance(arrays, Mapping) else list(arrays)
    names = [name for name, _ in items]
    for name in names:
        if not isinstance(name, str):
            raise TypeError(f"state_digest: array names must be str, got {name!r}")
    if len(set(names)) != len(names):
        dupes = sorted({n for n in names if names.count(n) > 1})
        raise ValueError(f"state_digest: duplicate array names {dupes}")

    h = hashlib.blake2b(digest_size=DIGEST_SIZE, person=STATE_PERSON)
    h.update(_u64(len(items)))
    for name, value in sorted(items, key=lambda item: item[0]):
        array = _canonical(name, value)
        encoded_name = name.encode("utf-8")
        dtype = array.dtype.str.encode("ascii")  # e.g. '<i8', '|b1', '<U3'
        h.update(_u64(len(encoded_name)) + encoded_name)
        h.update(_u64(len(dtype)) + dtype)
        h.update(_u64(array.ndim) + b"".join(_u64(d) for d in array.shape))
        h.update(_u64(array.nbytes))
        h.update(array.data if array.nbytes else b"")
    return h.hexdigest()
