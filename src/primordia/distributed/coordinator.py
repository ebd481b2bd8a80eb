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

import contextlib
import functools
import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, NamedTuple

import orjson
from sqlalchemy import Connection, Engine, and_, bindparam, func, insert, select, text, update
from sqlalchemy.exc import DBAPIError

from primordia.core.errors import ConfigError, PrimordiaError
from primordia.runs.island import Founder, IslandOutcome, IslandSpec, fitness_vector

from . import breeding
from .experiment import ExperimentConfig
from .models import (Experiment, Generation, Genome, GenomeParent, Job, Lease, Member, Result,
                     Worker)
from .validate import check_outcome, outcome_digest

E, G, GN, GP, J, L, M, R, W = (t.__table__ for t in (Experiment, Generation, Genome,
                                                      GenomeParent, Job, Lease, Member,
                                                      Result, Worker))
DECIDED = ("verified", "accepted", "failed")
"""Job states that need no more results; ``open`` (wants a lease) and ``running`` (every
wanted copy leased or in) are undecided. A closed generation's jobs are not reopened
(quarantine leaves them alone; a late copy may verify them but not reopen them), so a
claim needs no look at generations. (A filter on the generation's status made
PostgreSQL's planner sort every open job per claim under load.)"""
RETRY_STATES = {"40P01", "40001"}
"""PostgreSQL's deadlock and serialization failures: the transaction is simply retried."""

CLAIM_SQL = """
SELECT j.id, j.epoch, j.island, j.niche, j.spec, j.inflight, j.received, j.wanted,
       g.number, g.experiment_id
FROM jobs j JOIN generations g ON g.id = j.generation_id
WHERE j.state = 'open'
  AND NOT (SELECT w.quarantined FROM workers w WHERE w.id = :w)
  AND NOT EXISTS (SELECT 1 FROM leases l WHERE l.job_id = j.id AND l.worker_id = :w
                  AND l.state IN ('active', 'submitted'))
ORDER BY j.id"""
RESENT_SQL = """
SELECT l.id, l.fence, l.deadline, l.job_id, j.island, j.niche, j.spec, g.number,
       g.experiment_id
FROM leases l JOIN jobs j ON j.id = l.job_id JOIN generations g ON g.id = j.generation_id
WHERE l.worker_id = :w AND l.request = :r AND l.state = 'active' ORDER BY l.id"""
LEASES_SQL = """
SELECT l.id, l.worker_id, l.state, l.fence, l.job_id, j.spec, j.generation_id,
       j.state AS job_state, j.wanted, j.inflight, j.received, j.spot, j.must_verify,
       j.result_id, g.status AS generation_status
FROM leases l JOIN jobs j ON j.id = l.job_id JOIN generations g ON g.id = j.generation_id
WHERE l.id IN :ids ORDER BY l.id"""
RECOUNT_SQL = """
UPDATE jobs SET state = CASE WHEN inflight + received < wanted THEN 'open' ELSE 'running' END
WHERE id = :id AND state IN ('open', 'running')"""
JOB_SQL = "SELECT * FROM jobs WHERE id = :id"
TAKE_SQL = """
UPDATE jobs SET inflight = inflight + 1, epoch = epoch + 1,
  state = CASE WHEN inflight + 1 + received >= wanted THEN 'running' ELSE 'open' END
WHERE id IN :ids"""
SUBMITTED_SQL = "UPDATE leases SET state = 'submitted' WHERE id IN :ids"
RECEIVED_SQL = """
UPDATE jobs SET inflight = inflight - 1, received = received + 1, state = :state,
                wanted = :wanted, result_id = :result WHERE id = :id"""
