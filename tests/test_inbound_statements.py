"""The callback's own statements (bot.wecom.inbound) and its read-only transaction (bot.db.reading)
read and write what the ORM does, and hold SQLite's write lock only while writing."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.db import reading
from bot.wecom.inbound import INSERT_INBOUND, SENDER_QUERY, STORED_REPLY
from models import InboundEvent, User

SHANGHAI = timezone(timedelta(hours=8))


def _event(key: str, reply: str = "", at: datetime | None = None) -> dict:
    return {"dedup_key": key, "userid": "zhangsan", "reply": reply,
            "received_at": at or datetime.now(timezone.utc)}


def _keys(engine) -> list[tuple[str, str]]:
    with Session(engine) as session:
        return session.execute(select(InboundEvent.dedup_key, InboundEvent.reply)
                               .order_by(InboundEvent.dedup_key)).all()


def test_the_inbound_key_reads_back_through_the_orm_with_its_time_zone(engine):
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI)
    with engine.begin() as conn:
        conn.execute(INSERT_INBOUND, _event("msg:1", "<xml>回复</xml>", at))
    with Session(engine) as session:
        row = session.scalars(select(InboundEvent)).one()
    assert (row.dedup_key, row.userid, row.reply) == ("msg:1", "zhangsan", "<xml>回复</xml>")
    assert row.received_at == at and row.received_at.tzinfo is not None
    with engine.connect() as conn, reading(conn):
        assert conn.execute(STORED_REPLY, {"key": "msg:1"}).first() == ("<xml>回复</xml>",)


def test_the_sender_query_reads_what_the_orm_wrote_with_its_types(engine):
    synced = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with Session(engine) as session:
        session.add(User(userid="lisi", name="李四", looked_up=True, synced_at=synced))
        session.commit()
    with engine.connect() as conn, reading(conn):
        assert conn.execute(SENDER_QUERY, {"userid": "lisi"}).first() == (
            "lisi", "李四", True, synced, None, None)
        assert conn.execute(SENDER_QUERY, {"userid": "nobody"}).first() is None


def test_a_naive_datetime_is_refused_by_the_column_type(engine):
    with engine.begin() as conn, pytest.raises(Exception, match="naive datetime"):
        conn.execute(INSERT_INBOUND, _event("k", at=datetime(2026, 1, 1)))


def test_a_duplicate_key_in_its_own_transaction_raises_and_frees_the_write_lock(engine):
    with engine.connect() as conn:
        with conn.begin():
            conn.execute(INSERT_INBOUND, _event("k", "1"))
        with pytest.raises(IntegrityError), conn.begin():
            conn.execute(INSERT_INBOUND, _event("k", "2"))
        assert not conn.in_transaction()

        def other_writer():
            with engine.begin() as other:
                other.execute(INSERT_INBOUND, _event("k2", "3"))

        writer = threading.Thread(target=other_writer)
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive(), "the write lock was not released"
        with conn.begin():
            conn.execute(INSERT_INBOUND, _event("k3", "4"))
    assert _keys(engine) == [("k", "1"), ("k2", "3"), ("k3", "4")]


def test_a_read_holds_no_write_lock_and_ends_its_transaction(engine):
    with engine.connect() as conn:
        with reading(conn):
            conn.execute(SENDER_QUERY, {"userid": "zhangsan"}).first()

            def other_writer():
                with engine.begin() as other:
                    other.execute(INSERT_INBOUND, _event("written-meanwhile"))

            writer = threading.Thread(target=other_writer)
            writer.start()
            writer.join(timeout=10)
            assert not writer.is_alive(), "a read held the write lock"
        assert not conn.in_transaction()
        assert not conn.get_execution_options().get("read_only")
        with conn.begin():  # the next transaction on the connection is a writing one again
            conn.execute(INSERT_INBOUND, _event("after"))
    assert [key for key, _ in _keys(engine)] == ["after", "written-meanwhile"]
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(InboundEvent)) == 2
