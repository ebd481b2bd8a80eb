"""The micro-PSIL genome: main code bytes plus an optional quotation table, and its text codecs.

A genome in the sandbox is just bytes. Programs written by hand may also define quotation bodies
(``QUOT name idx ... ENDQUOT`` in ``.mpsil``) that ``exec``, ``ifte``, ``dip`` and ``loop`` run.
The text form is lowercase hex of the main code, then ``;INDEX:HEX`` for each quotation body,
e.g. ``2560128c00f1;0:2106`` -- one token, so files can hold one genome per line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from primordia.core.errors import GenomeError

from .opcodes import QUOTATION_TABLE

MAX_CODE_BYTES = 65536
"""Largest main code or quotation body accepted from outside (keeps hostile input bounded)."""

_HEX_RE = re.compile(r"^[0-9a-fA-F]*$")


@dataclass(frozen=True)
class PsilGenome:
    """An immutable micro-PSIL program: ``code`` runs first; ``quotations`` maps index -> body."""

    code: bytes
    quotations: tuple[tuple[int, bytes], ...] = field(default=())

    def __post_init__(self) -> None:
        if not isinstance(self.code, bytes):
            object.__setattr__(self, "code", bytes(self.code))
        if len(self.code) > MAX_CODE_BYTES:
            raise GenomeError(f"code is {len(self.code)} bytes; the limit is {MAX_CODE_BYTES}")
        quots = tuple(sorted((int(i), bytes(b)) for i, b in self.quotations))
        seen = set()
        for idx, body in quots:
            if not 0 <= idx < QUOTATION_TABLE:
                raise GenomeError(f"quotation index {idx} is outside 0..{QUOTATION_TABLE - 1}")
            if idx in seen:
                raise GenomeError(f"quotation {idx} is defined twice")
            if len(body) > MAX_CODE_BYTES:
                raise GenomeError(f"quotation {idx} is {len(body)} bytes; the limit is "
                                  f"{MAX_CODE_BYTES}")
            seen.add(idx)
        object.__setattr__(self, "quotations", quots)

    @property
    def quotation_map(self) -> dict[int, bytes]:
        """Quotation bodies by index."""
        return dict(self.quotations)

    def __len__(self) -> int:
        return len(self.code)

    def to_hex(self) -> str:
        """Canonical text form: hex of the code, then ``;i:hex`` per quotation."""
        parts = [self.code.hex()]
        parts.extend(f"{idx}:{body.hex()}" for idx, body in self.quotations)
        return ";".join(parts)

    @classmethod
    def from_hex(cls, text: str) -> PsilGenome:
        """Parse the text form; raises GenomeError naming what is wrong."""
        text = "".join(text.split())
        head, *rest = text.split(";")
        code = _decode_hex(head, "code")
        quots = []
        for part in rest:
            idx_text, sep, body_hex = part.partition(":")
            # str.isdigit is true of digits int() refuses ("²") and of any number of them
            if not sep or not idx_text.isascii() or not idx_text.isdigit():
                raise GenomeError(f"bad quotation segment {part[:40]!r}: expected INDEX:HEX")
            if len(idx_text) > 9:
                raise GenomeError(f"quotation index {idx_text[:12]}... is outside "
                                  f"0..{QUOTATION_TABLE - 1}")
            quots.append((int(idx_text), _decode_hex(body_hex, f"quotation {idx_text}")))
        return cls(code, tuple(quots))

    @classmethod
    def from_bytes(cls, data: bytes) -> PsilGenome:
        """A genome of raw code bytes (the sandbox's form)."""
        return cls(bytes(data))


def _decode_hex(text: str, what: str) -> bytes:
    if text.startswith(("0x", "0X")):
        text = text[2:]
    if not _HEX_RE.match(text):
        bad = next(c for c in text if c not in "0123456789abcdefABCDEF")
        raise GenomeError(f"{what}: {bad!r} is not a hex digit")
    if len(text) % 2:
        raise GenomeError(f"{what}: odd number of hex digits ({len(text)})")
    if len(text) // 2 > MAX_CODE_BYTES:
        raise GenomeError(f"{what}: {len(text) // 2} bytes; the limit is {MAX_CODE_BYTES}")
    return bytes.fromhex(text)
