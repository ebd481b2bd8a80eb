"""The coordinator's first schema: experiments, the genome bank and its parent links,
generations and their members, jobs, workers, leases and results.

Revision ID: 0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "experiments",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False, unique=True),
        sa.Column("config", sa.Text(), nullable=False),
        sa.Column("seed", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("finished_at", sa.Float(), nullable=True),
    )
    op.create_table(
        "genomes",
        sa.Column("id", ID, primary_key=True),
        sa.Column("experiment_id", ID, sa.ForeignKey("experiments.id"), nullable=False),
        sa.Column("substrate", sa.String(32), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("birth_generation", sa.Integer(), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("lineage", sa.BigInteger(), nullable=True),
    )
    op.create_index("ix_genomes_experiment_id", "genomes", ["experiment_id"])
    op.create_index("ix_genomes_digest", "genomes", ["digest"])
    op.create_table(
        "genome_parents",
        sa.Column("child_id", ID, sa.ForeignKey("genomes.id"), primary_key=True),
        sa.Column("parent_id", ID, sa.ForeignKey("genomes.id"), primary_key=True),
        sa.Column("role", sa.String(16), nullable=False),
    )
    op.create_table(
        "generations",
        sa.Column("id", ID, primary_key=True),
        sa.Column("experiment_id", ID, sa.ForeignKey("experiments.id"), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("closed_at", sa.Float(), nullable=True),
        sa.UniqueConstraint("experiment_id", "number"),
    )
    op.create_table(
        "members",
        sa.Column("generation_id", ID, sa.ForeignKey("generations.id"), primary_key=True),
        sa.Column("genome_id", ID, sa.ForeignKey("genomes.id"), primary_key=True),
        sa.Column("fitness", sa.Text(), nullable=True),
        sa.Column("islands", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=True),
        sa.Column("kept", sa.String(8), nullable=True),
    )
    op.create_table(
        "jobs",
        sa.Column("id", ID, primary_key=True),
        sa.Column("generation_id", ID, sa.ForeignKey("generations.id"), nullable=False),
        sa.Column("island", sa.Integer(), nullable=False),
        sa.Column("niche", sa.String(64), nullable=False),
        sa.Column("spec", sa.Text(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("wanted", sa.Integer(), nullable=False),
        sa.Column("inflight", sa.Integer(), nullable=False),
        sa.Column("received", sa.Integer(), nullable=False),
        sa.Column("spot", sa.Boolean(), nullable=False),
        sa.Column("must_verify", sa.Boolean(), nullable=False),
        sa.Column("epoch", sa.Integer(), nullable=False),
        sa.Column("expired", sa.Integer(), nullable=False),
        sa.Column("result_id", sa.BigInteger(), nullable=True),
        sa.UniqueConstraint("generation_id", "island"),
    )
    op.create_index("ix_jobs_generation_id", "jobs", ["generation_id"])
    op.create_index("ix_jobs_claim", "jobs", ["state", "id"])
    op.create_table(
        "workers",
        sa.Column("id", ID, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("local", sa.Boolean(), nullable=False),
        sa.Column("procs", sa.Integer(), nullable=False),
        sa.Column("streak", sa.Integer(), nullable=False),
        sa.Column("verified", sa.Integer(), nullable=False),
        sa.Column("invalid", sa.Integer(), nullable=False),
        sa.Column("quarantined", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_seen", sa.Float(), nullable=False),
    )
    op.create_table(
        "leases",
        sa.Column("id", ID, primary_key=True),
        sa.Column("job_id", ID, sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("worker_id", ID, sa.ForeignKey("workers.id"), nullable=False),
        sa.Column("fence", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("issued_at", sa.Float(), nullable=False),
        sa.Column("deadline", sa.Float(), nullable=False),
    )
    op.create_index("ix_leases_job_worker", "leases", ["job_id", "worker_id"])
    op.create_index("ix_leases_state_deadline", "leases", ["state", "deadline"])
    op.create_index("ix_leases_worker_id", "leases", ["worker_id"])
    op.create_table(
        "results",
        sa.Column("id", ID, primary_key=True),
        sa.Column("job_id", ID, sa.ForeignKey("jobs.id"), nullable=False),
        sa.Column("lease_id", ID, sa.ForeignKey("leases.id"), nullable=False, unique=True),
        sa.Column("worker_id", ID, sa.ForeignKey("workers.id"), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("state_hash", sa.String(64), nullable=False),
        sa.Column("outcome", sa.Text(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("received_at", sa.Float(), nullable=False),
        sa.Column("seconds", sa.Float(), nullable=False),
    )
    op.create_index("ix_results_job_id", "results", ["job_id"])
    op.create_index("ix_results_worker_id", "results", ["worker_id"])


def downgrade() -> None:
    for table in ("results", "leases", "workers", "jobs", "members", "generations",
                  "genome_parents", "genomes", "experiments"):
        op.drop_table(table)
