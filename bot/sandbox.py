"""Sandbox set-up: the demo directory cached, the demo roles granted and the main accounts of
art. 9 registered (idempotent)."""

from __future__ import annotations

from sqlmodel import Session

from bot import directory, main_accounts, roles
from bot.wecom.emulator.directory import DEMO_GRANTS


def seed_sandbox(app) -> dict:
    """Sync the emulator's directory, grant the demo roles and register the main accounts;
    safe to run again."""
    engine = app.extensions["filingbot.engine"]
    counts = directory.sync_directory(engine, app.extensions["filingbot.client"])
    with Session(engine) as session:
        granted = sum(roles.grant(session, userid, role, granted_by="sandbox")
                      for userid, role in DEMO_GRANTS)
        session.flush()
        seeded = main_accounts.seed(session, app.config["SETTINGS"],
                                    app.extensions["filingbot.clock"])
        session.commit()
    return {**counts, "granted": granted, "accounts": sum(added for _, added in seeded)}
