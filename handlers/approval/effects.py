"""What a decision changes besides the filing's status (SPEC §5.5): the registry, filing
numbers, the next stage's cards, and who is told. Every change is in the decision's
transaction; every message goes through the outbox."""

from __future__ import annotations

from bot.numbers import next_filing_number
from bot.roles import department_heads, holders
from handlers.approval import routing
from handlers.forms.catalog import FORMS
from models import Account, AuditLog, Filing


def apply(ctx, filing: Filing, stage, choice, decision) -> None:
    """Carry out the consequences of `choice` on `filing` at `stage`."""
    key = (stage.name, choice.key)
    if key == ("dept", "approve"):
        routing.route(ctx, filing)
    elif key == ("office", "approve"):
        approve(ctx, filing)
    elif key == ("office", "pass"):
        annual_pass(ctx, filing)
    elif key == ("office", "fail"):
        annual_fail(ctx, filing)
    elif key == ("build", "built"):
        from handlers.approval import prompts
        prompts.ask_build_id(ctx, filing, decision)
    elif key == ("build", "unable"):
        set_account(ctx, filing.account_id, status="closed")
    ctx.send([filing.submitter], "approval/outcome", filing=filing, stage=stage, choice=choice,
             decider=ctx.user.name, form=FORMS[filing.kind], account=account_of(ctx, filing))


def approve(ctx, filing: Filing) -> None:
    """Final approval of 登记/申请 (number, account), 变更 (people) or 注销 (closed)."""
    fields = filing.fields
    if filing.kind in ("register", "apply"):
        number = next_filing_number(ctx.session, ctx.settings, platform_code=fields["platform"],
                                    year=ctx.clock.local_now().year)
        account = Account(
            platform=fields["platform"], name=fields["name"],
            external_id=fields.get("external_id") if filing.kind == "register" else None,
            department_id=filing.department_id, filing_no=number,
            status="active" if filing.kind == "register" else "pending",
            details={k: fields[k] for k in ("homepage", "purpose", "opened", "leader", "admins",
                                             "reason", "positioning") if k in fields},
            admin_userids=[p["userid"] for p in fields.get("admins", []) if p.get("userid")],
            created_at=ctx.clock.now(), updated_at=ctx.clock.now())
        ctx.session.add(account)
        ctx.session.flush()
        filing.account_id = account.id
        audit(ctx, filing, "account:create", {}, {"status": account.status, "filing_no": number})
        if filing.kind == "apply":
            routing.route(ctx, filing)  # awaiting_build: the task card to tech (art. 6)
    elif filing.kind == "change":
        account = ctx.session.get(Account, filing.account_id)
        details = dict(account.details)
        before = {"leader": details.get("leader"), "admins": details.get("admins")}
        if fields.get("new_leader"):
            details["leader"] = fields["new_leader"]
        if fields.get("new_admins"):
            details["admins"] = fields["new_admins"]
            account.admin_userids = [p["userid"] for p in fields["new_admins"] if p.get("userid")]
        account.details = details
        account.updated_at = ctx.clock.now()
        audit(ctx, filing, "account:change", before,
              {"leader": details.get("leader"), "admins": details.get("admins")})
    elif filing.kind == "close":
        set_account(ctx, filing.account_id, status="closed", filing=filing)
        complete_ordered_cases(ctx, filing)
    publicity = [u for u in holders(ctx.session, "publicity") if u != filing.submitter]
    if publicity:
        ctx.send(publicity, "approval/publicity_copy", filing=filing, form=FORMS[filing.kind],
                 account=account_of(ctx, filing), decider=ctx.user.name)


def annual_pass(ctx, filing: Filing) -> None:
    account = ctx.session.get(Account, filing.account_id)
    year = filing.fields["year"]
    if account.last_review_year is None or account.last_review_year < year:
        audit(ctx, filing, "account:review", {"last_review_year": account.last_review_year},
              {"last_review_year": year})
        account.last_review_year = year


def annual_fail(ctx, filing: Filing) -> None:
    """Art. 7: a failed audit orders the account closed and opens a 注销 case to track."""
    set_account(ctx, filing.account_id, status="ordered_closed", filing=filing)
    case = Filing(kind="close", account_id=filing.account_id, department_id=filing.department_id,
                  submitter=ctx.userid, status="ordered",
                  fields={"account": filing.fields["account"],
                          "reason": f"{filing.fields['year']} 年度检查不合格，责令注销"},
                  created_at=ctx.clock.now(), updated_at=ctx.clock.now())
    ctx.session.add(case)
    ctx.session.flush()
    audit(ctx, case, "close:ordered", {}, {"status": "ordered"})
    heads = department_heads(ctx.session, filing.department_id)
    ctx.send(sorted({*heads, filing.submitter}), "approval/ordered_closed",
             filing=filing, case=case)


def complete_ordered_cases(ctx, filing: Filing) -> None:
    """A closure ordered after a failed audit is done once the account is actually closed."""
    from sqlalchemy import select

    for case in ctx.session.scalars(select(Filing).where(
            Filing.kind == "close", Filing.status == "ordered",
            Filing.account_id == filing.account_id)):
        case.status, case.updated_at = "done", ctx.clock.now()
        audit(ctx, case, "close:done", {"status": "ordered"}, {"status": "done", "by": filing.id})


def set_account(ctx, account_id, *, status: str, filing: Filing | None = None) -> None:
    account = ctx.session.get(Account, account_id) if account_id else None
    if account is None:
        return
    audit(ctx, filing, "account:status", {"status": account.status}, {"status": status},
          account_id=account.id)
    account.status = status
    account.updated_at = ctx.clock.now()


def audit(ctx, filing, action: str, before: dict, after: dict, account_id=None) -> None:
    ctx.session.add(AuditLog(at=ctx.clock.now(), actor=ctx.userid, action=action,
                             filing_id=filing.id if filing else None,
                             account_id=account_id or (filing.account_id if filing else None),
                             before=before, after=after))


def account_of(ctx, filing: Filing) -> Account | None:
    return ctx.session.get(Account, filing.account_id) if filing.account_id else None
