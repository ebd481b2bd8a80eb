"""The brain interfaces as worlds use them: every registered substrate is a complete
``Substrate`` (its dashboard view matches its published model), and the optional features
are found by their protocols -- the brains that offer one are exactly the ones that say so."""

from __future__ import annotations

import numpy as np
import pytest

from primordia.brains.base import (BrainIO, CountsWork, KeepsState, KnowsReach, Spawns,
                                   Substrate, SubstrateBase, Teaches, state_arrays,
                                   state_layout)
from primordia.brains.registry import SUBSTRATES
from primordia.brains.rounds import RoundsInKernel, round_state_of
from primordia.core.rng import DrawStream, Rng, stream_id

IO = BrainIO(sensors=("a", "b", "c"), actions=("move", "act"), action_levels=(3, 2))
BUILT_IN = ["neural", "psil", "mycos"]
OFFERS = {  # what each built-in substrate and its brain offer
    "psil": {Teaches, KeepsState, KnowsReach, RoundsInKernel},
    "neural": {KeepsState, Spawns, CountsWork},
    "mycos": {KeepsState, CountsWork},
}
OPTIONAL = (Teaches, KeepsState, KnowsReach, Spawns, CountsWork, RoundsInKernel)


def substrate(name: str) -> Substrate:
    return SUBSTRATES.get(name, io=IO) if name == "neural" else SUBSTRATES.get(name)


def population(name: str):
    sub = substrate(name)
    genomes = [sub.random(DrawStream(Rng(3), stream_id("interfaces"), 0, k), 64)
               for k in range(4)]
    brain = sub.compile(genomes, IO, capacity=8)
    return sub, genomes, brain


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_registered_substrate_is_a_complete_substrate(name):
    sub = substrate(name)
    assert isinstance(sub, Substrate) and sub.name == name
    assert isinstance(sub.max_genome_bytes, int) and sub.max_genome_bytes > 0
    assert all(isinstance(k, str) for k in sub.archetypes)


@pytest.mark.parametrize("name", BUILT_IN)
def test_the_view_is_the_substrates_and_matches_its_published_model(name):
    sub, genomes, brain = population(name)
    sensors = np.zeros((8, IO.n_sensors), np.int32)
    actions = np.zeros((8, IO.n_actions), np.int32)
    active = np.zeros(8, bool)
    active[:4] = True
    brain.begin_tick(np.full(8, 200, np.int32), active)
    brain.step(sensors, actions, active)
    view = sub.view(brain, 2, genomes[2], IO)
    assert view["kind"] == name
    type(sub).VIEW.model_validate(view)


@pytest.mark.parametrize("name", BUILT_IN)
def test_optional_features_are_found_by_protocol(name):
    sub, _, brain = population(name)
    found = {p for p in OPTIONAL if isinstance(sub, p) or isinstance(brain, p)}
    assert found == OFFERS[name]
    assert (round_state_of(brain) is not None) == (RoundsInKernel in found)


def test_a_brain_without_state_has_none_to_save():
    class Stateless:
        capacity = 4

    assert state_arrays(Stateless()) == {} and state_layout(Stateless()) == {}


def test_the_base_gives_a_text_view():
    class Labels(SubstrateBase):
        name = "labels"

        def to_text(self, genome):
            return f"label {genome}"

    assert Labels().view(None, 0, "x", IO) == {"kind": "labels", "text": "label x"}
    assert Labels().archetypes == {} and Labels().max_genome_bytes == 1 << 20
