"""bot.direct_sql: statements run on the DBAPI connection send the driver what SQLAlchemy would,
and read and write what the ORM does."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, event, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from bot.direct_sql import DirectStatement
from bot.wecom import inbound
from models import QUESTION_PREFIX, Conversation, InboundEvent, KeyValue, User

SHANGHAI = timezone(timedelta(hours=8))
INSERT_EVENT = DirectStatement(insert(InboundEvent).values(
    dedup_key=bindparam("key"), userid=bindparam("userid"), reply=bindparam("reply"),
    received_at=bindparam("at", type_=InboundEvent.__table__.c.received_at.type),
))
SELECT_USER = DirectStatement(
    select(User.name, User.looked_up, User.synced_at).where(User.userid == bindparam("userid")))


def test_a_row_written_directly_reads_back_through_the_orm(engine):
    at = datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI)
    with engine.begin() as conn:
        INSERT_EVENT.execute(conn, {"key": "msg:1", "userid": "zhangsan",
                                    "reply": "<xml>回复</xml>", "at": at})
    with Session(engine) as session:
        row = session.scalars(select(InboundEvent)).one()
    assert (row.dedup_key, row.userid, row.reply) == ("msg:1", "zhangsan", "<xml>回复</xml>")
    assert row.received_at == at and row.received_at.tzinfo is not None


def test_a_row_written_by_the_orm_reads_back_directly_with_its_types(engine):
    synced = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with Session(engine) as session:
        session.add(User(userid="lisi", name="李四", looked_up=True, synced_at=synced))
        session.commit()
    with engine.connect() as conn:
        assert SELECT_USER.first(conn, {"userid": "lisi"}) == ("李四", True, synced)
        assert SELECT_USER.first(conn, {"userid": "nobody"}) is None


def test_a_duplicate_key_raises_sqlalchemys_integrity_error_and_writes_nothing(engine):
    at = datetime.now(timezone.utc)
    with engine.connect() as conn:
        with conn.begin():
            INSERT_EVENT.execute(conn, {"key": "k", "userid": "a", "reply": "1", "at": at})
        with pytest.raises(IntegrityError), conn.begin():
            INSERT_EVENT.execute(conn, {"key": "k", "userid": "b", "reply": "2", "at": at})
        # The connection is usable afterwards.
        with conn.begin():
            INSERT_EVENT.execute(conn, {"key": "k2", "userid": "c", "reply": "3", "at": at})
    with Session(engine) as session:
        rows = session.execute(select(InboundEvent.dedup_key, InboundEvent.reply)
                               .order_by(InboundEvent.dedup_key)).all()
    assert rows == [("k", "1"), ("k2", "3")]


def test_execute_joins_the_connections_transaction(engine):
    at = datetime.now(timezone.utc)
    with engine.connect() as conn:
        conn.begin()
        INSERT_EVENT.execute(conn, {"key": "rolled-back", "userid": "a", "reply": "", "at": at})
        conn.rollback()
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(InboundEvent)) == 0


def test_a_naive_datetime_is_refused_by_the_column_type(engine):
    with engine.begin() as conn, pytest.raises(Exception, match="naive datetime"):
        INSERT_EVENT.execute(conn, {"key": "k", "userid": "a", "reply": "",
                                    "at": datetime(2026, 1, 1)})


def test_a_statement_in_a_transaction_of_its_own_commits_and_leaves_none(engine):
    at = datetime.now(timezone.utc)
    with engine.connect() as conn:
        with conn.begin():
            INSERT_EVENT.execute(conn, {"key": "alone", "userid": "a", "reply": "r", "at": at})
        assert not conn.in_transaction()
        with engine.connect() as other:  # another connection sees it: it is committed
            assert other.scalar(select(func.count()).select_from(InboundEvent)) == 1


def test_a_duplicate_in_a_transaction_of_its_own_raises_and_frees_the_write_lock(engine):
    at = datetime.now(timezone.utc)
    with engine.connect() as conn:
        with conn.begin():
            INSERT_EVENT.execute(conn, {"key": "k", "userid": "a", "reply": "1", "at": at})
        with pytest.raises(IntegrityError), conn.begin():
            INSERT_EVENT.execute(conn, {"key": "k", "userid": "b", "reply": "2", "at": at})

        def other_writer():
            with engine.begin() as other:
                INSERT_EVENT.execute(other, {"key": "k2", "userid": "c", "reply": "3", "at": at})

        writer = threading.Thread(target=other_writer)
        writer.start()
        writer.join(timeout=10)
        assert not writer.is_alive(), "the write lock was not released"
        with conn.begin():
            INSERT_EVENT.execute(conn, {"key": "k3", "userid": "d", "reply": "4", "at": at})
    with Session(engine) as session:
        rows = session.execute(select(InboundEvent.dedup_key, InboundEvent.reply)
                               .order_by(InboundEvent.dedup_key)).all()
    assert rows == [("k", "1"), ("k2", "3"), ("k3", "4")]


# The statements the callback runs on the DBAPI connection (bot.wecom.inbound), with values of
# every type they bind: whatever SQLAlchemy sends the driver for them, DirectStatement must too.
CALLBACK_STATEMENTS = {
    "sender": (inbound.SENDER_QUERY, {"userid": "zhangsan"}),
    "inbound key": (inbound.INSERT_INBOUND, {
        "dedup_key": "msg:1", "userid": "zhangsan", "reply": "<xml>回复</xml>",
        "received_at": datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=SHANGHAI)}),
    "stored reply": (inbound.STORED_REPLY, {"key": "msg:1"}),
}


@pytest.mark.parametrize("name", CALLBACK_STATEMENTS)
def test_the_driver_gets_what_sqlalchemy_itself_would_send(engine, name):
    """Fails first when an SQLAlchemy upgrade changes how a statement is compiled or bound."""
    direct, params = CALLBACK_STATEMENTS[name]
    sent = []

    def capture(_conn, _cursor, statement, parameters, _context, _executemany):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", capture)
    try:
        with engine.connect() as conn:
            conn.begin()
            conn.execute(direct.statement, params)
            conn.rollback()
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    sql, values = direct.driver_call(engine.dialect, params)
    expected_sql, expected_values = sent[-1]
    assert sql == expected_sql
    assert values == expected_values
    assert type(values) is type(expected_values)


def test_rows_read_directly_equal_those_sqlalchemy_reads(engine):
    """The result processors applied by DirectStatement.first are SQLAlchemy's own."""
    synced = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    with Session(engine) as session:
        session.add(User(userid="zhangsan", name="张三", looked_up=True, synced_at=synced))
        session.add(Conversation(userid="zhangsan", kind="test", answers={}))
        session.add(KeyValue(key=QUESTION_PREFIX + "zhangsan", value="reason"))
        session.commit()
    insert_key, key_params = CALLBACK_STATEMENTS["inbound key"]
    with engine.begin() as conn:
        insert_key.execute(conn, key_params)
    for name in ("sender", "stored reply"):
        direct, params = CALLBACK_STATEMENTS[name]
        with engine.connect() as conn:
            row = conn.execute(direct.statement, params).first()
            conn.rollback()
            found = direct.first(conn, params)
        assert found == tuple(row)
        assert [type(value) for value in found] == [type(value) for value in row]
        assert None not in found
    assert found == ("<xml>回复</xml>",)
