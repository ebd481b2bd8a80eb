"""Opening the coordinator's database: SQLite (WAL, one writer at a time, ``BEGIN
IMMEDIATE`` so a claim never races another) by default, PostgreSQL by URL
(``postgresql+psycopg://...``), and bringing its schema up to date with the Alembic
migrations shipped in ``migrations/``."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError

from primordia.core.errors import ConfigError

MIGRATIONS = Path(__file__).with_name("migrations")


def database_url(db: str) -> str:
    """``db`` as an SQLAlchemy URL: a URL is kept, a plain path means an SQLite file."""
    if "://" in db:
        return db
    return f"sqlite:///{Path(db).expanduser().resolve()}"


def open_engine(db: str, pool_size: int = 20) -> Engine:
    """An engine for ``db`` (URL or SQLite path), schema not yet checked."""
    url = database_url(db)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 60,
                                                      "check_same_thread": False},
                                   pool_size=pool_size, max_overflow=pool_size)
            _sqlite_setup(engine)
        elif url.startswith("postgresql"):
            # no pre-ping (a statement per checkout): the coordinator retries a
            # transaction whose connection was dead (``statements.retrying``)
            engine = create_engine(url, pool_size=pool_size, max_overflow=pool_size)
        else:
            raise ConfigError(f"--db {db!r}: give an SQLite path or a sqlite:// or "
                              "postgresql+psycopg:// URL")
    except (ArgumentError, NoSuchModuleError) as exc:
        raise ConfigError(f"--db {db!r}: {exc}") from None
    return engine


def _sqlite_setup(engine: Engine) -> None:
    """WAL (readers never block the writer), and transactions that take the write lock at
    BEGIN: SQLite then runs one writer at a time, so a claim is atomic without row locks."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_conn, _record) -> None:
        dbapi_conn.isolation_level = None        # the driver must not BEGIN by itself
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=60000")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def alembic_config(engine: Engine):
    from alembic.config import Config as AlembicConfig
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every migration the database lacks (a new database gets the whole schema)."""
    from alembic import command
    try:
        command.upgrade(alembic_config(engine), "head")
    except DBAPIError as exc:          # unreachable server, a file that is not a database, ...
        lines = str(exc.orig).strip().splitlines() or [type(exc.orig).__name__]
        raise ConfigError(f"database {engine.url.render_as_string()}: {lines[0]}") from None


def connect(db: str, pool_size: int = 20) -> Engine:
    """Open ``db`` and migrate it to the current schema."""
    engine = open_engine(db, pool_size)
    upgrade(engine)
    return engine


def tables(engine: Engine) -> set[str]:
    return set(inspect(engine).get_table_names())
