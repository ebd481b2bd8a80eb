"""The coordinator's rules, on SQLite and on PostgreSQL: leases and fencing, idempotent
results, BOINC-style adaptive replication and quarantine, the elite resting on verified
results, generations closing into bred pools, and restarts that lose nothing. Outcomes are
synthetic (``fakes``): the rules, not the worlds, are under test here."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select, update

from primordia.distributed.coordinator import Coordinator, Refused
from primordia.distributed.db import connect
from primordia.distributed.models import (Generation, Genome, GenomeParent, Job, Lease, Member,
                                          Result, Worker)
from primordia.runs.island import IslandSpec

from .fakes import Clock, experiment, honest, lie

J, L, R, W, GN, GP, M, G = (t.__table__ for t in (Job, Lease, Result, Worker, Genome,
                                                  GenomeParent, Member, Generation))


@pytest.fixture
def engine(db_url):
    eng = connect(db_url)
    yield eng
    eng.dispose()


def rows(engine, q):
    with engine.connect() as c:
        out = c.execute(q).all()
        c.rollback()
    return out


def one(engine, q):
    with engine.connect() as c:
        out = c.execute(q).scalar_one()
        c.rollback()
    return out


def job_state(engine, job_id):
    return one(engine, select(J.c.state).where(J.c.id == job_id))


def earn_trust(engine, worker, streak):
    """Give a worker the verified streak it would have earned."""
    with engine.begin() as c:
        c.execute(update(W).where(W.c.id == worker).values(streak=streak))


def work_all(co, worker, liar=False, limit=10_000):
    """Claim and answer until the worker gets nothing; the number of jobs answered."""
    n = 0
    while n < limit:
        offer = co.claim(worker)
        if offer is None:
            return n
        outcome = honest(offer.spec)
        co.submit(worker, offer.lease_id, offer.fence, lie(outcome) if liar else outcome)
        n += 1
    return n


def bank(engine):
    """The bank as (digest, birth generation, origin) in id order: what a run bred."""
    return [tuple(r) for r in rows(engine, select(GN.c.digest, GN.c.birth_generation,
                                                  GN.c.origin).order_by(GN.c.id))]


def test_local_worker_runs_an_experiment_to_the_end(engine):
    co = Coordinator(engine)
    exp = experiment()
    co.start(exp)
    w, _ = co.register("local", local=True)
    assert work_all(co, w) == exp.islands * exp.generations     # no replicas for local
    status = co.status()["experiments"][0]
    assert status["status"] == "done" and status["closed"] == exp.generations
    # every bred genome links to its parents; every pool has exp.pool members
    children = rows(engine, select(GN.c.id, GN.c.origin).where(GN.c.origin != "random"))
    assert children
    linked = {r.child_id for r in rows(engine, select(GP.c.child_id))}
    assert {c.id for c in children} <= linked
    sizes = rows(engine, select(M.c.generation_id, func.count()).group_by(M.c.generation_id))
    assert [n for _, n in sizes] == [exp.pool] * exp.generations


def test_a_new_workers_result_is_rerun_by_another_worker(engine):
    co = Coordinator(engine)
    co.start(experiment())
    a, _ = co.register("a")
    b, _ = co.register("b")
    offer = co.claim(a)
    assert co.submit(a, offer.lease_id, offer.fence, honest(offer.spec))["accepted"]
    assert job_state(engine, offer.job_id) == "open"          # wants a replica
    again = co.claim(a)
    assert again.job_id != offer.job_id                       # never the same worker twice
    replica = co.claim(b)
    assert replica.job_id == offer.job_id                     # the replica goes first
    co.submit(b, replica.lease_id, replica.fence, honest(replica.spec))
    assert job_state(engine, offer.job_id) == "verified"
    streaks = dict(rows(engine, select(W.c.id, W.c.streak)))
    assert streaks[a] == 1 and streaks[b] == 1


def test_trusted_workers_results_are_accepted_alone(engine):
    co = Coordinator(engine)
    co.start(experiment(islands=8, verification={"trust_after": 2, "spot_check": 0.0}))
    a, _ = co.register("a")
    b, _ = co.register("b")
    for _ in range(2):                     # a and b check each other twice
        for w in (a, b, a, b):
            offer = co.claim(w)
            co.submit(w, offer.lease_id, offer.fence, honest(offer.spec))
    assert dict(rows(engine, select(W.c.id, W.c.streak)))[a] >= 2
    offer = co.claim(a)
    co.submit(a, offer.lease_id, offer.fence, honest(offer.spec))
    assert job_state(engine, offer.job_id) == "accepted"


def test_spot_checks_rerun_a_share_of_trusted_results(engine):
    exp = experiment(islands=40, founders=2, pool=8,
                     verification={"trust_after": 1, "spot_check": 0.25})
    co = Coordinator(engine)
    co.start(exp)
    a, _ = co.register("a")
    earn_trust(engine, a, 1)
    for _ in range(exp.islands):
        offer = co.claim(a)
        co.submit(a, offer.lease_id, offer.fence, honest(offer.spec))
    spot = rows(engine, select(J.c.spot, J.c.state))
    assert 0 < sum(s for s, _ in spot) < exp.islands        # about a quarter are drawn
    assert all((state == "open") == bool(s) for s, state in spot)


def test_a_liar_is_outvoted_quarantined_and_its_unverified_results_discarded(engine):
    co = Coordinator(engine)
    co.start(experiment(islands=6))
    honest_a, _ = co.register("a")
    liar, _ = co.register("liar")
    honest_c, token_c = co.register("c")
    first = co.claim(liar)
    co.submit(liar, first.lease_id, first.fence, lie(honest(first.spec)))
    second = co.claim(liar)                                  # another job, still unverified
    co.submit(liar, second.lease_id, second.fence, honest(second.spec))
    replica = co.claim(honest_a)
    assert replica.job_id == first.job_id
    co.submit(honest_a, replica.lease_id, replica.fence, honest(replica.spec))
    assert job_state(engine, first.job_id) == "open"         # 1 against 1: a third copy
    assert one(engine, select(J.c.wanted).where(J.c.id == first.job_id)) == 3
    third = co.claim(honest_c)
    assert third.job_id == first.job_id
    co.submit(honest_c, third.lease_id, third.fence, honest(third.spec))
    assert job_state(engine, first.job_id) == "verified"
    status = dict(rows(engine, select(W.c.id, W.c.quarantined)))
    assert status[liar] and not status[honest_a] and not status[honest_c]
    by_status = dict(rows(engine, select(R.c.worker_id, R.c.status)
                          .where(R.c.job_id == second.job_id)))
    assert by_status[liar] == "discarded"
    assert one(engine, select(J.c.received).where(J.c.id == second.job_id)) == 0
    with pytest.raises(Refused) as refused:
        co.authenticate(None)
    assert refused.value.status == 401
    # the liar's result never backs the verified job
    chosen = one(engine, select(J.c.result_id).where(J.c.id == first.job_id))
    assert one(engine, select(R.c.worker_id).where(R.c.id == chosen)) != liar
    assert co.authenticate(token_c) == honest_c


def test_quarantined_worker_is_refused(engine):
    co = Coordinator(engine)
    co.start(experiment())
    liar, token = co.register("liar")
    a, _ = co.register("a")
    b, _ = co.register("b")
    o = co.claim(liar)
    co.submit(liar, o.lease_id, o.fence, lie(honest(o.spec)))
    for w in (a, b):
        r = co.claim(w)
        co.submit(w, r.lease_id, r.fence, honest(r.spec))
    with pytest.raises(Refused) as refused:
        co.authenticate(token)
    assert refused.value.status == 403


def test_the_elite_always_rests_on_verified_results(engine):
    exp = experiment(generations=2, verification={"trust_after": 1, "spot_check": 0.0})
    co = Coordinator(engine)
    co.start(exp)
    a, _ = co.register("a")
    earn_trust(engine, a, 1)
    b, _ = co.register("b")
    for _ in range(exp.islands):
        o = co.claim(a)
        co.submit(a, o.lease_id, o.fence, honest(o.spec))
    # every job was accepted unverified; closing sent the elite's jobs out again
    reopened = rows(engine, select(J.c.id).where(J.c.must_verify.is_(True)))
    assert reopened
    assert co.status()["experiments"][0]["closed"] == 0
    work_all(co, b, limit=len(reopened))
    assert co.status()["experiments"][0]["closed"] == 1
    elite = {r.genome_id for r in rows(engine, select(M.c.genome_id).where(
        M.c.kept == "elite"))}
    assert elite
    for job_id, spec in rows(engine, select(J.c.id, J.c.spec).where(J.c.generation_id == 1)):
        founders = {f.id for f in IslandSpec.model_validate_json(spec).founders}
        if founders & elite:
            assert job_state(engine, job_id) == "verified"


def test_results_are_idempotent_and_fenced(engine):
    clock = Clock()
    exp = experiment(leases={"seconds": 10, "attempts": 5})
    co = Coordinator(engine, clock=clock)
    co.start(exp)
    a, _ = co.register("a", local=True)
    b, _ = co.register("b", local=True)
    offer = co.claim(a)
    outcome = honest(offer.spec)
    with pytest.raises(Refused) as stale:
        co.submit(a, offer.lease_id, offer.fence + 1, outcome)
    assert stale.value.code == "stale_fence"
    with pytest.raises(Refused) as theirs:
        co.submit(b, offer.lease_id, offer.fence, outcome)      # not b's lease
    assert theirs.value.status == 404
    assert co.submit(a, offer.lease_id, offer.fence, outcome) == {"accepted": True,
                                                                  "duplicate": False}
    assert co.submit(a, offer.lease_id, offer.fence, outcome)["duplicate"] is True
    with pytest.raises(Refused) as changed:
        co.submit(a, offer.lease_id, offer.fence, lie(outcome))
    assert changed.value.code == "already_submitted"
    assert one(engine, select(func.count()).select_from(R)) == 1
    # a lease that runs out goes to another worker; the late result is refused
    late = co.claim(a)
    clock.t += 11
    assert co.sweep() == 1
    again = co.claim(b)
    assert again.job_id == late.job_id and again.fence == late.fence + 1
    with pytest.raises(Refused) as expired:
        co.submit(a, late.lease_id, late.fence, honest(late.spec))
    assert expired.value.code == "lease_expired"
    co.submit(b, again.lease_id, again.fence, honest(again.spec))
    assert one(engine, select(func.count()).select_from(R).where(
        R.c.job_id == late.job_id)) == 1


def test_heartbeats_keep_a_lease_alive(engine):
    clock = Clock()
    co = Coordinator(engine, clock=clock)
    co.start(experiment(leases={"seconds": 10, "attempts": 5}))
    a, _ = co.register("a", local=True)
    offer = co.claim(a)
    for _ in range(5):
        clock.t += 6
        assert co.heartbeat(a, [offer.lease_id, 999]) == ([offer.lease_id], [999])
        assert co.sweep() == 0
    clock.t += 11
    assert co.sweep() == 1
    assert co.heartbeat(a, [offer.lease_id]) == ([], [offer.lease_id])


def test_a_job_is_given_up_after_its_attempts_and_the_generation_still_closes(engine):
    clock = Clock()
    exp = experiment(generations=2, leases={"seconds": 5, "attempts": 2})
    co = Coordinator(engine, clock=clock)
    co.start(exp)
    a, _ = co.register("a", local=True)
    doomed = co.claim(a)
    clock.t += 6
    co.sweep()
    again = co.claim(a)
    assert again.job_id == doomed.job_id
    clock.t += 6
    co.sweep()
    assert job_state(engine, doomed.job_id) == "failed"
    work_all(co, a, limit=exp.islands - 1)
    status = co.status()["experiments"][0]
    assert status["closed"] == 1
    # genomes only on the failed island have no fitness, and the pool is full again
    assert one(engine, select(func.count()).select_from(M).where(M.c.generation_id == 2)) \
        == exp.pool


def test_an_invalid_result_is_refused_and_nothing_is_stored(engine):
    co = Coordinator(engine)
    co.start(experiment())
    a, _ = co.register("a")
    offer = co.claim(a)
    outcome = honest(offer.spec)
    wrong = outcome.model_copy(update={"lineages": outcome.lineages[1:]})
    reply = co.submit(a, offer.lease_id, offer.fence, wrong)
    assert reply["accepted"] is False and "lineages" in reply["error"]
    assert one(engine, select(func.count()).select_from(R)) == 0
    assert one(engine, select(L.c.state).where(L.c.id == offer.lease_id)) == "released"
    assert one(engine, select(W.c.invalid).where(W.c.id == a)) == 1


def test_a_restarted_coordinator_carries_on_and_breeds_the_same_genomes(db_url, tmp_path):
    exp = experiment(generations=3)
    whole = connect(f"sqlite:///{tmp_path}/whole.db")
    co = Coordinator(whole)
    co.start(exp)
    w, _ = co.register("w", local=True)
    work_all(co, w)
    expected = bank(whole)
    whole.dispose()

    engine = connect(db_url)
    first = Coordinator(engine)
    first.start(exp)
    w, token = first.register("w", local=True)
    work_all(first, w, limit=exp.islands + 2)                # into generation 1
    held = first.claim(w)                                     # a lease in flight
    engine.dispose()                                          # "killed"
    engine = connect(db_url)
    second = Coordinator(engine)
    assert second.start(exp) == 1                             # the same experiment
    assert second.authenticate(token) == w
    second.submit(w, held.lease_id, held.fence, honest(held.spec))
    work_all(second, w)
    assert bank(engine) == expected
    engine.dispose()


def test_concurrent_claims_never_lease_a_job_twice(engine):
    exp = experiment(islands=60, founders=2, pool=8)
    co = Coordinator(engine)
    co.start(exp)
    workers = [co.register(f"w{k}", local=True)[0] for k in range(8)]
    got: list[int] = []
    lock = threading.Lock()

    def claim_all(w):
        while True:
            offer = co.claim(w)
            if offer is None:
                return
            with lock:
                got.append(offer.job_id)

    threads = [threading.Thread(target=claim_all, args=(w,)) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(got) == sorted(set(got)) and len(got) == exp.islands
    assert one(engine, select(func.sum(J.c.inflight))) == exp.islands


def test_a_quarantined_worker_gets_nothing_and_sends_nothing(engine):
    co = Coordinator(engine)
    co.start(experiment(islands=6))
    liar, _ = co.register("liar")
    a, _ = co.register("a")
    b, _ = co.register("b")
    o = co.claim(liar)
    held = co.claim(liar)                                    # a lease it still holds
    co.submit(liar, o.lease_id, o.fence, lie(honest(o.spec)))
    for w in (a, b):
        r = co.claim(w)
        co.submit(w, r.lease_id, r.fence, honest(r.spec))
    assert co.claim(liar) is None                            # even with a cached token
    with pytest.raises(Refused) as refused:
        co.submit(liar, held.lease_id, held.fence, honest(held.spec))
    assert refused.value.status == 403
    assert one(engine, select(L.c.state).where(L.c.id == held.lease_id)) == "released"


def test_releases_and_invalid_results_count_as_attempts(engine):
    co = Coordinator(engine)
    co.start(experiment(leases={"seconds": 60, "attempts": 2}))
    a, _ = co.register("a", local=True)
    first = co.claim(a)
    assert co.release(a, first.lease_id) is True
    again = co.claim(a)
    assert again.job_id == first.job_id
    outcome = honest(again.spec)
    co.submit(a, again.lease_id, again.fence,
              outcome.model_copy(update={"lineages": outcome.lineages[1:]}))   # invalid
    assert job_state(engine, first.job_id) == "failed"
    assert co.claim(a).job_id != first.job_id


def test_quarantine_leaves_closed_generations_alone(engine):
    exp = experiment(generations=3, verification={"trust_after": 1, "spot_check": 0.0})
    co = Coordinator(engine)
    co.start(exp)
    t, _ = co.register("trusted")
    earn_trust(engine, t, 5)
    b, _ = co.register("b")
    c, _ = co.register("c")
    for _ in range(exp.islands):
        o = co.claim(t)
        co.submit(t, o.lease_id, o.fence, honest(o.spec))
    recheck = len(rows(engine, select(J.c.id).where(J.c.must_verify.is_(True))))
    work_all(co, b, limit=recheck)                           # verifies the elite's islands
    assert co.status()["experiments"][0]["closed"] == 1
    accepted = [r.id for r in rows(engine, select(J.c.id).where(
        J.c.generation_id == 1, J.c.state == "accepted"))]
    assert accepted
    o = co.claim(t)                                          # generation 1: t lies now
    earn_trust(engine, t, 0)                                 # (so its lie is replicated)
    co.submit(t, o.lease_id, o.fence, lie(honest(o.spec)))
    for w in (b, c):
        r = co.claim(w)
        assert r.job_id == o.job_id
        co.submit(w, r.lease_id, r.fence, honest(r.spec))
    assert dict(rows(engine, select(W.c.id, W.c.quarantined)))[t]
    # generation 0's decided islands stay as they were; no claim goes back to them
    states = dict(rows(engine, select(J.c.id, J.c.state).where(J.c.generation_id == 1)))
    assert all(states[j] == "accepted" for j in accepted)
    nxt = co.claim(c)
    assert nxt is None or one(engine, select(J.c.generation_id).where(
        J.c.id == nxt.job_id)) == 2


def trusted_generation(co, engine):
    """Start a run whose first generation a trusted worker answers alone (every job
    accepted, the elite's sent out again for a check); the ids of the trusted worker, of
    a worker ``late`` and of ``b``, and how many jobs ``b`` must run to close it."""
    co.start(experiment(generations=3, verification={"trust_after": 1, "spot_check": 0.0}))
    t, _ = co.register("trusted")
    earn_trust(engine, t, 5)
    late, _ = co.register("late")
    while (o := co.claim(t)) is not None:
        co.submit(t, o.lease_id, o.fence, honest(o.spec))
    recheck = len(rows(engine, select(J.c.id).where(J.c.must_verify.is_(True))))
    b, _ = co.register("b")
    return t, late, b, recheck


def copy_out(engine, job_id, worker):
    """Lease one more copy of a decided job to ``worker``, as if it were handed out before
    the job was decided without it: (lease id, fence, spec)."""
    with engine.begin() as c:
        epoch, spec = c.execute(select(J.c.epoch, J.c.spec).where(J.c.id == job_id)).one()
        c.execute(update(J).where(J.c.id == job_id).values(epoch=epoch + 1,
                                                           inflight=J.c.inflight + 1))
        lease = c.execute(L.insert().values(
            job_id=job_id, worker_id=worker, fence=epoch + 1, state="active",
            issued_at=0.0, deadline=1e12)).inserted_primary_key[0]
    return lease, epoch + 1, spec


def test_a_late_copy_verifies_a_closed_generations_job_but_never_reopens_it(engine):
    """A copy can still be out when its job is decided without it (a quarantine discards
    the result it was replicating, and a trusted worker's lone result is then enough) and
    the generation closes. When the copy comes in, agreement verifies the job; a
    disagreement, one against one, leaves it accepted and wants no third copy."""
    co = Coordinator(engine)
    t, late, b, recheck = trusted_generation(co, engine)
    work_all(co, b, limit=recheck)                           # verifies the elite's islands
    assert co.status()["experiments"][0]["closed"] == 1
    accepted = [r.id for r in rows(engine, select(J.c.id).where(
        J.c.generation_id == 1, J.c.state == "accepted").order_by(J.c.id))]
    assert len(accepted) >= 2
    copies = {job_id: copy_out(engine, job_id, late) for job_id in accepted[:2]}
    wrong, right = accepted[:2]
    lease, fence, spec = copies[wrong]
    assert co.submit(late, lease, fence, lie(honest(spec)))["accepted"]
    assert job_state(engine, wrong) == "accepted"
    assert one(engine, select(J.c.wanted).where(J.c.id == wrong)) == 1
    lease, fence, spec = copies[right]
    co.submit(late, lease, fence, honest(spec))
    assert job_state(engine, right) == "verified"
    assert dict(rows(engine, select(W.c.id, W.c.streak)))[late] == 1
    assert not dict(rows(engine, select(W.c.id, W.c.quarantined)))[late]
    for w in (late, b):                       # nothing of generation 0 is handed out
        while (o := co.claim(w)) is not None:
            assert one(engine, select(J.c.generation_id).where(J.c.id == o.job_id)) != 1


@pytest.mark.parametrize("first", ["copy", "close"])
def test_a_late_copy_racing_the_close_never_leaves_an_open_job_in_a_closed_generation(
        postgres_server, first):
    """On PostgreSQL a late copy that disagrees (it would reopen its accepted job) and the
    result that closes the generation can be in flight at once, from two coordinator
    processes. Whichever takes the job's lock first, the other sees what it did: the
    copy first, and the close waits and finds the job reopened; the close first, and the
    copy waits and finds the generation closed. Each side is held at that point in turn."""
    name = postgres_server.create_database()
    engine = connect(postgres_server.url(name))
    try:
        co_copy, co_close = Coordinator(engine), Coordinator(engine)  # two processes' worth
        t, late, b, recheck = trusted_generation(co_copy, engine)
        work_all(co_copy, b, limit=recheck - 1)
        closing = co_copy.claim(b)                     # the result that will close it
        x = one(engine, select(func.min(J.c.id)).where(J.c.generation_id == 1,
                                                       J.c.state == "accepted"))
        lease, fence, spec = copy_out(engine, x, late)
        held, go = threading.Event(), threading.Event()

        def hold(method):
            def held_there(*args):
                if not held.is_set():
                    held.set()
                    go.wait(30)
                return method(*args)
            return held_there
        if first == "copy":      # after the copy reopened its job, before it commits
            co_copy._judge = hold(co_copy._judge)
        else:                    # after the close is claimed, before its transaction commits
            co_close._close = hold(co_close._close)
        copy = threading.Thread(target=co_copy.submit,
                                args=(late, lease, fence, lie(honest(spec))))
        close = threading.Thread(target=co_close.submit, args=(
            b, closing.lease_id, closing.fence, honest(closing.spec)))
        one_then_other = (copy, close) if first == "copy" else (close, copy)
        one_then_other[0].start()
        assert held.wait(30)
        one_then_other[1].start()
        one_then_other[1].join(1.0)       # it must wait for the lock the first one holds
        go.set()
        for thread in one_then_other:
            thread.join(30)
        status = one(engine, select(G.c.status).where(G.c.id == 1))
        if first == "copy":                            # reopened, so not closed yet
            assert (status, job_state(engine, x)) == ("open", "open")
            work_all(co_copy, b)                       # b's third copy settles it
            assert job_state(engine, x) == "verified"
            assert one(engine, select(G.c.status).where(G.c.id == 1)) == "closed"
            assert dict(rows(engine, select(W.c.id, W.c.quarantined)))[late]
        else:                                          # closed, so history: left accepted
            assert (status, job_state(engine, x)) == ("closed", "accepted")
            assert not dict(rows(engine, select(W.c.id, W.c.quarantined)))[late]
    finally:
        engine.dispose()
        postgres_server.drop_database(name)


def test_a_resent_claim_gets_the_jobs_its_first_sending_leased(engine):
    """A claim whose reply was lost is sent again under the same id: while its leases
    live it gets them back, not a second set that would idle until its deadline and
    count against the jobs' attempts. A report that is resent does the same."""
    co = Coordinator(engine)
    co.start(experiment(islands=8))
    a, _ = co.register("a")
    first = co.claim_many(a, 2, request="r1")
    assert len(first) == 2
    again = co.claim_many(a, 2, request="r1", resent=True)
    assert [o.lease_id for o in again] == [o.lease_id for o in first]
    assert [o.spec for o in again] == [o.spec for o in first]
    assert 0 < again[0].deadline_in <= first[0].deadline_in
    assert one(engine, select(func.count()).select_from(L)) == 2
    # a resent claim whose first sending never arrived claims afresh
    fresh = co.claim_many(a, 1, request="r2", resent=True)
    assert fresh[0].job_id not in {o.job_id for o in first}
    # the report of one island asks for more; its reply is lost; it is sent again
    done = first[0]
    item = [(done.lease_id, done.fence, honest(done.spec), 1.0)]
    replies, got = co.report(a, item, claim=2, request="r3")
    replies_again, got_again = co.report(a, item, claim=2, request="r3", resent=True)
    assert replies_again == [{"accepted": True, "duplicate": True}]
    assert [o.lease_id for o in got_again] == [o.lease_id for o in got]
    # only live leases come back: r1's other lease, once its result is in, no longer
    rest = first[1]
    co.submit(a, rest.lease_id, rest.fence, honest(rest.spec))
    last = co.claim_many(a, 2, request="r1", resent=True)
    assert len(last) == 2 and not {o.lease_id for o in last} & {o.lease_id for o in first}
    assert one(engine, select(func.count()).select_from(L)) == 2 + 1 + 2 + 2


def test_connections_the_server_dropped_are_replaced(postgres_server):
    """PostgreSQL restarted (here: every connection terminated): the pool holds dead
    connections, and the next calls retry on fresh ones instead of failing."""
    name = postgres_server.create_database()
    engine = connect(postgres_server.url(name), pool_size=4)
    try:
        co = Coordinator(engine)
        co.start(experiment())
        w, token = co.register("w", local=True)
        first = co.claim(w)
        with postgres_server.admin() as admin:
            killed = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchone()[0]
        assert killed >= 1
        co.submit(w, first.lease_id, first.fence, honest(first.spec))
        assert co.claim(w) is not None
        assert co.authenticate(token) == w
    finally:
        engine.dispose()
        postgres_server.drop_database(name)


def test_a_report_leases_new_jobs_in_the_same_transaction(engine):
    co = Coordinator(engine)
    co.start(experiment(islands=4, generations=1))
    w, _ = co.register("w")
    first = co.claim(w)
    answers, offers = co.report(w, [(first.lease_id, first.fence, honest(first.spec), 1.0)],
                                claim=8)
    assert answers == [{"accepted": True, "duplicate": False}]
    # its own job wants a second copy, but not from it: the other three islands
    assert sorted(o.island for o in offers) == [1, 2, 3]
    assert job_state(engine, first.job_id) == "open"
    items = [(o.lease_id, o.fence, honest(o.spec), 1.0) for o in offers]
    assert co.report(w, items, claim=8)[1] == []


def _script(co, engine, batched: bool):
    """A trusted worker, an untrusted one and a liar: lone results accepted, replicas that
    agree, a 1-against-1 disagreement and the third copy that quarantines the liar, a
    batch with a repeated and a foreign lease, and one ending in an invalid result.
    Results go in as batches, or one request each in lease order."""
    a, b, liar = (co.register(n)[0] for n in ("a", "b", "liar"))
    earn_trust(engine, a, 20)
    answers = []

    def send(worker, offers, outcome=lambda o: honest(o.spec), extra=()):
        items = [(o.lease_id, o.fence, outcome(o), 1.0) for o in offers] + list(extra)
        if batched:
            answers.append(co.submit_many(worker, items))
        else:
            answers.append([co.submit_many(worker, [it])[0]
                            for it in sorted(items, key=lambda it: it[0])])

    send(a, co.claim_many(a, 4))                      # trusted: accepted alone
    send(b, co.claim_many(b, 4))                      # first copies, replicas wanted
    send(liar, co.claim_many(liar, 4),                # agrees on two, 1 against 1 on two
         lambda o: lie(honest(o.spec)) if o.island % 2 else honest(o.spec))
    send(a, co.claim_many(a, 4))                      # third copies: the liar is caught
    mine = co.claim_many(b, 4)
    wrong = honest(mine[1].spec)                      # a valid outcome of another job
    send(b, mine, lambda o: wrong if o is mine[2] else honest(o.spec),   # one invalid,
         extra=[(mine[0].lease_id, mine[0].fence, honest(mine[0].spec), 1.0),
                (10**6, 1, wrong, 1.0)])              # a repeat, a foreign lease
    more = co.claim_many(a, 3)                        # trusted until its invalid result:
    send(a, more, lambda o: wrong if o is more[0] else honest(o.spec))
    tables = [select(J.c.id, J.c.state, J.c.wanted, J.c.inflight, J.c.received,
                     J.c.result_id, J.c.expired).order_by(J.c.id),
              select(R.c.id, R.c.job_id, R.c.worker_id, R.c.status).order_by(R.c.id),
              select(W.c.id, W.c.streak, W.c.verified, W.c.invalid, W.c.quarantined)
              .order_by(W.c.id),
              select(L.c.id, L.c.job_id, L.c.state).order_by(L.c.id)]
    return answers, [rows(engine, q) for q in tables]


def test_a_batch_of_results_is_judged_as_if_they_came_one_by_one(db_url, tmp_path):
    """Within a batch trust stands as it was when the batch arrived; the script keeps every
    worker's trust on one side of ``trust_after`` so that one request per result judges
    the same."""
    exp = experiment(islands=16, verification={"trust_after": 20, "spot_check": 0.0,
                                               "max_results": 3})
    outcomes = []
    for batched in (True, False):
        url = db_url if batched else f"sqlite:///{tmp_path}/one_by_one.db"
        engine = connect(url)
        co = Coordinator(engine)
        co.start(exp)
        outcomes.append(_script(co, engine, batched))
        engine.dispose()
    (answers, tables), (answers_1, tables_1) = outcomes
    assert tables == tables_1
    for batch, single in zip(answers, answers_1):
        assert sorted(map(repr, batch)) == sorted(map(repr, single))
    jobs, results, workers, _ = tables
    assert {j.state for j in jobs} >= {"accepted", "verified"}
    assert {s for *_, s in results} >= {"valid", "invalid", "pending"}
    assert [q for *_, q in workers] == [False, False, True]         # the liar, caught
    repeat, last = answers[-2], answers[-1]
    assert [x.get("duplicate") for x in repeat].count(True) == 1
    assert repeat[-1]["refused"][1] == "no_such_lease"
    assert [x["accepted"] for x in repeat].count(False) == 2       # invalid, foreign
    assert [x["accepted"] for x in last] == [False, True, True]     # the invalid one
    assert workers[0].invalid == 1 and workers[0].streak < 20      # a's trust restarted,
    assert [j.state for j in jobs].count("accepted") == 6           # none after its invalid
