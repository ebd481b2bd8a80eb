"""The compiler and the population runtime: compiled code does what the oracle does, to the
byte and the unit of gas, and one organism's runaway loop, recursion or wild store costs only
that organism."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import wasmtime

from primordia.brains.wasm import compiler, fuzz, ir
from primordia.brains.wasm.asm import assemble
from primordia.brains.wasm.layout import Layout
from primordia.brains.wasm.reference import StepOutcome, run_step
from primordia.brains.wasm.runtime import Population
from primordia.core.rng import DrawStream, Rng, stream_id

STREAM = stream_id("test.wasm.compiler")
LAYOUTS = (Layout(5, 3, radius=1, memory=1024), Layout(0, 0, memory=2048),
           Layout(31, 4, radius=3, memory=4096))


def genomes(seed: int, count: int, max_instrs: int = 64) -> list[ir.WasmGenome]:
    return [fuzz.arbitrary_genome(DrawStream(Rng(seed), STREAM, 0, i), max_instrs)
            for i in range(count)]


@pytest.mark.parametrize("layout", LAYOUTS, ids=lambda lay: f"S{lay.sensors}A{lay.actions}"
                         f"r{lay.radius}M{lay.memory}")
def test_compiled_code_matches_the_oracle_on_arbitrary_genomes(layout):
    """10,000 programs per run in all: action code, gas left, halting, every byte of memory."""
    count = 3334
    bad = fuzz.compare(genomes(LAYOUTS.index(layout) + 1, count), layout,
                       DrawStream(Rng(9), STREAM, 1, LAYOUTS.index(layout)))
    assert not bad, f"{len(bad)} disagreements; first: {bad[0].what}"


def test_the_comparison_notices_a_wrong_oracle(monkeypatch):
    """The check above is not vacuous: an oracle one unit of gas off disagrees everywhere
    gas is spent."""
    def off_by_one(genome, memory, layout, budget):
        got = run_step(genome, memory, layout, budget)
        return StepOutcome(got.code, got.gas_used + 1, got.halted)

    monkeypatch.setattr(fuzz, "run_step", off_by_one)
    bad = fuzz.compare(genomes(5, 50), LAYOUTS[0], DrawStream(Rng(1), STREAM, 2, 0))
    assert len(bad) == 50 and "gas left" in bad[0].what


def test_same_genome_same_bytes_and_every_output_validates():
    engine = wasmtime.Engine()
    for genome in genomes(7, 200):
        module = compiler.organisms_module([genome], LAYOUTS[2])
        assert module == compiler.organisms_module([genome], LAYOUTS[2])
        wasmtime.Module.validate(engine, module)
        wasmtime.Module.validate(engine, compiler.standalone_module(genome, LAYOUTS[2]))


def test_the_compiler_output_is_pinned():
    """Golden bytes: the same IR compiles to the same module on every machine."""
    genome = assemble("func step params=0 results=1 locals=3\n  sense r0 1\n  const r1 3\n"
                      "  loop\n    sub r1 r1 r2\n    br_if 0 r1\n  end\n  return r0\n")
    digest = hashlib.sha256(compiler.standalone_module(genome, LAYOUTS[0])).hexdigest()
    assert digest == GOLDEN_STANDALONE


GOLDEN_STANDALONE = "a1363b8c547ad4cff91de280339ecec2ed13e82dd58d5be6d4eb2e0ad6f3dcbb"


def loop_forever() -> ir.WasmGenome:
    return assemble("func step params=0 results=1 locals=1\n  loop\n    br 0\n  end\n"
                    "  return r0\n")


def recurse_forever() -> ir.WasmGenome:
    return assemble("func step params=0 results=1 locals=1\n  call f1 r0 r0\n  return r0\n"
                    "func f1 params=0 results=1 locals=1\n  call f1 r0 r0\n  return r0\n")


def answer(code: int) -> ir.WasmGenome:
    return assemble(f"func step params=0 results=1 locals=1\n  const r0 {code}\n"
                    "  return r0\n")


def test_a_runaway_loop_costs_only_its_organism():
    layout = LAYOUTS[0]
    pop = Population(layout, 3)
    pop.set([0, 1, 2], [answer(5), loop_forever(), answer(6)])
    codes, left, halted = pop.run(np.arange(3), np.array([100, 1000, 100]))
    assert codes.tolist() == [5, 0, 6]
    assert halted.tolist() == [False, True, False]
    assert left[1] < 2  # it spent all it could: a pass costs 2 (br, then the loop's head)
    assert pop.faults == 0


def test_endless_recursion_stops_at_the_call_depth_limit():
    pop = Population(LAYOUTS[0], 2)
    pop.set([0, 1], [recurse_forever(), answer(3)])
    codes, left, halted = pop.run(np.arange(2), np.array([10_000, 10]))
    assert codes.tolist() == [0, 3] and halted.tolist() == [True, False]
    want = run_step(recurse_forever(), bytearray(LAYOUTS[0].memory), LAYOUTS[0], 10_000)
    assert 10_000 - want.gas_used == left[0] and want.halted


def test_stores_anywhere_stay_in_the_organisms_own_memory():
    layout = LAYOUTS[0]
    wild = assemble("func step params=0 results=1 locals=3\n  const r0 -1\n"
                    "  loop\n    store r0 r0 0\n    store8 r0 r0 65535\n"
                    "    const r2 997\n    add r0 r0 r2\n    br 0\n  end\n  return r1\n")
    pop = Population(layout, 3)
    pop.set([0, 1, 2], [answer(1), wild, answer(2)])
    pop.run(np.arange(3), np.array([10, 100_000, 10]))
    assert not pop.memory[0].any() and not pop.memory[2].any()
    assert pop.memory[1].any()


def test_a_population_grows_keeping_memories_and_programs():
    pop = Population(LAYOUTS[0], 2)
    pop.set([0, 1], [answer(4), answer(9)])
    pop.memory[1, 100] = 77
    bigger = pop.resized(5)
    bigger.set([4], [answer(2)])
    codes, _, _ = bigger.run(np.array([0, 1, 4]), np.full(3, 10))
    assert codes.tolist() == [4, 9, 2] and bigger.memory[1, 100] == 77


def test_a_fresh_store_after_many_births_keeps_everything(monkeypatch):
    """The store is rebuilt once dead instances pile up; living organisms do not notice."""
    pop = Population(LAYOUTS[0], 2)
    pop.set([0], [answer(8)])
    pop.memory[0, 200] = 5
    for k in range(1100):
        pop.set([1], [answer(k)])          # 1,100 genomes never seen: 1,100 modules
    codes, _, _ = pop.run(np.array([0, 1]), np.full(2, 10))
    assert codes.tolist() == [8, 1099] and pop.memory[0, 200] == 5
    assert pop._instances < 1100


def test_a_module_is_instantiated_once_per_store(monkeypatch):
    """Modules hold no state (memory and globals are imported), so the slots of every
    genome a module compiles share one instance: placing a genome again, in another slot
    or after its first holder died, makes no new instance."""
    from collections import OrderedDict

    from primordia.brains.wasm import runtime

    monkeypatch.setattr(runtime, "_MODULES", OrderedDict())   # nothing compiled yet
    pop = Population(LAYOUTS[0], 4)
    pop.set([0, 1], [answer(31), answer(32)])        # one module, one instance
    assert pop._instances == 1
    pop.set([2], [answer(32)])                       # compiled before: the same instance
    pop.clear(0)
    pop.set([0], [answer(31)])
    pop.set([3], [answer(31)])
    assert pop._instances == 1
    codes, _, _ = pop.run(np.arange(4), np.full(4, 10))
    assert codes.tolist() == [31, 32, 32, 31]


def test_worlds_in_threads_share_the_compile_cache_safely(monkeypatch):
    """Sessions step in threads: with a tiny cache evicting all the time, compiling from
    two threads never loses an entry another thread is about to use."""
    import threading

    from primordia.brains.wasm import runtime

    monkeypatch.setattr(runtime, "_CACHE_SIZE", 2)
    known = answer(1)
    errors = []

    def work(offset):
        try:
            for k in range(40):
                runtime.compiled([known, answer(offset + k)], LAYOUTS[0])
        except Exception as exc:  # noqa: BLE001 (the test reports any)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(o,)) for o in (100, 1000)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_many_new_organisms_compile_into_several_modules(monkeypatch):
    """wasmtime refuses a module of a million functions: fresh genomes are compiled at
    most _BATCH to a module."""
    from primordia.brains.wasm import runtime

    monkeypatch.setattr(runtime, "_BATCH", 3)
    fresh = [answer(5000 + k) for k in range(10)]
    where = runtime.compiled(fresh, LAYOUTS[0])
    assert len({id(module) for module, _ in where}) == 4
    pop = Population(LAYOUTS[0], 10)
    pop.set(range(10), fresh)
    codes, _, _ = pop.run(np.arange(10), np.full(10, 10))
    assert codes.tolist() == [5000 + k for k in range(10)]


def test_a_population_too_big_for_one_memory_is_a_config_error():
    from primordia.core.errors import ConfigError

    with pytest.raises(ConfigError, match="do not fit in one wasm memory"):
        Population(Layout(4, 4, memory=65536), 65536)


def test_the_standalone_module_with_real_imports_matches_the_oracle():
    """``standalone_module`` keeps the ABI calls as imports, run here by the hand-written
    module runner's Python callbacks: in a 64 KiB organism the code, every byte of memory
    and whether the step ran out match the oracle (the module's gas comes from the
    context; fuel is only a backstop here)."""
    from primordia.brains.wasm.context import write_contexts
    from primordia.brains.wasm.modules import ModuleGenome, ModuleOrganism

    layout = Layout(5, 3, radius=1, memory=65536)
    rng = np.random.default_rng(3)
    for i, genome in enumerate(genomes(11, 150)):
        budget = int(rng.choice([5, 50, 500]))
        mem = np.zeros((1, layout.memory), dtype=np.uint8)
        write_contexts(mem, layout, [0], rng.integers(-9, 9, (1, 5)), tick=1, ids=[0],
                       rand=[i], budget=[budget], n_neighbors=[int(rng.integers(0, 9))],
                       neighbors=rng.integers(-5, 5, (1, 8, 4)),
                       view=rng.integers(0, 4, (1, 9)))
        organism = ModuleOrganism(ModuleGenome(compiler.standalone_module(genome, layout)),
                                  layout, seed=i)
        got = organism.step(mem[0, :layout.bytes].tobytes(), 10_000_000)
        memory = bytearray(mem[0].tobytes())
        want = run_step(genome, memory, layout, budget)
        assert got.fault is None, (i, got.fault)
        assert got.code == want.code, i
        assert organism.memory() == bytes(memory), i
