"""Loading an office's existing ledger (issue #12 §2): every row is read by the chat forms'
own field rules (workflow/forms: platform, 账号ID per platform, people by name or userid,
开通时间 …), matched against the registry and the rows above it, and reported as new / update /
unchanged / error with the reason in Chinese. A dry run stops there; `apply` writes every valid
row in the unit of work's one transaction, or nothing.

- A row is the account with the same platform and 账号ID (an account applied for and not yet
  built has no ID: its 备案编号 finds it). Columns absent from the file leave the account's
  values alone; a blank optional cell clears the value. 状态, 登记日期 and 最近年检年度 are
  shown by the export and ignored here: an import never changes an account's status.
- A new account is `active`. It keeps the 备案编号 given in the file when that matches
  FILING_NUMBER_FORMAT for its platform and is free (the year's counter moves past it), else it
  gets the next one (workflow.numbers).
- Every change is in the audit log as `import`, with the file name and row; a second import of
  the same file finds every row unchanged and writes nothing.

Members and accounts are read once per import (a 20,000-row ledger is a few queries, not
tens of thousands); on PostgreSQL the accounts to update are locked and compared again before
they are written, so a change made meanwhile by an approval aborts the import instead of being
overwritten."""

from __future__ import annotations

import html
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.render import render_text
from bot.sql import lock_name
from models import Account, AccountStatus, AuditLog, Department, Filing, FilingStatus
from workflow.forms import answers, people
from workflow.forms import validators as v
from workflow.forms.catalog import REGISTER
from workflow.forms.context import FormContext, NeedsChoice
from workflow.ledger.members import LedgerDirectory
from workflow.ledger.names import labels as names_labels
from workflow.ledger.upload import LedgerFile, LedgerFileError, read_ledger
from workflow.numbers import parse_filing_number, raise_sequence, reserve_sequences

DETAIL_KEYS = ("homepage", "leader", "admins", "purpose", "opened")  # stored in Account.details
WRITTEN = ("platform", "name", "external_id", "department_id", "details")  # what an update sets
ACTION = "import"


# --- the report -----------------------------------------------------------------------------
@dataclass
class RowResult:
    """What the import does with one row (and, for `apply`, how)."""

    number: int  # the row's number in the sheet
    outcome: str = "error"  # new | update | unchanged | error
    name: str = ""
    filing_no: str | None = None  # the account's 备案编号 (a new one's once applied)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)  # labels of the columns that change
    account_id: int | None = None
    values: dict | None = None  # the account's columns after the import
    keep_number: str | None = None  # a new account's 备案编号 taken from the file
    before: dict | None = None  # changed columns' old values (audit)
    seen: dict | None = None  # the account's columns as read, compared again before writing
    version: int = 1  # the account's version when it was locked for the update


@dataclass
class ImportReport:
    """Per-row outcomes of one file, or the reason it was refused whole (`error`)."""

    file_name: str
    dry_run: bool
    rows: list[RowResult] = field(default_factory=list)
    sheet: str = ""
    unknown: list[str] = field(default_factory=list)  # headers ignored
    error: str | None = None
    applied: bool = False

    def count(self, outcome: str) -> int:
        """How many rows have `outcome`."""
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def counts(self) -> dict[str, int]:
        return {o: self.count(o) for o in ("new", "update", "unchanged", "error")}

    @property
    def changes(self) -> int:
        """Rows that write something."""
        return self.count("new") + self.count("update")

    def text(self) -> str:
        """The report in Chinese, one line per row, as plain text (the CLI prints it)."""
        return plain(render_text("ledger/report", report=self))


def plain(text: str) -> str:
    """A message without the escaping WeCom's text format needs (bot.render.escape_value):
    for a terminal, or for a page whose template escapes for HTML itself."""
    return html.unescape(text)


def row_text(code: str, **params) -> str:
    """One error or note of a row, from templates/messages/ledger/row.txt.j2."""
    if "name" in params:
        params["account_name"] = params.pop("name")
    return render_text("ledger/row", code=code, **params)


