"""The Caldo machine, rule by rule. The first group is the reference implementation's own
scenarios (faassen/caldo's tests: the same genes, steps and stacks), written with QUOTE for
its raw numbers -- QUOTE and its number are one instruction, one step, so step counts and
jump distances are the reference's; where a scenario reads a gene's words, the index counts
triplets, QUOTEs included."""

from __future__ import annotations

import pytest

from primordia.brains.caldo.isa import FALSE, MASK, TRUE, triplet_of
from primordia.brains.caldo.reference import Alone, Cell, Limits, run, step


def gene(*items) -> list[int]:
    """Triplets from numbers (quoted) and instruction names (their canonical triplet); a
    ("raw", t) item is the triplet t as it is."""
    out: list[int] = []
    for item in items:
        if isinstance(item, str):
            out.append(triplet_of(item))
        elif isinstance(item, tuple):
            out.append(item[1])
        else:
            out += [triplet_of("QUOTE"), item & MASK]
    return out


def running(*genes, limits: Limits | None = None, steps: int, start: int = -1):
    """A cell with ``genes`` (handles 0, 1, ...) and one processor on gene ``start`` (the
    last by default), run for ``steps``; returns (cell, processor)."""
    cell = Cell()
    for g in genes:
        cell.add_gene(g)
    proc = cell.start(start % len(genes))
    run(cell, steps, limits)
    return cell, proc


# ---- the reference's scenarios ---------------------------------------------------------------

@pytest.mark.parametrize("words, steps, stack, failures", [
    (gene(3, 4, "ADD"), 3, [7], 0),
    (gene(3, 4, "ADD", 6, "SUB"), 5, [1], 0),
    (gene(3, 4, "ADD"), 6, [7, 7], 0),                                  # wraps to the start
    (gene(4, "ADD"), 2, [], 1),                                         # underflow
    (gene(1, 1, "JMPF", 66, 77), 4, [77], 0),
    (gene(1, 2, "JMPF", 66, 77, 88), 4, [88], 0),
    (gene(1, 200, "JMPF", 66, 88), 4, [66], 1),                         # too far: no jump
    (gene(0, 1, "JMPF", 66, 88), 4, [66], 0),
    (gene(1, 0, "JMPF", 66, 88), 4, [66], 0),
    (gene(88, 1, 3, "JMPB", 66), 5, [88, 88], 0),
    (gene(88, 0, 3, "JMPB", 66), 5, [88, 66], 0),
    (gene(88, 1, 1, "JMPB", 66), 5, [88, 1], 0),
    (gene(88, 1, 0, "JMPB", 66), 5, [88, 66], 0),
    (gene(88, 1, 100, "JMPB", 66), 5, [88, 66], 1),
])
def test_reference_programs(words, steps, stack, failures):
    _, proc = running(words, steps=steps)
    assert proc.stack == stack and proc.failures == failures


def test_a_triplet_near_an_instruction_means_it():
    add, sub = triplet_of("ADD"), triplet_of("SUB")
    _, proc = running(gene(3, 4, ("raw", add + 1), 6, ("raw", sub - 1)), steps=5)
    assert proc.stack == [1] and proc.failures == 0


@pytest.mark.parametrize("words, stack", [
    (gene(1, 2, 3, 4, 5), [3, 4, 5]),
    (gene(1, "DUP", "DUP", "DUP", "DUP"), [1, 1, 1]),
])
def test_a_stack_over_its_cap_loses_the_bottom_half_of_the_cap(words, stack):
    _, proc = running(words, limits=Limits(max_stack=4), steps=5)
    assert proc.stack == stack and proc.failures == 1


