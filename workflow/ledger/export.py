"""Excel workbooks of the office's lists (issue #12 §1): the registry (备案台账), filings, the
annual review's progress, the yearly assessment and the audit log, each read through the same query as its page
(workflow.queries, workflow.review) and so behind the same permissions.

Rows are read a chunk at a time through one streamed query (workflow.ledger.stream), with
the names a chunk needs looked up for that chunk, and written into write-only sheets
(workflow.ledger.xlsx) as they come: memory stays that of one chunk.
The registry's columns are the import's (workflow.ledger.columns): export → edit → import
round-trips."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from datetime import date, datetime

from sqlalchemy import select

from bot.clock import SHANGHAI
from models import Account, AuditLog, Department, Filing
from workflow import statistics, unanswered
from workflow.access import Viewer
from workflow.forms.answers import show
from workflow.forms.catalog import REGISTER
from workflow.forms.validators import PLATFORM_NAMES
from workflow.kinds import KINDS
from workflow.ledger import stream, xlsx
from workflow.ledger.columns import registry_columns
from workflow.ledger.members import LedgerDirectory, people_in
from workflow.ledger.names import labels, texts
from workflow.queries import (
    FilingFilters,
    RegistryFilters,
    filings_query,
    names_of,
    registry_query,
)
from workflow.review import review_progress

def local_date(moment: datetime | None) -> date | None:
    """The Beijing date of a UTC timestamp."""
    return moment.astimezone(SHANGHAI).date() if moment else None


# --- the registry ---------------------------------------------------------------------------
def registry_headers() -> list[xlsx.Header]:
    return [xlsx.Header(c.header, c.width) for c in registry_columns()]


REGISTRY_COLUMNS = (Account.platform, Account.name, Account.external_id, Account.details,
                    Account.department_id, Account.filing_no, Account.status, Account.created_at,
                    Account.last_review_year)


def registry_rows(session, viewer: Viewer, filters: RegistryFilters) -> Iterator[list]:
    """The registry's rows as the page lists them (every page, by department then id), in the
    ledger's columns; the people and departments a chunk names are looked up per chunk."""
    statuses = labels().account_statuses
    query = registry_query(session, viewer, filters).with_only_columns(*REGISTRY_COLUMNS)
    for chunk in stream.chunks(session, query.order_by(Account.department_id, Account.id)):
        departments = stream.department_names(session, {a.department_id for a in chunk})
        directory = LedgerDirectory.of_people(session, (
            p for a in chunk if a.details
            for key in ("leader", "admins") for p in people_in(a.details.get(key))))
        for account in chunk:
            details = account.details or {}
            yield [PLATFORM_NAMES.get(account.platform, account.platform), account.name,
                   account.external_id, details.get("homepage"),
                   directory.people_text(details.get("leader")),
                   directory.people_text(details.get("admins")),
                   details.get("purpose"), details.get("opened"),
                   departments.get(account.department_id, str(account.department_id)),
                   account.filing_no, statuses.get(account.status, account.status),
                   local_date(account.created_at), account.last_review_year]


def registry_workbook(session, viewer: Viewer, filters: RegistryFilters, out) -> int:
    """Write the registry the viewer sees, filtered as on /accounts, to `out` (.xlsx); the
    number of accounts written."""
    book = xlsx.workbook()
    count = xlsx.add_sheet(book, texts().sheets["registry"], registry_headers(),
                           registry_rows(session, viewer, filters))
    book.save(out)
    return count


def template_workbook(out) -> None:
    """Write the blank ledger (the registry's headers) and its 填写说明 sheet to `out`."""
    words = texts().help
    book = xlsx.workbook()
    xlsx.add_sheet(book, texts().sheets["registry"], registry_headers(), [])
    rows = []
    for column in registry_columns():
        need = words["required"] if column.required else \
            words["optional"] if column.imported else words["ignored"]
        rows.append([column.header, need,
                     words.get(column.key) or (column.field.question if column.field else "")])
    rows.append(["", "", words["rules"]])
    headers = [xlsx.Header(h, w) for h, w in zip(words["header"], (14, 10, 90), strict=True)]
    xlsx.add_sheet(book, texts().sheets["help"], headers, rows)
    book.save(out)


