"""Both VMs reproduce every field of every conformance case recorded from the reference
sandbox's VM (oisee/psil)."""

from __future__ import annotations

import numpy as np

from primordia.brains.psil.brain import think_batch
from primordia.brains.psil.genome import PsilGenome
from primordia.brains.psil.reference import think

FIELDS = ("yields", "final", "halted", "error", "gas_left", "pc", "stack")


def _mismatches(cases, results):
    bad = []
    for case, got in zip(cases, results):
        diff = {f: (case[f], got[f]) for f in FIELDS if case[f] != got[f]}
        if diff:
            bad.append((case["genome"], case["gas"], diff))
    return bad


def test_vector_file_has_all_cases(conformance_cases):
    assert len(conformance_cases) == 10_900
    errors = {c["error"] for c in conformance_cases}
    assert errors == {0, 2, 4, 5, 6}, "the vectors exercise every error the VM can raise"


def test_reference_vm_reproduces_every_case(conformance_cases):
    results = []
    for c in conformance_cases:
        r = think(PsilGenome(bytes.fromhex(c["genome"])), c["sensors"], c["gas"])
        results.append(dict(yields=r.yields, final=r.final, halted=r.halted, error=r.error,
                            gas_left=r.gas_left, pc=r.pc, stack=r.stack))
    bad = _mismatches(conformance_cases, results)
    assert not bad, f"{len(bad)} cases differ; first: {bad[:3]}"


def test_fast_vm_reproduces_every_case(conformance_cases):
    genomes = [PsilGenome(bytes.fromhex(c["genome"])) for c in conformance_cases]
    sensors = np.array([c["sensors"] for c in conformance_cases])
    gas = np.array([c["gas"] for c in conformance_cases])
    r = think_batch(genomes, sensors, gas)
    results = [dict(yields=r.yields[i], final=r.final[i].tolist(), halted=bool(r.halted[i]),
                    error=int(r.error[i]), gas_left=int(r.gas_left[i]), pc=int(r.pc[i]),
                    stack=r.stacks[i]) for i in range(len(genomes))]
    bad = _mismatches(conformance_cases, results)
    assert not bad, f"{len(bad)} cases differ; first: {bad[:3]}"


def test_fast_vm_gives_same_results_with_two_threads(conformance_cases):
    cases = conformance_cases[:2000]
    genomes = [PsilGenome(bytes.fromhex(c["genome"])) for c in cases]
    sensors = np.array([c["sensors"] for c in cases])
    gas = np.array([c["gas"] for c in cases])
    one = think_batch(genomes, sensors, gas, threads=1)
    two = think_batch(genomes, sensors, gas, threads=2)
    assert one.yields == two.yields
    assert np.array_equal(one.memory, two.memory)
    assert one.stacks == two.stacks
    assert np.array_equal(one.gas_left, two.gas_left)
