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
  workers are trusted by construction. The rules are pure functions in ``verdicts``;
  this module reads what they need and writes what they decide.
- closing a generation when every job is decided: members that would enter the elite must
  rest on verified results (their accepted jobs are sent out again), then the sampled
  genomes go into the bank, NSGA-II ranks the pool, the next pool is bred and dealt out to
  new jobs (``breeding``).

Its SQL is in ``statements``; what it answers (offers, answers, refusals) in ``replies``.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

import orjson
from sqlalchemy import Connection, Engine, and_, func, insert, select, text, update

from primordia.core.errors import ConfigError, PrimordiaError
from primordia.runs.island import Founder, IslandOutcome, IslandSpec, fitness_vector

from . import breeding
from .experiment import ExperimentConfig
from .replies import Answer, Offer, Refused, accepted, invalid, refused
from .statements import (CLAIM, CLAIM_PG, GENERATION, JOB, LEASES, LEASES_PG, RECEIVED,
                         RECOUNT, RESENT, RESULT_INSERT, RESULTS_OF, RESULTS_OF_MANY, SET_JOB,
                         SUBMITTED_MANY, TAKE_MANY, TRUST, UNDECIDED, VALID_MANY, WORKER, E,
                         G, GN, GP, J, L, M, R, W, retrying)
from .validate import check_outcome, outcome_digest
from .verdicts import (DECIDED, JobCounts, ResultRow, TrustLedger, Verdict, agreed_by,
                       elite_rechecks, placed, redecided_after_quarantine, verdict)

SWEEP_EVERY = 1.0
"""Seconds between sweeps for expired leases made on the claim path."""


