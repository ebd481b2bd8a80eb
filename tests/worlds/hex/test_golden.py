"""Golden results of the hex world: state hashes at given turns and a full snapshot at turn 30
for seed 42, reproduced in this process, with two threads and in a fresh process.
Regenerate only with scripts/regen_golden.py, when a rule change is meant to change them."""

from __future__ import annotations

import json

import pytest

from ...golden_runs import cases, in_fresh_process, regen

CASES = cases("hex_state_hashes.json")
SNAPSHOT = cases("hex_snapshot_seed42_turn30.json")


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['brain']}-seed{c['seed']}")
def test_hex_matches_its_golden_state_hashes(case):
    assert regen().hex_hashes(case) == case["hashes"]


WASM = [c for c in CASES if c["brain"] == "wasm"]


@pytest.mark.parametrize("case", CASES[:1] + WASM, ids=lambda c: c["brain"])
def test_two_threads_give_the_same_hashes(case):
    assert regen().hex_hashes(case, threads=2) == case["hashes"]


def test_the_turn_30_snapshot_is_reproduced_exactly():
    fresh = json.loads(json.dumps(regen().hex_snapshot(
        {k: SNAPSHOT[k] for k in ("brain", "seed", "turn")})))
    assert fresh["snapshot"]["organisms"] == SNAPSHOT["snapshot"]["organisms"]
    assert fresh["snapshot"]["metrics"] == SNAPSHOT["snapshot"]["metrics"]
    assert fresh == SNAPSHOT


@pytest.mark.parametrize("case", CASES[:1] + WASM, ids=lambda c: c["brain"])
def test_a_fresh_process_gives_the_same_hashes(case):
    assert in_fresh_process("hex_hashes", case) == case["hashes"]
