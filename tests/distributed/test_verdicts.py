"""The verdict and trust rules on plain rows -- no database, no server: replicas that agree
verify a job, a trusted worker's lone result is accepted unless checked, disagreement asks
for one more copy and outvotes the minority, a closed generation's job only ever becomes
verified, and the trust a transaction learns is written in worker order."""

from __future__ import annotations

from primordia.distributed.experiment import Verification
from primordia.distributed.replies import Refusal, Refused, accepted, invalid, refused
from primordia.distributed.verdicts import (DECIDED, JobCounts, ResultRow, TrustLedger,
                                            Verdict, agreed_by, elite_rechecks, placed,
                                            redecided_after_quarantine, verdict)

RULES = Verification(trust_after=3, spot_check=0.1, max_results=3)


def job(state="running", wanted=1, inflight=0, received=1, spot=False, must_verify=False,
        result_id=None):
    return JobCounts(state, wanted, inflight, received, spot, must_verify, result_id)


def row(id, worker, digest="a", status="pending", local=False, streak=0):
    return ResultRow(id, worker, digest, status, local, streak)


def test_a_new_workers_lone_result_asks_for_a_second_copy():
    v = verdict(job(), [row(1, 10)], RULES)
    assert (v.state, v.result_id, v.wanted) == ("open", None, 2)
    assert v.agree == () and v.disagree == ()


def test_the_copy_already_leased_makes_the_job_running_not_open():
    v = verdict(job(inflight=1), [row(1, 10)], RULES)
    assert (v.state, v.wanted) == ("running", 2)


def test_two_workers_with_equal_digests_verify_the_job():
    v = verdict(job(received=2, wanted=2), [row(1, 10), row(2, 11, status="valid")], RULES)
    assert (v.state, v.result_id, v.wanted) == ("verified", 1, 2)
    assert [r.id for r in v.agree] == [1] and v.disagree == ()       # only pending ones


def test_equal_digests_from_one_worker_verify_nothing():
    v = verdict(job(received=2, wanted=2), [row(1, 10), row(2, 10)], RULES)
    assert v.state != "verified"


def test_the_coordinators_own_worker_verifies_alone():
    v = verdict(job(), [row(1, 10, local=True)], RULES)
    assert (v.state, v.result_id) == ("verified", 1)


def test_a_trusted_workers_lone_result_is_accepted_unless_checked():
    trusted = [row(1, 10, streak=RULES.trust_after)]
    assert verdict(job(), trusted, RULES).state == "accepted"
    assert verdict(job(spot=True), trusted, RULES).state == "open"          # spot check
    assert verdict(job(must_verify=True), trusted, RULES).state == "open"   # backs the elite
    almost = [row(1, 10, streak=RULES.trust_after - 1)]
    assert verdict(job(), almost, RULES).state == "open"


def test_disagreement_wants_a_third_copy_and_the_majority_outvotes_the_rest():
    two = [row(1, 10, "a"), row(2, 11, "b")]
    v = verdict(job(received=2, wanted=2), two, RULES)
    assert (v.state, v.wanted) == ("open", 3)
    three = two + [row(3, 12, "a")]
    v = verdict(job(received=3, wanted=3), three, RULES)
    assert (v.state, v.result_id) == ("verified", 1)
    assert [r.worker_id for r in v.agree] == [10, 12]            # in worker order
    assert [r.worker_id for r in v.disagree] == [11]             # to be quarantined


def test_no_agreement_within_max_results_gives_the_job_up():
    rows = [row(1, 10, "a"), row(2, 11, "b"), row(3, 12, "c")]
    v = verdict(job(received=3, wanted=3), rows, RULES)
    assert (v.state, v.result_id) == ("failed", None)


def test_a_late_copy_of_a_verified_job_is_judged_against_its_quorum():
    done = job(state="verified", wanted=2, received=3, result_id=1)
    rows = [row(1, 10, "a", "valid"), row(2, 11, "a", "valid"), row(3, 12, "b")]
    v = verdict(done, rows, RULES)
    assert (v.state, v.result_id) == ("verified", 1)
    assert [r.id for r in v.disagree] == [3] and v.agree == ()


def test_in_a_closed_generation_a_job_only_ever_becomes_verified():
    was = job(state="accepted", wanted=1, received=2, result_id=1)
    disagreeing = [row(1, 10, "a", "valid", streak=5), row(2, 11, "b")]
    v = verdict(was, disagreeing, RULES, closed=True)
    assert v == Verdict("accepted", 1, 1)                        # left as it was
    agreeing = [row(1, 10, "a", "valid", streak=5), row(2, 11, "a")]
    v = verdict(was, agreeing, RULES, closed=True)
    assert (v.state, [r.id for r in v.agree]) == ("verified", [2])


def test_placeholder_ids_are_replaced_by_the_stored_ones():
    v = Verdict("verified", -1, 2, (row(-1, 10), row(7, 11)), (row(-2, 12),))
    p = placed(v, {-1: 41, -2: 42})
    assert p.result_id == 41
    assert [r.id for r in p.agree] == [41, 7] and [r.id for r in p.disagree] == [42]


def test_a_streak_restarts_with_the_results_that_agreed_after_the_invalid_one():
    vs = [Verdict("verified", 1, 2, (row(1, 10), row(2, 11))), Verdict("open", None, 2),
          Verdict("verified", 3, 2, (row(3, 10),))]
    assert agreed_by(10, vs) == 2 and agreed_by(11, vs) == 1 and agreed_by(12, vs) == 0


def test_the_trust_ledger_lists_changes_in_worker_order():
    t = TrustLedger()
    t.agreed(12)
    t.agreed(5)
    t.agreed(12)
    t.sent_invalid(7)
    t.agreed(7)
    assert list(t.changes()) == [(5, False, 1, 1, 0), (7, True, 1, 1, 1),
                                 (12, False, 2, 2, 0)]
    t.restart(12, 0)
    assert list(t.changes())[-1] == (12, True, 0, 2, 0)


def test_only_an_open_generations_undecided_or_accepted_jobs_are_judged_again():
    for state in ("open", "running", "accepted"):
        assert redecided_after_quarantine(state, "open")
        assert not redecided_after_quarantine(state, "closed")
    for state in ("verified", "failed"):
        assert not redecided_after_quarantine(state, "open")
    assert set(DECIDED) == {"verified", "accepted", "failed"}


def test_the_elite_sends_out_again_the_unverified_jobs_it_rests_on():
    backing = {1: {10, 11}, 2: {11, 12}, 3: {13}}
    assert elite_rechecks([1, 2], backing, unverified={11, 12, 13}) == [11, 12]
    assert elite_rechecks([3], backing, unverified=set()) == []


def test_answers_and_refusals_are_typed_values():
    exc = Refused(409, "stale_fence", "lease 3: fence 1 is not this lease's (2)")
    assert exc.refusal == Refusal(409, "stale_fence", str(exc))
    answer = refused(exc)
    assert answer["accepted"] is False and answer["refused"].code == "stale_fence"
    assert accepted() == {"accepted": True, "duplicate": False}
    assert accepted(duplicate=True)["duplicate"] is True
    assert invalid("lineages: 3, expected 4") == {"accepted": False,
                                                  "error": "lineages: 3, expected 4"}
