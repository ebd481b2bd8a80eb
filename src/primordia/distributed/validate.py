"""Checking a worker's outcome against the job it answers before anything is stored: the
right lineages, counts inside what the island could produce, sampled genomes that decode
and fit the cap. A result that passes is then compared with replicas by its digest, which
covers every field, the final ``state_hash`` included."""

from __future__ import annotations

import functools
import re

import orjson

from primordia.core.errors import PrimordiaError
from primordia.core.hashing import digest_bytes
from primordia.runs.island import IslandOutcome, IslandSpec

from .islands import limits, substrate_for, world_config

HASH = re.compile(r"^[0-9a-f]{64}$")


class InvalidResult(PrimordiaError):
    """A result that cannot be the outcome of its job."""


def outcome_digest(outcome: IslandOutcome | dict) -> str:
    """Digest of the outcome's canonical JSON (given as the model or its JSON data): equal
    for equal outcomes on any machine."""
    data = outcome if isinstance(outcome, dict) else outcome.model_dump(mode="json")
    return digest_bytes(orjson.dumps(data, option=orjson.OPT_SORT_KEYS))


@functools.lru_cache(maxsize=256)
def _facts(world: str, brain: str, config: str, length: int):
    """The limits and substrate of islands of one niche (the seed changes neither)."""
    cfg = world_config(world, brain, orjson.loads(config), 0, length)
    return limits(world, cfg), substrate_for(world, cfg)


def check_outcome(spec: IslandSpec, outcome: IslandOutcome) -> None:
    """Raise InvalidResult naming the first field no run of ``spec`` could produce."""
    lim, substrate = _facts(spec.world, spec.brain,
                            orjson.dumps(spec.config, option=orjson.OPT_SORT_KEYS).decode(),
                            spec.length)

    def fail(msg: str) -> None:
        raise InvalidResult(f"result: {msg}")

    if outcome.world != spec.world or outcome.length != spec.length:
        fail("world or length differ from the job's")
    if not HASH.match(outcome.state_hash):
        fail("state_hash: 64 lowercase hex digits expected")
    if not 0 <= outcome.population <= lim.capacity:
        fail(f"population: {outcome.population} outside 0..{lim.capacity}")
    founders = sorted(f.id for f in spec.founders)
    if [s.founder for s in outcome.lineages] != founders:
        fail("lineages: one per founder of the job, in founder order")
    for s in outcome.lineages:
        where = f"lineages[{s.founder}]"
        values = (s.organisms, s.survivors, s.lifetime, s.offspring, s.area, s.interactions)
        if min(values) < 0:
            fail(f"{where}: negative count")
        if s.survivors > min(s.organisms, lim.capacity) or s.offspring > s.organisms:
            fail(f"{where}: more survivors or offspring than organisms")
        if s.organisms < spec.copies:
            fail(f"{where}: fewer organisms than founder copies")
        if s.lifetime > s.organisms * (spec.length + 1):
            fail(f"{where}: lifetime beyond what its organisms could live")
        if s.area > lim.cells:
            fail(f"{where}: area beyond the world's {lim.cells} cells")
    if len(outcome.sample) > spec.sample:
        fail(f"sample: {len(outcome.sample)} genomes, the job asked for {spec.sample}")
    wanted = set(founders)
    for k, g in enumerate(outcome.sample):
        if g.founder not in wanted:
            fail(f"sample[{k}]: founder {g.founder} is not on this island")
        if not 0 <= g.age <= spec.length:
            fail(f"sample[{k}]: age {g.age} outside 0..{spec.length}")
        try:
            data = bytes.fromhex(g.genome)
        except ValueError:
            fail(f"sample[{k}]: genome is not hex")
        if len(data) > lim.max_genome:
            fail(f"sample[{k}]: genome of {len(data)} bytes over the cap {lim.max_genome}")
        try:
            substrate.decode(data)
        except PrimordiaError as exc:
            fail(f"sample[{k}]: {exc}")
