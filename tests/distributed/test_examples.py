"""The example experiments in examples/ load as a user's would: every key valid, and every
niche a world with room for an island's founders."""

from __future__ import annotations

from pathlib import Path

import pytest

from primordia.distributed.experiment import load_experiment

EXAMPLES = sorted((Path(__file__).resolve().parents[2] / "examples").glob("islands-*.toml"))


def test_the_examples_are_there():
    assert {p.stem for p in EXAMPLES} >= {"islands-hex", "islands-sandbox", "islands-ecology"}


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_an_example_experiment_loads_with_every_niche(path):
    exp = load_experiment(path)              # checks that each niche makes a world
    assert len(exp.niches) == 2 and exp.world in path.stem
