"""`flask --app bot sandbox today [YYYY-MM-DD] [--at HH:MM] [--reminders] [--reset]`."""

from __future__ import annotations

from datetime import datetime, timezone

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from bot.clock import SHANGHAI
from bot.render import render_text
from bot.sandbox_ui import clock_actions

sandbox_cli = AppGroup("sandbox", help="The sandbox (no WeCom credentials): its clock.")


@sandbox_cli.command("today")
@click.argument("day", required=False, type=click.DateTime(formats=["%Y-%m-%d"]))
@click.option("--at", "at", type=click.DateTime(formats=["%H:%M"]),
              help="Time of day to start from (default: REMINDER_TIME).")
@click.option("--reminders", "run", is_flag=True, help="Also run that day's reminders.")
@click.option("--reset", is_flag=True, help="Back to the real date and time.")
@with_appcontext
def today_command(day, at, run: bool, reset: bool) -> None:
    """Show or set the date the whole sandbox lives on (chat, cards, reminders, quiet hours)."""
    app = current_app._get_current_object()
    try:
        if reset:
            clock_actions.travel(app, None)
        elif day is not None:
            clock_actions.travel(app, day.date(), at.time() if at else None)
        clock = clock_actions.sandbox_clock(app)
    except clock_actions.NotSandbox:
        raise click.UsageError(render_text("sandbox/not_sandbox")) from None
    click.echo(render_text("sandbox/today", now=clock.local_now(), shifted=clock.shifted,
                           real=datetime.now(timezone.utc).astimezone(SHANGHAI)
                           if clock.shifted else None))
    if run:
        click.echo(clock_actions.run_reminders(app))