RESULTS_OF_SQL = """
SELECT r.id, r.worker_id, r.digest, r.status, w.local, w.streak
FROM results r JOIN workers w ON w.id = r.worker_id
WHERE r.job_id = :id AND r.status != 'discarded' ORDER BY r.id"""
RESULTS_OF_MANY_SQL = """
SELECT r.job_id, r.id, r.worker_id, r.digest, r.status, w.local, w.streak
FROM results r JOIN workers w ON w.id = r.worker_id
WHERE r.job_id IN :ids AND r.status != 'discarded' ORDER BY r.id"""
SET_JOB_SQL = """
UPDATE jobs SET state = :state, result_id = :result, wanted = :wanted WHERE id = :id"""
TRUST_SQL = """
UPDATE workers SET
  streak = CASE WHEN quarantined THEN streak WHEN :restart THEN :streak
                ELSE streak + :streak END,
  verified = verified + :n, invalid = invalid + :bad,
  last_seen = CASE WHEN :bad > 0 THEN :now ELSE last_seen END
WHERE id = :id"""
WORKER_SQL = "SELECT local, streak, quarantined FROM workers WHERE id = :id"
GENERATION_SQL = "SELECT * FROM generations WHERE id = :id"
UNDECIDED_SQL = """
SELECT 1 FROM jobs WHERE generation_id = :g AND state IN ('open', 'running') LIMIT 1"""


_CLAIM = text(CLAIM_SQL + " LIMIT :n")
_CLAIM_PG = text(CLAIM_SQL + " LIMIT :n FOR UPDATE OF j SKIP LOCKED")
_LEASES = text(LEASES_SQL).bindparams(bindparam("ids", expanding=True))
_LEASES_PG = text(LEASES_SQL + " FOR UPDATE OF l, j").bindparams(
    bindparam("ids", expanding=True))
_TAKE_MANY, _SUBMITTED_MANY, _RESULTS_OF_MANY = (
    text(q).bindparams(bindparam("ids", expanding=True))
    for q in (TAKE_SQL, SUBMITTED_SQL, RESULTS_OF_MANY_SQL))
_RECEIVED, _RECOUNT = text(RECEIVED_SQL), text(RECOUNT_SQL)
_JOB, _RESULTS_OF, _SET_JOB, _TRUST, _WORKER, _GENERATION, _UNDECIDED, _RESENT = (
    text(q) for q in (JOB_SQL, RESULTS_OF_SQL, SET_JOB_SQL, TRUST_SQL, WORKER_SQL,
                      GENERATION_SQL, UNDECIDED_SQL, RESENT_SQL))
_RESULT_INSERT = insert(Result.__table__).returning(Result.__table__.c.id,
                                                     sort_by_parameter_order=True)
