"""Golden results of the ecology world: state hashes at given ticks for fixed seeds, reproduced
in this process, with two threads and in a fresh process. Regenerate only with
``scripts/regen_golden.py ecology``, when a rule change is meant to change them."""

from __future__ import annotations

import pytest

from ...golden_runs import cases, in_fresh_process, regen

CASES = cases("ecology_state_hashes.json")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['brain']}-seed{c['seed']}")
def test_ecology_matches_its_golden_state_hashes(case):
    assert regen().ecology_hashes(case) == case["hashes"]


@pytest.mark.parametrize("case", CASES[:2], ids=lambda c: c["brain"])
def test_two_threads_give_the_same_hashes(case):
    assert regen().ecology_hashes(case, threads=2) == case["hashes"]


def test_a_fresh_process_gives_the_same_hashes():
    case = CASES[1]
    assert in_fresh_process("ecology_hashes", case) == case["hashes"]