# --- filings --------------------------------------------------------------------------------
def filing_headers(kind=None) -> list[xlsx.Header]:
    words = texts().columns
    head = [xlsx.Header(words["filing"], 10)]
    if kind is None:
        head.append(xlsx.Header(words["kind"], 8))
        head.append(xlsx.Header(words["account"], 24))
    head += [xlsx.Header(words["department"], 16), xlsx.Header(words["submitter"], 10),
             xlsx.Header(words["status"], 12), xlsx.Header(words["filing_no"], 16),
             xlsx.Header(words["submitted"], 17), xlsx.Header(words["updated"], 17)]
    if kind is not None:
        head += [xlsx.Header(f.label, 24 if f.multiline else 16) for f in kind.form.fields]
    return head


FILING_COLUMNS = (Filing.id, Filing.kind, Filing.fields, Filing.department_id, Filing.submitter,
                  Filing.status, Filing.account_id, Filing.created_at, Filing.updated_at)


def filing_rows(session, viewer: Viewer, filters: FilingFilters, kind=None) -> Iterator[list]:
    """The filings the viewer sees, newest first; with `kind`, its form's every field."""
    statuses = labels().statuses
    query = filings_query(viewer, filters).with_only_columns(*FILING_COLUMNS)
    for chunk in stream.chunks(session, query.order_by(Filing.id.desc())):
        departments = stream.department_names(session, {f.department_id for f in chunk})
        names = names_of(session, [f.submitter for f in chunk])
        numbers = account_numbers(session, [f.account_id for f in chunk])
        for filing in chunk:
            fields = filing.fields or {}
            row = [f"#{filing.id}"]
            if kind is None:
                known = KINDS.get(filing.kind)
                account = fields.get("account") or {}
                row += [known.form.command if known else filing.kind,
                        fields.get("name") or account.get("name")]
            row += [departments.get(filing.department_id),
                    names.get(filing.submitter, filing.submitter),
                    statuses.get(filing.status, filing.status),
                    numbers.get(filing.account_id), filing.created_at, filing.updated_at]
            if kind is not None:
                row += [show(f, fields[f.name]) if f.name in fields else None
                        for f in kind.form.fields]
            yield row


def account_numbers(session, account_ids) -> dict[int, str]:
    """备案编号 by account id."""
    ids = {i for i in account_ids if i}
    if not ids:
        return {}
    return {i: n or "" for i, n in session.execute(
        select(Account.id, Account.filing_no).where(Account.id.in_(ids))).all()}


def filings_workbook(session, viewer: Viewer, filters: FilingFilters, out) -> None:
    """Write the filings the viewer sees: all of them on one sheet, then one sheet per kind
    with every field of its form (as on /filings, filtered alike)."""
    book = xlsx.workbook()
    xlsx.add_sheet(book, texts().sheets["filings"], filing_headers(),
                   filing_rows(session, viewer, filters))
    for kind in KINDS.values():
        if filters.kind and filters.kind != kind.name:
            continue
        per_kind = FilingFilters(kind=kind.name, statuses=filters.statuses,
                                 department_id=filters.department_id,
                                 account_id=filters.account_id)
        xlsx.add_sheet(book, kind.form.command, filing_headers(kind),
                       filing_rows(session, viewer, per_kind, kind))
    book.save(out)


