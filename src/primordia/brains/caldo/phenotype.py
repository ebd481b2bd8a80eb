"""The genotype -> phenotype step: a gene's triplets become the instructions it runs
(docs/brains/caldo.md, "From genes to instructions").

Each triplet means its nearest instruction (``isa.opcode_of``), except the triplet after a
QUOTE, which is a number: QUOTE and its number become one NUMBER instruction, one step.
IF, ELSE and END are matched here, like brackets, so that running them is a jump: an IF
knows where its false branch starts, an ELSE where its END is. An END that closes nothing is
the seed's other conditional, "go to the end of the gene if the top is 0".
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

from .isa import MASK, OPCODE, opcode_of

NUMBER = -1
"""The opcode of a quoted number (its value is the argument)."""
END_CLOSES, END_EXITS = 0, 1
"""The argument of an END: closes an IF (does nothing when run), or exits when the top is 0."""

_QUOTE, _IF, _ELSE, _END, _NOP = (OPCODE[n] for n in ("QUOTE", "IF", "ELSE", "END", "NOP"))


class Instruction(NamedTuple):
    op: int        # index into isa.OPS, or NUMBER
    arg: int = 0   # NUMBER: the value; IF and ELSE: where to jump; END: END_CLOSES/END_EXITS


def compile_gene(words: Sequence[int]) -> tuple[Instruction, ...]:
    """The instructions a gene's triplets mean. A QUOTE with nothing after it is a NOP; an IF
    or ELSE left open jumps to the end of the gene."""
    out: list[Instruction] = []
    k = 0
    while k < len(words):
        op = opcode_of(words[k])
        if op == _QUOTE:
            out.append(Instruction(NUMBER, words[k + 1] & MASK) if k + 1 < len(words)
                       else Instruction(_NOP))
            k += 2
            continue
        out.append(Instruction(op))
        k += 1
    return _match_conditionals(out)


def _match_conditionals(code: list[Instruction]) -> tuple[Instruction, ...]:
    """Resolve IF / ELSE / END: an IF's argument is the index after its ELSE (or its END), an
    ELSE's the index after its END; unclosed ones jump to the end (``len(code)``)."""
    open_ifs: list[int] = []       # index of each open IF
    open_else: dict[int, int] = {}  # IF index -> index of its ELSE
    for k, ins in enumerate(code):
        if ins.op == _IF:
            open_ifs.append(k)
        elif ins.op == _ELSE and open_ifs and open_ifs[-1] not in open_else:
            open_else[open_ifs[-1]] = k
        elif ins.op == _END:
            if open_ifs:
                start = open_ifs.pop()
                if start in open_else:
                    code[start] = Instruction(_IF, open_else[start] + 1)
                    code[open_else.pop(start)] = Instruction(_ELSE, k + 1)
                else:
                    code[start] = Instruction(_IF, k + 1)
                code[k] = Instruction(_END, END_CLOSES)
            else:
                code[k] = Instruction(_END, END_EXITS)
    for start in open_ifs:              # never closed: the false branch is the gene's end
        if start in open_else:
            code[start] = Instruction(_IF, open_else[start] + 1)
            code[open_else[start]] = Instruction(_ELSE, len(code))
        else:
            code[start] = Instruction(_IF, len(code))
    for k, ins in enumerate(code):      # an ELSE with no IF of its own does nothing
        if ins.op == _ELSE and ins.arg == 0:
            code[k] = Instruction(_NOP)
    return tuple(code)
