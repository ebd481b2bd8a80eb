"""Alembic's entry point: run the migrations on the engine ``db.upgrade`` passes in (or on
``sqlalchemy.url`` when run by the ``alembic`` command)."""

from alembic import context
from sqlalchemy import create_engine

from primordia.distributed.models import Base

target_metadata = Base.metadata
config = context.config
engine = config.attributes.get("engine") or create_engine(
    config.get_main_option("sqlalchemy.url"))

with engine.connect() as connection:
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite")
    with context.begin_transaction():
        context.run_migrations()
