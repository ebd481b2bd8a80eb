"""Outcomes for the coordinator's tests without running worlds: a deterministic function of
the job's spec (what an honest worker would send), and corrupted ones (a lying worker)."""

from __future__ import annotations

import hashlib

from primordia.distributed.experiment import build_experiment
from primordia.distributed.islands import limits, world_config
from primordia.runs.island import IslandOutcome, IslandSpec, LineageStats, SampledGenome


def experiment(**changes):
    """A small sandbox experiment; ``changes`` override keys (nested dicts replace)."""
    values = {"name": "t", "seed": 3, "world": "sandbox", "brain": "psil",
              "world_config": {"npcs": 32, "world": 24}, "pool": 8, "islands": 4,
              "founders": 4, "copies": 2, "length": 50, "sample": 2, "generations": 3,
              "verification": {"trust_after": 3, "spot_check": 0.0}}
    values.update(changes)
    return build_experiment(values)


def _n(*parts, mod: int) -> int:
    h = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(h, "little") % mod


def honest(spec: IslandSpec | str) -> IslandOutcome:
    """The outcome every honest worker computes for ``spec``."""
    if isinstance(spec, str):
        spec = IslandSpec.model_validate_json(spec)
    lim = limits(spec.world, world_config(spec.world, spec.brain, spec.config, spec.seed,
                                         spec.length))
    lineages, sample = [], []
    for f in sorted(spec.founders, key=lambda f: f.id):
        organisms = spec.copies + _n(spec.seed, f.id, "o", mod=5)
        lineages.append(LineageStats(
            founder=f.id, organisms=organisms, survivors=_n(spec.seed, f.id, "s", mod=2),
            lifetime=_n(spec.seed, f.id, "l", mod=organisms * spec.length),
            net_energy=_n(spec.seed, f.id, "e", mod=500) - 100,
            offspring=organisms - spec.copies, area=_n(spec.seed, f.id, "a", mod=lim.cells),
            interactions=_n(spec.seed, f.id, "i", mod=20)))
        if len(sample) < spec.sample:
            data = bytearray(bytes.fromhex(f.genome) or b"\x00")
            data[-1] ^= 1                                   # an offspring differs a little
            sample.append(SampledGenome(founder=f.id, genome=bytes(data).hex(),
                                        kind="offspring", age=1))
    digest = hashlib.blake2b(spec.model_dump_json().encode(), digest_size=32).hexdigest()
    return IslandOutcome(world=spec.world, length=spec.length, lineages=lineages,
                         sample=sample, population=min(lim.capacity, 10), state_hash=digest)


def lie(outcome: IslandOutcome) -> IslandOutcome:
    """The same outcome with its first lineage's offspring inflated (valid, but false)."""
    first = outcome.lineages[0]
    boosted = first.model_copy(update={"offspring": first.organisms,
                                       "lifetime": first.lifetime + 1})
    return outcome.model_copy(update={"lineages": [boosted] + outcome.lineages[1:]})


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, t: float = 1_000_000.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def honest_runner(spec_json: str) -> tuple[dict, float]:
    """``worker.work``'s runner without a world: the honest outcome, at once."""
    return honest(spec_json).model_dump(mode="json"), 0.0
