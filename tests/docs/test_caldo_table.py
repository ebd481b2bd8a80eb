"""docs/brains/caldo.md's instruction table is the one isa.py holds."""

from __future__ import annotations

from pathlib import Path

from primordia.brains.caldo.isa import B_LEVELS, G_LEVELS, LATTICE, R_LEVELS

DOC = Path(__file__).resolve().parents[2] / "docs" / "brains" / "caldo.md"


def test_every_lattice_row_is_in_the_doc():
    text = DOC.read_text()
    for k, row in enumerate(LATTICE):
        r, g = R_LEVELS[k // len(G_LEVELS)], G_LEVELS[k % len(G_LEVELS)]
        cells = [f"{op.name} `{(r << 16) | (g << 8) | b:06X}`" for op, b in zip(row, B_LEVELS)]
        assert f"| {r:02X} {g:02X} | " + " | ".join(cells) + " |" in text
