"""People in form answers: 负责人 and 管理员, by directory userid or name, or an outsider
with a phone number."""

from __future__ import annotations

import re
from typing import Protocol

from sqlalchemy import select

from bot.render import render_text
from models import Department, Membership, User
from workflow.forms import validators as v
from workflow.forms.context import FormContext, NeedsChoice
from workflow.forms.spec import Field

SEPARATORS = re.compile(r"[、，,;；\n]+")


class Directory(Protocol):
    """Where members are looked up: the database for a chat answer, a preloaded copy for a
    ledger of thousands of rows (workflow.ledger.importing)."""

    def member(self, userid: str) -> User | None:
        """The member with this userid (active or not), or None."""

    def named(self, name: str) -> list[User]:
        """The active members called `name`, by userid."""


class SessionDirectory:
    """Members read from the database, one query per lookup."""

    def __init__(self, session):
        self.session = session

    def member(self, userid: str) -> User | None:
        """The member with this userid, or None."""
        return self.session.get(User, userid)

    def named(self, name: str) -> list[User]:
        """The active members called `name`, by userid."""
        return list(self.session.scalars(select(User).where(
            User.name == name, User.active.is_(True)).order_by(User.userid)))


def read_people(field: Field, text: str, fc: FormContext, directory: Directory | None = None):
    """One person for 负责人 fields, one or more for 管理员 fields (separated by 、 or ，);
    members are looked up in `directory` (default: the database, a query per name)."""
    parts = [p.strip() for p in SEPARATORS.split(text) if p.strip()]
    if not parts:
        raise v.Invalid("person", value=text[:20])
    if "admins" not in field.name and len(parts) > 1:
        raise v.Invalid("one_person", label=field.label)
    if "admins" not in field.name:
        return read_person(parts[0], fc, directory)
    parts = list(dict.fromkeys(parts))  # 张三、李四、张三: each person once
    people = []
    for index, part in enumerate(parts):
        try:
            people.append(read_person(part, fc, directory))
        except NeedsChoice as choice:
            # Several admins, one of them ambiguous: each option carries the whole list.
            rest = [read_person(p, fc, directory) for p in parts[index + 1:]]
            choice.options = [(shown, [*people, value, *rest]) for shown, value in choice.options]
            raise
    unique = {}
    for p in people:  # the same member typed by name and by userid is still one person
        unique.setdefault(p.get("userid") or p["name"], p)
    return list(unique.values())


# A phone after the name: a mobile, or a landline as people write it (see v.phone).
PHONE_TAIL = re.compile(r"^(.*?)[\s:：]*((?:(?:\+|00)86[\s-]*)?(?:[(（]0\d{0,3}[)）][\s-]*)?"
                        r"\d[\d\- ]{5,}\d(?:转\d{1,6})?)$")


def read_person(text: str, fc: FormContext, directory: Directory | None = None) -> dict:
    """A directory member by userid or name (with an optional phone),
    or an outsider with a phone."""
    name, phone = text, None
    match = PHONE_TAIL.match(text)
    if match and match.group(1).strip():
        name, phone = match.group(1).strip(), v.phone(match.group(2))
    session = fc.session
    directory = directory or SessionDirectory(session)
    by_id = directory.member(name)
    if by_id is not None and by_id.active:
        return person(by_id, phone)
    matches = directory.named(name)
    if len(matches) == 1:
        return person(matches[0], phone)
    if len(matches) > 1:
        options = [(f"{u.name}（{describe_member(session, u.userid)}）", person(u, phone))
                   for u in matches]
        raise NeedsChoice(render_text("forms/hint", code="several_people", count=len(matches),
                                      person=name), options)
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
