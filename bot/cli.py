"""`flask --app bot …` commands: db, outbox, directory, roles, accounts, reminders, worker and
the sandbox console."""

from __future__ import annotations

from datetime import datetime, time

import click
from alembic import command
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy.exc import IntegrityError

from bot import ledger_cli, main_accounts, reminders, role_changes
from bot.clock import SHANGHAI, FixedClock
from bot.console import console_command
from bot.db import alembic_config, upgrade_database
from bot.notify import unit_of_work
from bot.outbox import outbox_status, prune, requeue
from bot.outbox.waiting import describe, waiting
from bot.render import render_text
from bot.sandbox import seed_sandbox
from bot.worker import run_worker
from workflow import roles
from workflow.uow import Actor

CLI = Actor("cli", "命令行")  # who the audit log says acted

db_cli = AppGroup("db", help="Database schema (Alembic migrations).")


@db_cli.command("upgrade")
@click.argument("revision", default="head")
def upgrade_command(revision: str) -> None:
    """Apply migrations (idempotent)."""
    upgrade_database(current_app.config["SETTINGS"].database_url, revision)
    click.echo("数据库已是最新结构 (database is at revision head)")
    if "filingbot.emulator" in current_app.extensions:
        counts = seed_sandbox(current_app)
        click.echo(f"沙箱通讯录已同步：{counts['users']} 位演示成员，"
                   f"新授予 {counts['granted']} 个角色")


@db_cli.command("current")
def current_command() -> None:
    """Show the database's current revision."""
    command.current(alembic_config(current_app.config["SETTINGS"].database_url))

outbox_cli = AppGroup("outbox", help="Outgoing messages.")
directory_cli = AppGroup("directory", help="The WeCom directory cache.")
roles_cli = AppGroup("roles", help="Role grants: " + ", ".join(roles.GRANTABLE))


def _engine():
    return current_app.extensions["filingbot.engine"]


def _now():
    return current_app.extensions["filingbot.clock"].now()


@outbox_cli.command("drain")
@with_appcontext
def drain_command() -> None:
    """Deliver every message that is due, then exit."""
    counts = current_app.extensions["filingbot.dispatcher"].drain(limit=100_000)
    click.echo(f"已发送 {counts['sent']} 条，失败待重试 {counts['failed']} 条，"
               f"放弃 {counts['dead']} 条，限速顺延 {counts['deferred']} 条")
    echo_waiting()


def echo_waiting() -> None:
    """Say what the outbox still holds back and until when (quiet hours, pacing, retries)."""
    clock = current_app.extensions["filingbot.clock"]
    quiet = current_app.config["SETTINGS"].reminder_quiet_hours
    text = describe(waiting(_engine(), clock.now(), quiet), quiet, clock.local_now())
    if text:
        click.echo(text)


@outbox_cli.command("retry")
@click.option("--dead", is_flag=True, help="Also send again the messages given up on.")
@with_appcontext
def retry_command(dead: bool) -> None:
    """Retry now what is backing off after failures (and, with --dead, what was given up on)."""
    now = current_app.extensions["filingbot.clock"].now()
    requeued = requeue(_engine(), now, dead=dead)
    counts = current_app.extensions["filingbot.dispatcher"].drain(limit=100_000)
    held = outbox_status(_engine(), now, current_app.config["SETTINGS"].reminder_quiet_hours)
    click.echo(render_text("outbox/retry", dead=dead, revived=requeued["revived"],
                           brought=requeued["brought"], sent=counts["sent"],
                           failed=counts["failed"], dead_now=counts["dead"],
                           deferred=counts["deferred"], held=held["held"]))


@outbox_cli.command("status")
@with_appcontext
def status_command() -> None:
    """Show queued, held, retrying and dead messages, with the latest errors."""
    status = outbox_status(_engine(), current_app.extensions["filingbot.clock"].now(),
                           current_app.config["SETTINGS"].reminder_quiet_hours)
    click.echo(render_text("outbox/status", **status))


@directory_cli.command("sync")
@with_appcontext
def sync_command() -> None:
    """Refresh all departments and users from WeCom."""
    today = current_app.extensions["filingbot.clock"].local_now().date()
    counts = reminders.sync_and_check(current_app, today)
    click.echo(f"同步完成：部门 {counts['departments']} 个，成员 {counts['users']} 人，"
               f"离开 {counts['left']} 人；"
               f"负责人或管理员已变动、需办理变更的账号 {counts['drifted']} 个")


