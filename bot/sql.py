"""SQL both dialects share, for any layer: INSERT … ON CONFLICT, many rows in one INSERT,
get-or-create under concurrency, and named locks (no Flask, no app: plain sessions)."""

from __future__ import annotations

import json

from sqlalchemy import (
    JSON,
    String,
    Text,
    TypeDecorator,
    bindparam,
    cast,
    func,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(session):
    """The INSERT construct of the session's database; both dialects' have ON CONFLICT."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def insert_many(session, table, varying: dict[str, list], constant: dict):
    """(an INSERT of the session's dialect, its parameters) for many rows of `table`: each
    `varying` column one list of values (same length), each `constant` column one value.
    Add ON CONFLICT / RETURNING to the statement, then execute it on the session's
    connection.

    PostgreSQL: INSERT … SELECT FROM json_array_elements(the rows as one JSON parameter),
    which psycopg sends as it is. SQLAlchemy's multi-row VALUES for thousands of rows costs
    psycopg a parse of every placeholder (3.5 s of a 20 s campaign for 14,630 outbox rows);
    an array parameter per column (unnest) costs it an escape of every element (1.6 s of the
    campaign's 87,000 reminder keys and 14,630 payloads). SQLite: the same from json_each
    (sqlite_insert_many)."""
    if session.get_bind().dialect.name != "postgresql":
        return sqlite_insert_many(table, varying, constant)
    rows = json_text([list(row) for row in zip(*varying.values(), strict=True)])
    source = func.json_array_elements(cast(bindparam("rows", rows, type_=Text), JSON)) \
        .table_valued("value").render_derived(name="r")
    selected = [json_element(source.c.value, i, table.c[name].type)
                for i, name in enumerate(varying)]
    selected += [bindparam(f"const_{name}", value, type_=table.c[name].type)
                 for name, value in constant.items()]
    return postgresql.insert(table).from_select([*varying, *constant], select(*selected)), {}


def json_element(row, index: int, type_):
    """PostgreSQL: item `index` of a JSON array `row` for a column of `type_`: JSON as it is,
    text as text (so a VARCHAR column still refuses a value too long, as a CAST would
    truncate it), anything else cast from its text."""
    position = literal_column(str(index))
    if isinstance(type_, JSON):
        return row.op("->", return_type=JSON)(position)
    item = row.op("->>", return_type=Text)(position)
    return item if is_text(type_) else cast(item, type_)


def is_text(type_) -> bool:
    """Whether a column type holds text (VARCHAR, and SQLModel's or our own types over it)."""
    if isinstance(type_, TypeDecorator):
        type_ = type_.impl_instance
    return isinstance(type_, String)


def sqlite_insert_many(table, varying: dict[str, list], constant: dict):
    """SQLite: INSERT … SELECT FROM json_each(the rows as one JSON array of arrays): one
    parameter, not one bound value per row and column."""
    rows = json_text([list(row) for row in zip(*varying.values(), strict=True)])
    source = func.json_each(bindparam("rows", rows)).table_valued("value")
    selected = [func.json_extract(source.c.value, f"$[{i}]") for i in range(len(varying))]
    # a JSON column takes the value's JSON text (json_quote keeps an array or object as it
    # is, and quotes a string json_extract returned bare)
    selected = [func.json_quote(value) if isinstance(table.c[name].type, JSON) else value
                for name, value in zip(varying, selected, strict=True)]
    selected += [bindparam(f"const_{name}", value, type_=table.c[name].type)
                 for name, value in constant.items()]
    # WHERE: SQLite reads an ON after INSERT … SELECT … FROM as the join's, not ON CONFLICT
    return (sqlite.insert(table).from_select([*varying, *constant],
                                             select(*selected).where(true())), {})


def json_text(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def lock_name(session, name: str) -> None:
    """Serialize the transactions that take the same named lock until they end (PostgreSQL
    advisory lock; SQLite's writers are serialized already by BEGIN IMMEDIATE)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def claim_row(session, model, **values):
    """The row of `model` whose primary key is in `values`, inserted with `values` if missing,
    then locked for this transaction.

    Get-or-create with `session.get(...) or Model(...)` lets two transactions that both miss the
    row insert it, and the later fails on the key (PostgreSQL; SQLite serializes writers). Here
    the later one waits for the first to commit and then updates the same row."""
    keys = [column.name for column in model.__table__.primary_key.columns]
    session.execute(dialect_insert(session)(model).values(**values)
                    .on_conflict_do_nothing(index_elements=keys))
    identity = tuple(values[key] for key in keys)
    return session.get(model, identity[0] if len(identity) == 1 else identity,
                       with_for_update=True, populate_existing=True)
