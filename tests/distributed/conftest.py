"""Databases for the coordinator's tests: ``db_url`` runs a test on SQLite and on a real
PostgreSQL server the session starts itself (see pg.py). Without PostgreSQL the postgresql
cases skip, or fail under CI=true."""

from __future__ import annotations

import pytest

from ..needs import missing
from . import pg


@pytest.fixture(scope="session")
def postgres_server():
    """One PostgreSQL server per test process (each xdist worker starts its own)."""
    try:
        import psycopg  # noqa: F401
    except ImportError:
        missing("psycopg (pip install 'psycopg[binary]')")
    bindir = pg.find_bindir()
    if bindir is None:
        missing("PostgreSQL (initdb and postgres; Debian package postgresql)")
    try:
        server = pg.start(bindir)
    except RuntimeError as exc:
        pytest.fail(f"could not start PostgreSQL from {bindir}: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path) -> str:
    """An empty database's URL: an SQLite file in ``tmp_path``, or a new database on the
    session's PostgreSQL server (dropped afterwards, with any connection left open)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/coordinator.db"
        return
    server = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)
