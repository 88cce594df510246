"""Reading one answer into a field value, by the field's kind, and showing it back.

Pure validators live in validators.py; this module adds what needs the database: people from
the directory, the department's accounts, duplicates and defaults."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import or_, select

from bot.roles import department_heads
from handlers.forms import validators as v
from handlers.forms.spec import Field, FormSpec
from models import Account, Department, Filing, Membership, User

OPEN_STATUSES = ("awaiting_dept", "awaiting_office", "awaiting_tech", "awaiting_build")
LIVE_ACCOUNT = ("pending", "active", "ordered_closed")
SEPARATORS = re.compile(r"[、，,;；]+")
MONTH = re.compile(r"^(\d{4})\s*(?:[-./年]\s*(\d{1,2})\s*(?:月)?)?"
                   r"(?:\s*[-./]?\s*(\d{1,2})\s*日?)?$")


class NeedsChoice(Exception):
    """The answer matches several things: ask the user to pick one by number."""

    def __init__(self, prompt: str, options: list[tuple[str, object]]):
        super().__init__(prompt)
        self.prompt, self.options = prompt, options  # [(shown text, value)]


@dataclass
class FormContext:
    """What reading an answer may need besides the text."""

    session: object
    userid: str
    department_id: int | None
    today: object  # date
    answers: dict


def read(field: Field, text: str, form: FormSpec, fc: FormContext):
    """The value of `field` from the user's `text`; raises v.Invalid or NeedsChoice."""
    text = text.strip()
    if v.looks_like_password(text):
        raise v.password_refused()
    if text == "默认" and field.kind == "year":
        text = str(default_value(field, fc))
    kind = field.kind
    if kind == "platform":
        return v.platform(text)
    if kind == "account_id":
        if form.kind == "report" and text.lower().startswith(("http://", "https://")):
            return v.url(text)  # a reporter may paste any link to the suspicious account
        value = v.account_id(text, fc.answers.get("platform", "QT"))
        if len(value) > field.max_len:
            raise v.Invalid("too_long", label=field.label, max_len=field.max_len)
        if form.kind == "register":
            check_not_registered(fc, fc.answers.get("platform", "QT"), value)
        return value
    if kind == "url":
        return v.url(text)
    if kind == "year":
        start = account_start_year(fc)
        value = v.year(text, today=fc.today, not_before=start)
        check_no_annual(fc, value)
        return value
    if kind == "count":
        return v.count(text)
    if kind == "yes_no":
        return v.yes_no(text)
    if kind == "safety":
        return v.safety_events(text)
    if kind == "month":
        return read_month(text)
    if kind == "person":
        return read_people(field, text, fc)
    if kind == "account":
        return read_account(text, fc, form)
    return v.text(text, label=field.label, max_len=field.max_len)


def read_month(text: str) -> str:
    """A start date as YYYY, YYYY-MM or YYYY-MM-DD."""
    match = MONTH.match(text.replace(" ", ""))
    if not match or not 1990 <= int(match.group(1)) <= 2100:
        raise v.Invalid("month", value=text[:20])
    year, month, day = match.group(1), match.group(2), match.group(3)
    if month and not 1 <= int(month) <= 12 or day and not 1 <= int(day) <= 31:
        raise v.Invalid("month", value=text[:20])
    return "-".join([year] + [f"{int(p):02d}" for p in (month, day) if p])


# --- people --------------------------------------------------------------------------------
def read_people(field: Field, text: str, fc: FormContext):
    """One person for 负责人 fields, one or more for 管理员 fields (separated by 、 or ，)."""
    if text in ("默认", "同上") and default_value(field, fc) is not None:
        return default_value(field, fc)
    parts = [p.strip() for p in SEPARATORS.split(text) if p.strip()]
    if not parts:
        raise v.Invalid("person", value=text[:20])
    if "admins" not in field.name and len(parts) > 1:
        raise v.Invalid("one_person", label=field.label)
    if "admins" not in field.name:
        return read_person(parts[0], fc)
    parts = list(dict.fromkeys(parts))  # 张三、李四、张三: each person once
    people = []
    for index, part in enumerate(parts):
        try:
            people.append(read_person(part, fc))
        except NeedsChoice as choice:
            # Several admins, one of them ambiguous: each option carries the whole list.
            rest = [read_person(p, fc) for p in parts[index + 1:]]
            choice.options = [(shown, [*people, value, *rest]) for shown, value in choice.options]
            raise
    unique = {}
    for p in people:  # the same member typed by name and by userid is still one person
        unique.setdefault(p.get("userid") or p["name"], p)
    return list(unique.values())


PHONE_TAIL = re.compile(r"^(.*?)[\s:：]*((?:\+?86)?[\d\- ]{7,}\d)$")


def read_person(text: str, fc: FormContext) -> dict:
    """A directory member by userid or name (with an optional phone),
    or an outsider with a phone."""
    name, phone = text, None
    match = PHONE_TAIL.match(text)
    if match and match.group(1).strip():
        name, phone = match.group(1).strip(), v.phone(match.group(2))
    session = fc.session
    by_id = session.get(User, name)
    if by_id is not None and by_id.active:
        return person(by_id, phone)
    matches = list(session.scalars(select(User).where(User.name == name, User.active.is_(True))
                                   .order_by(User.userid)))
    if len(matches) == 1:
        return person(matches[0], phone)
    if len(matches) > 1:
        options = [(f"{u.name}（{describe_member(session, u.userid)}）", person(u, phone))
                   for u in matches]
        raise NeedsChoice(f"通讯录中有 {len(matches)} 位“{name}”，请回复序号选择：", options)
    if not phone:
        raise v.Invalid("outsider_phone", value=name[:20])
    return {"userid": None, "name": v.text(name, label="姓名", max_len=20), "phone": phone}


