"""Islands: founders in the worlds, lineage statistics against a pure-Python reference,
determinism of the outcome, the sample rule, and one-line errors for bad specs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from primordia.brains.psil.archetypes import ARCHETYPES
from primordia.brains.psil.asm import assemble
from primordia.brains.registry import SUBSTRATES
from primordia.core.errors import ConfigError, GenomeError, PrimordiaError
from primordia.core.rng import DrawStream, Rng
from primordia.runs.ecology_run import EcologyRun
from primordia.runs.hex_run import HexRun
from primordia.runs.island import (OBJECTIVES, IslandSpec, LineageStats, fitness_vector,
                                   island_config, run_island)
from primordia.runs.sandbox_run import SandboxRun
from primordia.runs.world_run import Reporter
from primordia.worlds.ecology.config import EcologyConfig
from primordia.worlds.hex.config import HexConfig
from primordia.worlds.hex.world import HexWorld
from primordia.worlds.sandbox.config import SandboxConfig

PSIL = SUBSTRATES.get("psil")
SANDBOX = {"npcs": 20, "evolve_every": 40}
HEX = {"world_width": 8, "num_organisms": 30, "turns_to_starve": 8}
ECOLOGY = {**EcologyRun.SMALL, "attack_amount": 20}


def psil_founders(count: int, first_id: int = 1) -> list[dict]:
    """Archetypes, then random programs: genomes that do something."""
    names = sorted(ARCHETYPES)
    out = []
    for k in range(count):
        g = ARCHETYPES[names[k]] if k < len(names) else \
            PSIL.random(DrawStream(Rng(9), 1, 0, k), 64)
        out.append({"id": first_id + k, "genome": g.hex()})
    return out


HEX_MOVERS = ("1\nr1! 0\nyield", "1\nr1! 0\nr0@ 0\nr1! 1\nyield",
              "r0@ 0\nr1! 0\n1\nr1! 2\nyield", "1\nr1! 0\n1\nr1! 1\nyield")
"""micro-PSIL brains for the hex world: forward always (eating what does not move), or
turning as they look."""


def hex_psil_founders() -> list[dict]:
    return [{"id": 20 + k, "genome": assemble(text).code.hex()}
            for k, text in enumerate(HEX_MOVERS)]


def neural_founders(count: int, first_id: int = 1) -> list[dict]:
    sub = HexRun.substrate(HexConfig(**HEX))
    return [{"id": first_id + k,
             "genome": sub.encode(sub.random(DrawStream(Rng(5), 2, 0, k), 0)).hex()}
            for k in range(count)]


def ecology_founders(count: int) -> list[dict]:
    sub = EcologyRun.substrate(EcologyConfig(**ECOLOGY, brain={"kind": "neural"}))
    return [{"id": 1 + k, "genome": sub.encode(sub.random(DrawStream(Rng(6), 2, 0, k), 0)).hex()}
            for k in range(count)]


def ecology_spec(**over) -> IslandSpec:
    values = {"world": "ecology", "brain": "neural", "config": ECOLOGY, "seed": 2,
              "length": 60, "founders": ecology_founders(6), "copies": 3}
    return IslandSpec.build({**values, **over})


def sandbox_spec(**over) -> IslandSpec:
    values = {"world": "sandbox", "brain": "psil", "config": SANDBOX, "seed": 11,
              "length": 160, "founders": psil_founders(7)}
    return IslandSpec.build({**values, **over})


def hex_spec(**over) -> IslandSpec:
    values = {"world": "hex", "brain": "neural", "config": HEX, "seed": 4, "length": 60,
              "founders": neural_founders(5), "copies": 2}
    return IslandSpec.build({**values, **over})


# ---- the reference: a loop over organisms per tick, keyed by organism id -------------------------

class ReferenceLineages(Reporter):
    """The module docstring's definitions, written plainly: organisms by id, Python sets."""

    def __init__(self, founders: int, copies: int) -> None:
        self.n, self.copies = founders, copies

    def _living(self, w) -> dict[int, int]:
        ids = w.state.npc_id if self.kind == "sandbox" else w.state.oid
        return {int(ids[i]): i for i in range(ids.shape[0]) if w.state.alive[i]}

    def _values(self, w, slot: int) -> tuple[int, int]:
        s = w.state
        if self.kind == "sandbox":
            return (30 * int(s.food_eaten[slot]) + int(s.energy[slot]) - 100,
                    int(s.teaches[slot]) + int(s.taught[slot]))
        if self.kind == "ecology":
            return (int(s.eaten[slot]) + int(s.energy[slot]) - int(s.birth_energy[slot]),
                    int(s.kills[slot]) + int(s.assists[slot]) + int(s.signals[slot]))
        return int(s.meals[slot]), int(s.meals[slot])

    def _cell(self, w, slot: int) -> int:
        s = w.state
        if self.kind == "sandbox":
            return int(s.y[slot]) * w.config.size + int(s.x[slot])
        if self.kind == "ecology":
            return int(s.y[slot]) * w.config.width + int(s.x[slot])
        return int(s.r[slot]) * w.config.world_width + int(s.q[slot])

    def _parent(self, w, oid: int, slot: int) -> int:
        if self.kind == "sandbox":
            parents = w.lineage.ancestors.get(oid, ())
            return parents[0] if parents else -1
        return int(w.state.parent[slot])

    def started(self, run) -> None:
        self.kind = run.WORLD
        w = run.world
        self.lineage: dict[int, int] = {}
        self.founder_copy: set[int] = set()
        for k, oid in enumerate(sorted(self._living(w))[:self.n * self.copies]):
            self.lineage[oid] = k // self.copies
            self.founder_copy.add(oid)
        self.totals = [dict(organisms=0, lifetime=0, net_energy=0, offspring=0, area=0,
                            interactions=0) for _ in range(self.n)]
        self.cells: list[set[int]] = [set() for _ in range(self.n)]
        self.seen: set[int] = set()
        self.members: dict[int, tuple[int, int]] = {}       # living member -> last values
        self._look(w, first=True, delta=None)

    def ticked(self, run, delta=None) -> None:
        self._look(run.world, first=False, delta=delta)

    def _look(self, w, first: bool, delta) -> None:
        living = self._living(w)
        eaten, starved = set(), set()
        if delta is not None and self.kind == "hex":
            k = delta.metrics["meals_last_turn"]
            eaten, starved = set(delta.removed_ids[:k].tolist()), set(delta.removed_ids[k:].tolist())
        for oid in sorted(self.members):
            if oid not in living:
                net, inter = self.members.pop(oid)
                t = self.totals[self.lineage[oid]]
                t["net_energy"] += net - (oid in starved)
                t["interactions"] += inter + (oid in eaten)
        for oid, slot in sorted(living.items()):
            if oid not in self.seen:
                self.seen.add(oid)
                if not first:
                    lin = self.lineage.get(self._parent(w, oid, slot))
                    if lin is not None:
                        self.lineage[oid] = lin
                if oid in self.lineage:
                    self.totals[self.lineage[oid]]["organisms"] += 1
                    self.totals[self.lineage[oid]]["offspring"] += not first
            if oid in self.lineage:
                lin = self.lineage[oid]
                self.members[oid] = self._values(w, slot)
                self.totals[lin]["lifetime"] += not first
                self.cells[lin].add(self._cell(w, slot))
        self.world = w

    def finished(self, run) -> None:
        self.survivors = [0] * self.n
        for oid, (net, inter) in self.members.items():
            lin = self.lineage[oid]
            self.survivors[lin] += 1
            self.totals[lin]["net_energy"] += net
            self.totals[lin]["interactions"] += inter
        for lin in range(self.n):
            self.totals[lin]["area"] = len(self.cells[lin])

    def stats(self, ids: list[int]) -> list[LineageStats]:
        return sorted((LineageStats(founder=fid, survivors=self.survivors[k], **self.totals[k])
                       for k, fid in enumerate(ids)), key=lambda s: s.founder)


