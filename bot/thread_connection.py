"""The callback's database connection: kept open between requests on SQLite.

Checking a connection out of the pool and back (events, reset, a new Connection object) costs
about a tenth of a whole callback. A sync gunicorn worker answers one request at a time on one
thread, so on SQLite each thread keeps one Connection instead: a SQLite connection is a file
handle, and one outside a transaction holds no snapshot or lock, so nothing goes stale between
requests. A PostgreSQL connection can (server restarts, idle timeouts): there each callback
checks one out of the pool, which tests it first (pool_pre_ping).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.engine import Connection, Engine


class ThreadConnections:
    """One reusable Connection per thread (SQLite), or one pooled Connection per use."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self.reusable = engine.dialect.name == "sqlite"
        self._local = threading.local()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection outside any transaction; whatever the caller leaves open is rolled
        back, and a connection that saw an error is closed rather than kept."""
        if not self.reusable:
            with self.engine.connect() as conn:
                yield conn
            return
        conn = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.invalidated:
            conn = self._local.conn = self.engine.connect()
        try:
            yield conn
        except BaseException:
            self._local.conn = None
            conn.close()
            raise
        if conn.in_transaction():
            conn.rollback()
