"""Database engine per app (SQLite tuned for several writers), read-only connections, the db CLI."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from flask import Flask, current_app
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlmodel import create_engine

from bot.private_files import private_sqlite_file, sqlite_path
from bot.sqlite_lock import WriteLock, connection_class

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def make_engine(url: str, *, pool_size: int = 5, max_overflow: int = 10) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout and write-locking transactions;
    PostgreSQL a pool of `pool_size` connections, `max_overflow` more at a peak."""
    if url.startswith("sqlite:"):
        path = url.split("sqlite:///", 1)[-1]
        connect_args = {"check_same_thread": False, "timeout": 30}
        if sqlite_path(url):
            private_sqlite_file(path)  # before SQLite creates it (and its WAL) world-readable
            connect_args["factory"] = connection_class(WriteLock(str(Path(path).resolve())))
        # No cap on connections: no request thread waits for one, and a SQLite connection
        # costs a file handle, not a server process.
        engine = create_engine(url, connect_args=connect_args, max_overflow=-1)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=pool_size, max_overflow=max_overflow)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see "begin" below).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        # Checkpoints are run by the dispatcher thread (checkpoint_sqlite); a request pays for
        # one only if the WAL grows past ~40 MB without it.
        cursor.execute("PRAGMA wal_autocheckpoint=10000")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # BEGIN IMMEDIATE takes the write lock up front: two writers queue instead of failing
        # with "database is locked" when a reader upgrades to a writer. A file database
        # queues on bot.sqlite_lock first, which hands the lock over without SQLite's sleeps.
        dbapi_connection = conn.connection.dbapi_connection
        if conn.get_execution_options().get("read_only"):
            conn.exec_driver_sql("BEGIN")  # a snapshot to read from; takes no write lock
        elif hasattr(dbapi_connection, "begin_write"):
            dbapi_connection.begin_write()
        else:
            conn.exec_driver_sql("BEGIN IMMEDIATE")


def read_only(conn):
    """The same connection, beginning read-only transactions (SQLite: no write lock)."""
    return conn.execution_options(read_only=True)


def checkpoint_sqlite(engine: Engine) -> None:
    """Fold the WAL back into the database file off the request path (no-op elsewhere)."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        raw.driver_connection.execute("PRAGMA wal_checkpoint(PASSIVE)")
    finally:
        raw.close()


def get_engine(app: Flask | None = None) -> Engine:
    """The engine of `app` (default: the current app)."""
    app = app or current_app
    return app.extensions["filingbot.engine"]


def check_database(app: Flask | None = None) -> None:
    """Raise if the database cannot answer a trivial query."""
    with get_engine(app).connect() as conn:
        conn.execute(text("SELECT 1"))


def alembic_config(url: str):
    """Alembic configuration pointing at our migrations and the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade_database(url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`; running it again changes nothing."""
    if sqlite_path(url):  # `db upgrade` usually creates the database file
        private_sqlite_file(sqlite_path(url))
    command.upgrade(alembic_config(url), revision)


def init_app(app: Flask) -> None:
    """Create the engine for `app`."""
    settings = app.config["SETTINGS"]
    app.extensions["filingbot.engine"] = make_engine(settings.database_url,
                                                     pool_size=settings.db_pool_size,
                                                     max_overflow=settings.db_max_overflow)
