"""Benchmark of the daily reminder job: 10,000 active accounts in 300 departments.

Measures `bot.reminders.run` for the first Monday of the review window (reminders to every
administrator, the 零报告 notice, the office digest) on a fresh SQLite file, then a rerun of the
same day (which must queue nothing), and reports how many WeCom calls the queued outbox rows
lead to (one message/send per row; a row carries up to 1000 recipients).

Baseline, measured in the same run because the machine is shared and noisy: reading the same
10,000 accounts and inserting 10,000 rows with plain SQLAlchemy Core, the least the job must do.

    python bench/reminders.py [--accounts 10000] [--departments 300] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402
from sqlmodel import Session  # noqa: E402

from bot.clock import SHANGHAI, FixedClock  # noqa: E402


def build(accounts: int, departments: int) -> tuple[object, str]:
    """An app on a fresh SQLite file holding the synthetic registry."""
    from bot import create_app
    from bot.db import upgrade_database
    from models import Account, Department, Membership, RoleGrant, User

    folder = tempfile.mkdtemp(prefix="filingbot-bench-")
    url = f"sqlite:///{folder}/bench.sqlite"
    upgrade_database(url)
    env = {"DATABASE_URL": url, "OUTBOX_THREAD": "0"}
    clock = FixedClock(datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI))
    app = create_app({"ENV": env, "CLOCK": clock, "OUTBOX_THREAD": False})
    engine = app.extensions["filingbot.engine"]
    per_dept_staff = 10
    with engine.begin() as conn:
        conn.execute(insert(Department), [{"id": d, "name": f"部门{d}", "parent_id": 1,
                                           "sort_order": d, "synced_at": clock.now()}
                                          for d in range(2, departments + 2)])
        users, members = [], []
        for d in range(2, departments + 2):
            for s in range(per_dept_staff):
                userid = f"u{d}_{s}"
                users.append({"userid": userid, "name": f"成员{d}-{s}", "position": "",
                              "active": True, "looked_up": True, "synced_at": clock.now()})
                members.append({"userid": userid, "department_id": d, "is_leader": s == 0})
        conn.execute(insert(User), users)
        conn.execute(insert(Membership), members)
        conn.execute(insert(RoleGrant), [{"userid": "u2_1", "role": "office", "department_id": 0,
                                          "granted_by": "bench", "granted_at": clock.now()}])
        rows = []
        for i in range(accounts):
            d = 2 + i % departments
            rows.append({"platform": "WX", "name": f"账号{i}", "external_id": f"acc{i}",
                         "department_id": d, "status": "active",
                         "filing_no": f"WX-2025-{i:05d}", "details": {},
                         "admin_userids": [f"u{d}_{1 + i % (per_dept_staff - 1)}"], "version": 1,
                         "created_at": clock.now(), "updated_at": clock.now()})
        conn.execute(insert(Account), rows)
    return app, url


def baseline(app, accounts: int) -> float:
    """Seconds to read the accounts and write as many rows with plain Core (then undone)."""
    from models import Account, KeyValue

    engine = app.extensions["filingbot.engine"]
    started = time.perf_counter()
    with engine.connect() as conn:
        ids = conn.execute(select(Account.id, Account.admin_userids)
                           .where(Account.status == "active")).all()
        conn.execute(insert(KeyValue), [{"key": f"bench:{i}", "value": str(a)} for i, a in ids])
        conn.rollback()
    assert len(ids) == accounts
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=10_000)
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    os.environ.pop("DATABASE_URL", None)
    from bot import reminders
    from models import OutboxMessage

    app, _ = build(args.accounts, args.departments)
    base = baseline(app, args.accounts)
    started = time.perf_counter()
    report = reminders.run(app, date(2027, 1, 4))
    first = time.perf_counter() - started
    started = time.perf_counter()
    rerun = reminders.run(app, date(2027, 1, 4))
    second = time.perf_counter() - started
    with Session(app.extensions["filingbot.engine"]) as session:
        rows = session.scalar(select(func.count()).select_from(OutboxMessage))
        recipients = sum(len(p["touser"]) for p in session.scalars(select(OutboxMessage.payload)))
    result = {"accounts": args.accounts, "departments": args.departments,
              "first_run_s": round(first, 3), "rerun_s": round(second, 3),
              "baseline_s": round(base, 3),
              "ratio_to_baseline": round(first / base, 1), "queued": report,
              "rerun_queued_messages": rerun["messages"], "wecom_calls": rows,
              "recipients": recipients, "target_s": 3.0,
              "ok": first < 3.0 and rerun["messages"] == 0}
    if args.json:
        print(json.dumps(result, ensure_ascii=False))  # noqa: T201
        return
    print(f"{args.accounts} active accounts in {args.departments} departments, SQLite")  # noqa: T201
    print(f"first run (2027-01-04): {first:.2f} s  "  # noqa: T201
          f"({first / base:.1f}x the baseline of {base:.2f} s)")
    print(f"rerun of the same day:  {second:.2f} s, "  # noqa: T201
          f"queued {rerun['messages']} messages")
    print(f"queued: {report}")  # noqa: T201
    print(f"WeCom calls (message/send, one per outbox row): {rows}, "  # noqa: T201
          f"to {recipients} recipients")
    print("verdict:", "OK" if result["ok"] else "MISSED",  # noqa: T201
          "(target: < 3 s, rerun queues nothing)")


if __name__ == "__main__":
    main()
