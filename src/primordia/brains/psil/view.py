"""A micro-PSIL organism as the dashboard shows it: the disassembly of its program, its pc,
status and the top of its stack (``PsilView``, the published reply model)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from primordia.core.config import ClosedModel

from .asm import disassemble_lines
from .genome import PsilGenome

PSIL_STATUS = ("running", "yielded", "halted", "failed")
STACK_SHOWN = 16


class PsilLine(ClosedModel):
    addr: int
    bytes: str = Field(description="The instruction's bytes as hex.")
    text: str


class PsilView(ClosedModel):
    kind: Literal["psil"]
    pc: int
    status: Literal[PSIL_STATUS]
    stack: list[int]
    code_bytes: int
    lines: list[PsilLine]


def psil_view(brain: Any, slot: int, genome: Any) -> dict[str, Any]:
    """The view of the organism in ``slot`` of a ``PsilBrain``."""
    code = genome.code if isinstance(genome, PsilGenome) else bytes(genome)
    status = int(brain.status[slot])
    stack = brain.stack_of(slot)
    return {"kind": "psil", "pc": int(brain.pc()[slot]),
            "status": PSIL_STATUS[status] if 0 <= status < len(PSIL_STATUS) else str(status),
            "stack": stack[-STACK_SHOWN:], "code_bytes": len(code),
            "lines": [{"addr": a, "bytes": raw.hex(), "text": text}
                      for a, raw, text in disassemble_lines(code)]}
