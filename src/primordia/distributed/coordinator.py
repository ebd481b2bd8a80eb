"""The coordinator: every state change of an island experiment as one database
transaction, so that the database is the whole truth -- a coordinator killed at any moment
and started again carries on with nothing lost or counted twice.

- ``claim``: the oldest job that still wants a result, leased to a worker that has not run
  it, with a deadline and a fencing number (the job's lease count). On PostgreSQL the row
  is taken with ``FOR UPDATE SKIP LOCKED``; SQLite runs one writer at a time.
- ``submit``: a result for the worker's own live lease, validated against the job, stored
  once (a second submission of the same lease changes nothing), then the job is decided.
- deciding a job (BOINC's adaptive replication): results with equal digests from two
  workers verify it; a lone result is accepted unverified only from a trusted worker
  (``trust_after`` verified results in a row) on a job not drawn for a spot check;
  disagreement asks for one more copy, up to ``max_results``. Workers outvoted are
  quarantined and their unverified results discarded. The coordinator's own (local)
  workers are trusted by construction.
- closing a generation when every job is decided: members that would enter the elite must
  rest on verified results (their accepted jobs are sent out again), then the sampled
  genomes go into the bank, NSGA-II ranks the pool, the next pool is bred and dealt out to
  new jobs (``breeding``).
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any, Callable

import orjson
from sqlalchemy import Connection, Engine, and_, func, insert, select, update

from primordia.core.errors import ConfigError, PrimordiaError
from primordia.runs.island import Founder, IslandOutcome, IslandSpec, fitness_vector

from . import breeding
from .experiment import ExperimentConfig
from .islands import breeding_substrate
from .models import (Experiment, Generation, Genome, GenomeParent, Job, Lease, Member, Result,
                     Worker)
from .validate import InvalidResult, check_outcome, outcome_digest

E, G, GN, GP, J, L, M, R, W = (t.__table__ for t in (Experiment, Generation, Genome,
                                                      GenomeParent, Job, Lease, Member,
                                                      Result, Worker))
DECIDED = ("verified", "accepted", "failed")
SWEEP_EVERY = 1.0
"""Seconds between sweeps for expired leases made on the claim path."""


class Refused(PrimordiaError):
    """A request the coordinator turns down: ``status`` is the HTTP status to answer with."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


