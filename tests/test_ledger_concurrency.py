"""The import among other writers: a dry run takes no write lock (SQLite), and a change made to
the registry between the import's check and its write aborts the whole import (PostgreSQL, where
the two can interleave; SQLite's import holds the only write lock from its first read)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from bot.notify import unit_of_work
from models import Account, AuditLog
from tests.conftest import USE_PG
from tests.factories import make_account
from tests.ledger_files import ledger_bytes
from tests.wecom import sync_and_grant
from workflow.ledger import importing
from workflow.uow import Actor

ROWS = [["微信公众号", "文法学院微信", "wenfa2019", "", "李明", "张三", "", "", "文法学院", ""],
        ["微信公众号", "理工学院", "ligong2020", "", "高峰", "徐丽", "", "", "理工学院", ""]]


@pytest.fixture(autouse=True)
def directory(runner):
    sync_and_grant(runner, [])


@pytest.mark.skipif(USE_PG, reason="SQLite's write lock")
def test_a_dry_run_reads_while_another_transaction_writes(app, runner, tmp_path):
    path = tmp_path / "x.xlsx"
    path.write_bytes(ledger_bytes(ROWS))
    engine = app.extensions["filingbot.engine"]
    with engine.connect() as writer:
        writer.begin()  # BEGIN IMMEDIATE: holds the database's write lock
        writer.execute(update(Account).values(name="x"))
        result = runner.invoke(args=["accounts", "import", str(path), "--dry-run"])
        writer.rollback()
    assert result.exit_code == 0 and "新增 2" in result.output


@pytest.mark.skipif(not USE_PG, reason="needs PostgreSQL: SQLite serializes the two writers")
@pytest.mark.parametrize("meanwhile", ["account changed", "same ID registered"])
def test_a_change_between_check_and_write_aborts_the_import(app, session, monkeypatch,
                                                           meanwhile):
    make_account(app)  # 文法学院微信 / wenfa2019, no people yet: the import updates it
    original = importing.check

    def check_then_someone_writes(*args, **kwargs):
        report = original(*args, **kwargs)
        with Session(app.extensions["filingbot.engine"]) as other:
            if meanwhile == "account changed":
                other.execute(update(Account).values(name="改过的名字"))
            else:
                other.add(Account(platform="WX", name="抢先", external_id="ligong2020",
                                  department_id=7, status="active"))
            other.commit()
        return report

    monkeypatch.setattr(importing, "check", check_then_someone_writes)
    with unit_of_work(app, actor=Actor("wangwu", "王五")) as uow:
        report = importing.run_import(uow, ledger_bytes(ROWS), "x.xlsx", dry_run=False)
    assert report.error and "本次导入已全部撤销，没有写入任何内容" in report.error
    assert session.scalar(select(func.count()).select_from(AuditLog)) == 0
    assert session.scalar(select(func.count()).select_from(Account)) == \
        (1 if meanwhile == "account changed" else 2)
