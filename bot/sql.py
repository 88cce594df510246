"""SQL both dialects share, for any layer: INSERT … ON CONFLICT, get-or-create under
concurrency, and named locks (no Flask, no app: plain sessions)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.dialects import postgresql, sqlite


def dialect_insert(session):
    """The INSERT construct of the session's database; both dialects' have ON CONFLICT."""
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


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