def checked(spec: IslandSpec):
    ref = ReferenceLineages(len(spec.founders), spec.copies)
    out = run_island(spec, reporters=[ref])
    return out, ref


# ---- lineage statistics --------------------------------------------------------------------------

@pytest.mark.parametrize("spec", [
    sandbox_spec(), sandbox_spec(copies=2, seed=3, founders=psil_founders(6, 100)),
    hex_spec(), hex_spec(brain="psil", founders=hex_psil_founders(), copies=3, seed=8),
    ecology_spec()],
    ids=["sandbox", "sandbox-copies", "hex-neural", "hex-psil", "ecology-neural"])
def test_lineage_stats_match_the_reference(spec):
    out, ref = checked(spec)
    assert out.lineages == ref.stats([f.id for f in spec.founders])
    assert [s.founder for s in out.lineages] == sorted(f.id for f in spec.founders)
    # not a vacuous match: lineages lived, moved, and some reproduced and met others
    assert sum(s.lifetime for s in out.lineages) > 0
    assert sum(s.area for s in out.lineages) > len(spec.founders)
    assert sum(s.offspring for s in out.lineages) > 0
    assert sum(s.interactions for s in out.lineages) > 0
    for s in out.lineages:
        assert s.organisms == spec.copies + s.offspring
        assert 0 <= s.survivors <= s.organisms


