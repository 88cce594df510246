"""The province-sized registry of bench/scale.py, bulk-loaded with SQLAlchemy Core.

Default size (issue #16): 100,000 accounts in 3,000 departments, 300,000 filings, 1,000,000
audit rows, a head and three administrators per department, two office users. The data is
deterministic (no randomness) so that two runs load the same registry.

The filings, as a registry in its review season would hold them:
* per account, its 登记 (done) and last-but-one year's 年检 (approved);
* a 年检 for the campaign's year from one account in ten: half approved, a quarter waiting for
  the department's head, some waiting for the office, some sent back;
* the rest 变更, 申请, 注销, 举报 and late 登记, one in a hundred still waiting.
Waiting filings were last touched 0-9 days before the campaign day, so the daily run nudges
the older ones as it would in production.

Rows go in with Core `insert()` executemany in chunks of CHUNK (one compiled statement per
chunk, sent as multi-row VALUES by SQLAlchemy's insertmanyvalues), on both databases.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, insert, select, text

from bot.clock import SHANGHAI
from models import Account, AuditLog, Department, Filing, Membership, RoleGrant, User

CHUNK = 10_000
CAMPAIGN_DAY = date(2027, 1, 5)  # a Tuesday in the default review window (1 Jan – 31 Mar)
DIGEST_DAY = date(2027, 1, 11)  # the Monday after: the weekly digest, the campaign not due yet
YEAR = CAMPAIGN_DAY.year - 1  # the year the campaign collects 年检 for
OFFICE = ("office1", "office2")
OTHER_ROLES = (("pub1", "publicity"), ("tech1", "tech"), ("admin1", "admin"))
ADMINS_PER_DEPARTMENT = 3
PLATFORMS = ("WX", "WB", "DY", "SPH", "BL", "KS", "TT", "XHS", "TW")
FILING_COLUMNS = ("year", "platform", "external_id")  # indexed copies of fields (issue #16 #1)
MORNING = datetime.combine(CAMPAIGN_DAY, datetime.min.time().replace(hour=8), tzinfo=SHANGHAI)
LONG_AGO = datetime(2024, 6, 1, 10, 0, tzinfo=SHANGHAI)


@dataclass(frozen=True)
class Size:
    """How much to load; everything but `accounts` defaults to the issue's proportions."""

    accounts: int = 100_000
    departments: int = 3_000
    filings: int = 300_000
    audit: int = 1_000_000

    @classmethod
    def scaled(cls, accounts: int, departments=None, filings=None, audit=None) -> Size:
        """The issue's proportions for `accounts` (3 % departments, 3 filings, 10 audit rows
        per account), each overridable."""
        return cls(accounts, departments or max(1, accounts * 3 // 100),
                   filings if filings is not None else accounts * 3,
                   audit if audit is not None else accounts * 10)


def head_of(department_id: int) -> str:
    return f"h{department_id}"


def admin_of(department_id: int, k: int) -> str:
    return f"a{department_id}_{k}"


def department_of(i: int, size: Size) -> int:
    """The department (id 2…) of account number i (0-based)."""
    return 2 + i % size.departments


def filing_row(fields: dict, **row) -> dict:
    """A Filing row; with the indexed copies of `fields` when the table has those columns
    (they arrive with a migration of issue #16; before it the row goes without them)."""
    columns = Filing.__table__.c
    row["fields"] = fields
    for name in FILING_COLUMNS:
        if name in columns:
            row[name] = fields.get(name)
    return row


# --- the directory ---------------------------------------------------------------------------


def departments(size: Size):
    yield {"id": 1, "name": "省教育厅", "parent_id": None, "sort_order": 0, "synced_at": LONG_AGO}
    for d in range(2, size.departments + 2):
        yield {"id": d, "name": f"第{d - 1}单位", "parent_id": 1, "sort_order": d,
               "synced_at": LONG_AGO}


def people(size: Size):
    """(userid, name, department, is_leader): office, other roles, heads and administrators."""
    for userid in OFFICE:
        yield userid, f"办公室{userid[-1]}", 1, False
    for userid, role in OTHER_ROLES:
        yield userid, f"{role}成员", 1, False
    for d in range(2, size.departments + 2):
        yield head_of(d), f"负责人{d}", d, True
        for k in range(ADMINS_PER_DEPARTMENT):
            yield admin_of(d, k), f"管理员{d}-{k}", d, False


def users(size: Size):
    for userid, name, _, _ in people(size):
        yield {"userid": userid, "name": name, "position": "", "active": True,
               "looked_up": True, "synced_at": LONG_AGO}


def memberships(size: Size):
    for userid, _, department_id, leader in people(size):
        yield {"userid": userid, "department_id": department_id, "is_leader": leader}


def grants(size: Size):
    for userid, role in [*((u, "office") for u in OFFICE), *OTHER_ROLES]:
        yield {"userid": userid, "role": role, "department_id": 0, "granted_by": "bench",
               "granted_at": LONG_AGO}


# --- the registry ----------------------------------------------------------------------------


def mix(i: int) -> int:
    """A well-spread number for account i (Knuth's multiplicative hash): picks by `mix(i) % n`
    fall evenly on every department, which picks by `i % n` would not (n divides 3,000)."""
    return (i * 2654435761) % 2**32 >> 8


def account_status(i: int) -> str:
    """96 % active; one in fifty closed, one in fifty applied for and not built yet."""
    return {0: "closed", 1: "pending"}.get(mix(i) % 50, "active")


def files_annual(i: int) -> bool:
    """One account in ten has filed its 年检 for YEAR (see campaign_annuals)."""
    return mix(i) % 10 == 3


def annual_status(i: int) -> str:
    k = (mix(i) // 10) % 20
    return ("approved" if k < 10 else "awaiting_dept" if k < 15 else
            "awaiting_office" if k < 18 else "returned")


def reviewed_this_year(i: int) -> bool:
    """The accounts whose 年检 for YEAR is approved already."""
    return files_annual(i) and annual_status(i) == "approved"


def admin_index(i: int, size: Size) -> int:
    """Which of its department's administrators keeps account i (they share the accounts)."""
    return (i // size.departments) % ADMINS_PER_DEPARTMENT


def accounts(size: Size):
    for i in range(size.accounts):
        d = department_of(i, size)
        platform = PLATFORMS[i % len(PLATFORMS)]
        status = account_status(i)
        admin = admin_of(d, admin_index(i, size))
        yield {"id": i + 1, "platform": platform, "name": f"第{d - 1}单位{platform}号{i}",
               "external_id": f"acct{i:06d}", "department_id": d, "status": status,
               "filing_no": None if status == "pending" else f"{platform}-{2018 + i % 8}-{i:06d}",
               "details": {"leader": {"userid": head_of(d), "name": f"负责人{d}", "phone": None},
                           "admins": [{"userid": admin, "name": "管理员",
                                       "phone": "13800000000"}],
                           "homepage": f"https://example.org/{i}", "purpose": "信息发布"},
               "admin_userids": [admin],
               "last_review_year": (YEAR if reviewed_this_year(i) else YEAR - 1)
               if status == "active" else None,
               "version": 1, "created_at": LONG_AGO, "updated_at": LONG_AGO}


def waiting_since(k: int) -> datetime:
    """When a waiting filing was last touched: 0-9 days (and some hours) before the campaign."""
    return MORNING - timedelta(days=k % 10, hours=k % 7)


def campaign_annuals(size: Size):
    """(account index, status) of the 年检 for YEAR filed by one account in ten: half
    approved, a quarter waiting for the head, some for the office, some sent back."""
    for i in range(size.accounts):
        if files_annual(i) and account_status(i) == "active":
            yield i, annual_status(i)


OTHER_KINDS = ("change", "change", "change", "change", "change", "change", "apply", "close",
               "report", "register")
SETTLED = {"change": "approved", "apply": "approved", "close": "done", "report": "done",
           "register": "done"}
WAITING = {"change": "awaiting_dept", "apply": "awaiting_office", "close": "awaiting_dept",
           "report": "awaiting_tech", "register": "awaiting_office"}


def filings(size: Size):
    """Filing rows, ids 1…, `size.filings` of them (fewer only if that is below 2 per account)."""
    ids = itertools.count(1)
    budget = size.filings

    def account_ref(i):
        return {"id": i + 1, "name": f"账号{i}"}

    for i in range(size.accounts):
        if budget < 2:
            return
        budget -= 2
        d = department_of(i, size)
        platform, submitter = PLATFORMS[i % len(PLATFORMS)], admin_of(d, admin_index(i, size))
        yield filing_row({"platform": platform, "name": f"账号{i}", "external_id": f"acct{i:06d}",
                          "leader": {"userid": head_of(d), "name": f"负责人{d}", "phone": None},
                          "admins": [{"userid": submitter, "name": "管理员", "phone": None}]},
                         id=next(ids), kind="register", account_id=i + 1, department_id=d,
                         submitter=submitter, status="done", version=3,
                         created_at=LONG_AGO, updated_at=LONG_AGO)
        yield filing_row({"account": account_ref(i), "year": YEAR - 1, "posts": 120,
                          "followers": 3000, "review_rule": "是", "dedicated": "是",
                          "incidents": "无"},
                         id=next(ids), kind="annual", account_id=i + 1, department_id=d,
                         submitter=submitter, status="approved", version=3,
                         created_at=LONG_AGO, updated_at=LONG_AGO)
    for k, (i, status) in enumerate(campaign_annuals(size)):
        if budget < 1:
            return
        budget -= 1
        d = department_of(i, size)
        touched = waiting_since(k) if status.startswith("awaiting") else MORNING - timedelta(
            days=3)
        yield filing_row({"account": account_ref(i), "year": YEAR, "posts": 80,
                          "followers": 2500, "review_rule": "是", "dedicated": "是",
                          "incidents": "无"},
                         id=next(ids), kind="annual", account_id=i + 1, department_id=d,
                         submitter=admin_of(d, admin_index(i, size)), status=status,
                         version=2,
                         created_at=touched, updated_at=touched)
    for k in range(budget):
        i = (k * 7) % size.accounts
        d = department_of(i, size)
        kind = OTHER_KINDS[k % len(OTHER_KINDS)]
        waiting = k % 100 == 42
        status = WAITING[kind] if waiting else SETTLED[kind]
        touched = waiting_since(k) if waiting else LONG_AGO
        platform = PLATFORMS[i % len(PLATFORMS)]
        fields = {
            "change": {"account": account_ref(i), "new_admins": [
                {"userid": admin_of(d, (k + 1) % 3), "name": "管理员", "phone": None}],
                "reason": "人员调整"},
            "apply": {"platform": platform, "name": f"新账号{k}", "reason": "工作需要",
                      "positioning": "信息发布",
                      "leader": {"userid": head_of(d), "name": "负责人", "phone": None},
                      "admins": [{"userid": admin_of(d, 0), "name": "管理员", "phone": None}]},
            "close": {"account": account_ref(i), "reason": "停止运营"},
            "report": {"platform": platform, "name": f"冒用账号{k}", "link": f"fake{k:06d}",
                       "details": "冒用单位名义"},
            "register": {"platform": platform, "name": f"补登账号{k}",
                         "external_id": f"late{k:06d}",
                         "leader": {"userid": head_of(d), "name": "负责人", "phone": None},
                         "admins": [{"userid": admin_of(d, 1), "name": "管理员", "phone": None}]},
        }[kind]
        yield filing_row(fields, id=next(ids), kind=kind,
                         account_id=i + 1 if kind in ("change", "close") else None,
                         department_id=None if kind == "report" else d,
                         submitter=admin_of(d, k % 3), status=status, version=2,
                         created_at=touched, updated_at=touched)


def audit_rows(size: Size, filing_count: int):
    actions = ("submit", "decide", "edit", "import", "notify")
    for k in range(size.audit):
        yield {"id": k + 1, "at": LONG_AGO + timedelta(minutes=k % 500_000),
               "actor": admin_of(2 + k % size.departments, k % 3), "action": actions[k % 5],
               "filing_id": 1 + k % max(filing_count, 1), "account_id": 1 + k % size.accounts,
               "before": {"status": "awaiting_dept"}, "after": {"status": "approved"}}


# --- loading ---------------------------------------------------------------------------------


def insert_all(conn, table, rows) -> int:
    """Insert `rows` (an iterable) in chunks; return how many."""
    count = 0
    iterator = iter(rows)
    while chunk := list(itertools.islice(iterator, CHUNK)):
        conn.execute(insert(table), chunk)
        count += len(chunk)
    return count


def load(engine, size: Size) -> dict:
    """Load the registry into an empty, migrated database; return row counts and seconds."""
    started = time.perf_counter()
    counts = {}
    with engine.begin() as conn:
        counts["departments"] = insert_all(conn, Department, departments(size))
        counts["users"] = insert_all(conn, User, users(size))
        insert_all(conn, Membership, memberships(size))
        insert_all(conn, RoleGrant, grants(size))
        counts["accounts"] = insert_all(conn, Account, accounts(size))
    with engine.begin() as conn:
        counts["filings"] = insert_all(conn, Filing, filings(size))
    with engine.begin() as conn:
        counts["audit"] = insert_all(conn, AuditLog, audit_rows(size, counts["filings"]))
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            for model in (Account, Filing, AuditLog):  # explicit ids: move the sequences on
                table = model.__tablename__
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT coalesce(max(id), 1) FROM {table}))"))
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            # As autovacuum would after such a load (PostgreSQL >= 13 vacuums a table after many
            # inserts, not only after updates): the statistics, and the visibility map that
            # index-only scans need. The benchmark's server may run with autovacuum off.
            conn.execute(text("VACUUM ANALYZE"))
    counts["seconds"] = round(time.perf_counter() - started, 1)
    return counts


def is_empty(engine) -> bool:
    with engine.connect() as conn:
        return not conn.scalar(select(func.count()).select_from(Account))
