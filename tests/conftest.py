"""Fixtures: a real database (a fresh SQLite file per test, or PostgreSQL when DATABASE_URL
names one), the WeCom emulator over real HTTP, the app wired to both, and a movable clock."""

from __future__ import annotations

import os
import shutil
from datetime import datetime

import pytest
from sqlalchemy import create_engine, text
from sqlmodel import Session, SQLModel

import models  # noqa: F401
from bot import create_app
from bot.clock import SHANGHAI, FixedClock
from bot.db import upgrade_database
from bot.wecom.emulator import Emulator
from tests.wecom import (
    AES_KEY,
    AGENT_ID,
    CORP_ID,
    SECRET,
    TOKEN,
    WEB_SECRET_KEY,
    EmulatorServer,
    WeComActions,
)

PG_URL = os.environ.get("DATABASE_URL", "")
if PG_URL.startswith("postgresql://"):
    PG_URL = "postgresql+psycopg://" + PG_URL[len("postgresql://"):]
USE_PG = PG_URL.startswith("postgresql")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory):
    """The schema, built once per run by the real Alembic migration."""
    if USE_PG:
        engine = create_engine(PG_URL)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
        upgrade_database(PG_URL)
        return PG_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite"
    upgrade_database(f"sqlite:///{path}")
    return path


@pytest.fixture
def database_url(migrated_template, tmp_path):
    """A database with the migrated schema and no rows."""
    if USE_PG:
        yield PG_URL
        engine = create_engine(PG_URL)
        tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return
    path = tmp_path / "filingbot.sqlite"
    shutil.copy(migrated_template, path)
    yield f"sqlite:///{path}"


@pytest.fixture
def clock():
    return FixedClock(datetime(2026, 11, 25, 10, 0, tzinfo=SHANGHAI))


@pytest.fixture
def emulator(tmp_path, clock):
    return Emulator(store_path=str(tmp_path / "emulator.sqlite"), corp_id=CORP_ID, secret=SECRET,
                    agent_id=AGENT_ID, token=TOKEN, aes_key=AES_KEY,
                    clock=lambda: clock.now().timestamp())


@pytest.fixture
def emulator_server(emulator):
    server = EmulatorServer(emulator)
    yield server
    server.stop()


@pytest.fixture
def app_env(database_url, emulator_server):
    """The environment of a real (non-sandbox) deployment pointed at the emulator."""
    return {
        "DATABASE_URL": database_url,
        "WECOM_CORP_ID": CORP_ID,
        "WECOM_AGENT_ID": str(AGENT_ID),
        "WECOM_SECRET": SECRET,
        "WECOM_TOKEN": TOKEN,
        "WECOM_AES_KEY": AES_KEY,
        "WECOM_API_BASE": emulator_server.api_base,
        "SECRET_KEY": WEB_SECRET_KEY,
    }


@pytest.fixture
def app(app_env, clock):
    app = create_app({"ENV": app_env, "CLOCK": clock, "OUTBOX_THREAD": False})
    yield app
    app.extensions["filingbot.engine"].dispose()


@pytest.fixture
def engine(database_url):
    """The app's own engine for the test database (SQLite write lock, pool settings)."""
    from bot.db import make_engine

    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session(database_url):
    """A session for assertions: autocommit, so it never holds a lock or a stale snapshot."""
    engine = create_engine(database_url, isolation_level="AUTOCOMMIT")
    with Session(engine) as session:
        yield session
    engine.dispose()


@pytest.fixture
def wecom(app, emulator):
    return WeComActions(app, emulator)


@pytest.fixture
def runner(app):
    return app.test_cli_runner()
