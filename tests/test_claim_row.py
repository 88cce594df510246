"""bot.db.claim_row: get-or-create that two transactions can run at once."""

from __future__ import annotations

import threading
import time

from sqlmodel import Session

from bot.sql import claim_row
from models import KeyValue


def test_a_second_writer_of_a_missing_row_waits_and_then_updates_it(engine):
    first_claimed = threading.Event()
    errors = []

    def first():
        with Session(engine) as session:
            claim_row(session, KeyValue, key="page:zhangsan", value="").value = "first"
            session.flush()
            first_claimed.set()
            time.sleep(0.5)  # the row exists but is not committed while the second arrives
            session.commit()

    def second():
        first_claimed.wait(timeout=5)
        with Session(engine) as session:
            row = claim_row(session, KeyValue, key="page:zhangsan", value="")
            row.value += "+second"
            session.commit()

    def run(job):
        try:
            job()
        except Exception as exc:  # reported below, with the thread's own error
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    with Session(engine) as session:
        assert session.get(KeyValue, "page:zhangsan").value == "first+second"


def test_an_existing_row_is_returned_unchanged_for_the_caller_to_update(engine):
    with Session(engine) as session:
        claim_row(session, KeyValue, key="k", value="kept")
        session.commit()
    with Session(engine) as session:
        row = claim_row(session, KeyValue, key="k", value="ignored")
        assert row.value == "kept"
