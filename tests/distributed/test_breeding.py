"""The island breeder, as pure functions of the experiment, the generation and the evidence:
its children through the Evolver are the children it always bred (a golden digest written
before the breeder moved onto ``evolve.evolver``), and its parts keep their rules."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from primordia.core.rng import DrawStream, Rng
from primordia.distributed import breeding

from .fakes import experiment

GOLDEN = {
    "psil": "c6427e6ff4adacd7d6a722076140ac9d",
    "neural": "47bbaaadcccb87128477cedf3aa33d00",
}
"""Digests of four generations of ``select_and_breed`` over synthetic candidates, then a
generation with nothing decided and one with a single ranked member (see ``bred``)."""


def bred(brain: str) -> str:
    exp = experiment(brain=brain)
    sub, max_len = breeding.breeding_substrate(exp)
    genomes = {i + 1: g for i, g in enumerate(breeding.first_pool(exp, sub, max_len))}
    h, nxt = hashlib.blake2b(digest_size=16), len(genomes) + 1
    for gen in range(4):
        candidates = []
        for j, gid in enumerate(sorted(genomes)[-exp.pool:]):
            r = np.random.default_rng(gen * 1000 + j)
            vector = None if j % 7 == 3 else tuple(float(v) for v in r.integers(0, 5, 3))
            samples = []
            if j % 3 == 0:
                samples = [nxt]
                genomes[nxt] = sub.mutate(genomes[gid], DrawStream(Rng(9), 1, gen, j), max_len)
                nxt += 1
            candidates.append(breeding.Candidate(gid, vector, samples))
        sel = breeding.select_and_breed(exp, gen, candidates, genomes, sub, max_len)
        h.update(repr((sorted(sel.ranks.items()), sel.elite, sel.randoms)).encode())
        for child in sel.children:
            h.update(sub.encode(child.genome))
            h.update(repr((child.origin, child.parents)).encode())
            genomes[nxt] = child.genome
            nxt += 1
    sel = breeding.select_and_breed(exp, 9, [breeding.Candidate(1, None)], genomes, sub,
                                    max_len)
    for child in sel.children:
        h.update(sub.encode(child.genome))
    sel = breeding.select_and_breed(exp, 10, [breeding.Candidate(1, (1.0, 2.0))], genomes,
                                    sub, max_len)
    for child in sel.children:
        h.update(sub.encode(child.genome))
        h.update(repr((child.origin, child.parents)).encode())
    return h.hexdigest()


@pytest.mark.parametrize("brain", sorted(GOLDEN))
def test_the_breeder_breeds_what_it_always_bred(brain):
    assert bred(brain) == GOLDEN[brain]


def test_a_generation_keeps_the_elite_and_randoms_and_fills_the_pool():
    exp = experiment(pool=12)
    sub, max_len = breeding.breeding_substrate(exp)
    pool = breeding.first_pool(exp, sub, max_len)
    genomes = {10 + i: g for i, g in enumerate(pool)}
    candidates = [breeding.Candidate(10 + i, (float(i % 4), float(-i))) for i in range(12)]
    sel = breeding.select_and_breed(exp, 1, candidates, genomes, sub, max_len)
    assert sel.next_pool == 12
    assert sel.elite == breeding.elite_ids(exp, candidates)
    assert not set(sel.elite) & set(sel.randoms) and sel.randoms == sorted(sel.randoms)
    for child in sel.children:
        assert child.origin in ("cross", "mutant")
        assert len(child.parents) == (2 if child.origin == "cross" else 1)
        assert all(p in genomes for p, _ in child.parents)


def test_a_niche_gives_its_brain_settings_to_the_breeder_and_a_wrong_one_is_refused():
    from primordia.core.errors import ConfigError
    from primordia.distributed.experiment import build_experiment

    values = {"name": "b", "world": "hex", "brain": "neural", "generations": 1, "pool": 4,
              "islands": 1, "founders": 4, "length": 20,
              "world_config": {"world_width": 6, "num_organisms": 12,
                               "brain": {"num_neurons": 5}}}
    substrate, _ = breeding.breeding_substrate(build_experiment(values))
    assert substrate.num_neurons == 5
    with pytest.raises(ConfigError, match="brain: num_neurons: a psil brain has no such"):
        build_experiment({**values, "brain": "psil"})
