"""A filing's year, platform and external_id columns follow its answers (models.filing): on
every ORM insert and update, a resubmission's new answers included; a 变更's requested new
platform and ID are not the filing's own."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlmodel import Session

from models import Filing


def columns(database_url, filing_id):
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            return tuple(conn.execute(text("SELECT year, platform, external_id FROM filing "
                                           "WHERE id = :id"), {"id": filing_id}).one())
    finally:
        engine.dispose()


def test_the_columns_follow_the_answers_on_insert_and_on_update(database_url):
    engine = create_engine(database_url)
    with Session(engine) as session:
        register = Filing(kind="register", submitter="zhangsan", status="awaiting_dept",
                          fields={"platform": "WX", "external_id": "wenfa2019", "name": "文法"})
        annual = Filing(kind="annual", submitter="zhangsan", status="awaiting_dept",
                        fields={"account": {"id": 1}, "year": 2025})
        change = Filing(kind="change", submitter="zhangsan", status="awaiting_dept",
                        fields={"account": {"id": 1}, "new_platform": "WB",
                                "new_external_id": "wenfa2"})
        session.add_all([register, annual, change])
        session.commit()
        ids = register.id, annual.id, change.id
        assert columns(database_url, ids[0]) == (None, "WX", "wenfa2019")
        assert columns(database_url, ids[1]) == (2025, None, None)
        assert columns(database_url, ids[2]) == (None, None, None)
        # resubmitted with new answers (workflow.submit replaces `fields`)
        register.fields = {**register.fields, "external_id": "wenfa2020"}
        annual.fields = {"account": {"id": 1}, "year": 2024}
        session.commit()
    engine.dispose()
    assert columns(database_url, ids[0]) == (None, "WX", "wenfa2020")
    assert columns(database_url, ids[1]) == (2024, None, None)