def test_lookup_pushes_the_nearest_gene_and_call_runs_it_without_return():
    # gene 0 [3 4 ADD]; gene 1 looks up key 3 (gene 0's first number) and calls it; CALL is
    # its last instruction, so gene 0 returns to gene 1's start
    g0, g1 = gene(3, 4, "ADD"), gene(5, 3, "LOOKUP", "CALL")
    _, proc = running(g0, gene(5, 3, "LOOKUP"), steps=3)
    assert proc.stack == [5, 0]
    _, proc = running(g0, g1, steps=7)
    assert proc.stack == [5, 7] and proc.failures == 0
    _, proc = running(g0, g1, steps=8)
    assert proc.stack == [5, 7, 5]


def test_lookup_in_a_cell_of_one_gene_finds_that_gene():
    _, proc = running(gene(5, 3, "LOOKUP"), steps=3)
    assert proc.stack == [5, 0]


def test_call_returns_after_the_call():
    _, proc = running(gene(3, 4, "ADD"), gene(5, 3, "LOOKUP", "CALL", 4), steps=8)
    assert proc.stack == [5, 7, 4] and proc.failures == 0


def test_call_of_a_gene_not_in_the_cell_fails():
    _, proc = running(gene(5, "CALL", 1, 6, "ADD"), steps=5)
    assert proc.stack == [7] and proc.failures == 1


def test_a_call_stack_over_its_cap_loses_its_bottom_half():
    # M calls A calls B calls C: the third call overflows a call stack of 2 (one entry lost)
    a = gene(1, 2, "LOOKUP", "CALL")
    b = gene(2, 3, "LOOKUP", "CALL")
    c = gene(3, 4, 10, 20, "ADD", 40)
    m = gene(0, 1, "LOOKUP", "CALL")
    _, proc = running(a, b, c, m, limits=Limits(max_call_stack=2), steps=17)
    assert proc.stack == [0, 1, 2, 3, 4, 30]
    assert len(proc.calls) == 2 and proc.failures == 1


@pytest.mark.parametrize("index, pushed", [(1, 3), (4, triplet_of("ADD")), (100, None)])
def test_gene_read_pushes_a_word_of_the_named_gene(index, pushed):
    _, proc = running(gene(3, 4, "ADD"), gene(5, 3, "LOOKUP", index, "GENE_READ"), steps=5)
    assert proc.stack == ([5, pushed] if pushed is not None else [5])
    assert proc.failures == (pushed is None)


def test_gene_write_appends_a_word_to_the_named_gene():
    cell, _ = running(gene(3, 4, "ADD"), gene(5, 3, "LOOKUP", 10, "GENE_WRITE"), steps=5)
    assert cell.genes[0].words == gene(3, 4, "ADD") + [10]


# ---- arithmetic and logic on triplets --------------------------------------------------------

@pytest.mark.parametrize("a, b, op, out", [
    (MASK, 1, "ADD", 0), (0, 1, "SUB", MASK), (0x800000, 2, "MUL", 0), (7, 2, "DIV", 3),
    (7, 2, "MOD", 1), (12, 3, "GT", TRUE), (3, 12, "GT", FALSE), (3, 12, "LT", TRUE),
    (5, 5, "EQ", TRUE), (5, 5, "NE", FALSE), (3, 0, "AND", FALSE), (3, 0, "OR", TRUE),
    (0x102030, 0x112131, "MATCH", TRUE), (0x102030, 0x604030, "MATCH", FALSE),
])
def test_binary_instructions_wrap_to_24_bits(a, b, op, out):
    _, proc = running(gene(a, b, op), steps=3)
    assert proc.stack == [out] and proc.failures == 0


@pytest.mark.parametrize("op", ["DIV", "MOD"])
def test_dividing_by_zero_fails_and_loses_both_values(op):
    _, proc = running(gene(9, 7, 0, op), steps=4)
    assert proc.stack == [9] and proc.failures == 1


@pytest.mark.parametrize("v, out", [(0, TRUE), (TRUE, FALSE), (123, FALSE)])
def test_not_is_logical(v, out):
    _, proc = running(gene(v, "NOT"), steps=2)
    assert proc.stack == [out]


