"""Index jobs by (generation, state): "does this generation still have an undecided job?"
is asked after every decision, and an index on the generation alone made each answer walk
the generation's decided jobs first (14 ms a question at 40,000 islands on PostgreSQL).
The (generation, island) unique constraint already serves lookups by generation alone.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index("ix_jobs_generation_id", table_name="jobs")
    op.create_index("ix_jobs_generation_state", "jobs", ["generation_id", "state"])


def downgrade() -> None:
    op.drop_index("ix_jobs_generation_state", table_name="jobs")
    op.create_index("ix_jobs_generation_id", "jobs", ["generation_id"])
