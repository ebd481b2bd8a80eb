"""What an island experiment's database says, as tables: one row per closed generation
(the best and mean of each objective over its ranked pool), the genome bank's phylogeny in
the ALife data standard, and the last generation's first front. Used by the run directory
of ``primordia evolve islands`` and by ``primordia islands status``."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Engine, func, select

from primordia.runs.island import OBJECTIVES
from primordia.runs.phylogeny import PHYLOGENY_HEADER, phylogeny_rows

from .models import Experiment, Generation, Genome, GenomeParent, Job, Member, Result

E, G, GN, GP, J, M, R = (t.__table__ for t in (Experiment, Generation, Genome, GenomeParent,
                                                 Job, Member, Result))
GENERATION_HEADER = (("generation", "islands", "verified", "accepted", "failed", "results",
                      "ranked", "front")
                     + tuple(f"best_{k}" for k in OBJECTIVES)
                     + tuple(f"mean_{k}" for k in OBJECTIVES))


def experiment_id(engine: Engine, name: str) -> int | None:
    with engine.connect() as c:
        eid = c.execute(select(E.c.id).where(E.c.name == name)).scalar()
        c.rollback()
    return eid


def generation_rows(engine: Engine, eid: int) -> list[tuple]:
    """One row per closed generation (GENERATION_HEADER)."""
    rows = []
    with engine.connect() as c:
        for g in c.execute(select(G.c.id, G.c.number).where(
                G.c.experiment_id == eid, G.c.status == "closed").order_by(G.c.number)):
            states = dict(c.execute(select(J.c.state, func.count()).where(
                J.c.generation_id == g.id).group_by(J.c.state)).all())
            results = c.execute(select(func.count()).select_from(R).join(
                J, J.c.id == R.c.job_id).where(J.c.generation_id == g.id)).scalar_one()
            fits = [(orjson.loads(m.fitness), m.rank) for m in c.execute(
                select(M.c.fitness, M.c.rank).where(M.c.generation_id == g.id,
                                                    M.c.fitness.is_not(None)))]
            vectors = [f for f, _ in fits]
            best = [round(max(v[k] for v in vectors), 3) if vectors else ""
                    for k in range(len(OBJECTIVES))]
            mean = [round(sum(v[k] for v in vectors) / len(vectors), 3) if vectors else ""
                    for k in range(len(OBJECTIVES))]
            rows.append((g.number, sum(states.values()), states.get("verified", 0),
                         states.get("accepted", 0), states.get("failed", 0), results,
                         len(vectors), sum(1 for _, r in fits if r == 0), *best, *mean))
        c.rollback()
    return rows


def phylogeny(engine: Engine, eid: int) -> tuple[tuple[str, ...], list[tuple]]:
    """The bank as ALife phylogeny rows: origin_time is the birth generation."""
    with engine.connect() as c:
        origin = {int(r.id): int(r.birth_generation) for r in c.execute(
            select(GN.c.id, GN.c.birth_generation).where(GN.c.experiment_id == eid))}
        ancestors: dict[int, list[int]] = {}
        for r in c.execute(select(GP.c.child_id, GP.c.parent_id).join(
                GN, GN.c.id == GP.c.child_id).where(GN.c.experiment_id == eid)
                .order_by(GP.c.child_id, GP.c.parent_id)):
            ancestors.setdefault(int(r.child_id), []).append(int(r.parent_id))
        c.rollback()
    return PHYLOGENY_HEADER, phylogeny_rows({k: tuple(v) for k, v in ancestors.items()},
                                            origin, {})


def front(engine: Engine, eid: int) -> list[dict[str, Any]]:
    """The last closed generation's first front: genome ids, hex and fitness."""
    with engine.connect() as c:
        gid = c.execute(select(G.c.id).where(G.c.experiment_id == eid, G.c.status == "closed")
                        .order_by(G.c.number.desc()).limit(1)).scalar()
        out = []
        if gid is not None:
            for r in c.execute(select(M.c.genome_id, M.c.fitness, GN.c.data, GN.c.lineage)
                               .join(GN, GN.c.id == M.c.genome_id)
                               .where(M.c.generation_id == gid, M.c.rank == 0)
                               .order_by(M.c.genome_id)):
                out.append({"id": int(r.genome_id), "lineage": r.lineage,
                            "fitness": dict(zip(OBJECTIVES, orjson.loads(r.fitness))),
                            "genome_hex": bytes(r.data).hex()})
        c.rollback()
    return out