@pytest.mark.parametrize("word, before, after", [
    ("SWAP", [1, 2], [2, 1]), ("OVER", [1, 2], [1, 2, 1]), ("ROT", [1, 2, 3], [2, 3, 1]),
    ("NIP", [1, 2], [2]), ("PICK", [1, 2, 3], [1, 2, 3, 1]), ("2DUP", [1, 2], [1, 2, 1, 2]),
    ("2DROP", [1, 2, 3], [1]), ("2SWAP", [1, 2, 3, 4], [3, 4, 1, 2]),
    ("2OVER", [1, 2, 3, 4], [1, 2, 3, 4, 1, 2]), ("CLEAR", [1, 2], []),
    ("OVER", [1], []), ("ROT", [1, 2], []),                 # too few: what was there is lost
])
def test_stack_words(word, before, after):
    _, proc = running(gene(*before, word), steps=len(before) + 1)
    assert proc.stack == after and proc.failures == (len(after) == 0 and word != "CLEAR")


# ---- conditionals ------------------------------------------------------------------------------

@pytest.mark.parametrize("cond, stack", [(TRUE, [1, 3]), (0, [2, 3])])
def test_if_else_end(cond, stack):
    _, proc = running(gene(cond, "IF", 1, "ELSE", 2, "END", 3), steps=5)
    assert proc.stack == stack


@pytest.mark.parametrize("cond, stack", [(5, [1, 3]), (0, [3])])
def test_if_end_without_else(cond, stack):
    _, proc = running(gene(cond, "IF", 1, "END", 3), steps=5 if cond else 3)
    assert proc.stack == stack


def test_nested_ifs_match_like_brackets():
    # outer true, inner false: only the inner ELSE branch and what follows both run
    words = gene(TRUE, "IF", 0, "IF", 10, "ELSE", 20, "END", 30, "END", 40)
    _, proc = running(words, steps=9)
    assert proc.stack == [20, 30, 40]


def test_an_end_that_closes_nothing_exits_the_gene_on_zero():
    _, proc = running(gene(1, 0, "END", 2), steps=4)     # exits: wraps and pushes 1 again
    assert proc.stack == [1, 1]
    _, proc = running(gene(1, 7, "END", 2), steps=4)
    assert proc.stack == [1, 2]


@pytest.mark.parametrize("a, b, stack", [(1, 2, [9, 8]), (2, 1, [8])])
def test_if_gt_runs_the_next_instruction_when_the_top_is_greater(a, b, stack):
    _, proc = running(gene(a, b, "IF_GT", 9, 8), steps=len(stack) + 3)
    assert proc.stack == stack


# ---- genes, activation, processors ---------------------------------------------------------------

def test_gene_create_makes_a_gene_of_the_top_values_and_pushes_its_handle():
    cell, proc = running(gene(7, 8, 9, 2, "GENE_CREATE"), steps=5)
    assert proc.stack == [7, 1] and cell.genes[1].words == [8, 9]


def test_find_narrows_by_the_second_key():
    # two genes start near 0x100000; the second key picks the one whose second triplet is
    # nearer 0x200000
    a = [0xA0A0A0, 0x900000]
    b = [0xA0A0A1, 0x200000]
    _, proc = running(a, b, gene(0xA0A0A0, 0x200000, 2, "FIND"), steps=4)
    assert proc.stack == [1]


def test_activation_acts_on_the_gene_last_found_or_on_itself():
    cell, proc = running(gene(3), gene("ACT_UP", "ACT_UP", 0, "LOOKUP", "ACT_UP",
                                       "ACTIVATION"), steps=6)
    assert cell.genes[1].activation == 3 and cell.genes[0].activation == 2
    assert proc.stack[-1] == 2


