"""The review campaign's progress as the office's digest shows it (bot.reminders): the table
per department and the totals of workflow.review.review_progress, but only the first missing
accounts the message lists, not every one of them (tens of thousands in a province)."""

from __future__ import annotations

from sqlalchemy import select

from models import Department, ZeroReport
from workflow.review import department_counts, missing_accounts

SHOWN = 20  # missing accounts a digest lists; the rest are counted ("……共 N 个")


def digest_progress(session, year: int, *, shown: int = SHOWN) -> dict:
    """review_progress(session, year) with `missing` cut to its first `shown` accounts (by
    id); `totals["missing"]` still counts them all."""
    counts = department_counts(session, year)
    zero = set(session.scalars(select(ZeroReport.department_id).where(ZeroReport.year == year)))
    wanted = {d for d in (*counts, *zero) if d is not None}
    departments = dict(session.execute(select(Department.id, Department.name)
                                       .where(Department.id.in_(wanted))).all()) if wanted else {}
    table = sorted(((departments.get(d, str(d)), r) for d, r in counts.items()),
                   key=lambda item: (-item[1]["missing"], item[0]))
    missing = session.execute(missing_accounts(session, year).limit(shown)).all()
    return {"table": table, "missing": missing,
            "zero": sorted(departments.get(d, str(d)) for d in zero),
            "totals": {k: sum(r[k] for _, r in table) for k in ("done", "pending", "missing")}}
