"""待办 in SQL (workflow.queries.waiting_for) finds exactly what the routing rules say waits for
each member: every kind at every stage, in several departments, filed by staff, by a head and by
the office, closures kept by an administrator, by one who left, by tech and by the heads."""

from __future__ import annotations

import pytest
from sqlalchemy import select, update
from sqlmodel import Session

from bot.wecom.emulator.directory import DEMO_GRANTS, DEMO_USERS
from models import Filing, FilingStatus, User
from tests.factories import make_account, make_filing
from tests.wecom import sync_and_grant
from workflow.kinds import KINDS
from workflow.routing import approvers
from workflow.waiting import waiting_for, waiting_page


@pytest.fixture
def registry(app, runner):
    sync_and_grant(runner, DEMO_GRANTS)
    assert runner.invoke(args=["roles", "grant", "lisi", "dept_head", "--department", "8"]) \
        .exit_code == 0
    with Session(app.extensions["filingbot.engine"]) as session:
        session.execute(update(User).where(User.userid == "liulei").values(active=False))
        session.commit()
    accounts = {
        "kept": make_account(app, department_id=5, admins=("zhangsan",)),
        "left": make_account(app, name="经管号", external_id="jg1", filing_no="WX-2025-0002",
                             department_id=6, admins=("liulei",)),
        "built": make_account(app, name="文法新声", external_id="wf2", filing_no="WX-2025-0003",
                              department_id=5, admins=("lisi",)),
        "nobody": make_account(app, name="开放号", external_id="kf1", filing_no="WX-2025-0004",
                               department_id=8, admins=()),
    }
    make_filing(app, kind="apply", status="approved", account_id=accounts["built"],
                fields={"platform": "WX", "name": "文法新声"})
    for kind in KINDS.values():
        for stage in kind.stages:
            for department_id, submitter in ((5, "zhangsan"), (5, "liming"), (6, "liulei"),
                                             (8, "wangwu"), (None, "chenyi")):
                # no account for the others: an `apply` of one would make tech its keeper
                for account_id in (accounts.values() if stage.deciders == "account_keepers"
                                   else (None,)):
                    make_filing(app, kind=kind.name, status=stage.status, submitter=submitter,
                                department_id=department_id, account_id=account_id,
                                fields={"account": {"id": account_id}})
    make_filing(app, kind="register", status="approved")  # decided: waits for nobody
    return accounts


@pytest.mark.parametrize("userid", sorted(u[0] for u in DEMO_USERS))
def test_waiting_for_is_what_the_routing_rules_say(app, registry, userid):
    with Session(app.extensions["filingbot.engine"]) as session:
        expected = []
        for filing in session.scalars(select(Filing).where(
                Filing.status.in_(FilingStatus.waiting_ones())).order_by(Filing.id)):
            stage = KINDS[filing.kind].stage_at(filing.status)
            if userid in approvers(session, filing, stage):
                expected.append((filing.id, stage.name))
        assert [(f.id, s.name) for f, s in waiting_for(session, userid)] == expected
        page, total = waiting_page(session, userid, 3)
        assert ([f.id for f, _ in page], total) == ([i for i, _ in expected[:3]], len(expected))
        among = [i for i, _ in expected[1::2]] + [-1]
        assert [f.id for f, _ in waiting_for(session, userid, among=among)] == among[:-1]


def test_the_rules_are_exercised_for_every_kind_of_decider(app, registry):
    """The fixture gives each kind of decider something (else the test above proves little)."""
    with Session(app.extensions["filingbot.engine"]) as session:
        found = {u: {s.deciders for _, s in waiting_for(session, u)}
                 for u in ("liming", "hanmei", "lisi", "wangwu", "chenyi", "zhangsan")}
    assert "dept_heads" in found["liming"] and "account_keepers" in found["hanmei"]
    assert "account_keepers" in found["lisi"] and "dept_heads" in found["lisi"]
    assert "office" in found["wangwu"] and {"tech", "account_keepers"} <= found["chenyi"]
    assert found["zhangsan"] == {"account_keepers"}


def test_waiting_page_lists_the_longest_waiting_first_and_counts_them_all(app, registry):
    """待办's page is the oldest by submission (not by id: a filing imported or written late
    may be older than its id says), with the total counted in the same statement."""
    with Session(app.extensions["filingbot.engine"]) as session:
        ids = [f.id for f, _ in waiting_for(session, "wangwu")]
        newest = session.get(Filing, ids[-1])
        oldest = min(session.get(Filing, i).created_at for i in ids)
        newest.created_at = oldest.replace(year=oldest.year - 1)
        session.commit()
        page, total = waiting_page(session, "wangwu", 3)
        assert ([f.id for f, _ in page], total) == ([ids[-1], *ids[:2]], len(ids))
        assert waiting_page(session, "nobody-at-all", 3) == ([], 0)