def test_the_sample_is_living_members_round_robin_by_lineage():
    spec = sandbox_spec(sample=5)
    out, ref = checked(spec)
    w = ref.world
    ids = [f.id for f in spec.founders]
    members = {(bytes(w.genomes[slot]).hex(), ids[ref.lineage[oid]],
                "survivor" if oid in ref.founder_copy else "offspring")
               for oid, slot in ref._living(w).items() if oid in ref.lineage}
    assert 0 < len(out.sample) <= 5
    assert len({g.genome for g in out.sample}) == len(out.sample)
    for g in out.sample:
        PSIL.decode(bytes.fromhex(g.genome))
        assert (g.genome, g.founder, g.kind) in members
    for fid in {g.founder for g in out.sample}:       # survivors, then offspring, oldest first
        mine = [(g.kind == "offspring", -g.age) for g in out.sample if g.founder == fid]
        assert mine == sorted(mine)
    # one per lineage before any lineage gives a second
    firsts = [g.founder for g in out.sample[:len({g.founder for g in out.sample})]]
    assert len(set(firsts)) == len(firsts) == len({g.founder for g in out.sample})


def test_hex_samples_decode_and_belong_to_founders():
    spec = hex_spec(config={**HEX, "turns_to_starve": 30}, length=20, sample=50)
    out = run_island(spec)
    sub = HexRun.substrate(island_config(spec))
    assert out.sample
    for g in out.sample:
        sub.decode(bytes.fromhex(g.genome))
        assert g.founder in {f.id for f in spec.founders}


# ---- determinism and founders ------------------------------------------------------------------

def test_same_spec_same_outcome_json():
    spec = sandbox_spec(length=120)
    assert run_island(spec).model_dump_json() == run_island(spec).model_dump_json()


def test_hex_outcome_is_the_same_with_two_threads():
    spec = hex_spec()
    assert run_island(spec, threads=1).model_dump_json() == \
        run_island(spec, threads=2).model_dump_json()


def test_founders_take_the_first_organisms_and_leave_the_rest_alone():
    cfg = SandboxConfig(npcs=12, seed=5)
    g = bytes.fromhex(psil_founders(8)[-1]["genome"])
    plain, seeded = SandboxRun.build(cfg, PSIL), SandboxRun.build(cfg, PSIL, founders=[g, g])
    assert seeded.genomes[0] == seeded.genomes[1] == g != plain.genomes[0]
    assert seeded.genomes[2:] == plain.genomes[2:]
    for name in ("x", "y", "item", "npc_id"):
        assert np.array_equal(getattr(seeded.state, name), getattr(plain.state, name))
    assert seeded.state_hash() != plain.state_hash()
    assert SandboxRun.build(cfg, PSIL, founders=None).state_hash() == plain.state_hash()

    hcfg = HexConfig(**HEX, seed=3)
    sub = HexRun.substrate(hcfg)
    net = sub.decode(bytes.fromhex(neural_founders(1)[0]["genome"]))
    hplain, hseeded = HexWorld(hcfg, sub), HexWorld(hcfg, sub, founders=[net])
    first = int(np.flatnonzero(hseeded.state.oid == 0)[0])
    assert sub.encode(hseeded.genome(first)) == sub.encode(net)
    assert np.array_equal(hseeded.state.q, hplain.state.q)
    others = [i for i in np.flatnonzero(hplain.state.alive).tolist() if i != first]
    assert [sub.encode(hseeded.genome(i)) for i in others] == \
        [sub.encode(hplain.genome(i)) for i in others]
    assert HexWorld(hcfg, sub, founders=None).state_hash() == hplain.state_hash()


def test_a_distinctive_founder_changes_the_state_hash():
    a = run_island(sandbox_spec(length=20, founders=psil_founders(1)))
    b = run_island(sandbox_spec(length=20, founders=[{"id": 1, "genome": "00" * 40}]))
    assert a.state_hash != b.state_hash


def test_fitness_vector_follows_objectives():
    s = LineageStats(founder=1, organisms=3, survivors=1, lifetime=10, net_energy=-4,
                     offspring=2, area=7, interactions=5)
    assert OBJECTIVES == ("lifetime", "net_energy", "offspring", "area", "interactions")
    assert fitness_vector(s) == (10, -4, 2, 7, 5)


