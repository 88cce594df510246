"""The daily jobs read the registry in chunks (issue #16 item 3): the campaign plans and
records a page of accounts at a time, the nudges a batch of waiting filings at a time with their
deciders read once, the digest only the missing accounts it lists. These tests hold the chunked
paths to what the one-pass code did: every reminder once, one message per person."""

from __future__ import annotations

import threading
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlmodel import Session

from bot import reminders
from bot.clock import SHANGHAI, FixedClock
from bot.reminders import daily, plan
from models import Filing, OutboxMessage, ReminderSent
from tests.factories import make_account, make_filing
from workflow.deciders import Preloaded
from workflow.kinds import KINDS, stage_of
from workflow.review import review_progress
from workflow.routing import approvers

CAMPAIGN_DAY = date(2027, 1, 6)  # a Wednesday in the review window: no digest
MONDAY = date(2027, 1, 11)


@pytest.fixture(autouse=True)
def directory_and_roles(runner):
    assert runner.invoke(args=["directory", "sync"]).exit_code == 0
    for userid, role in [("wangwu", "office"), ("zhaoliu", "office")]:
        runner.invoke(args=["roles", "grant", userid, role])


@pytest.fixture
def tiny_chunks(monkeypatch):
    monkeypatch.setattr(plan, "CHUNK", 2)


def run_on(app, clock, day: date):
    clock.at = datetime.combine(day, datetime.min.time(), tzinfo=SHANGHAI) + timedelta(hours=10)
    return reminders.run(app, day)


def spread_accounts(app) -> dict[str, list[str]]:
    """Nine accounts, ids interleaved over three departments: lisi (a member of 文法学院 and
    开放教育学院) keeps six of them, in both departments, so they fall in several chunks."""
    kept = {"lisi": [], "zhangsan": [], "liulei": []}
    for i in range(9):
        admin, department = [("lisi", 5), ("lisi", 8), ("zhangsan", 5), ("liulei", 6),
                             ("lisi", 8), ("lisi", 5)][i % 6]
        name = f"账号{i}"
        make_account(app, name=name, external_id=f"a{i}", filing_no=f"WX-2025-{i:04d}",
                     department_id=department, admins=(admin,))
        kept[admin].append(name)
    return kept


def annual_messages(session, userid: str) -> list[str]:
    """The annual reminders queued for `userid`: texts, and cards by their rows."""
    found = []
    for payload in session.scalars(select(OutboxMessage.payload)):
        if userid not in payload.get("touser", []):
            continue
        if payload["msgtype"] == "text" and "年检提醒" in payload["text"]["content"]:
            found.append(payload["text"]["content"])
        elif payload["msgtype"] == "template_card" and \
                payload["template_card"]["task_id"].startswith("annual-"):
            found.append(" ".join(r["value"] for r in
                                  payload["template_card"]["horizontal_content_list"]))
    return found


def annual_keys(session) -> list[str]:
    return sorted(session.scalars(select(ReminderSent.target)
                                  .where(ReminderSent.kind == "annual")))


def test_an_admin_whose_accounts_span_chunks_and_departments_gets_one_message(
        app, session, clock, tiny_chunks):
    kept = spread_accounts(app)
    report = run_on(app, clock, CAMPAIGN_DAY)
    assert report["annual"] == 9
    assert len(annual_keys(session)) == 9
    for userid, names in kept.items():
        [message] = annual_messages(session, userid)  # one each, whatever the chunks
        assert all(name in message for name in names), (userid, message)
    assert run_on(app, clock, CAMPAIGN_DAY)["messages"] == 0