def person(user: User, phone: str | None) -> dict:
    return {"userid": user.userid, "name": user.name, "phone": phone}


def describe_member(session, userid: str) -> str:
    names = session.scalars(select(Department.name).join(
        Membership, Membership.department_id == Department.id).where(Membership.userid == userid))
    user = session.get(User, userid)
    return " ".join([*names, user.position or ""]).strip()


def default_value(field: Field, fc: FormContext):
    """负责人 → the department's WeCom leader; 管理员 → the submitter (SPEC §3)."""
    if field.name == "leader" and fc.department_id is not None:
        heads = department_heads(fc.session, fc.department_id)
        leader = fc.session.get(User, heads[0]) if heads else None
        return person(leader, None) if leader else None
    if field.name == "admins":
        me = fc.session.get(User, fc.userid)
        return [person(me, None)] if me else None
    if field.name == "year":
        return fc.today.year - 1
    return None


# --- accounts ------------------------------------------------------------------------------
def department_accounts(fc: FormContext) -> list[Account]:
    """The department's accounts that can still be changed, reviewed or closed."""
    return list(fc.session.scalars(
        select(Account).where(Account.department_id == fc.department_id,
                              Account.status.in_(("active", "ordered_closed")))
        .order_by(Account.id)))


def read_account(text: str, fc: FormContext, form: FormSpec) -> dict:
    """An account of the department: by list number, filing number or name."""
    accounts = department_accounts(fc)
    if not accounts:
        raise v.Invalid("no_accounts")
    chosen = None
    if text.isdigit() and 1 <= int(text) <= len(accounts):
        chosen = accounts[int(text) - 1]
    else:
        upper = text.upper()
        chosen = next((a for a in accounts if (a.filing_no or "").upper() == upper), None)
        if chosen is None:
            named = ([a for a in accounts if a.name == text]
                     or [a for a in accounts if text in a.name])
            if len(named) > 1:
                raise NeedsChoice("有多个账号符合，请回复序号选择：",
                                  [(describe_account(a), account_value(a)) for a in named])
            chosen = named[0] if named else None
    if chosen is None:
        known = fc.session.scalar(select(Account).where(
            or_(Account.filing_no == text.upper(), Account.name == text)))
        if known is not None and known.department_id == fc.department_id:
            raise v.Invalid("account_closed", value=known.name)  # closed or not yet built
        if known is not None:
            raise v.Invalid("account_other_dept", value=text[:30])
        raise v.Invalid("account", value=text[:30])
    if form.kind in ("close", "change"):
        check_no_open(fc, chosen, form.kind)
    return account_value(chosen)


def check_no_open(fc: FormContext, account: Account, kind: str) -> None:
    """One open 注销 (or 变更) per account: a second is refused with the first one's number."""
    open_filing = fc.session.scalar(select(Filing.id).where(
        Filing.kind == kind, Filing.account_id == account.id,
        Filing.status.in_(OPEN_STATUSES)))  # an "ordered" case is completed by this very filing
    if open_filing is not None:
        raise v.Invalid("duplicate_open", name=account.name, number=f"#{open_filing}")


def account_value(account: Account) -> dict:
    return {"id": account.id, "name": account.name, "filing_no": account.filing_no,
            "platform": account.platform}


def describe_account(account: Account) -> str:
    return (f"{account.name}（{v.PLATFORM_NAMES.get(account.platform, account.platform)} · "
            f"{account.filing_no or '未编号'}）")


def account_start_year(fc: FormContext) -> int | None:
    chosen = fc.answers.get("account")
    if not chosen:
        return None
    account = fc.session.get(Account, chosen["id"])
    opened = (account.details or {}).get("opened") if account else None
    return int(opened[:4]) if opened else None


# --- duplicates ----------------------------------------------------------------------------
def check_not_registered(fc: FormContext, platform: str, external_id: str) -> None:
    """登记 of an account already in the registry, or already waiting, is refused
    with its number."""
    account = fc.session.scalar(select(Account).where(
        Account.platform == platform, Account.external_id == external_id,
        Account.status != "closed"))
    if account is not None:
        raise v.Invalid("duplicate_account", name=account.name,
                        number=account.filing_no or "待编号")
    for filing in fc.session.scalars(select(Filing).where(
            Filing.kind == "register", Filing.status.in_(OPEN_STATUSES))):
        if (filing.fields.get("platform") == platform
                and filing.fields.get("external_id") == external_id):
            raise v.Invalid("duplicate_pending", name=filing.fields.get("name", ""),
                            number=f"#{filing.id}")


def check_no_annual(fc: FormContext, year: int) -> None:
    """One 年检 per account and year, unless the earlier one was rejected or withdrawn."""
    chosen = fc.answers.get("account")
    if not chosen:
        return
    for filing in fc.session.scalars(select(Filing).where(
            Filing.kind == "annual", Filing.account_id == chosen["id"],
            Filing.status.in_(OPEN_STATUSES + ("approved", "done")))):  # not returned/rejected
        if filing.fields.get("year") == year:
            raise v.Invalid("duplicate_annual", year=year, number=f"#{filing.id}")


# --- showing values back -------------------------------------------------------------------
def show(field: Field, value) -> str:
    """A field value as the summary and cards show it."""
    if value is None:
        return "（未填）"
    if field.kind == "platform":
        return v.PLATFORM_NAMES.get(value, value)
    if field.kind == "person":
        people = value if isinstance(value, list) else [value]
        return "、".join(p["name"] + (f" {p['phone']}" if p.get("phone") else "") for p in people)
    if field.kind == "account":
        return f"{value['name']}（{value.get('filing_no') or '未编号'}）"
    if field.kind == "yes_no":
        return "是" if value else "否"
    return str(value)
