"""The coordinator's wire: JSON bodies validated by these pydantic models, nothing else
(no pickle, no code). A job travels as an ``IslandSpec`` and comes back as an
``IslandOutcome`` (``primordia.runs.island``); leases carry a fencing number the result
must quote."""

from __future__ import annotations

from typing import Literal

from pydantic import AfterValidator, Field, StrictBool

from primordia.core.config import ClosedModel, Number, integer
from primordia.runs.island import IslandOutcome, IslandSpec

PROTOCOL_VERSION = 1
MAX_WAIT = 30.0
"""Longest a claim waits for a job (long poll), seconds."""


class Wire(ClosedModel):
    """Bodies with exactly these keys; numbers and booleans as JSON has them (3.0 is the
    integer 3; "3", 1 for true and the like are refused), so that the published schema
    accepts what the coordinator accepts and no more."""


def _this_protocol(version: int) -> int:
    if version != PROTOCOL_VERSION:
        raise ValueError(f"this coordinator speaks protocol {PROTOCOL_VERSION}")
    return version


class RegisterRequest(Wire):
    name: str = Field("worker", min_length=1, max_length=64, pattern=r"^[\w.@:-]+$")
    procs: integer(ge=1, le=1024) = 1
    version: integer(AfterValidator(_this_protocol), json_schema_extra={
        "const": PROTOCOL_VERSION}, description="The protocol the worker speaks.") = \
        PROTOCOL_VERSION


class RegisterReply(Wire):
    worker_id: int
    token: str
    protocol_version: int = PROTOCOL_VERSION


MAX_BATCH = 64
"""Jobs one claim may take, and results one request may carry."""


class ClaimRequest(Wire):
    wait: Number = Field(20.0, ge=0, le=MAX_WAIT, description="Seconds to wait for a job.")
    max_jobs: integer(ge=1, le=MAX_BATCH, description="Jobs to take at most.") = 1
    request: str | None = Field(None, min_length=1, max_length=32, pattern=r"^[A-Za-z0-9_-]+$",
                                description="An id the worker picked for this claim.")
    resent: StrictBool = Field(False, description="This claim was sent before and its reply "
                         "may have been lost: the jobs that claim leased (still live) are "
                         "sent again instead of new ones.")


class JobOffer(Wire):
    lease_id: int
    fence: int
    job_id: int
    experiment: str
    generation: int
    island: int
    niche: str
    deadline_in: float = Field(description="Seconds until the lease runs out; heartbeats "
                               "renew it.")
    spec: IslandSpec


class ClaimReply(Wire):
    jobs: list[JobOffer] = Field(default_factory=list)


FENCE = integer(ge=0, lt=2**62, description="The lease's fencing number, from its offer.")


class ResultSubmission(Wire):
    fence: FENCE
    seconds: Number = Field(0.0, ge=0, le=10**7, description="The worker's run time.")
    outcome: IslandOutcome


class SubmitReply(Wire):
    accepted: bool
    duplicate: bool = False
    error: str | None = None


LeaseId = integer(ge=1, lt=2**62)


class BatchResult(ResultSubmission):
    lease_id: LeaseId


class ResultBatch(Wire):
    """Several results in one request (a worker whose islands finished together), and
    optionally a claim for new jobs answered in the same reply (report and request in one
    round trip, as a BOINC client's scheduler request does)."""

    results: list[BatchResult] = Field(min_length=1, max_length=MAX_BATCH)
    claim: ClaimRequest | None = Field(None, description="Jobs to lease once the results "
                                       "are in; the reply's ``jobs``.")


class BatchReply(Wire):
    lease_id: int
    accepted: bool
    duplicate: bool = False
    error: str | None = None
    code: str | None = None       # why a refused result was refused (no_such_lease, ...)


class ResultBatchReply(Wire):
    results: list[BatchReply]
    jobs: list[JobOffer] = Field(default_factory=list, description="Jobs leased for the "
                                 "request's ``claim``.")


class HeartbeatRequest(Wire):
    leases: list[LeaseId] = Field(default_factory=list, max_length=1024)


class HeartbeatReply(Wire):
    live: list[int]
    gone: list[int]


# ---- replies the routes build themselves (their schemas in the OpenAPI document) -------------

class Health(Wire):
    status: Literal["ok"]
    version: str
    protocol_version: Literal[PROTOCOL_VERSION]


class Released(Wire):
    released: bool = Field(description="False when the lease had already ended.")


class ExperimentStatus(Wire):
    name: str
    status: str
    generation: int
    generations: int
    closed: int = Field(description="Generations closed.")
    jobs: dict[str, int] = Field(description="The open generation's jobs by state.")
    genomes: int


class WorkerStatus(Wire):
    id: int
    name: str
    local: bool
    procs: int
    streak: int
    verified: int
    invalid: int
    quarantined: bool
    last_seen: float
    active_leases: int


class Status(Wire):
    experiments: list[ExperimentStatus]
    workers: list[WorkerStatus]
    time: float


class ErrorBody(Wire):
    code: str = Field(description="Machine-readable: unauthorized, no_such_lease, ...")
    message: str
    field: str | None = Field(description="The request field that was wrong, if one was.")


class ErrorReply(Wire):
    """A refusal: ``{"protocol_version", "error": {code, message, field}}``."""

    protocol_version: Literal[PROTOCOL_VERSION]
    error: ErrorBody
