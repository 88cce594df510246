"""Rows for tests that are not what the test is about: accounts and filings in the registry."""

from __future__ import annotations

from sqlmodel import Session

from models import Account, Filing


def make_account(app, *, name="文法学院微信", platform="WX", external_id="wenfa2019",
                 department_id=5, status="active", filing_no="WX-2025-0001", opened=None,
                 admins=("zhangsan",), leader=None) -> int:
    """An account; `leader` is the 负责人 as (userid, name)."""
    details = {"opened": opened} if opened else {}
    if leader:
        details["leader"] = {"userid": leader[0], "name": leader[1], "phone": None}
    with Session(app.extensions["filingbot.engine"]) as session:
        account = Account(name=name, platform=platform, external_id=external_id,
                          department_id=department_id, status=status, filing_no=filing_no,
                          details=details,
                          admin_userids=list(admins))
        session.add(account)
        session.commit()
        return account.id


def make_filing(app, *, kind="register", submitter="zhangsan", department_id=5,
                status="awaiting_dept", fields=None, account_id=None) -> int:
    with Session(app.extensions["filingbot.engine"]) as session:
        filing = Filing(kind=kind, submitter=submitter, department_id=department_id,
                        status=status, fields=fields or {}, account_id=account_id)
        session.add(filing)
        session.commit()
        return filing.id
