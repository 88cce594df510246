"""The Alembic migrations build exactly the schema the models describe, and step both ways."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect
from sqlmodel import SQLModel

import models  # noqa: F401  (registers every table on SQLModel.metadata)
from bot.db import alembic_config, upgrade_database


def schema_differences(url: str) -> list:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            return compare_metadata(context, SQLModel.metadata)
    finally:
        engine.dispose()


def inbound_indexes(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        return {index["name"] for index in inspect(engine).get_indexes("inboundevent")}
    finally:
        engine.dispose()


def test_the_migrated_schema_matches_the_models(database_url):
    assert schema_differences(database_url) == []


def test_migrations_downgrade_and_upgrade_again(tmp_path):
    from alembic import command

    url = f"sqlite:///{tmp_path / 'steps.sqlite'}"
    upgrade_database(url)
    assert "ix_inboundevent_received_at" not in inbound_indexes(url)
    command.downgrade(alembic_config(url), "0001")
    assert "ix_inboundevent_received_at" in inbound_indexes(url)
    upgrade_database(url)
    assert schema_differences(url) == []
