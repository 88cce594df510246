"""Reading an export's rows a chunk at a time: one query, streamed (a server-side cursor on
PostgreSQL, SQLite's own stepping cursor), handed out CHUNK rows at a time so that what a
chunk needs besides its rows (people's names, departments, 备案编号) is looked up for that
chunk alone. Memory stays that of one chunk, whatever the number of rows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import select

from models import Department, User

CHUNK = 1000  # rows per chunk (and per fetch from the database)


def chunks(session, query) -> Iterator[Sequence]:
    """The rows of `query`, in order, in lists of at most CHUNK; the cursor is closed when the
    caller stops early."""
    result = session.execute(query.execution_options(yield_per=CHUNK))
    try:
        yield from result.partitions()
    finally:
        result.close()


def department_names(session, ids: Iterable[int | None]) -> dict[int, str]:
    """Department names by id, for the departments given."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(session.execute(select(Department.id, Department.name)
                                .where(Department.id.in_(wanted))).all())


def user_names(session, userids: Iterable[str | None]) -> dict[str, str]:
    """Directory names by userid, for the userids given that the directory knows."""
    wanted = {u for u in userids if u}
    if not wanted:
        return {}
    return dict(session.execute(select(User.userid, User.name)
                                .where(User.userid.in_(wanted))).all())