# --- what the database holds, read once -----------------------------------------------------
@dataclass
class Registry:
    """The accounts, departments and open 登记 filings an import is checked against."""

    accounts: dict[int, dict]
    by_key: dict[tuple[str, str], dict]
    by_number: dict[str, dict]
    departments: dict[int, str]
    department_ids: dict[str, list[int]]
    pending: dict[tuple[str, str], tuple[int, str]]  # (platform, ID) → (filing id, name)

    @classmethod
    def load(cls, session) -> Registry:
        """Read the registry in a few queries."""
        accounts = {}
        for row in session.execute(select(
                Account.id, Account.platform, Account.external_id, Account.name,
                Account.department_id, Account.filing_no, Account.status, Account.details,
                Account.admin_userids, Account.version)).mappings():
            accounts[row["id"]] = dict(row)
        departments = dict(session.execute(select(Department.id, Department.name)).all())
        department_ids = defaultdict(list)
        for department_id, name in sorted(departments.items()):
            department_ids[name.strip()].append(department_id)
        pending = {}
        for filing_id, fields in session.execute(select(Filing.id, Filing.fields).where(
                Filing.kind == "register", Filing.status.in_(FilingStatus.waiting_ones()))):
            if fields.get("external_id"):
                pending[(fields.get("platform"), fields["external_id"])] = (
                    filing_id, fields.get("name", ""))
        return cls(
            accounts=accounts,
            by_key={(a["platform"], a["external_id"]): a for a in accounts.values()
                    if a["external_id"]},
            by_number={a["filing_no"]: a for a in accounts.values() if a["filing_no"]},
            departments=departments, department_ids=dict(department_ids), pending=pending)


