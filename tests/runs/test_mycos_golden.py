"""Golden state hashes of short Mycos runs: evolution is a function of config and seed, on
any machine and thread count. A change that alters results on purpose updates these and
says why in its commit message; any other change must leave them alone."""

from __future__ import annotations

import pytest

from primordia.runs.mycos_run import MycosEvolveConfig, evolve, state_hash
from primordia.tasks.task import load_task

GOLDEN = {
    "species": "61a5a7a44a0a6211077dda300ccddaad3bfebc33cad1c1664790466256308bb6",
    "nsga2": "67deb9f6eae70334c78d464c8ce16b0b69ba5e2ca77cb0c22987473a7dbb05ff",
    "novelty": "3c435dae135347b3a8d6c05a82adc994c86f7b609241aa0f24121008291633b7",
}
OPTIONS = {"species": {}, "nsga2": {"selection": "nsga2"}, "novelty": {"novelty": 0.8}}


@pytest.mark.parametrize("name,threads", [("species", 1), ("species", 2), ("nsga2", 1),
                                          ("novelty", 2)])
def test_mycos_runs_match_their_golden_state_hashes(name, threads):
    cfg = MycosEvolveConfig(pop=64, gens=5, seed=42, target_score=1.0, threads=threads,
                            **OPTIONS[name])
    run = evolve(cfg, load_task("T03_pulse_counter"))
    assert run.evaluations == 320
    assert state_hash(run) == GOLDEN[name]