@dataclass(frozen=True)
class Offer:
    """A leased job, as the worker receives it."""

    lease_id: int
    fence: int
    job_id: int
    experiment: str
    generation: int
    island: int
    niche: str
    deadline_in: float
    spec: str                      # IslandSpec JSON


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Coordinator:
    """Island experiments over one database. Thread-safe: every method is a transaction."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self.pg = engine.dialect.name == "postgresql"
        self._configs: dict[int, ExperimentConfig] = {}
        self._specs: OrderedDict[int, IslandSpec] = OrderedDict()
        self._lock = threading.Lock()
        self._last_sweep = 0.0
        self._listeners: list[Callable[[], None]] = []

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from any thread) whenever jobs may have become claimable."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()

    # ---- experiments -----------------------------------------------------------------------
    def start(self, exp: ExperimentConfig) -> int:
        """The experiment's id: created with generation 0 and its jobs if new; an experiment
        of the same name must have the same config (resuming it)."""
        text = exp.model_dump_json()
        with self.engine.begin() as c:
            row = c.execute(select(E.c.id, E.c.config).where(E.c.name == exp.name)).first()
            if row is not None:
                if orjson.loads(row.config) != orjson.loads(text):
                    raise ConfigError(f"experiment {exp.name!r} exists with another config; "
                                      "choose a new name")
                return int(row.id)
            now = self.clock()
            eid = c.execute(insert(E).values(name=exp.name, config=text, seed=exp.seed,
                                             status="running", generation=0,
                                             created_at=now)).inserted_primary_key[0]
            substrate, max_len = breeding_substrate(exp)
            ids = [self._bank(c, eid, substrate.encode(g), exp.brain, 0, "random", ())
                   for g in breeding.first_pool(exp, substrate, max_len)]
            self._open_generation(c, eid, exp, 0, ids)
        self._notify()
        return int(eid)

    def config(self, c: Connection, eid: int) -> ExperimentConfig:
        cfg = self._configs.get(eid)
        if cfg is None:
            text = c.execute(select(E.c.config).where(E.c.id == eid)).scalar_one()
            cfg = self._configs[eid] = ExperimentConfig.model_validate_json(text)
        return cfg

    def _bank(self, c: Connection, eid: int, data: bytes, substrate: str, generation: int,
              origin: str, parents: tuple[tuple[int, str], ...],
              lineage: int | None = None) -> int:
        """Store one genome and its parent links; its lineage is its first parent's."""
        if lineage is None and parents:
            lineage = c.execute(select(GN.c.lineage).where(GN.c.id == parents[0][0])
                                ).scalar_one()
        gid = c.execute(insert(GN).values(
            experiment_id=eid, substrate=substrate, data=data,
            digest=hashlib.sha256(data).hexdigest(), birth_generation=generation,
            origin=origin, lineage=lineage)).inserted_primary_key[0]
        if lineage is None:
            c.execute(update(GN).where(GN.c.id == gid).values(lineage=gid))
        seen = set()
        for pid, role in parents:
            if pid not in seen:
                seen.add(pid)
                c.execute(insert(GP).values(child_id=gid, parent_id=pid, role=role))
        return int(gid)

    def _open_generation(self, c: Connection, eid: int, exp: ExperimentConfig, number: int,
                         pool: list[int]) -> None:
        now = self.clock()
        gen_id = c.execute(insert(G).values(experiment_id=eid, number=number, status="open",
                                            created_at=now)).inserted_primary_key[0]
        c.execute(insert(M), [{"generation_id": gen_id, "genome_id": g, "islands": 0}
                              for g in sorted(pool)])
        rows = c.execute(select(GN.c.id, GN.c.data).where(GN.c.id.in_(pool))).all()
        data = {int(r.id): bytes(r.data) for r in rows}
        jobs = []
        for island, founders in enumerate(breeding.assign(exp, number, pool)):
            niche = exp.niches[island % len(exp.niches)]
            spec = IslandSpec(world=exp.world, brain=exp.brain,
                              config=exp.niche_config(niche),
                              seed=breeding.island_seed(exp, number, island),
                              length=exp.length, copies=exp.copies, sample=exp.sample,
                              founders=[Founder(id=g, genome=data[g].hex()) for g in founders])
            jobs.append({"generation_id": gen_id, "island": island, "niche": niche.name,
                         "spec": spec.model_dump_json(), "state": "open", "wanted": 1,
                         "inflight": 0, "received": 0,
                         "spot": breeding.spot_checked(exp, number, island),
                         "must_verify": False, "epoch": 0, "expired": 0})
        c.execute(insert(J), jobs)
        c.execute(update(E).where(E.c.id == eid).values(generation=number))

    # ---- workers -------------------------------------------------------------------------------
    def register(self, name: str, procs: int = 1, local: bool = False) -> tuple[int, str]:
        """A new worker's id and token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self.engine.begin() as c:
            wid = c.execute(insert(W).values(
                name=name, token_hash=hash_token(token), local=local, procs=procs, streak=0,
                verified=0, invalid=0, quarantined=False, created_at=now,
                last_seen=now)).inserted_primary_key[0]
        return int(wid), token

    def authenticate(self, token: str | None) -> int:
        """The worker a token belongs to (401 if none; 403 if it is quarantined)."""
        if not token:
            raise Refused(401, "unauthorized", "authorization: send 'Authorization: Bearer "
                          "<token>' with the token registration gave")
        with self.engine.connect() as c:
            row = c.execute(select(W.c.id, W.c.quarantined)
                            .where(W.c.token_hash == hash_token(token))).first()
            c.rollback()
        if row is None:
            raise Refused(401, "unauthorized", "authorization: unknown worker token")
        if row.quarantined:
            raise Refused(403, "quarantined", "this worker sent results that other workers "
                          "contradicted; it gets no more jobs")
        return int(row.id)

    # ---- jobs ----------------------------------------------------------------------------------
    def claim(self, worker_id: int) -> Offer | None:
        """Lease the oldest job that wants another result and that this worker has not run;
        None when there is none."""
        self._maybe_sweep()
        now = self.clock()
        mine = select(L.c.id).where(L.c.job_id == J.c.id, L.c.worker_id == worker_id,
                                    L.c.state.in_(("active", "submitted"))).exists()
        q = (select(J.c.id, J.c.epoch, J.c.generation_id, J.c.island, J.c.niche)
             .where(J.c.state == "open", J.c.inflight + J.c.received < J.c.wanted, ~mine)
             .order_by(J.c.id).limit(1))
        if self.pg:
            q = q.with_for_update(skip_locked=True, of=J)
        with self.engine.begin() as c:
            job = c.execute(q).first()
            if job is None:
                return None
            gen = c.execute(select(G.c.experiment_id, G.c.number)
                            .where(G.c.id == job.generation_id)).one()
            exp = self.config(c, gen.experiment_id)
            fence = job.epoch + 1
            c.execute(update(J).where(J.c.id == job.id)
                      .values(inflight=J.c.inflight + 1, epoch=fence))
            lease = c.execute(insert(L).values(
                job_id=job.id, worker_id=worker_id, fence=fence, state="active",
                issued_at=now, deadline=now + exp.leases.seconds)).inserted_primary_key[0]
            c.execute(update(W).where(W.c.id == worker_id).values(last_seen=now))
            spec = c.execute(select(J.c.spec).where(J.c.id == job.id)).scalar_one()
        return Offer(int(lease), fence, int(job.id), exp.name, int(gen.number),
                     int(job.island), job.niche, exp.leases.seconds, spec)

    def submit(self, worker_id: int, lease_id: int, fence: int, outcome: IslandOutcome,
               seconds: float = 0.0) -> dict[str, Any]:
        """Store a result for the worker's own live lease and decide its job. A repeat of a
        stored result is acknowledged and changes nothing."""
        digest = outcome_digest(outcome)
        now = self.clock()
        with self.engine.begin() as c:
            q = select(L).where(L.c.id == lease_id)
            lease = c.execute(q.with_for_update() if self.pg else q).first()
            if lease is None or lease.worker_id != worker_id:
                raise Refused(404, "no_such_lease", f"lease {lease_id}: not one of yours")
            if lease.state == "submitted":
                stored = c.execute(select(R.c.digest).where(R.c.lease_id == lease_id)
                                   ).scalar_one()
                if stored != digest:
                    raise Refused(409, "already_submitted", f"lease {lease_id}: a different "
                                  "result was already submitted")
                return {"accepted": True, "duplicate": True}
            if lease.fence != fence:
                raise Refused(409, "stale_fence", f"lease {lease_id}: fence {fence} is not "
                              f"this lease's ({lease.fence})")
            if lease.state != "active":
                raise Refused(409, "lease_" + lease.state, f"lease {lease_id} is "
                              f"{lease.state}; its job went to another worker")
            job = self._lock_job(c, lease.job_id)
            try:
                check_outcome(self._spec(job.id, job.spec), outcome)
            except (InvalidResult, PrimordiaError) as exc:
                c.execute(update(L).where(L.c.id == lease_id).values(state="released"))
                c.execute(update(J).where(J.c.id == job.id)
                          .values(inflight=J.c.inflight - 1))
                c.execute(update(W).where(W.c.id == worker_id)
                          .values(streak=0, invalid=W.c.invalid + 1, last_seen=now))
                self._notify()
                return {"accepted": False, "error": str(exc)}
            c.execute(insert(R).values(
                job_id=job.id, lease_id=lease_id, worker_id=worker_id, digest=digest,
                state_hash=outcome.state_hash,
                outcome=orjson.dumps(outcome.model_dump(mode="json")).decode(),
                status="pending", received_at=now, seconds=max(0.0, float(seconds))))
            c.execute(update(L).where(L.c.id == lease_id).values(state="submitted"))
            c.execute(update(J).where(J.c.id == job.id).values(
                inflight=J.c.inflight - 1, received=J.c.received + 1))
            c.execute(update(W).where(W.c.id == worker_id).values(last_seen=now))
            self._decide(c, job.id)
            self._maybe_close(c, job.generation_id)
        self._notify()                  # after the commit, so that waiters see it
        return {"accepted": True, "duplicate": False}

    def release(self, worker_id: int, lease_id: int) -> bool:
        """Give a lease back (a worker stopping); its job is offered again at once."""
        with self.engine.begin() as c:
            q = select(L.c.job_id, L.c.worker_id, L.c.state).where(L.c.id == lease_id)
            lease = c.execute(q.with_for_update() if self.pg else q).first()
            if lease is None or lease.worker_id != worker_id:
                raise Refused(404, "no_such_lease", f"lease {lease_id}: not one of yours")
            if lease.state != "active":
                return False
            self._lock_job(c, lease.job_id)
            c.execute(update(L).where(L.c.id == lease_id).values(state="released"))
            c.execute(update(J).where(J.c.id == lease.job_id)
                      .values(inflight=J.c.inflight - 1))
        self._notify()
        return True

    def heartbeat(self, worker_id: int, lease_ids: list[int]) -> tuple[list[int], list[int]]:
        """Extend the worker's live leases; returns (extended, gone) -- a worker drops the
        jobs of leases that are gone (expired and reissued, or its job decided)."""
        now = self.clock()
        live: list[int] = []
        with self.engine.begin() as c:
            rows = c.execute(select(L.c.id, L.c.job_id, L.c.worker_id, L.c.state)
                             .where(L.c.id.in_(lease_ids))).all() if lease_ids else []
            for r in rows:
                if r.worker_id == worker_id and r.state == "active":
                    gen = c.execute(select(G.c.experiment_id).join(J, J.c.generation_id ==
                                                                  G.c.id)
                                    .where(J.c.id == r.job_id)).scalar_one()
                    secs = self.config(c, gen).leases.seconds
                    c.execute(update(L).where(L.c.id == r.id, L.c.state == "active")
                              .values(deadline=now + secs))
                    live.append(int(r.id))
            c.execute(update(W).where(W.c.id == worker_id).values(last_seen=now))
        return live, sorted(set(lease_ids) - set(live))

    # ---- deadlines -----------------------------------------------------------------------------
    def _maybe_sweep(self) -> None:
        now = self.clock()
        with self._lock:
            if now - self._last_sweep < SWEEP_EVERY:
                return
            self._last_sweep = now
        self.sweep()

    def sweep(self) -> int:
        """Expire leases past their deadline; a job whose leases expired ``attempts`` times
        is given up. Returns how many leases expired."""
        now = self.clock()
        n = 0
        with self.engine.begin() as c:
            q = select(L.c.id, L.c.job_id).where(L.c.state == "active", L.c.deadline < now)
            for lease in c.execute(q.with_for_update(skip_locked=True) if self.pg else q
                                   ).all():
                job = self._lock_job(c, lease.job_id)
                c.execute(update(L).where(L.c.id == lease.id).values(state="expired"))
                c.execute(update(J).where(J.c.id == job.id).values(
                    inflight=J.c.inflight - 1, expired=J.c.expired + 1))
                n += 1
                exp = self._experiment_of(c, job.generation_id)
                if job.expired + 1 >= exp.leases.attempts and job.state == "open":
                    c.execute(update(J).where(J.c.id == job.id).values(state="failed"))
                    self._maybe_close(c, job.generation_id)
        if n:
            self._notify()
        return n

    # ---- deciding jobs ---------------------------------------------------------------------------
    def _lock_job(self, c: Connection, job_id: int):
        q = select(J).where(J.c.id == job_id)
        return c.execute(q.with_for_update() if self.pg else q).one()

    def _experiment_of(self, c: Connection, generation_id: int) -> ExperimentConfig:
        eid = c.execute(select(G.c.experiment_id).where(G.c.id == generation_id)).scalar_one()
        return self.config(c, eid)

    def _spec(self, job_id: int, text: str) -> IslandSpec:
        with self._lock:
            spec = self._specs.get(job_id)
            if spec is not None:
                self._specs.move_to_end(job_id)
                return spec
        spec = IslandSpec.model_validate_json(text)
        with self._lock:
            self._specs[job_id] = spec
            while len(self._specs) > 4096:
                self._specs.popitem(last=False)
        return spec

    def _decide(self, c: Connection, job_id: int) -> None:
        """Verify, accept, or ask for more copies of a job from its results so far."""
        job = c.execute(select(J).where(J.c.id == job_id)).one()
        if job.state == "failed":
            return
        exp = self._experiment_of(c, job.generation_id)
        rows = c.execute(select(R.c.id, R.c.worker_id, R.c.digest, R.c.status, W.c.local,
                                W.c.streak)
                         .join(W, W.c.id == R.c.worker_id)
                         .where(R.c.job_id == job_id, R.c.status != "discarded")
                         .order_by(R.c.id)).all()
        if job.state == "verified":           # a late copy: judged against the quorum
            good = c.execute(select(R.c.digest).where(R.c.id == job.result_id)).scalar_one()
            for r in rows:
                if r.status == "pending":
                    self._judge(c, r, r.digest == good)
            return
        groups: dict[str, list] = {}
        for r in rows:
            groups.setdefault(r.digest, []).append(r)
        best = max(groups.values(), key=len) if groups else []
        if len(best) >= 2 or any(r.local for r in best):
            for r in rows:
                self._judge(c, r, r.digest == best[0].digest)
            c.execute(update(J).where(J.c.id == job_id).values(
                state="verified", result_id=best[0].id, wanted=len(rows)))
            return
        n = len(rows)
        if (n == 1 and not job.spot and not job.must_verify
                and rows[0].streak >= exp.verification.trust_after):
            c.execute(update(J).where(J.c.id == job_id).values(
                state="accepted", result_id=rows[0].id))
            return
        if n >= exp.verification.max_results:
            c.execute(update(J).where(J.c.id == job_id).values(state="failed",
                                                                result_id=None))
            return
        c.execute(update(J).where(J.c.id == job_id).values(
            state="open", result_id=None, wanted=max(job.wanted, n + 1)))
        self._notify()

    def _judge(self, c: Connection, r, agrees: bool) -> None:
        if r.status != "pending":
            return
        if agrees:
            c.execute(update(R).where(R.c.id == r.id).values(status="valid"))
            c.execute(update(W).where(W.c.id == r.worker_id).values(
                streak=W.c.streak + 1, verified=W.c.verified + 1))
        else:
            c.execute(update(R).where(R.c.id == r.id).values(status="invalid"))
            self._quarantine(c, r.worker_id)

    def _quarantine(self, c: Connection, worker_id: int) -> None:
        """A worker outvoted by others: no more jobs, its unverified results discarded and
        its live leases ended, so their jobs go to others."""
        c.execute(update(W).where(W.c.id == worker_id).values(
            quarantined=True, streak=0, invalid=W.c.invalid + 1))
        pending = c.execute(select(R.c.id, R.c.job_id).where(
            R.c.worker_id == worker_id, R.c.status == "pending")).all()
        for r in pending:
            c.execute(update(R).where(R.c.id == r.id).values(status="discarded"))
            c.execute(update(J).where(J.c.id == r.job_id).values(received=J.c.received - 1))
        active = c.execute(select(L.c.id, L.c.job_id).where(
            L.c.worker_id == worker_id, L.c.state == "active")).all()
        for lease in active:
            c.execute(update(L).where(L.c.id == lease.id).values(state="released"))
            c.execute(update(J).where(J.c.id == lease.job_id).values(
                inflight=J.c.inflight - 1))
        for job_id in sorted({r.job_id for r in pending}):
            state = c.execute(select(J.c.state).where(J.c.id == job_id)).scalar_one()
            if state in ("open", "accepted"):
                self._decide(c, job_id)
        self._notify()

    # ---- closing a generation --------------------------------------------------------------------
    def _maybe_close(self, c: Connection, generation_id: int) -> None:
        q = select(G).where(G.c.id == generation_id)
        gen = c.execute(q.with_for_update() if self.pg else q).one()
        if gen.status != "open":
            return
        undecided = c.execute(select(func.count()).select_from(J).where(
            J.c.generation_id == generation_id, J.c.state.not_in(DECIDED))).scalar_one()
        if undecided:
            return
        exp = self.config(c, gen.experiment_id)
        jobs = c.execute(select(J.c.id, J.c.state, J.c.result_id, J.c.spec)
                         .where(J.c.generation_id == generation_id,
                                J.c.state != "failed").order_by(J.c.island)).all()
        outcomes = {}
        for j in jobs:
            text = c.execute(select(R.c.outcome).where(R.c.id == j.result_id)).scalar_one()
            outcomes[j.id] = IslandOutcome.model_validate_json(text)
        members = c.execute(select(M.c.genome_id).where(M.c.generation_id == generation_id)
                            ).scalars().all()
        vectors: dict[int, list[tuple[int, ...]]] = {int(g): [] for g in members}
        backing: dict[int, set[int]] = {int(g): set() for g in members}
        for j in jobs:
            for s in outcomes[j.id].lineages:
                vectors[s.founder].append(fitness_vector(s))
                backing[s.founder].add(j.id)
        candidates = [breeding.Candidate(g, _mean(vectors[g])) for g in sorted(vectors)]
        unverified = {j.id for j in jobs if j.state == "accepted"}
        recheck = sorted({jid for g in breeding.elite_ids(exp, candidates)
                          for jid in backing[g] & unverified})
        if recheck:                       # the elite rests on verified results only
            c.execute(update(J).where(J.c.id.in_(recheck)).values(
                state="open", must_verify=True, wanted=2))
            self._notify()
            return
        self._close(c, gen, exp, jobs, outcomes, candidates, vectors)

    def _close(self, c: Connection, gen, exp: ExperimentConfig, jobs, outcomes, candidates,
               vectors) -> None:
        eid, number = gen.experiment_id, gen.number
        substrate, max_len = breeding_substrate(exp)
        member_rows = c.execute(select(GN.c.id, GN.c.data, GN.c.digest).where(
            GN.c.id.in_([cand.genome_id for cand in candidates]))).all()
        genomes = {int(r.id): substrate.decode(bytes(r.data)) for r in member_rows}
        seen = {r.digest for r in member_rows}
        by_id = {cand.genome_id: cand for cand in candidates}
        for j in jobs:                           # island genomes into the bank, in order
            for s in outcomes[j.id].sample:
                data = bytes.fromhex(s.genome)
                digest = hashlib.sha256(data).hexdigest()
                if digest in seen:
                    continue
                seen.add(digest)
                gid = self._bank(c, eid, data, exp.brain, number, "island",
                                 ((s.founder, "island"),))
                genomes[gid] = substrate.decode(data)
                by_id[s.founder].samples.append(gid)
        chosen = breeding.select_and_breed(exp, number, candidates, genomes, substrate,
                                           max_len)
        kept = {g: "elite" for g in chosen.elite} | {g: "random" for g in chosen.randoms}
        for cand in candidates:
            c.execute(update(M).where(M.c.generation_id == gen.id,
                                      M.c.genome_id == cand.genome_id).values(
                fitness=None if cand.vector is None else orjson.dumps(cand.vector).decode(),
                islands=len(vectors[cand.genome_id]), rank=chosen.ranks.get(cand.genome_id),
                kept=kept.get(cand.genome_id)))
        now = self.clock()
        c.execute(update(G).where(G.c.id == gen.id).values(status="closed", closed_at=now))
        if number + 1 >= exp.generations:
            c.execute(update(E).where(E.c.id == eid).values(status="done", finished_at=now))
            return
        pool = list(chosen.elite) + list(chosen.randoms)
        for child in chosen.children:
            pool.append(self._bank(c, eid, substrate.encode(child.genome), exp.brain,
                                   number + 1, child.origin, child.parents))
        self._open_generation(c, eid, exp, number + 1, pool)
        self._notify()

    # ---- views -------------------------------------------------------------------------------
    def status(self) -> dict[str, Any]:
        """Experiments with their open generation's job states, and workers with trust."""
        with self.engine.connect() as c:
            exps = []
            for e in c.execute(select(E).order_by(E.c.id)).all():
                gens = c.execute(select(G.c.id, G.c.number, G.c.status).where(
                    G.c.experiment_id == e.id).order_by(G.c.number)).all()
                cur = gens[-1] if gens else None
                counts = dict(c.execute(select(J.c.state, func.count()).where(
                    J.c.generation_id == cur.id).group_by(J.c.state)).all()) if cur else {}
                exps.append({"name": e.name, "status": e.status, "generation": e.generation,
                             "generations": self.config(c, e.id).generations,
                             "closed": sum(g.status == "closed" for g in gens),
                             "jobs": {k: int(v) for k, v in counts.items()},
                             "genomes": c.execute(select(func.count()).select_from(GN).where(
                                 GN.c.experiment_id == e.id)).scalar_one()})
            workers = [{"id": w.id, "name": w.name, "local": w.local, "procs": w.procs,
                        "streak": w.streak, "verified": w.verified, "invalid": w.invalid,
                        "quarantined": w.quarantined, "last_seen": w.last_seen,
                        "active_leases": c.execute(select(func.count()).select_from(L).where(
                            and_(L.c.worker_id == w.id, L.c.state == "active"))).scalar_one()}
                       for w in c.execute(select(W).order_by(W.c.id)).all()]
            c.rollback()
        return {"experiments": exps, "workers": workers, "time": self.clock()}


def _mean(vs: list[tuple[int, ...]]) -> tuple[float, ...] | None:
    if not vs:
        return None
    return tuple(sum(v[k] for v in vs) / len(vs) for k in range(len(vs[0])))