_VALID_MANY = text("UPDATE results SET status = 'valid' WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True))


def retrying(method):
    """Run a transactional method again when PostgreSQL picked it as a deadlock victim, or
    when its connection turned out to be dead (the server restarted; the pool then drops
    its connections, so no statement is spent checking each one out). Every method is
    safe to repeat: a result stored before the connection died comes back a duplicate."""

    @functools.wraps(method)
    def run(self, *args, **kwargs):
        for attempt in range(6):
            try:
                return method(self, *args, **kwargs)
            except DBAPIError as exc:
                again = (exc.connection_invalidated
                         or getattr(exc.orig, "sqlstate", None) in RETRY_STATES)
                if not again or attempt == 5:
                    raise
                time.sleep(0.01 * (attempt + 1))
    return run
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


@dataclass(frozen=True)
class Verdict:
    """What a job's results decide: its state, the result it rests on, how many results it
    wants, and the pending results that agree with the quorum or were outvoted."""

    state: str
    result_id: int | None
    wanted: int
    agree: tuple = ()
    disagree: tuple = ()


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


class _Trust:
    """What one transaction learnt of workers' trust, written at its end, workers in id
    order, so that transactions touching the same workers hold their rows briefly and in
    one order. A worker quarantined meanwhile keeps its streak at 0 but its counts."""

    def __init__(self) -> None:
        self.streak: dict[int, int] = {}      # gained since the start (or the restart)
        self.verified: dict[int, int] = {}
        self.invalid: dict[int, int] = {}
        self.restarted: set[int] = set()

    def agreed(self, worker_id: int) -> None:
        self.streak[worker_id] = self.streak.get(worker_id, 0) + 1
        self.verified[worker_id] = self.verified.get(worker_id, 0) + 1

    def sent_invalid(self, worker_id: int) -> None:
        self.invalid[worker_id] = self.invalid.get(worker_id, 0) + 1
        self.restart(worker_id, 0)

    def restart(self, worker_id: int, streak: int) -> None:
        """The streak is what came after the worker's last invalid result."""
        self.streak[worker_id] = streak
        self.restarted.add(worker_id)

    def write(self, c: Connection, now: float) -> None:
        for wid in sorted(self.streak):
            c.execute(_TRUST, {"id": wid, "restart": wid in self.restarted,
                               "streak": self.streak[wid], "n": self.verified.get(wid, 0),
                               "bad": self.invalid.get(wid, 0), "now": now})


def _placed(v: Verdict, real: dict[int, int]) -> Verdict:
    """``v`` with placeholder result ids (negative) replaced by the stored ones."""
    fix = lambda rs: tuple(r._replace(id=real.get(r.id, r.id)) for r in rs)  # noqa: E731
    return Verdict(v.state, real.get(v.result_id, v.result_id), v.wanted, fix(v.agree),
                   fix(v.disagree))


class JobCounts(NamedTuple):
    state: str
    wanted: int
    inflight: int
    received: int
    spot: bool
    must_verify: bool
    result_id: int | None


class ResultRow(NamedTuple):
    id: int
    worker_id: int
    digest: str
    status: str
    local: bool
    streak: int


def verdict(job, rows, exp: ExperimentConfig, closed: bool = False) -> Verdict:
    """Decide a job from its non-discarded results (``rows``: id, worker_id, digest,
    status, local, streak), BOINC-style: two equal digests, or one from the coordinator's
    own worker, verify it; a lone result of a trusted worker is accepted unless the job is
    spot-checked or backs the elite; otherwise one more copy is wanted, up to
    ``max_results``. ``job`` needs state, wanted, inflight, received, spot, must_verify
    and result_id (counters as they will be after this result).

    In a ``closed`` generation the job is history: a late copy that agrees verifies it,
    and any other verdict leaves it as it was (one copy against another proves nothing,
    and asking for more would hand out work no generation waits for)."""
    v = _verdict(job, rows, exp)
    if closed and v.state != "verified":
        return Verdict(job.state, job.result_id, job.wanted)
    return v


def _verdict(job, rows, exp: ExperimentConfig) -> Verdict:
    pending = lambda rs: tuple(r for r in rs if r.status == "pending")  # noqa: E731
    if job.state == "verified":               # a late copy: judged against the quorum
        good = next(r.digest for r in rows if r.id == job.result_id)
        return Verdict("verified", job.result_id, job.wanted,
                       pending(r for r in rows if r.digest == good),
                       pending(r for r in rows if r.digest != good))
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r.digest, []).append(r)
    best = max(groups.values(), key=lambda g: len({r.worker_id for r in g})) if groups else []
    if len({r.worker_id for r in best}) >= 2 or any(r.local for r in best):
        order = sorted(rows, key=lambda r: r.worker_id)       # one lock order for all
        return Verdict("verified", best[0].id, len(rows),
                       pending(r for r in order if r.digest == best[0].digest),
                       pending(r for r in order if r.digest != best[0].digest))
    n = len(rows)
    if (n == 1 and not job.spot and not job.must_verify
            and rows[0].streak >= exp.verification.trust_after):
        return Verdict("accepted", rows[0].id, job.wanted)
    if n >= exp.verification.max_results:
        return Verdict("failed", None, job.wanted)
    wanted = max(job.wanted, n + 1)
    return Verdict("open" if job.inflight + job.received < wanted else "running", None,
                   wanted)


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
            again = c.execute(_RESENT, {"w": worker_id, "r": request}).all()
            if again:
                return [Offer(int(x.id), int(x.fence), int(x.job_id),
                              self.config(c, x.experiment_id).name, int(x.number),
                              int(x.island), x.niche, max(0.0, x.deadline - now), x.spec)
                        for x in again]
        jobs = c.execute(_CLAIM_PG if self.pg else _CLAIM, {"w": worker_id, "n": limit}).all()
        if not jobs:
            return []
        c.execute(_TAKE_MANY, {"ids": [j.id for j in jobs]})
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
               seconds: float = 0.0) -> dict[str, Any]:
        """Store a result for the worker's own live lease and decide its job. A repeat of a
        stored result is acknowledged and changes nothing. Refused (404, 409) when the
        lease is not the worker's, or no longer live."""
        reply = self.submit_many(worker_id, [(lease_id, fence, outcome, seconds)])[0]
        if "refused" in reply:
            status, code, message = reply.pop("refused")
            raise Refused(status, code, message)
        return reply

    def submit_many(self, worker_id: int,
                    items: list[tuple[int, int, IslandOutcome, float]]) -> list[dict[str, Any]]:
        """``submit`` for several results in one transaction (``report`` claiming
        nothing)."""
        return self.report(worker_id, items)[0]

    @retrying
    def report(self, worker_id: int, items: list[tuple[int, int, IslandOutcome, float]],
               claim: int = 0, request: str | None = None,
               resent: bool = False) -> tuple[list[dict[str, Any]], list[Offer]]:
        """Store several results and then lease up to ``claim`` new jobs, in one
        transaction: a worker reports what it finished and asks for as much new work (as
        a BOINC client's scheduler request does; ``request`` and ``resent`` as in
        ``claim_many``: a resent report's results come back duplicates, and its jobs are
        the ones leased the first time). A refusal answers its item
        (``{"accepted": False, "refused": (status, code, message)}``) and not the others.

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
        trust = _Trust()
        order = sorted(range(len(items)), key=lambda k: items[k][0])   # one lock order
        with self._tx() as c:
            me = c.execute(_WORKER, {"id": worker_id}).one()
            if me.quarantined:
                raise Refused(403, "quarantined", "this worker sent results that other "
                              "workers contradicted; its results are not taken")
            batch = self._plan(c, worker_id, me, items, order, now)
            if batch.one_by_one:
                replies: dict[int, dict[str, Any]] = {}
                for k in order:
                    me = c.execute(_WORKER, {"id": worker_id}).one()   # an invalid one reset it
                    single = self._plan(c, worker_id, me, items, [k], now)
                    replies.update(self._apply(c, worker_id, single, trust))
            else:
                replies = self._apply(c, worker_id, batch, trust)
            trust.write(c, now)
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
        leases = {r.id: r for r in c.execute(_LEASES_PG if self.pg else _LEASES,
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
                answer = {"accepted": False, "error": str(exc),
                          "refused": (exc.status, exc.code, str(exc))}
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
            for r in c.execute(_RESULTS_OF_MANY, {"ids": later}):
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
                v = verdict(job, rows, exp, closed)
                if (self.pg and not closed and job.state in DECIDED
                        and v.state not in DECIDED and self._closed(c, lease.generation_id)):
                    v = verdict(job, rows, exp, closed=True)
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
                     digest: str, lease) -> dict[str, Any] | None:
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
            return {"accepted": True, "duplicate": True}
        if lease.fence != fence:
            raise Refused(409, "stale_fence", f"lease {lease_id}: fence {fence} is not "
                          f"this lease's ({lease.fence})")
        if lease.state != "active":
            raise Refused(409, "lease_" + lease.state, f"lease {lease_id} is "
                          f"{lease.state}; its job went to another worker")
        return None

    def _apply(self, c: Connection, worker_id: int, plan: "_Plan",
               trust: "_Trust") -> dict[int, dict[str, Any]]:
        """Write what ``_plan`` decided: invalid results end their leases; the stored
        results go in with one statement per table, then their jobs' verdicts are judged
        and the generations whose last job this decided may close."""
        replies = dict(plan.replies)
        for k, lease, error in plan.invalid:
            c.execute(update(L).where(L.c.id == lease.id).values(state="released"))
            self._attempt_failed(c, lease.job_id, lease.generation_id)
            trust.sent_invalid(worker_id)        # written with the trust, in worker order
            replies[k] = {"accepted": False, "error": error}
        if not plan.stored:
            return replies
        ids = c.execute(_RESULT_INSERT, plan.results).scalars().all()
        real = {-1 - k: int(rid) for (k, _), rid in zip(plan.stored, ids)}
        c.execute(_SUBMITTED_MANY, {"ids": [lease.id for _, lease in plan.stored]})
        verdicts = [(was, _placed(v, real)) for was, v in plan.verdicts]
        c.execute(_RECEIVED, [{"state": v.state, "wanted": v.wanted, "result": v.result_id,
                               "id": lease.job_id}
                              for (_, lease), (_, v) in zip(plan.stored, verdicts)])
        self._judge(c, [v for _, v in verdicts], trust)
        if plan.invalid:                # the streak restarts at the last invalid result
            cut = max(lease.id for _, lease, _ in plan.invalid)
            trust.restart(worker_id, sum(
                r.worker_id == worker_id for (_, lease), (_, v) in zip(plan.stored, verdicts)
                if lease.id > cut for r in v.agree))
        closing = set()
        for (k, lease), (was, v) in zip(plan.stored, verdicts):
            if v.state in DECIDED and was not in DECIDED:
                closing.add(lease.generation_id)
            replies[k] = {"accepted": True, "duplicate": False}
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
        c.execute(_RECOUNT, {"id": job_id})
        job = c.execute(_JOB, {"id": job_id}).one()
        if (job.expired >= self._experiment_of(c, generation_id).leases.attempts
                and job.state in ("open", "running")):
            c.execute(update(J).where(J.c.id == job_id).values(state="failed"))
            self._maybe_close(c, generation_id)

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
        job = c.execute(_JOB, {"id": job_id}).one()
        if job.state == "failed":
            return job.state
        exp = self._experiment_of(c, job.generation_id)
        rows = c.execute(_RESULTS_OF, {"id": job_id}).all()
        v = verdict(job, rows, exp)
        c.execute(_SET_JOB, {"state": v.state, "result": v.result_id, "wanted": v.wanted,
                             "id": job_id})
        self._judge(c, [v], None)
        return v.state

    def _judge(self, c: Connection, verdicts: list[Verdict],
               trust: "_Trust | None") -> None:
        """Mark the pending results the verdicts judged (the agreeing ones in one
        statement); raise the trust of workers that agreed (now, or into ``trust`` to be
        written at the end of the transaction) and quarantine those outvoted."""
        agree = [r for v in verdicts for r in v.agree]
        if agree:
            c.execute(_VALID_MANY, {"ids": [r.id for r in agree]})
            for r in agree:
                if trust is None:
                    c.execute(_TRUST, {"id": r.worker_id, "restart": False, "streak": 1,
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
            c.execute(_RECOUNT, {"id": job_id})
            row = c.execute(select(J.c.state, G.c.status).join(G, G.c.id == J.c.generation_id)
                            .where(J.c.id == job_id)).one()
            if row.state in ("open", "running", "accepted") and row.status == "open":
                self._decide(c, job_id)  # a closed generation's evidence is history
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
        if c.execute(_UNDECIDED, {"g": generation_id}).first() is not None:
            return
        gen = c.execute(_GENERATION, {"id": generation_id}).one()
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
        recheck = sorted({jid for g in breeding.elite_ids(exp, candidates)
                          for jid in backing[g] & unverified})
        if recheck:                       # the elite rests on verified results only
            c.execute(update(J).where(J.c.id.in_(recheck)).values(
                state="open", must_verify=True, wanted=2))
            for jid in recheck:
                c.execute(_RECOUNT, {"id": jid})
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
