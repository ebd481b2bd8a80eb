"""Caldo genes as text: instruction names, and numbers that become QUOTE and the number
(docs/brains/caldo.md, "Genes as text")."""

from __future__ import annotations

from primordia.core.errors import GenomeError

from .isa import MASK, OPCODE, OPS, opcode_of, triplet_of


def assemble(text: str) -> list[int]:
    """The triplets of a gene written as words: an instruction name (its canonical triplet),
    a number (decimal, or hex with 0x: QUOTE and the number), or ``#xxxxxx`` (that triplet
    as it is). ``;`` starts a comment to the end of the line."""
    out: list[int] = []
    for line in text.splitlines():
        for word in line.split(";", 1)[0].split():
            if word.upper() in OPCODE:
                out.append(triplet_of(word.upper()))
            elif word.startswith("#"):            # "#a0a0b2" or "#a0a0b2(NOP)"
                out.append(_number(word[1:].split("(", 1)[0], 16, word))
            else:
                out += [triplet_of("QUOTE"), _number(word, 0, word)]
    return out


def _number(text: str, base: int, word: str) -> int:
    try:
        v = int(text, base)
    except ValueError:
        raise GenomeError(f"caldo: {word!r} is neither an instruction nor a number") from None
    if not 0 <= v <= MASK:
        raise GenomeError(f"caldo: {word!r} is not a triplet (0 .. 0xFFFFFF)")
    return v


def disassemble(words: list[int]) -> str:
    """The words of a gene: names where a triplet is its instruction's canonical triplet,
    ``#xxxxxx(NAME)`` where it only means it, a number for a canonical QUOTE and what it
    quotes. ``assemble`` gives the same triplets back."""
    out: list[str] = []
    k = 0
    while k < len(words):
        w = words[k] & MASK
        name = OPS[opcode_of(w)].name
        canonical = w == triplet_of(name)
        if name == "QUOTE" and k + 1 < len(words):
            quoted = words[k + 1] & MASK
            out += [str(quoted)] if canonical else [f"#{w:06x}(QUOTE)", f"#{quoted:06x}"]
            k += 2
            continue
        out.append(name if canonical else f"#{w:06x}({name})")
        k += 1
    return " ".join(out)