# --- checking the rows ----------------------------------------------------------------------
class Checker:
    """Checks the rows of one file in order (a row may repeat an earlier one)."""

    def __init__(self, session, ledger: LedgerFile, *, settings, today, userid: str):
        self.session, self.ledger, self.settings, self.today = session, ledger, settings, today
        self.registry = Registry.load(session)
        self.directory = LedgerDirectory.load(session)
        self.fc = FormContext(session=session, userid=userid, department_id=None, today=today,
                              answers={})
        self.seen_keys: dict[tuple[str, str], int] = {}
        self.seen_accounts: dict[int, int] = {}
        self.kept: dict[str, RowResult] = {}

    def check(self, row) -> RowResult:
        """The outcome of one row."""
        name = row.cells.get("name", "")
        # Art. 13: a cell holding a password is refused (read_fields) and never shown back.
        result = RowResult(row.number, name="" if v.looks_like_password(name) else name[:50])
        values, missing = self.read_fields(row, result)
        department_id = self.read_department(row, result)
        platform, external_id = values.get("platform"), values.get("external_id")
        if external_id is not None:  # a repeated ID is named even on a row with other errors
            key = (platform, external_id)
            if key in self.seen_keys:
                result.errors.append(row_text("duplicate_row", row=self.seen_keys[key]))
            else:
                self.seen_keys[key] = row.number
        if result.errors:
            return result
        number = fold_number(row.cells.get("filing_no", ""))
        existing = self.match(result, platform, external_id, number)
        if result.errors:
            return result
        if existing is None and external_id is None:
            missing.insert(0, REGISTER.field("external_id"))
        for f in missing:
            if existing is None or has_value(existing, f.name):
                result.errors.append(row_text("missing", label=f.label))
        if result.errors:
            return result
        if existing is None:
            return self.new_account(result, values, department_id, number)
        return self.compare(result, existing, values, department_id, number)

    def read_fields(self, row, result: RowResult) -> tuple[dict, list]:
        """The 登记 form's fields present in the file, read by the chat's rules; and the
        required ones left blank."""
        values, missing = {}, []
        for f in REGISTER.fields:
            if f.name not in self.ledger.columns:
                continue
            text = v.visible(row.cells.get(f.name, "")).strip()
            if not text:
                if not f.optional:
                    missing.append(f)
                continue
            if f.kind == "account_id" and "platform" not in values:
                continue  # no platform to read it by: the platform's error says why
            try:
                values[f.name] = self.read_field(f, text, values)
            except v.Invalid as invalid:
                result.errors.append(row_text("field", label=f.label, message=invalid.message))
            except NeedsChoice as choice:
                result.errors.append(self.ambiguous(f, text, choice))
        if "name" in values:
            result.name = values["name"]
        missing = [f for f in missing if f.name != "external_id"]  # decided once matched
        return values, missing

    def ambiguous(self, f, text: str, choice: NeedsChoice) -> str:
        """A name several members share: who they are, and how to name one."""
        options = []
        for shown, value in choice.options:
            if isinstance(value, list):  # 管理员: the option is the whole list; find the member
                value = next(p for p in value if p.get("userid")
                             and len(self.directory.named(p["name"])) > 1)
            options.append((value["userid"], value["name"], shown))
        return row_text("ambiguous_person", label=f.label, value=options[0][1],
                        options=[f"{userid}：{shown}" for userid, _name, shown in options],
                        example=options[0][0])

    def read_field(self, f, text: str, values: dict):
        """One cell by its field's rule (the same functions the chat form uses)."""
        if f.kind == "person":
            if v.looks_like_password(text):
                raise v.password_refused()
            return people.read_people(f, text, self.fc, self.directory)
        if f.kind == "account_id":
            # answers.read would also look for a duplicate with a query per row; the import
            # checks duplicates against the registry read once (match below).
            v.one_line(text, label=f.label)
            if v.looks_like_password(text):
                raise v.password_refused()
            value = v.account_id(text, values["platform"])
            if len(value) > f.max_len:
                raise v.Invalid("too_long", label=f.label, max_len=f.max_len)
            return value
        return answers.read(f, text, REGISTER, self.fc)

    def read_department(self, row, result: RowResult) -> int | None:
        """A department by name (as in the directory) or by its WeCom id."""
        text = unicodedata.normalize("NFKC", row.cells.get("department", "")).strip()
        if not text:
            result.errors.append(row_text("missing", label=self.ledger.columns["department"]))
            return None
        if text.isdigit() and int(text) in self.registry.departments:
            return int(text)
        ids = self.registry.department_ids.get(text, [])
        if len(ids) == 1:
            return ids[0]
        result.errors.append(row_text("ambiguous_department" if ids else "unknown_department",
                                      value=text[:30], ids=ids))
        return None

    def match(self, result: RowResult, platform: str, external_id: str | None,
              number: str) -> dict | None:
        """The registered account this row is about (None: a new one); a repeat of an earlier
        row is an error."""
        existing = None
        if external_id is not None:
            existing = self.registry.by_key.get((platform, external_id))
        if existing is None and number:
            numbered = self.registry.by_number.get(number)
            # An account applied for and not built yet has no ID: its number finds it.
            if numbered is not None and numbered["external_id"] is None \
                    and numbered["platform"] == platform:
                existing = numbered
        if existing is not None:
            if existing["id"] in self.seen_accounts:
                result.errors.append(row_text("duplicate_row",
                                              row=self.seen_accounts[existing["id"]]))
                return None
            self.seen_accounts[existing["id"]] = result.number
        return existing

    def new_account(self, result: RowResult, values: dict, department_id: int,
                    number: str) -> RowResult:
        """A row for an account not in the registry: active, numbered from the file or anew."""
        key = (values["platform"], values["external_id"])
        if key in self.registry.pending:
            filing_id, name = self.registry.pending[key]
            result.errors.append(v.Invalid("duplicate_pending", name=name,
                                           number=f"#{filing_id}").message)
            return result
        if number:
            self.keep_number(result, values["platform"], number)
        result.outcome = "new"
        result.filing_no = result.keep_number
        result.values = {"platform": values["platform"], "name": values["name"],
                         "external_id": values["external_id"], "department_id": department_id,
                         "details": {k: values[k] for k in DETAIL_KEYS if k in values}}
        return result

    def keep_number(self, result: RowResult, platform: str, number: str) -> None:
        """Keep the file's 备案编号 when it is a number of ours for this platform and free."""
        fmt = self.settings.filing_number_format
        parsed = parse_filing_number(fmt, number)
        fits = parsed is not None and parsed["platform_code"] in (None, platform) \
            and (parsed["year"] is None or 1990 <= parsed["year"] <= self.today.year)
        if not fits:
            result.notes.append(row_text("number_format", given=number, example=fmt.format(
                platform_code=platform, year=self.today.year, seq=1)))
        elif number in self.registry.by_number or number in self.kept:
            holder = self.registry.by_number.get(number)
            name = holder["name"] if holder else self.kept[number].name
            result.notes.append(row_text("number_taken", given=number, name=name))
        else:
            result.keep_number = number
            self.kept[number] = result

    def compare(self, result: RowResult, existing: dict, values: dict, department_id: int,
                number: str) -> RowResult:
        """A row for a registered account: what would change."""
        result.account_id, result.filing_no = existing["id"], existing["filing_no"]
        if number and number != existing["filing_no"]:
            other = self.registry.by_number.get(number)
            if other is not None:
                result.errors.append(row_text(
                    "duplicate_registered", name=existing["name"],
                    number=existing["filing_no"] or "待编号", given=number, other=other["name"]))
                return result
            result.notes.append(row_text("number_kept", number=existing["filing_no"] or "待编号",
                                         given=number))
        details = dict(existing["details"] or {})
        for key in DETAIL_KEYS:
            if key not in self.ledger.columns:
                continue
            if key in values:
                details[key] = values[key]
            elif details.get(key) is not None:
                details.pop(key)
        after = {"platform": values["platform"], "name": values["name"],
                 "external_id": values.get("external_id", existing["external_id"]),
                 "department_id": department_id, "details": details}
        before, changed, labels = {}, {}, column_labels(self.ledger)
        for key in ("platform", "name", "external_id", "department_id"):
            if after[key] != existing[key]:
                before[key], changed[key] = existing[key], after[key]
        old_details = existing["details"] or {}
        for key in DETAIL_KEYS:
            if details.get(key) != old_details.get(key):
                before[key], changed[key] = old_details.get(key), details.get(key)
        result.values, result.before = after, before
        result.seen = {k: existing[k] for k in WRITTEN}
        result.changed = [labels[key] for key in changed]
        result.outcome = "update" if changed else "unchanged"
        if changed and existing["status"] != AccountStatus.ACTIVE:
            result.notes.append(row_text("status_kept", status=labels_of_status(existing)))
        return result


