"""Founders from files: genomes a user brings to a run (``primordia run WORLD --founder
FILE[:COUNT]``), placed as the first organisms of the world's initial population.

Every world's run already takes ``founders`` (``WorldRun.founders``, the genomes islands
seed); this module only reads them. The world's substrate says what a file holds
(``from_file``: its canonical bytes or their hex by default, text forms where the brain has
them), so nothing here knows a world or a brain by name. A run directory records its
founders in ``founders.json`` (``record``): the checkpoint holds them as it holds every
organism, so a resumed run needs nothing more, and the record says where they came from.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from primordia.brains.base import Substrate, genome_limit
from primordia.core.errors import AssemblyError, ConfigError, GenomeError
from primordia.core.files import is_file, read_bounded

FOUNDERS_FILE = "founders.json"
MAX_FILE_BYTES = 4 << 20
"""The largest founder file read (checked before reading); the substrate then holds the
genome to its own limits."""
MAX_FOUNDERS = 1 << 20
"""Founders at most, when the world does not say how many organisms it starts with."""


@dataclass(frozen=True)
class Founder:
    """One ``--founder``: the file, the genome it holds and how many copies to place."""

    source: str
    genome: Any
    count: int


def parse_spec(text: str) -> tuple[str, int]:
    """``FILE`` or ``FILE:COUNT`` -> (file, count). A name that itself ends in ``:digits``
    and exists as a file is taken whole."""
    path, sep, count = text.rpartition(":")
    if not sep or not (count.isascii() and count.isdigit()) or not path or is_file(text):
        return text, 1
    n = int(count)
    if n < 1:
        raise ConfigError(f"--founder {text!r}: COUNT must be at least 1")
    return path, n


def read_founders(specs: Sequence[str], substrate: Substrate,
                  room: int | None = None) -> list[Founder]:
    """The founders the specs name, each read by ``substrate.from_file`` and validated;
    ``room`` bounds how many copies there are in all. A file that cannot be read or holds
    no genome this brain runs is a one-line error naming it."""
    founders: list[Founder] = []
    total = 0
    limit = room if room is not None else MAX_FOUNDERS
    for spec in specs:
        path, count = parse_spec(spec)
        total += count
        if total > limit:
            raise ConfigError(f"--founder: {total} founders do not fit in a population of "
                              f"{limit}")
        founders.append(Founder(path, _read_genome(path, substrate), count))
    return founders


def load(run_class: Any, config: Any, specs: Sequence[str]
         ) -> tuple[list[Any], list[dict[str, Any]]]:
    """The genomes to place for a run of ``run_class`` (a ``WorldRun``) with ``config``,
    read by the config's brain, and their ``founders.json`` record."""
    substrate = run_class.substrate(config)
    try:
        room = run_class.population(config)
    except NotImplementedError:
        room = None
    founders = read_founders(specs, substrate, room)
    return genomes(founders), record(founders, substrate)


def _read_genome(path: str, substrate: Substrate) -> Any:
    name = Path(path).name
    data = read_bounded(path, MAX_FILE_BYTES, f"--founder {path}")
    from_file = getattr(substrate, "from_file", None)
    try:
        genome = from_file(data, name) if from_file else substrate.decode(data)
        substrate.validate(genome)
        if len(substrate.encode(genome)) > genome_limit(substrate):
            raise GenomeError(f"longer than the {genome_limit(substrate)} bytes a genome "
                              f"may have")
    except (GenomeError, AssemblyError) as e:
        message = str(e)
        if message.startswith(name + ":"):
            message = message[len(name) + 1:].lstrip()
        raise GenomeError(f"--founder {path}: {message} (for a {substrate.name} brain)"
                          ) from None
    except (ValueError, TypeError, KeyError, IndexError) as e:
        raise GenomeError(f"--founder {path}: not a {substrate.name} genome ({e})") from None
    return genome


def genomes(founders: Sequence[Founder]) -> list[Any]:
    """The genomes to place, in order: each founder ``count`` times."""
    return [f.genome for f in founders for _ in range(f.count)]


def record(founders: Sequence[Founder], substrate: Substrate) -> list[dict[str, Any]]:
    """What ``founders.json`` holds: per founder its file, copies, and canonical genome
    (hex, with its SHA-256)."""
    out = []
    for f in founders:
        data = substrate.encode(f.genome)
        out.append({"file": f.source, "count": f.count, "brain": substrate.name,
                    "sha256": hashlib.sha256(data).hexdigest(), "genome": data.hex()})
    return out
