"""A world's genomes in a snapshot: every slot's canonical bytes in one array with per-slot
lengths (-1: no genome), and back again through the substrate's validating decoder -- what
the hex and ecology worlds' checkpoints and state hashes hold."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from primordia.core.errors import GenomeError


def genome_table(genomes: Sequence[Any], substrate: Any) -> tuple[np.ndarray, np.ndarray]:
    """(bytes uint8[total], lengths int64[len(genomes)]): slot by slot, None has length -1."""
    enc = [substrate.encode(g) if g is not None else b"" for g in genomes]
    lengths = np.array([len(b) if g is not None else -1 for b, g in zip(enc, genomes)],
                       dtype=np.int64)
    return np.frombuffer(b"".join(enc), dtype=np.uint8).copy(), lengths


def decode_genome_table(data: np.ndarray, lengths: np.ndarray, substrate: Any, out: Any,
                        source: str) -> None:
    """Decode each slot's genome into ``out[slot]`` (slots of length -1 are left alone);
    GenomeError naming ``source`` and the slot for a genome that does not decode. The table
    must already add up (``snapshot.check``)."""
    raw = data.tobytes()
    at = 0
    for slot, n in enumerate(lengths.tolist()):
        if n >= 0:
            try:
                out[slot] = substrate.decode(raw[at:at + n])
            except GenomeError as exc:
                raise GenomeError(f"{source}: the genome of slot {slot}: {exc}") from None
            at += n
