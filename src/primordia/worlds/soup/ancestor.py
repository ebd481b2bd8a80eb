"""The hand-written ancestor: one gene that feeds its cell, stores up the instruction
molecules a copy of itself is made of, and then copies itself east and south into free
places (docs/worlds/soup.md, "The ancestor")."""

from __future__ import annotations

from primordia.brains.caldo.text import assemble

from .chemistry import A, I

_METABOLISM = """
  ACT_UP ACT_UP                        ; run faster: two steps more a tick each time round
  PHOTOSYNTHESIZE DROP PHOTOSYNTHESIZE DROP PHOTOSYNTHESIZE DROP PHOTOSYNTHESIZE DROP
  PHOTOSYNTHESIZE DROP PHOTOSYNTHESIZE DROP PHOTOSYNTHESIZE DROP PHOTOSYNTHESIZE DROP
  RESPIRE DROP RESPIRE DROP RESPIRE DROP          ; glucose from the light, three burnt
  MAKE_INSTRUCTION DROP MAKE_INSTRUCTION DROP     ; for ATP, four kept as instruction
  MAKE_INSTRUCTION DROP MAKE_INSTRUCTION DROP     ; molecules
"""

_COPY_TOWARDS = """
  {i} POOL {length} GT                 ; enough instruction molecules for a copy
  {a} POOL {atp} GT AND IF             ; and ATP for the shell, its start and the copy:
    {d} CELL IF                        ; a shell in direction {d}, if that place is free,
      {a} {gift} {d} TRANSFER DROP     ; gets ATP to start on (a cell with genes and no
      0 {d} COPY DROP                  ; ATP dies at its turn), then this gene (handle 0)
    END
  END
"""


def _text(length: int) -> str:
    return _METABOLISM + "".join(_COPY_TOWARDS.format(i=I, a=A, gift=60, atp=250, d=d,
                                                      length=length) for d in (1, 2))


ANCESTOR_TEXT = _text(len(assemble(_text(0))))
"""The ancestor in Caldo text (``text.assemble``); the length it waits for is its own."""


def ancestor() -> list[list[int]]:
    """The ancestor's genes."""
    return [assemble(ANCESTOR_TEXT)]
