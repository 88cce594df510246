"""Reading one answer into a field value, by the field's kind, and showing it back.

Pure rules live in validators.py; people.py and accounts.py read what needs the database
(directory members, the department's accounts, duplicates)."""

from __future__ import annotations

import re
from calendar import monthrange
from datetime import date

from models import User
from workflow.forms import accounts, people
from workflow.forms import validators as v
from workflow.forms.context import FormContext, NeedsChoice
from workflow.forms.spec import Field, FormSpec
from workflow.roles import department_heads

__all__ = ["FormContext", "NeedsChoice", "default_value", "read", "show"]

MONTH = re.compile(r"^(\d{4})\s*(?:[-./年]\s*(\d{1,2})\s*(?:月)?)?"
                   r"(?:\s*[-./]?\s*(\d{1,2})\s*日?)?$")


def read(field: Field, text: str, form: FormSpec, fc: FormContext):
    """The value of `field` from the user's `text`; raises v.Invalid or NeedsChoice."""
    text = v.visible(text).strip()
    if not field.multiline and field.kind != "person":  # several people may take a line each
        v.one_line(text, label=field.label)
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
        platform = id_platform(fc)
        value = v.account_id(text, platform)
        if len(value) > field.max_len:
            raise v.Invalid("too_long", label=field.label, max_len=field.max_len)
        if form.kind == "register":
            accounts.check_not_registered(fc.session, platform, value)
        if form.kind == "change":
            accounts.check_id_free(fc, platform, value)
        return value
    if kind == "url":
        return v.url(text)
    if kind == "year":
        start = accounts.account_start_year(fc)
        value = v.year(text, today=fc.today, not_before=start)
        accounts.check_no_annual(fc, value)
        return value
    if kind == "count":
        return v.count(text)
    if kind == "yes_no":
        return v.yes_no(text)
    if kind == "safety":
        return v.safety_events(text)
    if kind == "month":
        return read_month(text, fc.today)
    if kind == "person":
        if text in ("默认", "同上") and (default := default_value(field, fc)) is not None:
            return default
        return people.read_people(field, text, fc)
    if kind == "account":
        return accounts.read_account(text, fc, form)
    return v.text(text, label=field.label, max_len=field.max_len)


def id_platform(fc: FormContext) -> str:
    """The platform an account ID is read for: the form's 平台, a 变更's 新平台 or the
    changed account's own platform."""
    chosen = fc.answers.get("account") or {}
    return (fc.answers.get("platform") or fc.answers.get("new_platform")
            or chosen.get("platform") or "QT")


def read_month(text: str, today: date) -> str:
    """A start date as YYYY, YYYY-MM or YYYY-MM-DD, a real date and not after `today`."""
    match = MONTH.match(text.replace(" ", ""))
    if not match or not 1990 <= int(match.group(1)) <= 2100:
        raise v.Invalid("month", value=text[:20])
    year, month, day = (int(p) if p else None for p in match.groups())
    if month and not 1 <= month <= 12 or day and not 1 <= day <= monthrange(year, month)[1]:
        raise v.Invalid("month", value=text[:20])
    if (year, month or 1, day or 1) > (today.year, today.month, today.day):
        raise v.Invalid("date_future", value=text[:20], today=today)
    return "-".join([str(year)] + [f"{p:02d}" for p in (month, day) if p])


def default_value(field: Field, fc: FormContext):
    """负责人 → the department's WeCom leader; 管理员 → the submitter (SPEC §3)."""
    if field.name == "leader" and fc.department_id is not None:
        heads = department_heads(fc.session, fc.department_id)
        leader = fc.session.get(User, heads[0]) if heads else None
        return people.person(leader, None) if leader else None
    if field.name == "admins":
        me = fc.session.get(User, fc.userid)
        return [people.person(me, None)] if me else None
    if field.name == "year":
        return fc.today.year - 1
    return None


def show(field: Field, value) -> str:
    """A field value as the summary and cards show it."""
    if value is None:
        return "（未填）"
    if field.kind == "platform":
        return v.PLATFORM_NAMES.get(value, value)
    if field.kind == "person":
        persons = value if isinstance(value, list) else [value]
        return "、".join(p["name"] + (f" {p['phone']}" if p.get("phone") else "") for p in persons)
    if field.kind == "account":
        return f"{value['name']}（{value.get('filing_no') or '无备案编号'}）"
    if field.kind == "yes_no":
        return "是" if value else "否"
    return str(value)
