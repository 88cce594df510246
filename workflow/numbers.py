"""Filing numbers (备案编号): unique and sequential per year, even under concurrency (SPEC §3).

The counter row is incremented with UPDATE … RETURNING inside the approving transaction, so
two approvals serialize on the row and a rolled-back approval gives its number back."""

from __future__ import annotations

import re
import string
from functools import lru_cache

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


def reserve_sequences(session, name: str, count: int) -> int:
    """Take `count` consecutive values of counter `name` at once; return the first."""
    if count < 1:
        raise ValueError("count must be positive")
    last = next_sequence(session, name)  # creates the row if needed, under its row lock
    if count > 1:
        last = session.execute(
            update(Counter).where(Counter.name == name).values(value=Counter.value + count - 1)
            .returning(Counter.value)
        ).scalar()
    return last - count + 1


def raise_sequence(session, name: str, at_least: int) -> None:
    """Make counter `name` at least `at_least`: numbers kept from an imported ledger are never
    handed out again."""
    current = next_sequence(session, name) - 1  # creates and locks the row; undone below
    session.execute(update(Counter).where(Counter.name == name)
                    .values(value=max(current, at_least)))


@lru_cache(maxsize=8)
def number_pattern(number_format: str) -> re.Pattern:
    """A regular expression matching the numbers FILING_NUMBER_FORMAT makes, with the groups
    platform_code, year and seq where the format has them."""
    parts = []
    for literal, field_name, spec, _conversion in string.Formatter().parse(number_format):
        parts.append(re.escape(literal))
        if field_name is None:
            continue
        if field_name == "platform_code":
            parts.append(r"(?P<platform_code>[A-Z]{2,3})")
        elif field_name == "year":
            parts.append(r"(?P<year>\d{4})")
        elif field_name == "seq":
            width = re.match(r"0?(\d*)d?$", spec or "")
            least = int(width.group(1)) if width and width.group(1) else 1
            parts.append(rf"(?P<seq>\d{{{least},}})")
        else:
            parts.append(".+?")
    return re.compile("".join(parts))


def parse_filing_number(number_format: str, text: str) -> dict | None:
    """The platform_code, year and seq of a 备案编号 made by `number_format` (None when it is
    not one: the format must give back exactly `text`)."""
    match = number_pattern(number_format).fullmatch(text)
    if match is None:
        return None
    found = match.groupdict()
    values = {"platform_code": found.get("platform_code"),
              "year": int(found["year"]) if found.get("year") else None,
              "seq": int(found["seq"]) if found.get("seq") else None}
    try:
        if number_format.format(**values) != text:
            return None
    except (KeyError, ValueError, TypeError):
        return None
    return values
