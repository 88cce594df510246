"""零报告: a department without official accounts answers the annual review campaign."""

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from models import Account, AccountStatus, ZeroReport
from workflow.roles import department_heads, departments_of


def register(router) -> None:
    router.command("零报告")(zero_report)


def zero_report(ctx) -> None:
    """Record 零报告 for the user's department(s) without accounts, for last year."""
    year = ctx.clock.local_now().year - 1
    departments = [d for d in departments_of(ctx.session, ctx.userid)
                   if ctx.userid in department_heads(ctx.session, d.id)]
    if not departments:
        ctx.reply("reminders/zero_not_head")
        return
    recorded, has_accounts = [], []
    for department in departments:
        if ctx.session.scalar(select(Account.id).where(
                Account.department_id == department.id,
                Account.status == AccountStatus.ACTIVE).limit(1)):
            has_accounts.append(department.name)
            continue
        if ctx.session.get(ZeroReport, (department.id, year)) is None:
            try:
                with ctx.session.begin_nested():
                    ctx.session.add(ZeroReport(department_id=department.id, year=year,
                                               userid=ctx.userid, created_at=ctx.clock.now()))
            except IntegrityError:
                pass
        recorded.append(department.name)
    ctx.reply("reminders/zero_recorded", recorded=recorded, has_accounts=has_accounts, year=year)
