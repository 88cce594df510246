"""The school's main accounts, named by article 9, pre-registered as run by publicity (SPEC §1).

Article 9: the Sina Weibo account 西安电大宣传办 (weibo.com/u/3512771853) and the WeChat official
account xartvu1979 are the school's main channels, run by 宣传部. They never went through a
department's 登记, so `flask --app bot accounts seed-main` puts them in the registry: active,
numbered like any approved 登记, owned by 宣传部, with its WeCom leader as 负责人 and the
`publicity` role holders as 管理员. Running it again changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlmodel import Session

from models import Account, AccountStatus, AuditLog, Department, User
from workflow.forms.people import person
from workflow.numbers import next_filing_number
from workflow.roles import department_heads, holders

PUBLICITY_DEPARTMENT = "宣传部"


@dataclass(frozen=True)
class MainAccount:
    platform: str
    name: str
    external_id: str
    homepage: str | None


MAIN_ACCOUNTS = (
    MainAccount("WB", "西安电大宣传办", "3512771853", "https://weibo.com/u/3512771853"),
    MainAccount("WX", "西安广播电视大学", "xartvu1979", None),
)


class SeedError(ValueError):
    """Why the accounts cannot be seeded (in Chinese, for the CLI)."""


def owner_department(session: Session, department_id: int | None) -> Department:
    """The department given by id, or the one named 宣传部 in the directory cache."""
    if department_id is not None:
        department = session.get(Department, department_id)
        if department is None:
            raise SeedError(f"找不到部门 {department_id}，请先运行 flask --app bot directory sync")
        return department
    named = list(session.scalars(select(Department).where(
        Department.name == PUBLICITY_DEPARTMENT)))
    if len(named) != 1:
        found = "没有" if not named else f"有 {len(named)} 个"
        raise SeedError(f"通讯录中{found}名为“{PUBLICITY_DEPARTMENT}”的部门，"
                        "请用 --department ID 指定（部门 ID 见 directory sync 后的通讯录）")
    return named[0]


def members(session: Session, userids: list[str], strict: bool = True) -> list[dict]:
    """Directory members as 负责人/管理员 form values, in the order given; userids not in the
    directory cache are an error, or skipped when not `strict`."""
    found = []
    for userid in userids:
        user = session.get(User, userid)
        if user is None or not user.active:
            if not strict:
                continue
            raise SeedError(f"通讯录中没有成员 {userid}，请先运行 flask --app bot directory sync")
        found.append(person(user, None))
    return found


def seed(session: Session, settings, clock, department_id: int | None = None,
         admin_userids: list[str] | None = None) -> list[tuple[Account, bool]]:
    """Register the main accounts not yet in the registry; (account, newly added) for each."""
    department = owner_department(session, department_id)
    leaders = members(session, department_heads(session, department.id), strict=False)[:1]
    if admin_userids:
        admins = members(session, list(dict.fromkeys(admin_userids)))
    else:
        admins = members(session, holders(session, "publicity"), strict=False)
    results = []
    for main in MAIN_ACCOUNTS:
        existing = session.scalar(select(Account).where(
            Account.platform == main.platform, Account.external_id == main.external_id))
        if existing is not None:
            results.append((existing, False))
            continue
        now = clock.now()
        number = next_filing_number(session, settings, platform_code=main.platform,
                                    year=clock.local_now().year)
        details = {"leader": leaders[0] if leaders else None, "admins": admins,
                   "purpose": "学校官方信息发布的主要平台（管理办法第九条）"}
        if main.homepage:
            details["homepage"] = main.homepage
        account = Account(platform=main.platform, name=main.name, external_id=main.external_id,
                          department_id=department.id, status=AccountStatus.ACTIVE,
                          filing_no=number,
                          details=details, admin_userids=[p["userid"] for p in admins],
                          created_at=now, updated_at=now)
        session.add(account)
        session.flush()
        session.add(AuditLog(at=now, actor="cli", action="account:seed", account_id=account.id,
                             before={},
                             after={"status": AccountStatus.ACTIVE, "filing_no": number}))
        results.append((account, True))
    return results