def test_processors_start_and_stop_themselves():
    # the starter starts two workers (they run from the next round) and stops; a worker
    # pushes three numbers and stops
    worker = gene(1, 1, 1, "PROC_DONE")
    cell, _ = running(worker, gene(0, "PROC_START", 0, "PROC_START", "PROC_DONE"), steps=4)
    assert [p.gene for p in cell.processors] == [1, 0, 0]
    run(cell, 4)
    assert cell.processors == []


def test_proc_end_stops_every_processor_on_a_gene():
    cell, proc = running(gene(1), gene(0, "PROC_START", 0, "PROC_START", 0, "PROC_END"),
                         steps=6)
    assert [p.gene for p in cell.processors] == [1] and proc.failures == 0


def test_a_gene_runs_at_most_max_processors():
    cell, proc = running(gene(1), gene(*[x for _ in range(6) for x in (0, "PROC_START")]),
                         limits=Limits(max_processors=4), steps=12)
    assert sum(p.gene == 0 for p in cell.processors) == 4 and proc.failures == 2


def test_max_processors_counts_processors_by_the_gene_they_started_on():
    """Each new processor calls into a looping gene at once; it still counts for gene 0."""
    cell, _ = running(gene(0, "PROC_START", 1, "CALL"), gene(1, 2, "JMPB"),
                      limits=Limits(max_processors=4), steps=1000, start=0)
    assert len(cell.processors) == 4
    assert all(p.home == 0 for p in cell.processors)


def test_the_stack_cap_holds_even_below_what_one_instruction_pushes():
    cell = Cell()
    cell.add_gene(gene("OBSERVE", "2DUP"))          # three values, then two more
    proc = cell.start(0)
    for _ in range(40):
        step(cell, proc, Limits(max_stack=1), Alone())
        assert len(proc.stack) <= 1


def test_a_processor_whose_gene_left_starts_its_home_gene_over():
    cell, proc = running(gene(1, "CALL"), gene(7, 8, 9), steps=3, start=0)
    assert (proc.gene, proc.stack) == (1, [7])       # inside gene 1
    cell.remove_gene(1)
    cell.add_gene(gene(5, 5))                        # the slot is refilled by another gene
    run(cell, 1)
    assert (proc.gene, proc.pc, proc.failures) == (0, 1, 1)    # home, after its first step
    assert proc.stack == [7, 1]


def test_a_processor_whose_home_gene_left_ends():
    cell, proc = running(gene(1, 2), steps=1)
    cell.remove_gene(0)
    run(cell, 1)
    assert cell.processors == []


def test_host_instructions_without_a_world_fail_with_false():
    _, proc = running(gene(2, "CELL", "OBSERVE"), steps=3)
    assert proc.stack == [FALSE, FALSE, FALSE, FALSE] and proc.failures == 0


# ---- any genes at all ----------------------------------------------------------------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from primordia.brains.caldo.isa import OPS  # noqa: E402

_word = st.one_of(st.integers(0, MASK), st.sampled_from([triplet_of(op.name) for op in OPS]),
                  st.integers(0, 12))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(_word, max_size=30), min_size=1, max_size=5), st.integers(1, 200),
       st.integers(1, 8))
def test_any_genes_run_within_their_caps(genes, steps, max_stack):
    """Whatever the triplets: no error, values stay triplets, stacks and call stacks stay
    under their caps, no gene has more processors started on it than allowed."""
    limits = Limits(max_stack=max_stack, max_call_stack=4, max_genes=6, max_gene_length=40,
                    max_processors=2)
    cell = Cell()
    for g in genes:
        cell.add_gene(g)
    cell.start(0)
    run(cell, steps, limits)
    assert cell.gene_count() <= max(limits.max_genes, len(genes))
    for p in cell.processors:
        assert len(p.stack) <= limits.max_stack and len(p.calls) <= limits.max_call_stack
        assert all(0 <= v <= MASK for v in p.stack)
    for h, g in enumerate(cell.genes):
        if g is not None:
            assert sum(p.home == h for p in cell.processors) <= limits.max_processors
            assert all(0 <= w <= MASK for w in g.words)
