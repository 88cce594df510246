"""Filing numbers (备案编号): unique and sequential per year, even under concurrency (SPEC §3).

The counter row is incremented with UPDATE … RETURNING inside the approving transaction, so
two approvals serialize on the row and a rolled-back approval gives its number back."""

from __future__ import annotations

from sqlalchemy import insert, update
from sqlalchemy.exc import IntegrityError

from models import Counter


def next_sequence(session, name: str) -> int:
    """Increment counter `name` (created at 1) and return its new value."""
    for _ in range(3):
        value = session.execute(
            update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
            .returning(Counter.value)
        ).scalar()
        if value is not None:
            return value
        try:
            with session.begin_nested():
                session.execute(insert(Counter).values(name=name, value=1))
            return 1
        except IntegrityError:  # another transaction created it first: increment theirs
            continue
    raise RuntimeError(f"counter {name} could not be incremented")


def next_filing_number(session, settings, *, platform_code: str, year: int) -> str:
    """The next 备案编号 for `year`, formatted with FILING_NUMBER_FORMAT."""
    seq = next_sequence(session, f"filing_no:{year}")
    return settings.filing_number_format.format(platform_code=platform_code, year=year, seq=seq)
