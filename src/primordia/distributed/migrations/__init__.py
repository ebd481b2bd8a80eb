"""Alembic migrations of the coordinator's database (``db.upgrade`` runs them)."""
