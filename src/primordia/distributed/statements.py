"""The coordinator's SQL: its tables by short name, the statements on its hot paths written
out (each one a round trip it makes per job, so each is kept to one), and ``retrying``, which
runs a transaction again when PostgreSQL gave it up or its connection died."""

from __future__ import annotations

import functools
import time

from sqlalchemy import bindparam, insert, text
from sqlalchemy.exc import DBAPIError

from .models import (Experiment, Generation, Genome, GenomeParent, Job, Lease, Member, Result,
                     Worker)

E, G, GN, GP, J, L, M, R, W = (t.__table__ for t in (Experiment, Generation, Genome,
                                                      GenomeParent, Job, Lease, Member,
                                                      Result, Worker))
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


CLAIM = text(CLAIM_SQL + " LIMIT :n")
CLAIM_PG = text(CLAIM_SQL + " LIMIT :n FOR UPDATE OF j SKIP LOCKED")
LEASES = text(LEASES_SQL).bindparams(bindparam("ids", expanding=True))
LEASES_PG = text(LEASES_SQL + " FOR UPDATE OF l, j").bindparams(
    bindparam("ids", expanding=True))
TAKE_MANY, SUBMITTED_MANY, RESULTS_OF_MANY = (
    text(q).bindparams(bindparam("ids", expanding=True))
    for q in (TAKE_SQL, SUBMITTED_SQL, RESULTS_OF_MANY_SQL))
RECEIVED, RECOUNT = text(RECEIVED_SQL), text(RECOUNT_SQL)
JOB, RESULTS_OF, SET_JOB, TRUST, WORKER, GENERATION, UNDECIDED, RESENT = (
    text(q) for q in (JOB_SQL, RESULTS_OF_SQL, SET_JOB_SQL, TRUST_SQL, WORKER_SQL,
                      GENERATION_SQL, UNDECIDED_SQL, RESENT_SQL))
RESULT_INSERT = insert(Result.__table__).returning(Result.__table__.c.id,
                                                     sort_by_parameter_order=True)
VALID_MANY = text("UPDATE results SET status = 'valid' WHERE id IN :ids").bindparams(
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
