"""The coordinator's database: SQLAlchemy 2 tables for experiments, the genome bank and its
parent links, generations and their evaluations, jobs, leases, results and workers.
The schema is created and upgraded by the Alembic migrations in ``migrations/``; these
classes are the code's view of it and a test checks the two agree.

Times are Unix seconds (floats): they schedule leases and never feed a result.
Counters on ``jobs`` (``inflight``, ``received``) let a claim be one indexed query; they
change only in the transactions that change the rows they count."""

from __future__ import annotations

from sqlalchemy import (BigInteger, Boolean, Float, ForeignKey, Index, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

ID = BigInteger().with_variant(Integer(), "sqlite")
"""64-bit ids on PostgreSQL; SQLite's INTEGER PRIMARY KEY (its 64-bit rowid)."""


class Base(DeclarativeBase):
    pass


class Experiment(Base):
    __tablename__ = "experiments"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    config: Mapped[str] = mapped_column(Text)             # ExperimentConfig as JSON
    seed: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="running")   # running | done
    generation: Mapped[int] = mapped_column(Integer, default=0)           # the open one
    created_at: Mapped[float] = mapped_column(Float)
    finished_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Genome(Base):
    """The genome bank: every genome an experiment made, seeded, bred or brought back from
    an island, with the generation it was born in and the root of its lineage."""

    __tablename__ = "genomes"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), index=True)
    substrate: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    digest: Mapped[str] = mapped_column(String(64), index=True)
    birth_generation: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(16))   # random | mutant | cross | island
    lineage: Mapped[int | None] = mapped_column(BigInteger, nullable=True)  # root genome id


class GenomeParent(Base):
    __tablename__ = "genome_parents"

    child_id: Mapped[int] = mapped_column(ForeignKey("genomes.id"), primary_key=True)
    parent_id: Mapped[int] = mapped_column(ForeignKey("genomes.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))     # first | second | island


class Generation(Base):
    __tablename__ = "generations"
    __table_args__ = (UniqueConstraint("experiment_id", "number"),)

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"))
    number: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16), default="open")   # open | closed
    created_at: Mapped[float] = mapped_column(Float)
    closed_at: Mapped[float | None] = mapped_column(Float, nullable=True)


class Member(Base):
    """A genome of a generation's pool, with its fitness once the generation closed."""

    __tablename__ = "members"

    generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id"), primary_key=True)
    genome_id: Mapped[int] = mapped_column(ForeignKey("genomes.id"), primary_key=True)
    fitness: Mapped[str | None] = mapped_column(Text, nullable=True)  # JSON vector (means)
    islands: Mapped[int] = mapped_column(Integer, default=0)          # results behind it
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)  # NSGA-II front
    kept: Mapped[str | None] = mapped_column(String(8), nullable=True)  # elite | random


class Job(Base):
    """One island of a generation. ``wanted`` results (matching, from different workers)
    decide it; ``state``: open (a lease is wanted), running (every wanted copy is leased or
    in), accepted (one trusted result, unverified), verified (two workers agreed), failed
    (given up)."""

    __tablename__ = "jobs"
    __table_args__ = (UniqueConstraint("generation_id", "island"),
                      Index("ix_jobs_claim", "state", "id"),
                      Index("ix_jobs_generation_state", "generation_id", "state"))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    generation_id: Mapped[int] = mapped_column(ForeignKey("generations.id"))
    island: Mapped[int] = mapped_column(Integer)
    niche: Mapped[str] = mapped_column(String(64))
    spec: Mapped[str] = mapped_column(Text)          # IslandSpec as JSON
    state: Mapped[str] = mapped_column(String(16), default="open")
    wanted: Mapped[int] = mapped_column(Integer, default=1)
    inflight: Mapped[int] = mapped_column(Integer, default=0)     # active leases
    received: Mapped[int] = mapped_column(Integer, default=0)     # results not discarded
    spot: Mapped[bool] = mapped_column(Boolean, default=False)    # drawn for a spot check
    must_verify: Mapped[bool] = mapped_column(Boolean, default=False)   # feeds the elite
    epoch: Mapped[int] = mapped_column(Integer, default=0)        # leases issued (fencing)
    expired: Mapped[int] = mapped_column(Integer, default=0)      # leases that ran out
    result_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)   # the chosen


class Worker(Base):
    __tablename__ = "workers"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    local: Mapped[bool] = mapped_column(Boolean, default=False)   # the coordinator's own
    procs: Mapped[int] = mapped_column(Integer, default=1)
    streak: Mapped[int] = mapped_column(Integer, default=0)       # verified results in a row
    verified: Mapped[int] = mapped_column(Integer, default=0)
    invalid: Mapped[int] = mapped_column(Integer, default=0)
    quarantined: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[float] = mapped_column(Float)
    last_seen: Mapped[float] = mapped_column(Float)


class Lease(Base):
    """A job handed to a worker until ``deadline``. ``fence`` is the job's epoch when issued:
    a result must quote it, so a lease that ran out cannot be redeemed after reissue."""

    __tablename__ = "leases"
    __table_args__ = (Index("ix_leases_job_worker", "job_id", "worker_id"),
                      Index("ix_leases_state_deadline", "state", "deadline"))

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"))
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    fence: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(16), default="active")
    # active | submitted | expired | released
    issued_at: Mapped[float] = mapped_column(Float)
    deadline: Mapped[float] = mapped_column(Float)
    request: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # the worker's id for the claim that made it: a resent claim gets these leases back


class Result(Base):
    """A worker's outcome of a job, validated before it was stored. ``status``: pending
    (unverified), valid (in the agreeing quorum), invalid (outvoted), discarded (its worker
    was quarantined before it was verified)."""

    __tablename__ = "results"

    id: Mapped[int] = mapped_column(ID, primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("jobs.id"), index=True)
    lease_id: Mapped[int] = mapped_column(ForeignKey("leases.id"), unique=True)
    worker_id: Mapped[int] = mapped_column(ForeignKey("workers.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64))
    state_hash: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(Text)       # IslandOutcome as JSON
    status: Mapped[str] = mapped_column(String(16), default="pending")
    received_at: Mapped[float] = mapped_column(Float)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)   # the worker's run time
