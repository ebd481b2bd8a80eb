"""Golden state hashes: the sandbox (micro-PSIL brains, and wasm brains) must reproduce them
exactly, in this process, with two threads, and in a fresh process. Regenerate only with scripts/regen_golden.py."""

from __future__ import annotations

import pytest

from ...golden_runs import cases, in_fresh_process, regen

CASES = cases("sandbox_state_hashes.json")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['npcs']}npcs")
def test_sandbox_matches_its_golden_state_hashes(case):
    assert regen().sandbox_hashes(case) == case["hashes"]


@pytest.mark.parametrize("case", CASES[1:2] + [c for c in CASES if c.get("brain") == "wasm"],
                         ids=lambda c: f"{c['npcs']}npcs-{c.get('brain', 'psil')}")
def test_two_threads_give_the_same_hashes(case):
    assert regen().sandbox_hashes(case, threads=2) == case["hashes"]


def test_a_fresh_process_gives_the_same_hashes():
    case = CASES[0]
    assert in_fresh_process("sandbox_hashes", case) == case["hashes"]
