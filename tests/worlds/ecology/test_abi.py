"""WebAssembly organisms in the ecology world act through the ABI's calls: env_read sees the
world's tiles, move_dir, eat and try_reproduce do what docs/worlds/ecology.md says, and a
payload's first byte sets the child's mutation rounds."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from primordia.brains.wasm.asm import assemble
from primordia.worlds.ecology.state import T_BIRTHS, T_MEALS, T_MOVES

FORAGER = assemble((Path(__file__).resolve().parents[3] / "src" / "primordia" / "examples"
                    / "ecology_forager.wir").read_text())
"""examples/ecology_forager.wir: eats where there is food, else steps east; breeds true."""


def test_foragers_see_their_tile_move_eat_and_breed_true_through_the_abi(world):
    w = world("wasm", founders=[FORAGER] * 60, radiation_share=0.0, reproduce_min=400)
    w.run(12)
    totals = w.state.totals
    assert totals[T_MOVES] > 0 and totals[T_MEALS] > 0 and totals[T_BIRTHS] > 0
    live = np.flatnonzero(w.state.alive)
    # payload byte 0: every child is its parent's clone, so every forager's line is intact
    founders_lines = live[w.state.lineage[live] < 60]
    assert all(w.genomes[i] == FORAGER for i in founders_lines.tolist())
    assert (w.state.generation[founders_lines] > 0).any()
    # what moved did so eastwards only: a forager on an empty tile steps to x + 1
    assert (w.state.moved[founders_lines] > 0).any()


def test_an_eating_organism_takes_from_the_tile_it_reads(world):
    w = world("wasm", founders=[FORAGER] * 60, radiation_share=0.0, resource_density=1.0,
              obstacle_share=0.0, hazard_share=0.0)
    before = w.state.resource.copy()
    w.tick()
    live = np.flatnonzero(w.state.alive[:60])
    tiles = w.state.y[live] * w.config.width + w.state.x[live]
    assert (w.state.resource[tiles] < before[tiles]).all()   # every founder ate where it stood
    assert w.state.totals[T_MOVES] == 0