# --- the annual review ----------------------------------------------------------------------
def review_workbook(session, year: int, out) -> None:
    """Write the review campaign's progress for `year`: per department, the accounts still
    missing, the departments that sent a 零报告 and those that owe one (未回复)."""
    words, sheets = texts().columns, texts().sheets
    progress = review_progress(session, year)
    departments = dict(session.execute(select(Department.id, Department.name)).all())
    book = xlsx.workbook()
    keys = ("done", "pending", "missing")
    rows = [[name, *(row[k] for k in keys), sum(row[k] for k in keys)]
            for name, row in progress["table"]]
    totals = progress["totals"]
    rows.append([words["total"], *(totals[k] for k in keys), sum(totals[k] for k in keys)])
    xlsx.add_sheet(book, f"{sheets['progress']}{year}",
                   [xlsx.Header(words["department"], 20),
                    *(xlsx.Header(words[k], 10) for k in keys), xlsx.Header(words["total"], 10)],
                   rows)
    xlsx.add_sheet(book, sheets["missing"],
                   [xlsx.Header(words["department"], 20),
                    xlsx.Header(REGISTER.field("name").label, 24),
                    xlsx.Header(words["filing_no"], 16)],
                   ([departments.get(a.department_id, ""), a.name, a.filing_no or ""]
                    for a in progress["missing"]))
    xlsx.add_sheet(book, sheets["zero"], [xlsx.Header(words["zero"], 24)],
                   ([name] for name in progress["zero"]))
    silent = unanswered.with_contacts(session, year)
    heads = names_of(session, [u for d in silent for u in d.heads])
    xlsx.add_sheet(book, sheets["unanswered"],
                   [xlsx.Header(words["department"], 24), xlsx.Header(words["heads"], 24)],
                   ([d.name, "、".join(heads[u] for u in d.heads)] for d in silent))
    book.save(out)


def assessment_workbook(session, year: int, review_due: date, out) -> None:
    """Write the yearly assessment (art. 16) for `year`: the page's figures per department and
    their 合计 (workflow.statistics.assessment)."""
    words, counts = texts().columns, texts().assessment
    rows = statistics.assessment(session, year, review_due)
    total = statistics.assessment_total(rows, words["total"])
    book = xlsx.workbook()
    xlsx.add_sheet(book, f"{texts().sheets['assessment']}{year}",
                   [xlsx.Header(words["department"], 20),
                    *(xlsx.Header(word, 10) for word in counts.values()),
                    xlsx.Header(words["median_hours"], 14)],
                   ([r.name, *(getattr(r, key) for key in counts), r.median_hours]
                    for r in [*rows, total]))
    book.save(out)


# --- the audit log --------------------------------------------------------------------------
AUDIT_COLUMNS = (AuditLog.at, AuditLog.actor, AuditLog.action, AuditLog.filing_id,
                 AuditLog.account_id, AuditLog.before, AuditLog.after)


def audit_rows(session, where: Sequence = ()) -> Iterator[list]:
    """The audit entries `where` selects (the /audit filter's conditions), newest first, with
    the actor's name (looked up per chunk)."""
    actions = labels().actions
    query = (select(*AUDIT_COLUMNS).where(*where)
             .order_by(AuditLog.at.desc(), AuditLog.id.desc()))
    for chunk in stream.chunks(session, query):
        names = stream.user_names(session, {e.actor for e in chunk})
        for entry in chunk:
            yield [entry.at, names.get(entry.actor), entry.actor,
                   actions.get(entry.action, entry.action),
                   f"#{entry.filing_id}" if entry.filing_id else None, entry.account_id,
                   compact(entry.before), compact(entry.after)]


def audit_workbook(session, where: Sequence, out) -> None:
    """Write the audit entries `where` selects, as /audit lists them, to `out`."""
    words = texts().columns
    book = xlsx.workbook()
    xlsx.add_sheet(book, texts().sheets["audit"], [
        xlsx.Header(words["at"], 17), xlsx.Header(words["actor"], 10),
        xlsx.Header(words["actor_id"], 14), xlsx.Header(words["action"], 14),
        xlsx.Header(words["filing"], 10), xlsx.Header(words["account_id"], 10),
        xlsx.Header(words["before"], 40), xlsx.Header(words["after"], 60)],
        audit_rows(session, where))
    book.save(out)


def compact(value: dict) -> str:
    """A JSON column as one line of text."""
    return json.dumps(value, ensure_ascii=False, sort_keys=True, default=str) if value else ""
