"""A Mycos organism as the dashboard shows it: every chunk's bits as they stand, on or off,
and the network's readable form (``MycosView``, the published reply model)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from primordia.core.config import ClosedModel

from .genome import MycosGenome

MAX_TEXT = 20_000
"""Characters of the readable form a view carries at most (a network at the caps is long)."""


class MycosChunkBits(ClosedModel):
    chunk: int
    inputs: str = Field(description="The input bits as '0' and '1', bit 0 first.")
    internals: str = Field(description="The internal bits, bit 0 first.")
    outputs: str = Field(description="The output bits, bit 0 first.")


class MycosView(ClosedModel):
    kind: Literal["mycos"]
    chunks: list[MycosChunkBits]
    connections: int
    links: int
    text: str = Field(description="The network in readable form (cut at 20,000 characters).")


def mycos_view(brain: Any, slot: int, genome: MycosGenome, text: str) -> dict[str, Any]:
    """The view of the organism in ``slot`` of a ``MycosBrain``."""
    bits = "".join("1" if b else "0" for b in brain.bits_of(slot).tolist())
    chunks, at = [], 0
    for c, ch in enumerate(genome.chunks):
        parts = []
        for size in (ch.ni, ch.nn, ch.no):
            parts.append(bits[at:at + size])
            at += size
        chunks.append({"chunk": c, "inputs": parts[0], "internals": parts[1],
                       "outputs": parts[2]})
    return {"kind": "mycos", "chunks": chunks, "connections": genome.n_connections,
            "links": len(genome.links), "text": text[:MAX_TEXT]}
