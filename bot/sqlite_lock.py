"""One SQLite writer at a time across processes and threads, handed over without delay.

SQLite lets one transaction write at a time. A second writer waits in SQLite's busy handler,
which polls with sleeps of 1, 2, 5, 10 … up to 100 ms: two gunicorn workers answering
callbacks spend their time asleep rather than working. This lock queues writers on a
flock(2) instead: the kernel wakes the next one the moment the previous one commits.

The lock is taken before BEGIN IMMEDIATE and released after the DBAPI connection's commit or
rollback (a sqlite3.Connection subclass), so every path that ends a transaction, including
the pool's reset-on-return, releases it. Only bot.db's engine factory uses this module."""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading

WAIT_SECONDS = 30  # as long as SQLite's own busy_timeout


class WriteLock:
    """A per-database lock file; a thread lock inside the process, flock across processes."""

    def __init__(self, database_path: str):
        self.path = database_path + ".writelock"
        self.threads = threading.Lock()
        self.fd: int | None = None
        self.pid: int | None = None

    def _file(self) -> int:
        if self.pid != os.getpid():  # first use, or a forked child: flock needs its own open
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
            self.pid = os.getpid()
        return self.fd

    def acquire(self) -> None:
        if not self.threads.acquire(timeout=WAIT_SECONDS):
            raise sqlite3.OperationalError("database is locked (write lock wait timed out)")
        try:
            fcntl.flock(self._file(), fcntl.LOCK_EX)
        except BaseException:
            self.threads.release()
            raise

    def release(self) -> None:
        fcntl.flock(self._file(), fcntl.LOCK_UN)
        self.threads.release()


def connection_class(lock: WriteLock) -> type[sqlite3.Connection]:
    """A sqlite3.Connection that releases `lock` once its transaction has ended."""

    class LockingConnection(sqlite3.Connection):
        holds_write_lock = False

        def begin_write(self) -> None:
            """Take the lock, then SQLite's own write lock (BEGIN IMMEDIATE)."""
            lock.acquire()
            self.holds_write_lock = True
            try:
                self.execute("BEGIN IMMEDIATE")
            except BaseException:
                self._release()
                raise

        def commit(self) -> None:
            try:
                super().commit()
            finally:
                self._release()

        def rollback(self) -> None:
            try:
                super().rollback()
            finally:
                self._release()

        def close(self) -> None:
            try:
                super().close()
            finally:
                self._release()

        def _release(self) -> None:
            if self.holds_write_lock:
                self.holds_write_lock = False
                lock.release()

    return LockingConnection
