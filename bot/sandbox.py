"""Sandbox set-up: the demo directory cached and the demo roles granted (idempotent)."""

from __future__ import annotations

from sqlmodel import Session

from bot import directory
from bot.wecom.emulator.directory import DEMO_GRANTS
from workflow import roles


def seed_sandbox(app) -> dict:
    """Sync the emulator's directory and grant the demo roles; safe to run again."""
    engine = app.extensions["filingbot.engine"]
    counts = directory.sync_directory(engine, app.extensions["filingbot.client"])
    with Session(engine) as session:
        granted = sum(roles.grant(session, userid, role, granted_by="sandbox")
                      for userid, role in DEMO_GRANTS)
        session.commit()
    return {**counts, "granted": granted}
