"""Variation of wasm IR genomes keeps every genome valid (ir.validate), within the caps and
the instruction budget, with step's signature, however often it is applied; and the rules
for moving code between blocks (branch depths that leave a moved range) each have a test."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from primordia.brains.wasm import ir
from primordia.brains.wasm import variation as v
from primordia.brains.wasm.ir import CODE, Function, Instr, WasmGenome, make_genome
from primordia.core.rng import DrawStream, Rng, stream_id

STREAM = stream_id("test.wasm.variation")


def draws(seed: int, k: int = 0) -> DrawStream:
    return DrawStream(Rng(seed), STREAM, k, 0)


def code(*lines: str) -> tuple[Instr, ...]:
    """Instructions from ``"name operand ..."`` lines (``r3`` / ``f1`` / ``5``)."""
    out = []
    for line in lines:
        name, *args = line.split()
        out.append(Instr(CODE[name], *(int(a.lstrip("rf")) for a in args)))
    return tuple(out)


def step(*lines: str, locals: int = 4) -> Function:
    return Function(0, 1, locals, code(*lines))


def check(g: WasmGenome, cap: int) -> None:
    """Everything a variation result must be."""
    ir.validate(g)
    assert len(g) <= cap
    assert len(g.functions) <= ir.MAX_FUNCS
    assert all(f.locals <= ir.MAX_LOCALS for f in g.functions)
    f0 = g.functions[0]
    assert (f0.params, f0.results) == (0, 1)
    assert ir.decode(ir.encode(g)) == g


caps = st.integers(0, 400)
seeds = st.integers(0, 2**40)


# ---- properties ------------------------------------------------------------------------------

@settings(max_examples=60, deadline=None)
@given(seed=seeds, cap=caps)
def test_random_genomes_are_valid_and_fill_half_to_all_of_the_budget(seed, cap):
    g = v.random_genome(draws(seed), cap)
    check(g, cap)
    assert (cap + 1) // 2 <= len(g)


@settings(max_examples=80, deadline=None)
@given(seed=seeds, cap=st.integers(0, 300),
       ops=st.lists(st.sampled_from(["mutate", "cross", "cross_back"]), max_size=30))
def test_any_chain_of_mutations_and_crossovers_stays_valid(seed, cap, ops):
    d = draws(seed)
    g, mate = v.random_genome(d, cap), v.random_genome(d, cap)
    for op in ops:
        if op == "mutate":
            g = v.mutate(g, d, cap, point_rate=0.1, structural_rate=0.6)
        elif op == "cross":
            g = v.crossover(g, mate, d, cap)
        else:
            g = v.crossover(mate, g, d, cap)
        check(g, cap)


@pytest.mark.parametrize("kind", sorted(v.STRUCTURAL))
@settings(max_examples=15, deadline=None)
@given(seed=seeds, cap=st.integers(0, 120))
def test_each_structural_mutation_keeps_genomes_valid(kind, seed, cap):
    d = draws(seed)
    g = v.random_genome(d, cap)
    for _ in range(20):
        funcs = v._thaw(g)
        v.STRUCTURAL[kind](d, funcs, cap)
        g = v._freeze(funcs)
        check(g, cap)
        if d.chance(0.3):  # fresh material (helpers, blocks) for the next one to work on
            g = v.crossover(g, v.random_genome(d, cap), d, cap)


@settings(max_examples=20, deadline=None)
@given(seed=seeds)
def test_long_mutation_runs_at_a_small_budget_stay_valid(seed):
    d = draws(seed)
    g = v.random_genome(d, 24)
    for _ in range(150):
        g = v.mutate(g, d, 24)
        check(g, 24)


@settings(max_examples=25, deadline=None)
@given(seed=seeds, cap=st.integers(0, 60))
def test_a_genome_over_the_budget_is_cut_back_to_it(seed, cap):
    d = draws(seed)
    big = v.random_genome(d, 400)
    check(v.mutate(big, d, cap), cap)
    check(v.crossover(big, big, d, cap), cap)


def test_mutation_changes_the_genome_nearly_always():
    changed = 0
    for seed in range(300):
        d = draws(seed)
        g = v.random_genome(d, 80)
        changed += v.mutate(g, d, 80) != g
    assert changed >= 290


def test_structural_mutation_grows_and_shrinks_genomes():
    grew = shrank = 0
    for seed in range(200):
        d = draws(seed)
        g = v.random_genome(d, 100)
        m = v.mutate(g, d, 100, point_rate=0.0, structural_rate=1.0)
        grew += len(m) > len(g)
        shrank += len(m) < len(g)
    assert grew >= 40 and shrank >= 20


def test_crossover_takes_material_from_both_parents():
    a = make_genome([step("const r0 111", "const r1 111", "return r0"),
                     Function(1, 1, 2, code("const r1 111", "add r0 r0 r1", "return r0"))])
    b = make_genome([step("const r2 222", "if r2", "const r0 222", "end", "return r0"),
                     Function(1, 1, 3, code("const r2 222", "mul r0 r0 r2", "return r0"))])
    both = 0
    for seed in range(100):
        child = v.crossover(a, b, draws(seed), 100)
        check(child, 100)
        values = {ins.b for f in child.functions for ins in f.body if ins.op == CODE["const"]}
        both += {111, 222} <= values
    assert both >= 30


def test_the_same_draws_give_the_same_genomes():
    def run(seed):
        d = draws(seed)
        g, h = v.random_genome(d, 200), v.random_genome(d, 200)
        for _ in range(30):
            g = v.crossover(v.mutate(g, d, 200), h, d, 200)
        return g

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_random_genomes_read_sensors_write_actions_and_return_a_local():
    n = 200
    gs = [v.random_genome(draws(seed), 60) for seed in range(n)]
    step_bodies = [g.functions[0].body for g in gs]
    assert sum(b[-1].op == CODE["return"] for b in step_bodies if b) >= 0.95 * n
    assert sum(any(i.op == CODE["sense"] for i in b) for b in step_bodies) >= 0.9 * n
    assert sum(any(i.op == CODE["act"] for i in b) for b in step_bodies) >= 0.5 * n
    assert sum(len(g.functions) > 1 for g in gs) >= 0.1 * n
    loops = sum(any(i.op == CODE["loop"] for i in b) for b in step_bodies)
    blocks = sum(any(i.op in (CODE["block"], CODE["if"]) for i in b) for b in step_bodies)
    assert loops < blocks


def test_a_zero_budget_gives_an_empty_step():
    g = v.random_genome(draws(1), 0)
    assert len(g) == 0 and len(g.functions) == 1
    check(v.mutate(g, draws(2), 0), 0)


# ---- the rules, by example -------------------------------------------------------------------

def test_wrapping_a_range_in_a_block_bumps_the_depths_that_leave_it():
    body = code("block", "br 0", "block", "br 1", "br 0", "end", "br_if 1 r0", "end")
    # wrap "br 0 .. end" (positions 1..5), inside the outer block
    out = v.wrap(body, 1, 6, code("loop"), code("br_if 0 r1", "end"))
    assert out == list(code("block", "loop", "br 1", "block", "br 2", "br 0", "end",
                            "br_if 0 r1", "end", "br_if 1 r0", "end"))
    make_genome([Function(0, 1, 2, tuple(out))])


def test_a_depth_that_leaves_the_function_still_does_after_wrapping():
    body = code("br 0", "return r0")      # br 0 at the top level leaves step
    out = v.wrap(body, 0, 1, code("block"))
    assert out[1] == Instr(CODE["br"], 1)  # now inside one block: depth 1 leaves step
    make_genome([Function(0, 1, 1, tuple(out))])


def test_unwrapping_a_block_lowers_the_depths_that_crossed_it():
    body = code("block", "block", "br 1", "br 0", "br 2", "end", "end")
    out = v.unwrap(body, 1)
    # br 1 went past the removed block to the outer one: now br 0; br 0 aimed at the removed
    # block itself and now aims at the next one out (still 0); br 2 left step and still does
    assert out == list(code("block", "br 0", "br 0", "br 1", "end"))
    make_genome([Function(0, 1, 1, tuple(out))])


def test_unwrapping_an_if_keeps_one_of_its_arms():
    body = code("if r0", "const r1 1", "else", "const r1 2", "end")
    assert v.unwrap(body, 0) == list(code("const r1 1"))
    assert v.unwrap(body, 0, keep_else=True) == list(code("const r1 2"))


def test_balanced_ranges_never_cut_a_block_or_take_an_else_without_its_if():
    body = code("const r0 1", "if r0", "mov r0 r0", "else",
                "mov r1 r1", "end", "mov r2 r2")
    assert [e for e, _ in v.balanced_ends(body, 0)] == [0, 1, 6, 7]
    assert [e for e, _ in v.balanced_ends(body, 2)] == [2, 3]   # stops at the else
    assert [most for _, most in v.balanced_ends(body, 1)] == [0, 1, 1]


def test_a_spliced_segment_keeps_leaving_the_function_and_clamps_other_escapes():
    seg = code("br 3", "br 1", "block", "br 0", "br 2", "end")
    # from inside 3 blocks to inside 1: br 3 left the function and still does (br 1); br 1
    # aimed at a block two levels out, which does not exist here: it aims at the outermost
    # one there is (br 0); branches are measured past the segment's own block (br 2 -> br 1)
    out = v.remap_escapes(seg, v._splice_escape(3, 1))
    assert out == list(code("br 1", "br 0", "block", "br 0", "br 1", "end"))


def test_removing_a_function_renumbers_the_calls_after_it():
    g = make_genome([
        step("call f2 r0 r0", "return r0"),
        Function(0, 0, 1, code("call f1 r0 r0")),       # calls only itself: removable
        Function(1, 1, 1, code("call f2 r0 r0", "return r0")),  # called by step: stays
    ])
    funcs = v._thaw(g)
    assert v._remove_function(draws(0), funcs, 100)
    out = v._freeze(funcs)
    ir.validate(out)
    assert len(out.functions) == 2
    assert out.functions[0].body[0] == Instr(CODE["call"], 1, 0, 0)
    assert out.functions[1].body[0] == Instr(CODE["call"], 1, 0, 0)
    assert not v._remove_function(draws(0), funcs, 100)   # f1 is called: nothing to remove


def test_call_targets_only_change_to_functions_of_the_same_signature():
    g = make_genome([
        step("call f1 r0 r1", "return r0"),
        Function(1, 1, 1, code("return r0")),
        Function(1, 1, 2, code("neg r0 r0", "return r0")),
        Function(0, 0, 1, ()),
    ])
    seen = set()
    for seed in range(60):
        m = v.mutate(g, draws(seed), 100, point_rate=1.0, structural_rate=0.0)
        ir.validate(m)
        call = m.functions[0].body[0]
        assert call.op == CODE["call"] and call.a in (1, 2)
        seen.add(call.a)
    assert seen == {1, 2}


def test_an_imported_call_without_a_compatible_target_becomes_a_no_op():
    b = make_genome([step("call f1 r0 r0", "return r0", locals=2),
                     Function(2, 1, 2, code("add r0 r0 r1", "return r0"))])
    a = make_genome([step("const r0 1", "return r0", locals=1)])
    imported = v._import_calls(draws(0), b.functions[0].body, b.functions, v._thaw(a),
                               v._thaw(a)[0], {})
    assert imported[0] == v.NOP


def test_a_return_spliced_into_a_function_without_a_result_names_local_0():
    fn = v._Fn(0, 0, 4, [])
    assert v._fit_locals(code("return r3", "add r9 r1 r2"), fn) == list(
        code("return r0", "add r1 r1 r2"))


def test_brain_size_counts_instructions_functions_and_locals():
    g = make_genome([step("const r0 1", "return r0", locals=8),
                     Function(1, 1, 8, code("return r0"))])
    assert v.brain_size(g) == 3 + 4 * 2 + 16 // 8


DEEP = make_genome([step(*["block"] * 8, "if r0", *["loop"] * 7, "br_if 15 r1", "const r0 3",
                         *["end"] * 16, "return r0")])
"""Sixteen blocks open at once: the most a function may hold."""


@settings(max_examples=25, deadline=None)
@given(seed=seeds)
def test_variation_never_nests_past_the_cap(seed):
    d = draws(seed)
    g = DEEP
    for _ in range(40):
        g = v.mutate(g, d, 200, point_rate=0.05, structural_rate=0.9)
        check(g, 200)
        g = v.crossover(DEEP, g, d, 200)
        check(g, 200)