@roles_cli.command("grant")
@click.argument("userid")
@click.argument("role")
@click.option("--department", "department_id", type=int, help="Department id (for dept_head).")
@with_appcontext
def grant_command(userid: str, role: str, department_id: int | None) -> None:
    """Grant ROLE to USERID (the user need not have contacted the bot yet)."""
    with unit_of_work(current_app, actor=CLI) as uow:
        try:
            added = role_changes.grant(uow.session, actor=CLI.userid, at=_now(), userid=userid,
                                       role=role, department_id=department_id)
        except roles.RoleError as exc:
            raise click.UsageError(str(exc)) from None
        uow.commit()
    click.echo(f"已授予 {userid} 角色 {role}" if added else f"{userid} 已有角色 {role}")


@roles_cli.command("revoke")
@click.argument("userid")
@click.argument("role")
@click.option("--department", "department_id", type=int, help="Only the grant for this department.")
@with_appcontext
def revoke_command(userid: str, role: str, department_id: int | None) -> None:
    """Revoke ROLE from USERID."""
    with unit_of_work(current_app, actor=CLI) as uow:
        try:
            removed = role_changes.revoke(uow.session, actor=CLI.userid, at=_now(),
                                          userid=userid, role=role, department_id=department_id)
        except roles.RoleError as exc:
            raise click.UsageError(str(exc)) from None
        uow.commit()
    click.echo(f"已收回 {userid} 的角色 {role}" if removed else f"{userid} 没有角色 {role}")


@roles_cli.command("list")
@with_appcontext
def list_command() -> None:
    """List every grant."""
    with unit_of_work(current_app, actor=CLI) as uow:
        grants = roles.list_grants(uow.session)
        if not grants:
            click.echo("尚未授予任何角色")
        for grant, name in grants:
            scope = "" if grant.department_id == 0 else f" 部门{grant.department_id}"
            click.echo(f"{grant.role:10} {grant.userid:16} {name or '(尚未联系过)'}{scope}")


accounts_cli = AppGroup("accounts", help="The registry of official accounts.")


@accounts_cli.command("seed-main")
@click.option("--department", "department_id", type=int,
              help="Owner department id (default: the department named 宣传部).")
@click.option("--admin", "admins", multiple=True,
              help="管理员 userid, repeatable (default: the publicity role holders).")
@with_appcontext
def seed_main_command(department_id: int | None, admins: tuple[str, ...]) -> None:
    """Register the school's main Weibo and WeChat accounts (art. 9), run by publicity."""
    with unit_of_work(current_app, actor=CLI) as uow:
        try:
            results = main_accounts.seed(uow.session, uow.settings, uow.clock,
                                         department_id, list(admins))
            uow.commit()
        except main_accounts.SeedError as exc:
            raise click.UsageError(str(exc)) from None
        except IntegrityError:
            raise click.ClickException("另一个进程正在登记同一账号，请稍后重试") from None
        for account, added in results:
            admin_names = "、".join(p["name"] for p in account.details.get("admins") or [])
            click.echo(f"{'已登记' if added else '已在台账中'}：{account.name}"
                       f"（{account.platform} {account.external_id}，备案编号 {account.filing_no}）"
                       f"，管理员：{admin_names or '未指定，请宣传部通过“变更”补充'}")


ledger_cli.register(accounts_cli)  # accounts export / import (bot/ledger_cli.py)

reminders_cli = AppGroup("reminders", help="Annual review campaign, digests and approval nudges.")


@reminders_cli.command("run")
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="Run as if today were this date.")
@click.option("--dry-run", is_flag=True, help="Show what is due without queueing anything.")
@with_appcontext
def reminders_run_command(today, dry_run: bool) -> None:
    """Queue what is due today (safe to run again: nothing is queued twice)."""
    clock = current_app.extensions["filingbot.clock"]
    if today is not None:
        clock = FixedClock(datetime.combine(today.date(), time(9, 0), tzinfo=SHANGHAI))
    report = reminders.run(current_app, clock.local_now().date(), dry_run=dry_run, clock=clock)
    click.echo(reminders.describe(report))
    if not dry_run:
        prune(_engine(), current_app.extensions["filingbot.clock"].now())
        echo_waiting()


@click.command("worker")
@with_appcontext
def worker_command() -> None:
    """Run the outbox dispatcher and the daily reminder schedule until stopped."""
    run_worker(current_app._get_current_object())


def init_app(app) -> None:
    for group in (db_cli, outbox_cli, directory_cli, roles_cli, accounts_cli, reminders_cli):
        app.cli.add_command(group)
    app.cli.add_command(worker_command)
    app.cli.add_command(console_command)
