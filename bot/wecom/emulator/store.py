"""The emulator's own state (it plays WeCom, a different system): tokens, cards, response codes
and every user's "phone". Kept in its own SQLite file so that several processes (gunicorn
workers, the console) see one WeCom."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import (
    JSON,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    event,
)

from bot.private_files import private_sqlite_file

metadata = MetaData()

tokens = Table(
    "emu_token", metadata,
    Column("token", String(64), primary_key=True),
    Column("expires_at", Float, nullable=False),
)

tasks = Table(
    "emu_task", metadata,
    Column("task_id", String(128), primary_key=True),
    Column("card", JSON, nullable=False),
    Column("recipients", JSON, nullable=False),
    Column("created_at", Float, nullable=False),
)

codes = Table(
    "emu_response_code", metadata,
    Column("code", String(64), primary_key=True),
    Column("task_id", String(128), nullable=False, index=True),
    Column("userid", String(64)),  # set for codes handed out with a click
    Column("created_at", Float, nullable=False),
    Column("used_at", Float),
)

inbox = Table(
    "emu_inbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("userid", String(64), nullable=False, index=True),
    Column("source", String(16), nullable=False),  # api | passive
    Column("msgtype", String(32), nullable=False),
    Column("body", JSON, nullable=False),
    Column("msgid", String(64)),
    Column("task_id", String(128)),
    Column("created_at", Float, nullable=False),
)

card_views = Table(
    "emu_card_view", metadata,
    Column("task_id", String(128), primary_key=True),
    Column("userid", String(64), primary_key=True),
    Column("card", JSON, nullable=False),
    Column("replace_name", Text),  # set once the buttons are greyed out
    Column("updates", Integer, nullable=False, default=0),
)

oauth_codes = Table(
    "emu_oauth_code", metadata,  # codes of the two login links (doc 91022, 98151)
    Column("code", String(128), primary_key=True),
    Column("userid", String(64)),  # a member
    Column("openid", String(64)),  # or someone outside the corp
    Column("created_at", Float, nullable=False),
    Column("used_at", Float),
)

api_calls = Table(
    "emu_api_call", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("endpoint", String(64), nullable=False, index=True),
    Column("errcode", Integer, nullable=False),
    Column("at", Float, nullable=False),
)


def open_store(path: str | Path):
    """Engine for the emulator's SQLite file, schema created if missing."""
    private_sqlite_file(path)  # the sandbox corp's secret and tokens
    engine = create_engine(f"sqlite:///{path}", connect_args={"check_same_thread": False,
                                                              "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        dbapi_connection.execute("PRAGMA journal_mode=WAL")
        dbapi_connection.execute("PRAGMA busy_timeout=30000")

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    metadata.create_all(engine)
    return engine
