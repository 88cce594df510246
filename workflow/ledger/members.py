"""Directory members for a ledger: the whole directory in one query (the import), or only the
members a chunk of rows names (the export); looked up in memory, and written so that the
import finds the same person again ("姓名（userid）" when a name is shared)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select

from models import User

WITH_USERID = re.compile(r"^(.*?)\s*[（(]\s*([A-Za-z0-9_.@-]{1,64})\s*[)）]$")  # 张三（zhangsan）


@dataclass(frozen=True)
class Member:
    userid: str
    name: str
    active: bool
    position: str = ""


class LedgerDirectory:
    """The directory in memory (a workflow.forms.people.Directory): members by userid, by name,
    and by "姓名（userid）", as the export writes a name several members share."""

    def __init__(self, members: list[Member]):
        self.by_id = {m.userid: m for m in members}
        self.by_name: dict[str, list[Member]] = defaultdict(list)
        for m in sorted(members, key=lambda m: m.userid):
            if m.active:
                self.by_name[m.name].append(m)

    @classmethod
    def load(cls, session) -> LedgerDirectory:
        """Every member of the directory cache."""
        return cls([Member(*row) for row in session.execute(
            select(User.userid, User.name, User.active, User.position))])

    @classmethod
    def of_people(cls, session, people: Iterable[dict]) -> LedgerDirectory:
        """The members `people` (负责人/管理员 values) name by userid, with every active member
        who shares one of their names: all that person_text needs for these people."""
        people = [p for p in people if p.get("userid")]
        userids = {p["userid"] for p in people}
        if not userids:
            return cls([])
        columns = select(User.userid, User.name, User.active, User.position)
        found = [Member(*row) for row in session.execute(columns.where(User.userid.in_(userids)))]
        names = {m.name for m in found} | {p["name"] for p in people if p.get("name")}
        found += [Member(*row) for row in session.execute(columns.where(
            User.active.is_(True), User.name.in_(names), User.userid.not_in(userids)))]
        return cls(found)

    def member(self, userid: str) -> Member | None:
        """A member by userid, or by "姓名（userid）" when the name is theirs."""
        found = self.by_id.get(userid)
        if found is None and (match := WITH_USERID.match(userid)):
            candidate = self.by_id.get(match.group(2))
            if candidate is not None and candidate.name == match.group(1).strip():
                found = candidate
        return found

    def named(self, name: str) -> list[Member]:
        """The active members called `name`, by userid."""
        return list(self.by_name.get(name, ()))

    def person_text(self, person: dict | None) -> str:
        """A 负责人/管理员 value as a cell: the member's current name, with the userid in
        brackets when the name alone would not find them again; then the phone, if any."""
        if not person:
            return ""
        name, userid = person.get("name") or "", person.get("userid")
        if userid:
            member = self.by_id.get(userid)
            name = member.name if member else name
            if [m.userid for m in self.named(name)] != [userid]:
                name = f"{name}（{userid}）"
        return name + (f" {person['phone']}" if person.get("phone") else "")

    def people_text(self, value) -> str:
        """One person or a list of people, separated by 、 as the forms read them."""
        return "、".join(self.person_text(p) for p in people_in(value))


def people_in(value) -> list[dict]:
    """A 负责人/管理员 value (one person, a list of them, or nothing) as a list."""
    return value if isinstance(value, list) else [value] if value else []