@dataclass
class _Plan:
    """A batch of results read and judged, not yet written (``Coordinator._plan``)."""

    replies: dict = field(default_factory=dict)       # item -> answer (refused, repeated)
    invalid: list = field(default_factory=list)       # (item, lease, error)
    stored: list = field(default_factory=list)        # (item, lease), in lease order
    results: list = field(default_factory=list)       # the results table's rows for them
    streaks: list = field(default_factory=list)       # the worker's streak judging each
    verdicts: list = field(default_factory=list)      # (job state before, Verdict)
    one_by_one: bool = False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class Coordinator:
    """Island experiments over one database. Thread-safe: every method is a transaction."""

    def __init__(self, engine: Engine, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self.pg = engine.dialect.name == "postgresql"
        # SQLite has one writer: queue them here rather than in its sleeping busy handler
        self._writer = contextlib.nullcontext() if self.pg else threading.Lock()
        self._configs: dict[int, ExperimentConfig] = {}
        self._generations: dict[int, int] = {}        # generation id -> experiment id
        self._tokens: dict[str, int] = {}             # token -> worker (not quarantined)
        self._caught: set[int] = set()                # quarantined, tokens to forget again
        self._specs: OrderedDict[int, IslandSpec] = OrderedDict()
        self._lock = threading.Lock()
        self._last_sweep = 0.0
        self._listeners: list[Callable[[], None]] = []

    @contextlib.contextmanager
    def _tx(self) -> Iterator[Connection]:
        with self._writer, self.engine.begin() as c:
            yield c

    def subscribe(self, listener: Callable[[], None]) -> None:
        """Call ``listener`` (from any thread) whenever jobs may have become claimable."""
        self._listeners.append(listener)

    def _notify(self) -> None:
        for listener in self._listeners:
            listener()

    # ---- experiments -----------------------------------------------------------------------
    @retrying
    def start(self, exp: ExperimentConfig) -> int:
        """The experiment's id: created with generation 0 and its jobs if new; an experiment
        of the same name must have the same config (resuming it)."""
        wanted = exp.model_dump_json()
        with self._tx() as c:
            row = c.execute(select(E.c.id, E.c.config).where(E.c.name == exp.name)).first()
            if row is not None:
                if orjson.loads(row.config) != orjson.loads(wanted):
                    raise ConfigError(f"experiment {exp.name!r} exists with another config; "
                                      "choose a new name")
                return int(row.id)
            now = self.clock()
            eid = c.execute(insert(E).values(name=exp.name, config=wanted, seed=exp.seed,
                                             status="running", generation=0,
                                             created_at=now)).inserted_primary_key[0]
            substrate, max_len = breeding.breeding_substrate(exp)
            ids = [self._bank(c, eid, substrate.encode(g), exp.brain, 0, "random", ())
                   for g in breeding.first_pool(exp, substrate, max_len)]
            self._open_generation(c, eid, exp, 0, ids)
        self._notify()
        return int(eid)

    def config(self, c: Connection, eid: int) -> ExperimentConfig:
        cfg = self._configs.get(eid)
        if cfg is None:
            raw = c.execute(select(E.c.config).where(E.c.id == eid)).scalar_one()
            cfg = self._configs[eid] = ExperimentConfig.model_validate_json(raw)
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
    @retrying
    def register(self, name: str, procs: int = 1, local: bool = False) -> tuple[int, str]:
        """A new worker's id and token (only its hash is stored)."""
        token = secrets.token_urlsafe(32)
        now = self.clock()
        with self._tx() as c:
            wid = c.execute(insert(W).values(
                name=name, token_hash=hash_token(token), local=local, procs=procs, streak=0,
                verified=0, invalid=0, quarantined=False, created_at=now,
                last_seen=now)).inserted_primary_key[0]
        return int(wid), token

    def known_worker(self, token: str | None) -> int | None:
        """The worker of a token already authenticated (no database call), else None."""
        return self._tokens.get(token) if token else None

    @retrying
    def authenticate(self, token: str | None) -> int:
        """The worker a token belongs to (401 if none; 403 if it is quarantined). Known
        good tokens are remembered until their worker is quarantined."""
        if not token:
            raise Refused(401, "unauthorized", "authorization: send 'Authorization: Bearer "
                          "<token>' with the token registration gave")
        wid = self._tokens.get(token)
        if wid is not None:
            return wid
        with self._tx() as c:
            row = c.execute(select(W.c.id, W.c.quarantined)
                            .where(W.c.token_hash == hash_token(token))).first()
        if row is None:
            raise Refused(401, "unauthorized", "authorization: unknown worker token")
        if row.quarantined:
            raise Refused(403, "quarantined", "this worker sent results that other workers "
                          "contradicted; it gets no more jobs")
        self._tokens[token] = int(row.id)
        return int(row.id)

    # ---- jobs ----------------------------------------------------------------------------------
    def claim(self, worker_id: int) -> Offer | None:
        """Lease one job (``claim_many`` with a limit of one)."""
        offers = self.claim_many(worker_id, 1)
        return offers[0] if offers else None

    @retrying
    def claim_many(self, worker_id: int, limit: int, request: str | None = None,
                   resent: bool = False) -> list[Offer]:
        """Lease up to ``limit`` of the oldest jobs that want another result and that this
        worker has not run, in one transaction (a worker with several processes asks for
        several at once, as BOINC clients do). The leases remember ``request``, the
        worker's id for the claim; a claim ``resent`` under the same id (its reply was
        lost) gets those leases back while they are live, rather than a second set."""
        self._maybe_sweep()
        with self._tx() as c:
            return self._claim(c, worker_id, limit, self.clock(), request, resent)

    def _claim(self, c: Connection, worker_id: int, limit: int, now: float,
               request: str | None = None, resent: bool = False) -> list[Offer]:
        if resent and request:
            again = c.execute(RESENT, {"w": worker_id, "r": request}).all()
            if again:
                return [Offer(int(x.id), int(x.fence), int(x.job_id),
                              self.config(c, x.experiment_id).name, int(x.number),
                              int(x.island), x.niche, max(0.0, x.deadline - now), x.spec)
                        for x in again]
        jobs = c.execute(CLAIM_PG if self.pg else CLAIM, {"w": worker_id, "n": limit}).all()
        if not jobs:
            return []
        c.execute(TAKE_MANY, {"ids": [j.id for j in jobs]})
        configs = [self.config(c, j.experiment_id) for j in jobs]
        leases = c.execute(insert(L).returning(L.c.id, sort_by_parameter_order=True), [
            {"job_id": j.id, "worker_id": worker_id, "fence": j.epoch + 1,
             "state": "active", "issued_at": now, "deadline": now + exp.leases.seconds,
             "request": request}
            for j, exp in zip(jobs, configs)]).scalars().all()
        return [Offer(int(lease), j.epoch + 1, int(j.id), exp.name, int(j.number),
                      int(j.island), j.niche, exp.leases.seconds, j.spec)
                for lease, j, exp in zip(leases, jobs, configs)]

    def submit(self, worker_id: int, lease_id: int, fence: int, outcome: IslandOutcome,
               seconds: float = 0.0) -> Answer:
        """Store a result for the worker's own live lease and decide its job. A repeat of a
        stored result is acknowledged and changes nothing. Refused (404, 409) when the
        lease is not the worker's, or no longer live."""
        reply = self.submit_many(worker_id, [(lease_id, fence, outcome, seconds)])[0]
        if "refused" in reply:
            raise Refused(*reply.pop("refused"))
        return reply

    def submit_many(self, worker_id: int,
                    items: list[tuple[int, int, IslandOutcome, float]]) -> list[Answer]:
        """``submit`` for several results in one transaction (``report`` claiming
        nothing)."""
        return self.report(worker_id, items)[0]

    @retrying
    def report(self, worker_id: int, items: list[tuple[int, int, IslandOutcome, float]],
               claim: int = 0, request: str | None = None,
               resent: bool = False) -> tuple[list[Answer], list[Offer]]:
        """Store several results and then lease up to ``claim`` new jobs, in one
        transaction: a worker reports what it finished and asks for as much new work (as
        a BOINC client's scheduler request does; ``request`` and ``resent`` as in
        ``claim_many``: a resent report's results come back duplicates, and its jobs are
        the ones leased the first time). A refusal answers its item
        (``{"accepted": False, "refused": Refusal(status, code, message)}``) and not the
        others.

        The batch is judged as if its results came one by one in lease order, against the
        worker's trust as it stood when the batch arrived. When no result in it can
        outvote anyone, its writes go to the database a statement per kind for the whole
        batch; otherwise (a quarantine would change what later results see), or when a
        lease repeats, it is taken a result at a time. Trust gained is written after the
        results, workers in id order, so that transactions touching the same workers hold
        their rows briefly and take them in one order."""
        if claim:
            self._maybe_sweep()
        now = self.clock()
        trust = TrustLedger()
        order = sorted(range(len(items)), key=lambda k: items[k][0])   # one lock order
        with self._tx() as c:
            me = c.execute(WORKER, {"id": worker_id}).one()
            if me.quarantined:
                raise Refused(403, "quarantined", "this worker sent results that other "
                              "workers contradicted; its results are not taken")
            batch = self._plan(c, worker_id, me, items, order, now)
            if batch.one_by_one:
                replies: dict[int, Answer] = {}
                for k in order:
                    me = c.execute(WORKER, {"id": worker_id}).one()   # an invalid one reset it
                    single = self._plan(c, worker_id, me, items, [k], now)
                    replies.update(self._apply(c, worker_id, single, trust))
            else:
                replies = self._apply(c, worker_id, batch, trust)
            self._write_trust(c, trust, now)
            offers = (self._claim(c, worker_id, claim, now, request, resent) if claim
                      else [])
        with self._lock:                # after the commit: no reader can bring them back
            caught, self._caught = self._caught, set()
        self._forget(caught)
        self._notify()                  # after the commit, so that waiters see it
        return [replies[k] for k in range(len(items))], offers

    def _plan(self, c: Connection, worker_id: int, me, items, order: list[int],
              now: float) -> "_Plan":
        """Read the leases of ``items[k]`` for k in ``order`` (locking them and their jobs
        on PostgreSQL), answer the ones refused or repeated, and judge the rest as if
        stored: a stored result's id is not known yet, so the worker's own row in each
        verdict has the placeholder id -1-k."""
        plan = _Plan()
        lease_ids = [items[k][0] for k in order]
        plan.one_by_one = len(set(lease_ids)) < len(lease_ids)
        if plan.one_by_one:
            return plan
        leases = {r.id: r for r in c.execute(LEASES_PG if self.pg else LEASES,
                                             {"ids": lease_ids})}
        firsts, later = [], []
        streak = me.streak                      # an invalid result restarts it at 0
        for k in order:
            lease_id, fence, outcome, seconds = items[k]
            data = outcome.model_dump(mode="json")
            digest = outcome_digest(data)
            lease = leases.get(lease_id)
            try:
                answer = self._check_lease(c, worker_id, lease_id, fence, digest, lease)
            except Refused as exc:
                answer = refused(exc)
            if answer is not None:
                plan.replies[k] = answer
                continue
            try:
                check_outcome(self._spec(lease.job_id, lease.spec), outcome)
            except PrimordiaError as exc:
                plan.invalid.append((k, lease, str(exc)))
                streak = 0
                continue
            plan.results.append({
                "job_id": lease.job_id, "lease_id": lease_id, "worker_id": worker_id,
                "digest": digest, "state_hash": outcome.state_hash,
                "outcome": orjson.dumps(data).decode(), "status": "pending",
                "received_at": now, "seconds": max(0.0, float(seconds))})
            plan.stored.append((k, lease))
            plan.streaks.append(streak)
            if lease.received == 0 and lease.job_state in ("open", "running"):
                firsts.append(k)
            elif lease.job_state != "failed":
                later.append(lease.job_id)
        prior: dict[int, list] = {}
        if later:
            for r in c.execute(RESULTS_OF_MANY, {"ids": later}):
                prior.setdefault(r.job_id, []).append(ResultRow(*r[1:]))
        for (k, lease), row, streak in zip(plan.stored, plan.results, plan.streaks):
            job = JobCounts(lease.job_state, lease.wanted, lease.inflight - 1,
                            lease.received + 1, lease.spot, lease.must_verify,
                            lease.result_id)
            if job.state == "failed":
                v = Verdict("failed", None, job.wanted)
            else:
                mine = ResultRow(-1 - k, worker_id, row["digest"], "pending", me.local,
                                 streak)
                rows = [mine] if k in firsts else prior.get(lease.job_id, []) + [mine]
                exp = self._experiment_of(c, lease.generation_id)
                closed = lease.generation_status != "open"
                v = verdict(job, rows, exp.verification, closed)
                if (self.pg and not closed and job.state in DECIDED
                        and v.state not in DECIDED and self._closed(c, lease.generation_id)):
                    v = verdict(job, rows, exp.verification, closed=True)
                if v.disagree:
                    plan.one_by_one = len(order) > 1    # a quarantine changes the rest
            plan.verdicts.append((job.state, v))
        return plan

    def _closed(self, c: Connection, generation_id: int) -> bool:
        """Whether the generation is closed now. On PostgreSQL a statement that waited for
        a job's lock still sees the generation as it was when the statement began, and
        the transaction that held the lock may have been the one closing it: a job is
        reopened only after this fresh look."""
        return c.execute(select(G.c.status).where(G.c.id == generation_id)
                         ).scalar_one() != "open"

    def _check_lease(self, c: Connection, worker_id: int, lease_id: int, fence: int,
                     digest: str, lease) -> Answer | None:
        """None if ``lease`` takes a result now; the answer to a repeat of a stored result;
        Refused if the lease is not the worker's or no longer live."""
        if lease is None or lease.worker_id != worker_id:
            raise Refused(404, "no_such_lease", f"lease {lease_id}: not one of yours")
        if lease.state == "submitted":
            stored = c.execute(select(R.c.digest).where(R.c.lease_id == lease_id)
                               ).scalar_one()
            if stored != digest:
                raise Refused(409, "already_submitted", f"lease {lease_id}: a different "
                              "result was already submitted")
            return accepted(duplicate=True)
        if lease.fence != fence:
            raise Refused(409, "stale_fence", f"lease {lease_id}: fence {fence} is not "
                          f"this lease's ({lease.fence})")
        if lease.state != "active":
            raise Refused(409, "lease_" + lease.state, f"lease {lease_id} is "
                          f"{lease.state}; its job went to another worker")
        return None

    def _apply(self, c: Connection, worker_id: int, plan: "_Plan",
               trust: TrustLedger) -> dict[int, Answer]:
        """Write what ``_plan`` decided: invalid results end their leases; the stored
        results go in with one statement per table, then their jobs' verdicts are judged
        and the generations whose last job this decided may close."""
        replies = dict(plan.replies)
        for k, lease, error in plan.invalid:
            c.execute(update(L).where(L.c.id == lease.id).values(state="released"))
            self._attempt_failed(c, lease.job_id, lease.generation_id)
            trust.sent_invalid(worker_id)        # written with the trust, in worker order
            replies[k] = invalid(error)
        if not plan.stored:
            return replies
        ids = c.execute(RESULT_INSERT, plan.results).scalars().all()
        real = {-1 - k: int(rid) for (k, _), rid in zip(plan.stored, ids)}
        c.execute(SUBMITTED_MANY, {"ids": [lease.id for _, lease in plan.stored]})
        verdicts = [(was, placed(v, real)) for was, v in plan.verdicts]
        c.execute(RECEIVED, [{"state": v.state, "wanted": v.wanted, "result": v.result_id,
                               "id": lease.job_id}
                              for (_, lease), (_, v) in zip(plan.stored, verdicts)])
        self._judge(c, [v for _, v in verdicts], trust)
        if plan.invalid:                # the streak restarts at the last invalid result
            cut = max(lease.id for _, lease, _ in plan.invalid)
            trust.restart(worker_id, agreed_by(worker_id, (
                v for (_, lease), (_, v) in zip(plan.stored, verdicts) if lease.id > cut)))
        closing = set()
        for (k, lease), (was, v) in zip(plan.stored, verdicts):
            if v.state in DECIDED and was not in DECIDED:
                closing.add(lease.generation_id)
            replies[k] = accepted()
        for generation_id in sorted(closing):
            self._maybe_close(c, generation_id)
        return replies

    @retrying
    def release(self, worker_id: int, lease_id: int) -> bool:
        """Give a lease back (a worker stopping); its job is offered again at once."""
        with self._tx() as c:
            q = select(L.c.job_id, L.c.worker_id, L.c.state).where(L.c.id == lease_id)
            lease = c.execute(q.with_for_update() if self.pg else q).first()
            if lease is None or lease.worker_id != worker_id:
                raise Refused(404, "no_such_lease", f"lease {lease_id}: not one of yours")
            if lease.state != "active":
                return False
            job = self._lock_job(c, lease.job_id)
            c.execute(update(L).where(L.c.id == lease_id).values(state="released"))
            self._attempt_failed(c, job.id, job.generation_id)
        self._notify()
        return True

    @retrying
    def heartbeat(self, worker_id: int, lease_ids: list[int]) -> tuple[list[int], list[int]]:
        """Extend the worker's live leases; returns (extended, gone) -- a worker drops the
        jobs of leases that are gone (expired and reissued, or its job decided)."""
        now = self.clock()
        live: list[int] = []
        with self._tx() as c:
            rows = c.execute(select(L.c.id, L.c.job_id, L.c.worker_id, L.c.state)
                             .where(L.c.id.in_(lease_ids))).all() if lease_ids else []
            for r in rows:
                if r.worker_id == worker_id and r.state == "active":
                    gen = c.execute(select(J.c.generation_id).where(J.c.id == r.job_id)
                                    ).scalar_one()
                    secs = self._experiment_of(c, gen).leases.seconds
                    done = c.execute(update(L).where(L.c.id == r.id, L.c.state == "active")
                                     .values(deadline=now + secs))
                    if done.rowcount == 1:
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

    @retrying
    def close_ready(self) -> int:
        """Close every open generation whose jobs are all decided; how many closed."""
        q = text("SELECT g.id FROM generations g WHERE g.status = 'open' AND NOT EXISTS "
                 "(SELECT 1 FROM jobs j WHERE j.generation_id = g.id "
                 "AND j.state IN ('open', 'running'))")
        n = 0
        with self._tx() as c:
            for (gid,) in c.execute(q).all():
                self._maybe_close(c, gid)
                n += 1
        return n

    @retrying
    def sweep(self) -> int:
        """Expire leases past their deadline; a job whose leases expired ``attempts`` times
        is given up. Returns how many leases expired."""
        now = self.clock()
        n = 0
        with self._tx() as c:
            q = select(L.c.id, L.c.job_id).where(L.c.state == "active", L.c.deadline < now)
            for lease in c.execute(q.with_for_update(skip_locked=True) if self.pg else q
                                   ).all():
                job = self._lock_job(c, lease.job_id)
                c.execute(update(L).where(L.c.id == lease.id).values(state="expired"))
                self._attempt_failed(c, job.id, job.generation_id)
                n += 1
        if n:
            self._notify()
        return n

    def _attempt_failed(self, c: Connection, job_id: int, generation_id: int) -> None:
        """A lease of the job ended without a result (expired, released, or its result
        was invalid): count it, and give the job up after ``leases.attempts`` of them."""
        c.execute(update(J).where(J.c.id == job_id).values(
            inflight=J.c.inflight - 1, expired=J.c.expired + 1))
        c.execute(RECOUNT, {"id": job_id})
        job = c.execute(JOB, {"id": job_id}).one()
        if (job.expired >= self._experiment_of(c, generation_id).leases.attempts
                and job.state in ("open", "running")):
            c.execute(update(J).where(J.c.id == job_id).values(state="failed"))
            self._maybe_close(c, generation_id)

    @staticmethod
    def _write_trust(c: Connection, trust: TrustLedger, now: float) -> None:
        """Write what ``trust`` learnt, workers in id order."""
        for wid, restart, streak, verified, bad in trust.changes():
            c.execute(TRUST, {"id": wid, "restart": restart, "streak": streak,
                              "n": verified, "bad": bad, "now": now})

    def _forget(self, workers: set[int]) -> None:
        if workers:
            self._tokens = {k: v for k, v in self._tokens.items() if v not in workers}

    # ---- deciding jobs ---------------------------------------------------------------------------
    def _lock_job(self, c: Connection, job_id: int):
        q = select(J).where(J.c.id == job_id)
        return c.execute(q.with_for_update() if self.pg else q).one()

    def _experiment_of(self, c: Connection, generation_id: int) -> ExperimentConfig:
        eid = self._generations.get(generation_id)
        if eid is None:
            eid = self._generations[generation_id] = c.execute(
                select(G.c.experiment_id).where(G.c.id == generation_id)).scalar_one()
        return self.config(c, eid)

    def _spec(self, job_id: int, raw: str) -> IslandSpec:
        with self._lock:
            spec = self._specs.get(job_id)
            if spec is not None:
                self._specs.move_to_end(job_id)
                return spec
        spec = IslandSpec.model_validate_json(raw)
        with self._lock:
            self._specs[job_id] = spec
            while len(self._specs) > 4096:
                self._specs.popitem(last=False)
        return spec

    def _decide(self, c: Connection, job_id: int) -> str:
        """Verify, accept, or ask for more copies of a job from its results so far; the
        job's new state."""
        job = c.execute(JOB, {"id": job_id}).one()
        if job.state == "failed":
            return job.state
        exp = self._experiment_of(c, job.generation_id)
        rows = c.execute(RESULTS_OF, {"id": job_id}).all()
        v = verdict(job, rows, exp.verification)
        c.execute(SET_JOB, {"state": v.state, "result": v.result_id, "wanted": v.wanted,
                             "id": job_id})
        self._judge(c, [v], None)
        return v.state

    def _judge(self, c: Connection, verdicts: list[Verdict],
               trust: TrustLedger | None) -> None:
        """Mark the pending results the verdicts judged (the agreeing ones in one
        statement); raise the trust of workers that agreed (now, or into ``trust`` to be
        written at the end of the transaction) and quarantine those outvoted."""
        agree = [r for v in verdicts for r in v.agree]
        if agree:
            c.execute(VALID_MANY, {"ids": [r.id for r in agree]})
            for r in agree:
                if trust is None:
                    c.execute(TRUST, {"id": r.worker_id, "restart": False, "streak": 1,
                                       "n": 1, "bad": 0, "now": 0.0})
                else:
                    trust.agreed(r.worker_id)
        for v in verdicts:
            for r in v.disagree:
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
        for job_id in sorted({r.job_id for r in pending} | {x.job_id for x in active}):
            c.execute(RECOUNT, {"id": job_id})
            row = c.execute(select(J.c.state, G.c.status).join(G, G.c.id == J.c.generation_id)
                            .where(J.c.id == job_id)).one()
            if redecided_after_quarantine(row.state, row.status):
                self._decide(c, job_id)
        with self._lock:
            self._caught.add(worker_id)
        self._forget({worker_id})
        self._notify()

    # ---- closing a generation --------------------------------------------------------------------
    def _maybe_close(self, c: Connection, generation_id: int) -> None:
        """Close the generation if every job is decided. Two transactions deciding its last
        two jobs at once may each miss the other's decision; the sweep closes such a
        generation (``close_ready``). The close itself is claimed by a conditional update,
        so it happens once. On PostgreSQL the jobs are read ``FOR SHARE``: a transaction
        about to reopen one (a late copy that disagrees) holds its lock, so the close
        waits for it and then sees the job undecided; one that comes later waits for
        the close and then sees the generation closed (``_closed``)."""
        if c.execute(UNDECIDED, {"g": generation_id}).first() is not None:
            return
        gen = c.execute(GENERATION, {"id": generation_id}).one()
        if gen.status != "open":
            return
        exp = self.config(c, gen.experiment_id)
        q = (select(J.c.id, J.c.state, J.c.result_id, J.c.spec)
             .where(J.c.generation_id == generation_id, J.c.state != "failed")
             .order_by(J.c.island))
        jobs = c.execute(q.with_for_update(read=True) if self.pg else q).all()
        if any(j.result_id is None or j.state not in DECIDED for j in jobs):
            return                        # changed since the check above (PostgreSQL)
        outcomes = {}
        for j in jobs:
            raw = c.execute(select(R.c.outcome).where(R.c.id == j.result_id)).scalar_one()
            outcomes[j.id] = IslandOutcome.model_validate_json(raw)
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
        recheck = elite_rechecks(breeding.elite_ids(exp, candidates), backing, unverified)
        if recheck:
            c.execute(update(J).where(J.c.id.in_(recheck)).values(
                state="open", must_verify=True, wanted=2))
            for jid in recheck:
                c.execute(RECOUNT, {"id": jid})
            self._notify()
            return
        claimed = c.execute(update(G).where(G.c.id == gen.id, G.c.status == "open")
                            .values(status="closed", closed_at=self.clock()))
        if claimed.rowcount != 1:
            return                        # another transaction closed it meanwhile
        self._close(c, gen, exp, jobs, outcomes, candidates, vectors)

    def _close(self, c: Connection, gen, exp: ExperimentConfig, jobs, outcomes, candidates,
               vectors) -> None:
        eid, number = gen.experiment_id, gen.number
        substrate, max_len = breeding.breeding_substrate(exp)
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
    @retrying
    def status(self) -> dict[str, Any]:
        """Experiments with their open generation's job states, and workers with trust."""
        with self._tx() as c:
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
        return {"experiments": exps, "workers": workers, "time": self.clock()}


def _mean(vs: list[tuple[int, ...]]) -> tuple[float, ...] | None:
    if not vs:
        return None
    return tuple(sum(v[k] for v in vs) / len(vs) for k in range(len(vs[0])))
