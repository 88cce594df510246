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


def test_filings_written_before_0010_get_their_year_platform_and_id_columns(database_url):
    """The 0010 backfill copies each filing's answers into the new columns in SQL, on SQLite and
    PostgreSQL, in id ranges wider than one batch; the downgrade drops them again."""
    import json

    from alembic import command
    from sqlalchemy import text

    from models.filing import filing_columns

    command.downgrade(alembic_config(database_url), "0003_hardening")
    assert "year" not in {c["name"] for c in _columns(database_url, "filing")}
    answers = {
        1: {"year": 2025, "account": {"id": 1, "name": "文法学院"}},
        2: {"platform": "WX", "external_id": "gh_wenfa", "name": "文法学院"},
        3: {"account": {"id": 1}, "new_platform": "WB", "new_external_id": "wenfa2"},
        4: {"year": "2025", "platform": 7, "external_id": "x" * 201},  # not as forms write them
        5: {},
        12_003: {"year": 2024, "platform": "DY", "external_id": "抖音号"},  # a later batch
    }
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            for filing_id, fields in answers.items():
                conn.execute(text(
                    "INSERT INTO filing (id, kind, submitter, fields, status, version, "
                    "created_at, updated_at) VALUES (:id, 'annual', 'lisi', :f, 'approved', 1, "
                    "'2026-12-01 00:00:00+00', '2026-12-01 00:00:00+00')"),
                    {"id": filing_id, "f": json.dumps(fields)})
        upgrade_database(database_url)
        with engine.connect() as conn:
            got = {row.id: {"year": row.year, "platform": row.platform,
                            "external_id": row.external_id}
                   for row in conn.execute(text(
                       "SELECT id, year, platform, external_id FROM filing"))}
        assert got == {filing_id: filing_columns(fields) for filing_id, fields in answers.items()}
        assert got[1] == {"year": 2025, "platform": None, "external_id": None}
        assert got[2] == {"year": None, "platform": "WX", "external_id": "gh_wenfa"}
        assert got[3] == got[4] == got[5] == {"year": None, "platform": None, "external_id": None}
        assert got[12_003] == {"year": 2024, "platform": "DY", "external_id": "抖音号"}
        assert {"ix_filing_kind_year", "ix_filing_platform_external_id"} <= {
            i["name"] for i in _indexes(database_url, "filing")}
        assert schema_differences(database_url) == []
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> list[dict]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_columns(table)
    finally:
        engine.dispose()


def _indexes(url: str, table: str) -> list[dict]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_indexes(table)
    finally:
        engine.dispose()
