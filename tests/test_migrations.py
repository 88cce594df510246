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


def test_a_form_in_progress_keeps_its_dialogue_state_across_the_0004_migration(tmp_path):
    """Forms open while the app is upgraded keep going: the `_` keys of answers move to
    conversation.dialogue under their new names, and back on a downgrade."""
    import json

    from alembic import command
    from sqlalchemy import text

    url = f"sqlite:///{tmp_path / 'dialogue.sqlite'}"
    upgrade_database(url, "0002")
    engine = create_engine(url)
    old = {"platform": "WX", "_dept": 5, "_raw": {"name": "文法"}, "_oneshot": True,
           "_history": ["platform"], "_choice": {"for": "_dept", "options": [["文法学院", 5]]}}
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO conversation (userid, kind, step, answers, version, "
                          "updated_at) VALUES ('lisi', 'register', 'name', :a, 1, "
                          "'2026-12-01 00:00:00')"), {"a": json.dumps(old)})
    upgrade_database(url, "0004")
    with engine.connect() as conn:
        answers, dialogue = conn.execute(text("SELECT answers, dialogue FROM conversation")).one()
    assert json.loads(answers) == {"platform": "WX"}
    assert json.loads(dialogue) == {"department_id": 5, "raw": {"name": "文法"}, "oneshot": True,
                                    "history": ["platform"],
                                    "choice": {"for": "department",
                                               "options": [["文法学院", 5]]}}
    command.downgrade(alembic_config(url), "0002")
    with engine.connect() as conn:
        answers = json.loads(conn.execute(text("SELECT answers FROM conversation")).scalar())
    assert answers["_dept"] == 5 and answers["platform"] == "WX"
    engine.dispose()
