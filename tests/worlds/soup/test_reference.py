"""The soup in plain Python: host instructions, the tick, death, mass, and an ancestor that
fills an empty soup."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.caldo.isa import FALSE, MASK, OPS, TRUE, triplet_of
from primordia.brains.caldo.reference import Processor
from primordia.brains.caldo.text import assemble
from primordia.worlds.soup.ancestor import ancestor
from primordia.worlds.soup.chemistry import A, B, G, I
from primordia.worlds.soup.reference import Rules, Soup

QUIET = Rules(width=6, height=6, point_rate=0.0, duplication_rate=0.0, loss_rate=0.0)


def run_gene(soup: Soup, cell, text: str, steps: int) -> Processor:
    """Run ``text`` as a fresh gene of ``cell`` for ``steps`` steps, outside the tick."""
    from primordia.brains.caldo.reference import step
    handle = cell.add_gene(assemble(text))
    proc = Processor(handle, cell.genes[handle].serial)
    for _ in range(steps):
        step(cell, proc, soup.rules.limits, soup)
    return proc


def test_cell_makes_a_shell_that_copy_fills_and_transfer_feeds():
    soup = Soup(QUIET)
    mother = soup.place(2, 2, [assemble("1 2 ADD")], A=500)
    before = soup.pools[2, 2, I]
    proc = run_gene(soup, mother, f"1 CELL 0 1 COPY {A} 40 1 TRANSFER", 9)
    assert proc.stack == [TRUE, TRUE, TRUE]
    child = soup.cells[(3, 2)]                        # east
    assert child.parent == mother.id and child.lineage == mother.lineage
    assert child.genes[0].words == assemble("1 2 ADD")
    assert soup.pools[2, 3, A] == 40
    assert soup.pools[2, 2, I] == before - 5            # the copy's five triplets


def test_cell_fails_where_a_cell_is_and_copy_fails_behind_a_barrier():
    soup = Soup(QUIET)
    a = soup.place(2, 2, [assemble("1")], A=500)
    b = soup.place(2, 1, [assemble("2")], A=500, B=3)  # north of a
    assert run_gene(soup, b, "BARRIER_UP", 1).stack == [TRUE] and b.barrier
    proc = run_gene(soup, a, "0 CELL 0 0 COPY", 5)
    assert proc.stack == [FALSE, FALSE]


def test_attack_breaks_a_barrier_into_glucose_and_y():
    soup = Soup(Rules(width=6, height=6, attack_damage=2))
    a = soup.place(2, 2, [assemble("1")], A=500)
    b = soup.place(2, 1, [assemble("2")], A=500, B=3)
    run_gene(soup, b, "BARRIER_UP", 1)
    assert run_gene(soup, a, "0 ATTACK 0 ATTACK", 4).stack == [TRUE, TRUE]
    assert soup.pools[1, 2, B] == 0 and soup.pools[1, 2, G] == 3 and not b.barrier


def test_messages_reach_every_neighbour_and_observe_reads_a_signature():
    soup = Soup(QUIET)
    a = soup.place(2, 2, [assemble("1")], A=500)
    b = soup.place(3, 2, [assemble("7 8"), assemble("9")], A=500)
    b.genes[1].activation = 5
    assert run_gene(soup, a, "42 SEND", 2).stack == [TRUE]
    assert run_gene(soup, b, "RECEIVE RECEIVE", 2).stack == [42, 0]
    assert run_gene(soup, a, "OBSERVE", 1).stack[-3:] == [9, 7, b.genes[2].name[0]]


def test_reactions_use_the_cells_light():
    soup = Soup(Rules(width=4, height=4, light=1))
    cell = soup.place(1, 1, [assemble("PHOTOSYNTHESIZE PHOTOSYNTHESIZE")], A=10)
    cell.genes[0].activation = 2          # both photosyntheses in one tick: light for one
    soup.tick()
    assert soup.pools[1, 1, G] == 1
    soup.tick()
    assert soup.pools[1, 1, G] == 2


def test_a_turn_costs_basal_atp_and_each_step_its_depth():
    """Sixteen steps pushing 1..16 values: 16 steps, one of them at depth 16 (16^2 // 256
    = 1 more), and the basal cost."""
    soup = Soup(QUIET)
    cell = soup.place(1, 1, [assemble(" ".join(["7"] * 20))], A=100)
    cell.genes[0].activation = 16
    soup.tick()
    assert soup.pools[1, 1, A] == 100 - (1 + 16 + 1)


def test_gene_move_carries_the_gene_and_ends_its_processors():
    soup = Soup(QUIET)
    a = soup.place(2, 2, [assemble("0 1 GENE_MOVE"), assemble("RESPIRE DROP")], A=500)
    b = soup.place(3, 2, [assemble("9")], A=500)
    for _ in range(4):
        soup.tick()
    assert a.genes[0] is None and b.genes[1].words == assemble("0 1 GENE_MOVE")
    assert [p.home for p in a.processors] == [1]       # woke on the gene it has left


def test_barrier_down_opens_the_cell_again():
    soup = Soup(QUIET)
    a = soup.place(2, 2, [assemble("1")], A=500, I=20)
    b = soup.place(2, 1, [assemble("2")], A=500, B=1)
    run_gene(soup, b, "BARRIER_UP", 1)
    assert run_gene(soup, a, "0 0 COPY", 3).stack == [FALSE]
    assert run_gene(soup, b, "BARRIER_DOWN", 1).stack == [TRUE] and not b.barrier
    assert run_gene(soup, a, "0 0 COPY", 3).stack == [TRUE]


def test_a_barrier_without_barrier_molecules_is_down():
    soup = Soup(QUIET)
    a = soup.place(2, 2, [assemble("1")], A=500, I=20)
    b = soup.place(2, 1, [assemble("2")], A=500, B=1)
    run_gene(soup, b, "BARRIER_UP", 1)
    soup.pools[1, 2, B] = 0                          # broken down by its own reaction
    assert soup.closed(b) is False
    assert run_gene(soup, a, "0 0 COPY", 3).stack == [TRUE]


def test_a_shell_dissolves_when_no_gene_comes():
    soup = Soup(Rules(width=6, height=6, shell_ticks=5))
    mother = soup.place(2, 2, [assemble("1 CELL PROC_DONE")], A=500)
    mother.genes[0].activation = 3
    soup.tick()                                      # tick 0: the shell is made, born 1
    shell = soup.cells[(3, 2)]
    for _ in range(4):
        soup.tick()
    assert (3, 2) in soup.cells and shell.born == 1
    soup.tick()                                      # tick 5: five ticks after its birth
    assert (3, 2) not in soup.cells


def test_a_cell_without_atp_dies_and_its_genes_become_instruction_molecules():
    soup = Soup(QUIET)
    soup.place(1, 1, [assemble("1 2 3")], A=1)
    before = soup.pools[1, 1, I]
    soup.tick()
    assert (1, 1) not in soup.cells and soup.pools[1, 1, I] == before + 6


def test_gene_create_and_write_take_instruction_molecules():
    soup = Soup(QUIET)
    soup.pools[1, 1, I] = 0
    cell = soup.place(1, 1, [assemble("1")], A=100, I=3)
    proc = run_gene(soup, cell, "5 6 2 GENE_CREATE 2 9 GENE_WRITE 2 9 GENE_WRITE", 10)
    assert cell.genes[2].words == [5, 6, 9] and soup.pools[1, 1, I] == 0
    assert proc.stack == [2] and proc.failures == 1       # the second write: no I left


def test_the_ancestor_fills_an_empty_soup_with_its_lineage():
    soup = Soup(Rules(width=8, height=8, point_rate=0.0, duplication_rate=0.0,
                      loss_rate=0.0))
    soup.place(4, 4, ancestor(), A=500)
    mass = soup.atoms()
    for _ in range(400):
        soup.tick()
    assert (soup.atoms() == mass).all()
    cells = list(soup.cells.values())
    assert len(cells) >= 15 and {c.lineage for c in cells} == {0}
    assert all(c.genes[0].words == ancestor()[0] for c in cells)
    assert any(c.parent > 0 for c in cells)            # copies copy themselves again


def test_on_a_soup_two_wide_a_message_reaches_the_neighbour_once():
    soup = Soup(Rules(width=2, height=1))
    a = soup.place(0, 0, [assemble("1")], A=100)
    b = soup.place(1, 0, [assemble("2")], A=100)
    assert run_gene(soup, a, "5 SEND", 2).stack == [TRUE] and list(b.inbox) == [5]


def test_on_a_soup_one_wide_a_cell_is_not_its_own_neighbour():
    soup = Soup(Rules(width=1, height=3))
    a = soup.place(0, 0, [assemble("1")], A=500, I=50)
    assert run_gene(soup, a, f"0 1 COPY {A} 5 1 TRANSFER 1 ATTACK", 9).stack == [FALSE] * 3


_word = st.one_of(st.integers(0, MASK), st.sampled_from([triplet_of(op.name) for op in OPS]),
                  st.integers(0, 5))


_SNIPPETS = ("0 1 COPY", "1 2 COPY", "2 CELL", "0 3 GENE_MOVE", "4 10 1 TRANSFER",
             "8 3 2 TRANSFER", "5 SEND", "RECEIVE", "OBSERVE", "BARRIER_UP", "BARRIER_DOWN",
             "BREAK_BARRIER", "0 ATTACK", "PHOTOSYNTHESIZE", "RESPIRE", "MAKE_INSTRUCTION",
             "5 6 2 GENE_CREATE", "0 7 GENE_WRITE", "1 PROC_START", "0 PROC_END", "PROC_DONE",
             "1 CALL", "ACT_UP", "ACT_DOWN", "3 LOOKUP", "8 POOL", "DROP", "CLEAR")


@st.composite
def _genes(draw):
    """Genes of snippets that do something to the soup, and random triplets."""
    parts = draw(st.lists(st.one_of(st.sampled_from(_SNIPPETS),
                                    st.integers(0, MASK).map(lambda t: f"#{t:06x}")),
                          min_size=1, max_size=8))
    return assemble(" ".join(parts))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(_genes(), min_size=1, max_size=3), min_size=1, max_size=6),
       st.integers(0, 2**32 - 1))
def test_any_cells_conserve_mass_and_keep_the_rules(cells, seed):
    """Cells that copy, move, create and write genes, build and break barriers, transfer
    and react, with copying errors: after every tick every element is where it was counted
    (genes as instruction molecules), every cell is on the grid at its own place, no pool
    is negative, and no gene has more processors started on it than allowed."""
    rules = Rules(width=5, height=4, seed=seed, point_rate=0.05, duplication_rate=0.2,
                  loss_rate=0.1)
    soup = Soup(rules)
    dice = np.random.default_rng(seed)
    for genes in cells:
        spot = (int(dice.integers(0, 5)), int(dice.integers(0, 4)))
        if spot not in soup.cells:
            cell = soup.place(*spot, genes, A=int(dice.integers(0, 600)), I=200, B=5, G=50)
            for g in cell.genes:
                g.activation = int(dice.integers(0, 6))
    mass = soup.atoms()
    for _ in range(30):
        soup.tick()
        assert (soup.atoms() == mass).all()
        assert (soup.pools >= 0).all()
        for (x, y), c in soup.cells.items():
            assert (c.x, c.y) == (x, y) and 0 <= x < 5 and 0 <= y < 4
            for h, g in enumerate(c.genes):
                if g is not None:
                    homed = [p for p in c.processors if (p.home, p.home_serial) == (h, g.serial)
                             and not p.done]
                    assert len(homed) <= max(rules.limits.max_processors, 1)
