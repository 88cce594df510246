"""Core statements run on the DBAPI connection, for the few the callback runs on every message.

`Connection.execute` spends 50-90 µs of Python per statement (events, execution context, result
wrapping), and a callback costs about 1 ms in all: the sender read and the dedup insert, run on
every message, skip that machinery. Each statement is compiled once per dialect, and its values
still go through their types' own bind and result processors, so what is written and read here
is exactly what the ORM writes and reads. Errors are raised as SQLAlchemy's (IntegrityError…).

It earns its place (issue 10, item 4): with these statements sent through `Connection.execute`
instead (commit 3de4273: a read-only transaction for the sender, `conn.begin()` around a lone
inbound key), `bench/compare.py <before> <that> --rounds 8` measured worker CPU per 帮助
callback at +28 %, +32 % and +37 % on SQLite, +13 %, +25 % and +50 % on PostgreSQL, and
valgrind counted +23 % instructions per callback in process (2.40 → 2.96 M): far above the
5 % bar.

It relies on SQLAlchemy's compiler (`construct_params`, `binds`, `positiontup`) and its types'
processors: tests/test_direct_sql.py checks that every statement the callback runs this way sends
the driver the same SQL and values as `Connection.execute` does, and reads back the same rows,
so an SQLAlchemy upgrade that changes any of that fails there first.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exc
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql import ClauseElement


@dataclass(frozen=True)
class _Compiled:
    compiled: object  # SQLAlchemy's compiled statement (its .string is what runs)
    positions: tuple[str, ...] | None  # bind names in order, for positional paramstyles
    bind_processors: dict
    result_processors: tuple


class DirectStatement:
    """A statement run straight on the DBAPI connection of an SQLAlchemy Connection.

    It joins whatever transaction that connection is in (or, with none, the driver's own
    implicit one: a single SELECT on SQLite, the next transaction on PostgreSQL)."""

    def __init__(self, statement: ClauseElement):
        self.statement = statement
        self._by_dialect: dict[str, _Compiled] = {}

    def first(self, conn: Connection, params: dict) -> tuple | None:
        """The first row, with result types applied; None when there is none."""
        compiled = self._compiled(conn.dialect)
        cursor = self._execute(conn, compiled, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        return tuple(process(value) if process else value
                     for process, value in zip(compiled.result_processors, row, strict=True))

    def execute(self, conn: Connection, params: dict) -> None:
        """Run a statement whose result is not needed (INSERT, UPDATE)."""
        self._execute(conn, self._compiled(conn.dialect), params).close()

    def driver_call(self, dialect: Dialect, params: dict) -> tuple[str, tuple | dict]:
        """The SQL string and the processed values that `params` send to the driver."""
        return self._driver_call(self._compiled(dialect), params)

    @staticmethod
    def _driver_call(compiled: _Compiled, params: dict) -> tuple[str, tuple | dict]:
        values = compiled.compiled.construct_params(params)
        for name, process in compiled.bind_processors.items():
            values[name] = process(values[name])
        if compiled.positions is not None:
            values = tuple(values[name] for name in compiled.positions)
        return compiled.compiled.string, values

    def _execute(self, conn: Connection, compiled: _Compiled, params: dict):
        sql, values = self._driver_call(compiled, params)
        cursor = conn.connection.dbapi_connection.cursor()
        try:
            cursor.execute(sql, values)
        except conn.dialect.loaded_dbapi.Error as error:
            cursor.close()
            raise exc.DBAPIError.instance(sql, values, error,
                                          conn.dialect.loaded_dbapi.Error) from error
        return cursor

    def _compiled(self, dialect: Dialect) -> _Compiled:
        found = self._by_dialect.get(dialect.name)
        if found is None:
            found = self._by_dialect[dialect.name] = _compile(self.statement, dialect)
        return found


def _compile(statement: ClauseElement, dialect: Dialect) -> _Compiled:
    compiled = statement.compile(dialect=dialect)
    bind_processors = {}
    for name, bind in compiled.binds.items():
        process = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if process is not None:
            bind_processors[name] = process
    selected = getattr(statement, "selected_columns", ())
    result_processors = tuple(
        column.type.dialect_impl(dialect).result_processor(dialect, None) for column in selected
    )
    positions = tuple(compiled.positiontup) if compiled.positional else None
    return _Compiled(compiled, positions, bind_processors, result_processors)