def labels_of_status(account: dict) -> str:
    """An account's status as the listings name it."""
    return names_labels().account_statuses.get(account["status"], account["status"])


def has_value(account: dict, name: str) -> bool:
    """Whether a registered account has a value for form field `name`."""
    if name in ("platform", "name", "external_id"):
        return bool(account[name])
    return (account["details"] or {}).get(name) not in (None, "", [])


def fold_number(text: str) -> str:
    """A 备案编号 as typed, folded (full-width, case, spaces)."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)).upper()


def column_labels(ledger: LedgerFile) -> dict[str, str]:
    """Column key → the words the report uses for it (the file's own headers)."""
    labels = {f.name: f.label for f in REGISTER.fields}
    labels["department_id"] = ledger.columns.get("department", "部门")
    return labels


def check(session, ledger: LedgerFile, *, settings, today, userid: str,
          dry_run: bool = True) -> ImportReport:
    """Every row's outcome; writes nothing."""
    checker = Checker(session, ledger, settings=settings, today=today, userid=userid)
    return ImportReport(ledger.name, dry_run, [checker.check(row) for row in ledger.rows],
                        sheet=ledger.sheet, unknown=ledger.unknown)


# --- writing --------------------------------------------------------------------------------
def apply(uow, ledger: LedgerFile) -> ImportReport:
    """Check every row and write the valid ones in the unit of work's transaction (not
    committed here); raise LedgerFileError("conflict") when the registry changed under us."""
    session = uow.session
    lock_name(session, "ledger:import")  # one import at a time (PostgreSQL)
    today = uow.clock.local_now().date()
    report = check(session, ledger, settings=uow.settings, today=today, userid=uow.actor.userid,
                   dry_run=False)
    new = [r for r in report.rows if r.outcome == "new"]
    updated = [r for r in report.rows if r.outcome == "update"]
    lock_updated(session, updated)
    number_new_accounts(uow, new, today.year)
    now = uow.clock.now()
    # Rows go in as executemany INSERTs (no ORM object per account: 20,000 of them cost more
    # time and memory than the import's own work).
    try:
        if new:
            ids = session.scalars(
                insert(Account).returning(Account.id, sort_by_parameter_order=True),
                [{**r.values, "status": AccountStatus.ACTIVE, "filing_no": r.filing_no,
                  "admin_userids": admin_userids(r.values["details"]), "last_review_year": None,
                  "version": 1, "created_at": now, "updated_at": now} for r in new]).all()
            for row, account_id in zip(new, ids, strict=True):
                row.account_id = account_id
        if updated:
            session.execute(update(Account), [
                {"id": r.account_id, **{k: r.values[k] for k in WRITTEN},
                 "admin_userids": admin_userids(r.values["details"]),
                 "version": r.version + 1, "updated_at": now} for r in updated])
    except IntegrityError:
        raise LedgerFileError("conflict", detail="账号ID或备案编号已被占用") from None
    entries = [audit_entry(uow, ledger, row, {}, {
        "status": AccountStatus.ACTIVE, "filing_no": row.filing_no, **row.values}, now)
        for row in new]
    for row in updated:
        changed_after = {k: (row.values["details"].get(k) if k in DETAIL_KEYS else row.values[k])
                         for k in row.before}
        entries.append(audit_entry(uow, ledger, row, row.before, changed_after, now))
    if entries:
        session.execute(insert(AuditLog), entries)
    report.applied = True
    return report


def lock_updated(session, updated: list[RowResult]) -> None:
    """Lock the accounts about to be updated and make sure they are as they were read."""
    ids = [r.account_id for r in updated]
    current = {}
    for start in range(0, len(ids), 1000):
        for row in session.execute(select(
                Account.id, Account.platform, Account.external_id, Account.name,
                Account.department_id, Account.details, Account.version)
                .where(Account.id.in_(ids[start:start + 1000])).with_for_update()).mappings():
            current[row["id"]] = dict(row)
    for r in updated:
        now = current.get(r.account_id)
        if now is None or any(now[k] != r.seen[k] for k in WRITTEN):
            raise LedgerFileError("conflict", detail=f"第 {r.number} 行的账号")
        r.version = now["version"]


def number_new_accounts(uow, new: list[RowResult], year: int) -> None:
    """Kept numbers move their year's counter past them; the other new accounts take the next
    numbers, in row order."""
    fmt = uow.settings.filing_number_format
    highest: dict[int, int] = {}
    for row in new:
        if row.keep_number:
            parsed = parse_filing_number(fmt, row.keep_number)
            if parsed["year"] is not None and parsed["seq"] is not None:
                highest[parsed["year"]] = max(highest.get(parsed["year"], 0), parsed["seq"])
    for kept_year, seq in sorted(highest.items()):
        raise_sequence(uow.session, f"filing_no:{kept_year}", seq)
    fresh = [row for row in new if not row.keep_number]
    if not fresh:
        return
    first = reserve_sequences(uow.session, f"filing_no:{year}", len(fresh))
    for offset, row in enumerate(fresh):
        row.filing_no = fmt.format(platform_code=row.values["platform"], year=year,
                                   seq=first + offset)
    for row in new:
        row.filing_no = row.filing_no or row.keep_number


def admin_userids(details: dict) -> list[str]:
    """The userids of the account's 管理员 (who may file for it)."""
    return [p["userid"] for p in details.get("admins") or [] if p.get("userid")]


def audit_entry(uow, ledger: LedgerFile, row: RowResult, before: dict, after: dict,
                now) -> dict:
    """The audit row of one imported change (as INSERT values)."""
    return {"at": now, "actor": uow.actor.userid, "action": ACTION, "filing_id": None,
            "account_id": row.account_id, "before": before,
            "after": {**after, "file": ledger.name, "row": row.number}}


# --- the entry point ------------------------------------------------------------------------
def run_import(uow, data: bytes, file_name: str, *, dry_run: bool) -> ImportReport:
    """Read `data` (an uploaded .xlsx) and check it (`dry_run`) or apply it and commit; a file
    refused whole, or a conflict, gives a report with `error` and writes nothing."""
    try:
        ledger = read_ledger(data, file_name)
    except LedgerFileError as refused:
        return ImportReport(file_name, dry_run, error=refused.message)
    if dry_run:
        try:
            return check(uow.session, ledger, settings=uow.settings,
                         today=uow.clock.local_now().date(), userid=uow.actor.userid)
        finally:
            uow.rollback()
    try:
        report = apply(uow, ledger)
    except LedgerFileError as conflict:
        uow.rollback()
        return ImportReport(file_name, dry_run, sheet=ledger.sheet, error=conflict.message)
    uow.commit()
    return report
