"""The VM fuzz campaign (benchmarks/fuzz_psil.py) on a CI-sized sample, and its own machinery.

docs/architecture.md, "Bad input": both VMs return normally on any genome, sensors and gas,
within the budget, touching only their organism's state. The full campaign runs 10 million
programs; CI runs 200,000 of them here, with a reference-VM check on about one in 25.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

from primordia.brains.psil import generate as gen
from primordia.brains.psil import opcodes as op
from primordia.core.rng import key_word

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fuzz_psil.py"
COUNTS = ("crashes", "hangs", "budget_overruns", "invariant_failures", "isolation_failures",
          "mismatches")


@pytest.fixture(scope="module")
def fuzz():
    spec = importlib.util.spec_from_file_location("fuzz_psil", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["fuzz_psil"] = module          # dataclasses look their module up
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("fuzz_psil", None)


def run(fuzz, capsys, *argv: str) -> tuple[int, dict]:
    code = fuzz.main([*argv, "--json", "--quiet"])
    out = capsys.readouterr().out
    return code, json.loads(out)


@pytest.mark.slow
def test_ci_sample_has_no_crashes_hangs_overruns_or_mismatches(fuzz, capsys):
    code, rep = run(fuzz, capsys, "--programs", "200000", "--seed", "1",
                    "--reference-every", "25")
    assert {c: rep[c] for c in COUNTS} == dict.fromkeys(COUNTS, 0), rep["offenders"]
    assert code == 0 and rep["ok"]
    assert rep["programs"] == 200_000
    assert rep["kinds"] == {"random": 100_000, "mutant": 98_000, "structured": 2_000}
    assert rep["reference_checked"] > 6_000
    # the corpus reaches deep: thinks that spend all their gas, overflow, yield many times
    assert rep["max_steps"] >= 60_000
    assert rep["outcomes"]["failed: out of gas"] > 5_000
    assert rep["outcomes"]["failed: stack overflow"] > 500
    assert rep["yields"] > 100_000


def test_a_hanging_worker_is_reported_with_its_program(fuzz, capsys):
    code, rep = run(fuzz, capsys, "--programs", "1", "--first", "7", "--inject", "hang:7",
                    "--watchdog-base", "2", "--workers", "1")
    assert code == 1 and rep["hangs"] == 1 and rep["programs"] == 1
    (off,) = rep["offenders"]
    assert off["index"] == 7 and off["what"] == "hang"
    assert "Timeout" in off["detail"]
    # the report holds what it takes to reproduce the program
    assert off["genome"] and 1 <= off["gas"] <= op.GAS_CAP and len(off["sensors"]) == 31


def test_a_crash_is_bisected_to_its_program(fuzz, capsys):
    code, rep = run(fuzz, capsys, "--programs", "40", "--batch", "40", "--inject", "crash:13",
                    "--workers", "0")
    assert code == 1 and rep["crashes"] == 1 and rep["programs"] == 40
    assert [o["index"] for o in rep["offenders"]] == [13]
    assert sum(rep["outcomes"].values()) == 39       # the other programs were still checked


def test_programs_depend_only_on_seed_and_index(fuzz):
    whole = fuzz.make_batch(5, 0, 300, op.GAS_CAP)
    part = fuzz.make_batch(5, 120, 80, op.GAS_CAP)
    assert part.genomes == whole.genomes[120:200]
    assert np.array_equal(part.sensors, whole.sensors[120:200])
    assert np.array_equal(part.gas, whole.gas[120:200])
    other = fuzz.make_batch(6, 120, 80, op.GAS_CAP)
    assert other.genomes != part.genomes


def test_generated_corpus_spans_the_input_space(fuzz):
    b = fuzz.make_batch(1, 0, 20_000, op.GAS_CAP)
    lengths = np.array([len(g.code) for g in b.genomes])
    assert lengths.min() == 0 and 256 < lengths.max() <= 4096
    assert sum(1 for g in b.genomes if g.quotations) > 1_000
    assert b.sensors.min() == -32768 and b.sensors.max() == 32767
    assert b.gas.min() >= 1 and b.gas.max() == op.GAS_CAP
    assert 0.55 < np.mean(b.gas <= 500) < 0.65
    capped = fuzz.make_batch(1, 0, 2_000, 300)
    assert capped.gas.max() <= 300 and capped.gas.min() >= 1


def test_mutated_archetypes_apply_byte_level_mutations(fuzz):
    idx = np.arange(2_000, dtype=np.int64)
    flat, off = gen.mutated_archetypes_flat(key_word(3), 99, idx, fuzz.ARCH_FLAT,
                                            fuzz.ARCH_OFFSETS, 1)
    originals = {bytes(fuzz.ARCH_FLAT[a:b]) for a, b in zip(fuzz.ARCH_OFFSETS[:-1],
                                                            fuzz.ARCH_OFFSETS[1:])}
    sizes = {len(o) for o in originals}
    outs = [flat[off[j]:off[j + 1]].tobytes() for j in range(len(idx))]
    # one mutation: at most 8 bytes longer or 1 shorter than some archetype, mostly changed
    assert all(min(abs(len(o) - s) for s in sizes) <= 8 for o in outs)
    assert sum(o not in originals for o in outs) > 1_500
