"""db.connect opens SQLite or PostgreSQL and migrates it; the migrations and the models
describe the same schema."""

from __future__ import annotations

import threading

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Integer, MetaData, String, Table, func, insert, select

from primordia.core.errors import ConfigError
from primordia.distributed import db
from primordia.distributed.models import Base


@pytest.fixture
def engine(db_url):
    engine = db.connect(db_url)
    yield engine
    engine.dispose()


def test_connect_creates_every_table(engine):
    assert set(Base.metadata.tables) <= db.tables(engine)
    assert db.tables(engine) - set(Base.metadata.tables) == {"alembic_version"}


def test_connect_twice_is_a_no_op(db_url):
    first = db.connect(db_url)
    try:
        with first.connect() as conn:
            before = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
    finally:
        first.dispose()
    second = db.connect(db_url)
    try:
        with second.connect() as conn:
            after = conn.exec_driver_sql("SELECT version_num FROM alembic_version").all()
        assert after == before and len(after) == 1
        assert set(Base.metadata.tables) <= db.tables(second)
    finally:
        second.dispose()


def test_migrations_match_the_models(engine):
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == []


def test_other_databases_are_refused():
    with pytest.raises(ConfigError):
        db.open_engine("mysql://x")


def test_a_path_means_sqlite(tmp_path):
    path = tmp_path / "sub" / ".." / "c.db"
    assert db.database_url(str(path)) == f"sqlite:///{path.resolve()}"
    assert db.database_url("postgresql+psycopg://u@h/d") == "postgresql+psycopg://u@h/d"


def test_sqlite_is_in_wal_mode(tmp_path):
    engine = db.connect(str(tmp_path / "c.db"))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
    finally:
        engine.dispose()


def test_threads_write_at_once(engine):
    """Several threads, each with its own pooled connection, insert into one table: neither
    backend loses a row or raises (SQLite queues them on its write lock)."""
    table = Table("scratch", MetaData(), Column("id", Integer, primary_key=True),
                  Column("thread", Integer), Column("note", String(32)))
    table.create(engine)
    threads, rows = 8, 25
    errors: list[BaseException] = []
    barrier = threading.Barrier(threads)

    def write(t: int) -> None:
        try:
            barrier.wait(timeout=30)
            for i in range(rows):
                with engine.begin() as conn:
                    conn.execute(insert(table).values(thread=t, note=f"{t}-{i}"))
        except BaseException as exc:   # noqa: BLE001 - reported below
            errors.append(exc)

    workers = [threading.Thread(target=write, args=(t,)) for t in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(timeout=120)
    assert not errors, errors
    with engine.connect() as conn:
        counts = dict(conn.execute(select(table.c.thread, func.count())
                                   .group_by(table.c.thread)).all())
    assert counts == {t: rows for t in range(threads)}