def test_a_crash_in_the_second_chunk_sends_nothing_and_the_rerun_sends_everything_once(
        app, session, clock, tiny_chunks, monkeypatch):
    kept = spread_accounts(app)
    calls = []
    real_record = daily.record

    def crashing_record(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the process died in the second chunk")
        return real_record(*args, **kwargs)

    monkeypatch.setattr(daily, "record", crashing_record)
    with pytest.raises(RuntimeError):
        run_on(app, clock, CAMPAIGN_DAY)
    assert annual_keys(session) == []  # the first chunk's keys went with the crash
    assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    monkeypatch.setattr(daily, "record", real_record)
    assert run_on(app, clock, CAMPAIGN_DAY)["annual"] == 9
    assert run_on(app, clock, CAMPAIGN_DAY)["messages"] == 0
    assert len(annual_keys(session)) == len(set(annual_keys(session))) == 9
    for userid, names in kept.items():
        [message] = annual_messages(session, userid)
        assert all(message.count(name) == 1 for name in names)


def test_two_runs_at_once_in_chunks_remind_each_account_once(app, session, clock, tiny_chunks):
    kept = spread_accounts(app)
    clock.at = datetime.combine(CAMPAIGN_DAY, datetime.min.time(),
                                tzinfo=SHANGHAI) + timedelta(hours=10)
    reports, errors = [], []

    def run():
        try:
            reports.append(reminders.run(app, CAMPAIGN_DAY))
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert sorted(r.get("annual", 0) for r in reports) == [0, 9]
    assert len(annual_keys(session)) == 9
    for userid in kept:
        assert len(annual_messages(session, userid)) == 1


def test_the_chunked_campaign_plans_what_one_pass_plans(app, session, monkeypatch):
    spread_accounts(app)
    make_account(app, name="已年检", external_id="done", filing_no="WX-2025-0100",
                 admins=("zhangsan",))
    settings = app.config["SETTINGS"]
    with Session(app.extensions["filingbot.engine"]) as s:
        one = list(plan.campaign(s, settings, CAMPAIGN_DAY, chunk=1000))
        tiny = list(plan.campaign(s, settings, CAMPAIGN_DAY, chunk=1))
    assert len(one) == 1 and len(tiny) == 10  # the accounts (零报告 notices: plan.unanswered)
    assert [p.__dict__ for c in one for p in c] == [p.__dict__ for c in tiny for p in c]


# --- nudges --------------------------------------------------------------------------------


def every_stage(app, session) -> list[int]:
    """A filing waiting at every stage of every kind, from submitters who may or may not be
    among its deciders, with accounts kept by their administrators, by heads, or built by
    tech."""
    kept = make_account(app, name="管理员管", external_id="k1", filing_no="WX-2025-0201",
                        admins=("zhangsan", "lisi"))
    orphan = make_account(app, name="无管理员", external_id="k2", filing_no="WX-2025-0202",
                          department_id=6, admins=("gone",))
    built = make_account(app, name="技术代建", external_id="k3", filing_no="WX-2025-0203",
                         department_id=7, admins=("xuli",))
    make_filing(app, kind="apply", submitter="gaofeng", department_id=7, status="done",
                account_id=built)
    ids = []
    for kind in KINDS.values():
        for stage in kind.stages:
            for submitter, department, account in (("zhangsan", 5, kept),
                                                   ("liming", 5, kept),  # the head himself
                                                   ("hanmei", 6, orphan),
                                                   ("wangwu", 7, built),  # an office user
                                                   ("chenyi", 4, None)):  # tech
                ids.append(make_filing(app, kind=kind.name, submitter=submitter,
                                       department_id=department, status=stage.status,
                                       account_id=account))
    return ids


def test_nudges_go_to_the_same_deciders_as_approvers_for_every_stage(app, session, runner):
    runner.invoke(args=["roles", "grant", "zhangwei2", "dept_head", "--department", "6"])
    for userid in ("chenyi", "zhengshi"):
        runner.invoke(args=["roles", "grant", userid, "tech"])
    ids = every_stage(app, session)
    later = FixedClock(datetime(2030, 1, 10, 10, 0, tzinfo=SHANGHAI))
    with Session(app.extensions["filingbot.engine"]) as s:
        filings = s.scalars(select(Filing).where(Filing.id.in_(ids))).all()
        lookup = Preloaded(s)
        for filing in filings:
            stage = stage_of(filing)
            assert approvers(s, filing, stage, lookup=lookup) == approvers(s, filing, stage), \
                (filing.kind, stage.name, filing.submitter)
        planned = plan.nudges(s, later, later.now().date(), batch=3)
        expected = {f"{f.id}:{stage_of(f).name}": approvers(s, f, stage_of(f))
                    for f in filings}
    assert {p.target: p.recipients for p in planned} == \
        {t: r for t, r in expected.items() if r}
    assert {p.kind for p in planned} == {"nudge"} and {p.seq for p in planned} == {1}


def test_batched_nudges_keep_the_rhythm_and_the_escalation(app, session, clock, runner):
    runner.invoke(args=["roles", "grant", "chenyi", "tech"])
    report_id = make_filing(app, kind="report", submitter="zhangsan", department_id=5,
                               status="awaiting_tech")
    session.execute(update(Filing).where(Filing.id == report_id).values(
        updated_at=clock.now()))  # filed now on the test's clock
    start = clock.local_now().date()
    sent = {}
    for days in range(0, 16):
        report = run_on(app, clock, start + timedelta(days=days))
        for kind in ("nudge", "stalled"):
            if report.get(kind):
                sent.setdefault(kind, []).append(days)
    assert sent == {"nudge": [4, 6, 8], "stalled": [10]}
    rows = session.execute(select(ReminderSent.kind, ReminderSent.seq).where(
        ReminderSent.target.like(f"{report_id}:%"))).all()
    assert sorted(rows) == [("nudge", 1), ("nudge", 2), ("nudge", 3), ("stalled", 1)]


# --- the digest ----------------------------------------------------------------------------


def test_the_digest_lists_the_first_twenty_missing_and_counts_them_all(app, session, clock):
    for i in range(25):
        make_account(app, name=f"待交{i:02d}", external_id=f"m{i}", filing_no=f"WX-2025-{i:04d}",
                     department_id=5 + i % 2)
    report = run_on(app, clock, MONDAY)
    assert report["digest"] == 1
    [digest] = [p["text"]["content"] for p in session.scalars(select(OutboxMessage.payload))
                if "周报" in p.get("text", {}).get("content", "")]
    assert "未提交 25" in digest and "……共 25 个" in digest
    assert [f"待交{i:02d}" in digest for i in range(25)] == [True] * 20 + [False] * 5
    with Session(app.extensions["filingbot.engine"]) as s:
        full, cut = review_progress(s, 2026), review_progress(s, 2026, shown=20)
    assert {k: v for k, v in cut.items() if k != "missing"} == \
        {k: v for k, v in full.items() if k != "missing"}
    assert cut["missing"] == full["missing"][:20] and len(full["missing"]) == 25


def test_a_digest_with_few_missing_lists_them_without_a_total(app, session, clock):
    for i in range(3):
        make_account(app, name=f"少量{i}", external_id=f"f{i}", filing_no=f"WX-2025-{i:04d}")
    run_on(app, clock, MONDAY)
    [digest] = [p["text"]["content"] for p in session.scalars(select(OutboxMessage.payload))
                if "周报" in p.get("text", {}).get("content", "")]
    assert all(f"少量{i}" in digest for i in range(3)) and "……共" not in digest


def test_queued_in_bulk_a_message_is_the_row_enqueue_text_and_enqueue_card_write(app, session,
                                                                               clock):
    from bot import outbox

    card = {"card_type": "button_interaction", "task_id": "annual-x", "button_list": []}
    many = [f"u{i}" for i in range(1001)]  # past BATCH_LIMIT: two rows
    with Session(app.extensions["filingbot.engine"]) as s:
        outbox.enqueue_text(s, many, "您好", now=clock.now(), automatic=True)
        outbox.enqueue_card(s, ["zhangsan"], card, now=clock.now(), automatic=True)
        s.commit()
        assert outbox.enqueue_many(s, [
            (many, {"msgtype": "text", "text": {"content": "您好"}}),
            (["zhangsan"], {"msgtype": "template_card", "template_card": card})],
            now=clock.now(), automatic=True) == 3
        s.commit()
    rows = [{k: v for k, v in row._mapping.items() if k != "id"}
            for row in session.execute(select(OutboxMessage.__table__)
                                       .order_by(OutboxMessage.id))]
    assert len(rows) == 6 and rows[:3] == rows[3:]


def test_cards_sent_in_bulk_are_the_cards_rows_and_messages_send_card_writes(app, session,
                                                                              clock,
                                                                              monkeypatch):
    """The nudges' re-sent cards (UnitOfWork.send_cards) against send_card one at a time:
    the same cards (a 变更's old values from its approval's audit entry, else the account
    now), the same Card rows and the same outbox rows."""
    from bot import notify
    from bot.notify import unit_of_work
    from models import AuditLog, Card

    account = make_account(app, name="旧名", external_id="c1", filing_no="WX-2025-0301",
                           admins=("zhangsan",))
    change = {"new_name": "新名", "new_platform": "微博"}
    ids = [make_filing(app, kind="change", fields=change, account_id=account),  # pending
           make_filing(app, kind="change", fields=change, account_id=account),  # applied
           make_filing(app, kind="register", fields={"name": "某号"}),
           make_filing(app, kind="change", fields=change, account_id=None)]
    session.add_all([AuditLog(actor="x", action="account:change", filing_id=ids[1],
                              before={"name": "更早", "platform": "抖音"}, after={}),
                     AuditLog(actor="x", action="account:change", filing_id=ids[1],
                              before={"name": "最早", "platform": "B站"}, after={})])
    session.commit()
    counter = iter(range(10_000))
    monkeypatch.setattr(notify.secrets, "token_hex", lambda n: f"{next(counter):012d}")

    def written(bulk: bool) -> tuple[list, list]:
        with unit_of_work(app) as job:
            filings = job.session.scalars(select(Filing).where(Filing.id.in_(ids))
                                          .order_by(Filing.id)).all()
            cards = [(f, stage_of(f), ["lisi", f"u{f.id}"]) for f in filings]
            if bulk:
                job.send_cards(cards)
            else:
                for card in cards:
                    job.send_card(*card)
            job.commit()
            assert job.enqueued == len(ids)
        columns = lambda table: [{k: v for k, v in row._mapping.items() if k != "id"}  # noqa
                                 for row in session.execute(select(table)
                                                            .order_by(table.c.id))]
        rows = columns(Card.__table__), columns(OutboxMessage.__table__)
        session.execute(Card.__table__.delete())
        session.execute(OutboxMessage.__table__.delete())
        session.commit()
        return rows

    one_by_one = written(bulk=False)
    counter = iter(range(10_000))
    in_bulk = written(bulk=True)
    assert len(one_by_one[0]) == len(one_by_one[1]) == len(ids)
    shown = [row["payload"]["template_card"] for row in one_by_one[1]]
    assert "更早" not in str(shown) and "最早" in str(shown) and "旧名" in str(shown)
    assert in_bulk == one_by_one
