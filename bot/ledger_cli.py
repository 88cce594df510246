"""`flask --app bot accounts export|import`: the ledger as an Excel file (issue #12), thin over
workflow.ledger."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext
from sqlmodel import Session

from bot.db import read_only
from bot.notify import unit_of_work
from models import AccountStatus
from workflow.access import Viewer
from workflow.forms import validators as v
from workflow.ledger import export
from workflow.ledger.importing import run_import
from workflow.ledger.upload import MAX_BYTES
from workflow.queries import RegistryFilters
from workflow.uow import Actor

CLI_ACTOR = Actor("cli", "命令行")
OPERATOR = Viewer("cli", frozenset({"admin"}), ())  # the operator sees the whole registry


@click.command("export")
@click.argument("path", type=click.Path(dir_okay=False, writable=True, path_type=Path))
@click.option("--department", "department_id", type=int, help="Only this department (id).")
@click.option("--platform", help="Only this platform (code or name, e.g. WX or 微信公众号).")
@click.option("--status", type=click.Choice([s.value for s in AccountStatus]),
              help="Only accounts in this status.")
@with_appcontext
def export_command(path: Path, department_id: int | None, platform: str | None,
                   status: str | None) -> None:
    """Write the registry to PATH (.xlsx), in the columns the import reads back."""
    try:
        code = v.platform(platform) if platform else None
    except v.Invalid as invalid:
        raise click.UsageError(invalid.message) from None
    filters = RegistryFilters(department_id=department_id, platform=code,
                              status=AccountStatus(status) if status else None)
    with Session(current_app.extensions["filingbot.engine"]) as session, path.open("wb") as out:
        count = export.registry_workbook(session, OPERATOR, filters, out)
    click.echo(f"已导出 {count} 个账号到 {path}")


@click.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--dry-run", is_flag=True, help="Check every row and write nothing.")
@with_appcontext
def import_command(path: Path, dry_run: bool) -> None:
    """Load an office's ledger from PATH (.xlsx): new / update / unchanged / error per row."""
    with path.open("rb") as source:
        data = source.read(MAX_BYTES + 1)  # the size check needs no more than this
    with ledger_unit_of_work(current_app, read_only_=dry_run) as uow:
        report = run_import(uow, data, path.name, dry_run=dry_run)
    click.echo(report.text())
    if report.error:
        raise SystemExit(1)


@contextmanager
def ledger_unit_of_work(app, *, read_only_: bool):
    """A unit of work for the CLI; a dry run reads without SQLite's write lock, so the bot
    keeps answering while thousands of rows are checked."""
    if not read_only_:
        with unit_of_work(app, actor=CLI_ACTOR) as uow:
            yield uow
        return
    with app.extensions["filingbot.engine"].connect() as connection:
        with unit_of_work(app, actor=CLI_ACTOR,
                          session=Session(bind=read_only(connection))) as uow:
            yield uow


def register(group) -> None:
    """Add the commands to the `accounts` group."""
    group.add_command(export_command)
    group.add_command(import_command)
