"""The rules that decide a job from its results and earn or lose workers' trust (BOINC's
adaptive replication), as pure functions over plain rows, so that they read -- and are
tested -- apart from the database that feeds them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, NamedTuple

from .experiment import Verification

DECIDED = ("verified", "accepted", "failed")
"""Job states that need no more results; ``open`` (wants a lease) and ``running`` (every
wanted copy leased or in) are undecided. A closed generation's jobs are not reopened
(quarantine leaves them alone; a late copy may verify them but not reopen them), so a
claim needs no look at generations. (A filter on the generation's status made
PostgreSQL's planner sort every open job per claim under load.)"""


class JobCounts(NamedTuple):
    """What a verdict reads of a job: its state and result counters."""

    state: str
    wanted: int
    inflight: int
    received: int
    spot: bool
    must_verify: bool
    result_id: int | None


class ResultRow(NamedTuple):
    """One of a job's results, with its worker's standing."""

    id: int
    worker_id: int
    digest: str
    status: str
    local: bool
    streak: int


@dataclass(frozen=True)
class Verdict:
    """What a job's results decide: its state, the result it rests on, how many results it
    wants, and the pending results that agree with the quorum or were outvoted (whose
    workers are quarantined)."""

    state: str
    result_id: int | None
    wanted: int
    agree: tuple = ()
    disagree: tuple = ()


def verdict(job, rows: Iterable, rules: Verification, closed: bool = False) -> Verdict:
    """Decide a job from its non-discarded results (``rows``: id, worker_id, digest,
    status, local, streak), BOINC-style: two equal digests, or one from the coordinator's
    own worker, verify it; a lone result of a trusted worker is accepted unless the job is
    spot-checked or backs the elite; otherwise one more copy is wanted, up to
    ``max_results``. ``job`` needs state, wanted, inflight, received, spot, must_verify
    and result_id (counters as they will be after this result).

    In a ``closed`` generation the job is history: a late copy that agrees verifies it,
    and any other verdict leaves it as it was (one copy against another proves nothing,
    and asking for more would hand out work no generation waits for)."""
    v = _verdict(job, list(rows), rules)
    if closed and v.state != "verified":
        return Verdict(job.state, job.result_id, job.wanted)
    return v


def _pending(rows: Iterable) -> tuple:
    return tuple(r for r in rows if r.status == "pending")


def _verdict(job, rows: list, rules: Verification) -> Verdict:
    if job.state == "verified":               # a late copy: judged against the quorum
        good = next(r.digest for r in rows if r.id == job.result_id)
        return Verdict("verified", job.result_id, job.wanted,
                       _pending(r for r in rows if r.digest == good),
                       _pending(r for r in rows if r.digest != good))
    groups: dict[str, list] = {}
    for r in rows:
        groups.setdefault(r.digest, []).append(r)
    best = max(groups.values(), key=lambda g: len({r.worker_id for r in g})) if groups else []
    if len({r.worker_id for r in best}) >= 2 or any(r.local for r in best):
        order = sorted(rows, key=lambda r: r.worker_id)       # one lock order for all
        return Verdict("verified", best[0].id, len(rows),
                       _pending(r for r in order if r.digest == best[0].digest),
                       _pending(r for r in order if r.digest != best[0].digest))
    n = len(rows)
    if (n == 1 and not job.spot and not job.must_verify
            and rows[0].streak >= rules.trust_after):
        return Verdict("accepted", rows[0].id, job.wanted)
    if n >= rules.max_results:
        return Verdict("failed", None, job.wanted)
    wanted = max(job.wanted, n + 1)
    return Verdict("open" if job.inflight + job.received < wanted else "running", None,
                   wanted)


def placed(v: Verdict, real: dict[int, int]) -> Verdict:
    """``v`` with placeholder result ids (negative: results judged before they were stored)
    replaced by the stored ones."""
    def fix(rows: tuple) -> tuple:
        return tuple(r._replace(id=real.get(r.id, r.id)) for r in rows)
    return Verdict(v.state, real.get(v.result_id, v.result_id), v.wanted, fix(v.agree),
                   fix(v.disagree))


def agreed_by(worker_id: int, verdicts: Iterable[Verdict]) -> int:
    """How many of ``worker_id``'s results the verdicts found in agreement: its streak,
    counted from just after its last invalid result."""
    return sum(r.worker_id == worker_id for v in verdicts for r in v.agree)


def redecided_after_quarantine(job_state: str, generation_status: str) -> bool:
    """Whether a job that lost a quarantined worker's result or lease is judged again: an
    undecided or merely accepted job of an open generation; a closed generation's
    evidence is history."""
    return job_state in ("open", "running", "accepted") and generation_status == "open"


def elite_rechecks(elite: Iterable[int], backing: dict[int, set[int]],
                   unverified: set[int]) -> list[int]:
    """The jobs to send out again before a generation closes: the unverified (accepted)
    ones that members entering the elite rest on, since the elite rests on verified
    results only."""
    return sorted({job for genome in elite for job in backing[genome] & unverified})


class TrustLedger:
    """What one transaction learnt of workers' trust, to be written at its end, workers in
    id order, so that transactions touching the same workers hold their rows briefly and in
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

    def changes(self) -> Iterator[tuple[int, bool, int, int, int]]:
        """Per worker, in id order: (worker, restart, streak, verified, invalid) -- the
        streak replaces the stored one on a restart and adds to it otherwise."""
        for wid in sorted(self.streak):
            yield (wid, wid in self.restarted, self.streak[wid], self.verified.get(wid, 0),
                   self.invalid.get(wid, 0))