# ---- bad specs ---------------------------------------------------------------------------------

@pytest.mark.parametrize("change, error, words", [
    ({"founders": [{"id": 2, "genome": "00"}, {"id": 2, "genome": "01"}]}, ConfigError,
     "id 2"),
    ({"config": {**SANDBOX, "seed": 3}}, ConfigError, "config.seed"),
    ({"config": {**SANDBOX, "ticks": 3}}, ConfigError, "config.ticks"),
    ({"world": "nowhere"}, ConfigError, "world 'nowhere'"),
    ({"brain": "nope"}, ConfigError, "brain"),
    ({"founders": [{"id": 0, "genome": "00"}]}, ConfigError, "founders.0.id"),
    ({"founders": []}, ConfigError, "founders"),
    ({"founders": [{"id": 1, "genome": "0" * (2 * 65536 + 2)}]}, ConfigError, "genome"),
    ({"length": 0}, ConfigError, "length"),
    ({"sample": 2000}, ConfigError, "sample"),
])
def test_bad_specs_are_refused_in_one_line(change, error, words):
    with pytest.raises(error) as exc:
        sandbox_spec(**change)
    assert words in str(exc.value) and "\n" not in str(exc.value)


@pytest.mark.parametrize("spec, error, words", [
    (lambda: sandbox_spec(founders=psil_founders(11), copies=2), ConfigError, "founders"),
    (lambda: sandbox_spec(founders=[{"id": 7, "genome": "zz"}]), GenomeError, "founder 7"),
    (lambda: hex_spec(founders=[{"id": 9, "genome": "00ff"}]), GenomeError, "founder 9"),
    (lambda: hex_spec(founders=[{"id": 3, "genome": "8a07"}]), GenomeError, "founder 3"),
    (lambda: sandbox_spec(config={"npcs": 0}), ConfigError, "npcs"),
    (lambda: sandbox_spec(config={"colour": 1}), ConfigError, "colour"),
])
def test_bad_islands_fail_in_one_line(spec, error, words):
    with pytest.raises(error) as exc:
        run_island(spec())
    assert words in str(exc.value) and "\n" not in str(exc.value)


# ---- any small valid spec runs ----------------------------------------------------------------

@st.composite
def small_specs(draw):
    world = draw(st.sampled_from(["sandbox", "hex"]))
    brain = "psil" if world == "sandbox" else draw(st.sampled_from(["neural", "psil"]))
    n = draw(st.integers(1, 4))
    copies = draw(st.integers(1, 3))
    ids = draw(st.lists(st.integers(1, 10**12), min_size=n, max_size=n, unique=True))
    if brain == "psil":
        genomes = [draw(st.binary(min_size=0, max_size=80)).hex() for _ in ids]
    else:
        genomes = [g["genome"] for g in neural_founders(n, 1)]
        draw(st.just(None))
    config = {"npcs": 16, "evolve_every": draw(st.integers(2, 9))} if world == "sandbox" \
        else {"world_width": 5, "num_organisms": 16, "turns_to_starve": draw(st.integers(1, 9))}
    return IslandSpec.build({"world": world, "brain": brain, "config": config,
                             "seed": draw(st.integers(0, 2**63 - 1)),
                             "length": draw(st.integers(1, 25)),
                             "founders": [{"id": i, "genome": g} for i, g in zip(ids, genomes)],
                             "copies": copies, "sample": draw(st.integers(0, 8))})


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_specs())
def test_small_valid_specs_run_and_report_every_founder(spec):
    try:
        out, ref = checked(spec)
    except PrimordiaError as exc:          # never: a valid small spec must run
        pytest.fail(str(exc))
    assert [s.founder for s in out.lineages] == sorted(f.id for f in spec.founders)
    assert out.lineages == ref.stats([f.id for f in spec.founders])
    assert len(out.sample) <= spec.sample
    assert out.length == spec.length


def test_worlds_refuse_more_founders_than_organisms():
    g = bytes.fromhex(psil_founders(1)[0]["genome"])
    with pytest.raises(ConfigError, match="founders"):
        SandboxRun.build(SandboxConfig(npcs=4), PSIL, founders=[g] * 5)
    with pytest.raises(ConfigError, match="founders"):
        HexWorld(HexConfig(world_width=3, num_organisms=4), PSIL, founders=[g] * 5)
