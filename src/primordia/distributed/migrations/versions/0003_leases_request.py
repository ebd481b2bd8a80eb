"""Leases remember the claim that made them (``request``, an id the worker picked), so
that a claim sent again after its reply was lost gets the same jobs back instead of a
second set that would sit idle until its deadline and count against the jobs' attempts.

Revision ID: 0003
Revises: 0002
"""
import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("leases", sa.Column("request", sa.String(32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("leases") as batch:
        batch.drop_column("request")
