"""Settings read once from the environment, validated, with a one-line reason on failure.

No WeCom variable at all means sandbox mode: the built-in emulator plays WeCom (SPEC §8).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, fields
from pathlib import Path

from bot.wecom import sandbox

WECOM_VARS = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")
SECRET_FIELDS = frozenset({"wecom_secret", "wecom_token", "wecom_aes_key", "database_url"})
DEFAULT_API_BASE = "https://qyapi.weixin.qq.com/cgi-bin/"


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names the variable and says why."""


@dataclass(frozen=True)
class Settings:
    database_url: str
    wecom_corp_id: str
    wecom_agent_id: int
    wecom_secret: str
    wecom_token: str
    wecom_aes_key: str
    wecom_api_base: str
    sandbox: bool
    filing_number_format: str = "{platform_code}-{year}-{seq:04d}"
    school_names: tuple[str, ...] = ()
    reminder_quiet_hours: str = "21:00-08:00"
    review_window: tuple[tuple[int, int], tuple[int, int]] = ((1, 1), (3, 31))
    reminder_time: tuple[int, int] = (9, 0)
    outbox_thread: bool = True

    def __repr__(self) -> str:
        """Show every setting but the secrets, so a settings object can be logged safely."""
        shown = []
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in SECRET_FIELDS and value:
                value = redact_url(value) if f.name == "database_url" else "***"
            shown.append(f"{f.name}={value!r}")
        return f"Settings({', '.join(shown)})"


def redact_url(url: str) -> str:
    """Hide the password of a database URL."""
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def load_settings(env: dict | None = None, instance_path: str | Path = "instance") -> Settings:
    """Build Settings from `env` (default os.environ).

    Raise ConfigError with one line on bad input.
    """
    env = dict(os.environ if env is None else env)
    given = {name: env.get(name, "").strip() for name in WECOM_VARS}
    sandbox_mode = not any(given.values())
    if sandbox_mode:
        corp_id, agent_id, secret = sandbox.CORP_ID, sandbox.AGENT_ID, sandbox.SECRET
        token, aes_key = sandbox.TOKEN, sandbox.AES_KEY
        api_base = env.get("WECOM_API_BASE", "").strip() or sandbox.API_BASE
    else:
        corp_id, agent_id = _validate_wecom(given)
        secret, token, aes_key = given["WECOM_SECRET"], given["WECOM_TOKEN"], given["WECOM_AES_KEY"]
        api_base = env.get("WECOM_API_BASE", "").strip() or DEFAULT_API_BASE
    if not re.match(r"^https?://", api_base):
        raise ConfigError("WECOM_API_BASE must be an http(s) URL, e.g. " + DEFAULT_API_BASE)
    if not api_base.endswith("/"):
        api_base += "/"

    database_url = env.get("DATABASE_URL", "").strip() or default_database_url(instance_path)
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url[len("postgresql://"):]
    if not database_url.startswith(("sqlite:", "postgresql+psycopg:")):
        raise ConfigError(
            "DATABASE_URL must be sqlite:///path or postgresql+psycopg://user@host/db, got "
            + redact_url(database_url).split("://")[0] + "://…"
        )

    number_format = env.get("FILING_NUMBER_FORMAT", "").strip() or Settings.filing_number_format
    _validate_number_format(number_format)
    quiet = env.get("REMINDER_QUIET_HOURS", Settings.reminder_quiet_hours).strip()
    if quiet and not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-3]):[0-5]\d", quiet):
        raise ConfigError("REMINDER_QUIET_HOURS must look like 21:00-08:00 (or be empty for none)")
    names = tuple(n.strip() for n in re.split(r"[,，;；]", env.get("SCHOOL_NAMES", ""))
                  if n.strip())
    window = _parse_window(env.get("REVIEW_WINDOW", "").strip() or "01-01..03-31")
    reminder_time = _parse_time("REMINDER_TIME", env.get("REMINDER_TIME", "").strip() or "09:00")
    return Settings(
        database_url=database_url,
        wecom_corp_id=corp_id,
        wecom_agent_id=agent_id,
        wecom_secret=secret,
        wecom_token=token,
        wecom_aes_key=aes_key,
        wecom_api_base=api_base,
        sandbox=sandbox_mode,
        filing_number_format=number_format,
        school_names=names or ("西安广播电视大学", "西安电大"),
        reminder_quiet_hours=quiet,
        review_window=window,
        reminder_time=reminder_time,
        outbox_thread=env.get("OUTBOX_THREAD", "1").strip() not in ("0", "false", "no"),
    )


def default_database_url(instance_path: str | Path) -> str:
    """SQLite file under the instance folder: the embedded default."""
    path = Path(instance_path).resolve() / "filingbot.sqlite"
    return f"sqlite:///{path}"


def _validate_wecom(given: dict[str, str]) -> tuple[str, int]:
    missing = [name for name, value in given.items() if not value]
    if missing:
        raise ConfigError(
            f"{missing[0]} is not set: set all of {', '.join(WECOM_VARS)} for a real WeCom app, "
            "or none of them for sandbox mode"
        )
    if not re.fullmatch(r"[0-9A-Za-z]{43}", given["WECOM_AES_KEY"]):
        raise ConfigError(
            f"WECOM_AES_KEY must be exactly 43 letters or digits (EncodingAESKey), "
            f"got {len(given['WECOM_AES_KEY'])} characters"
        )
    if not re.fullmatch(r"[0-9A-Za-z]{1,32}", given["WECOM_TOKEN"]):
        raise ConfigError("WECOM_TOKEN must be 1-32 letters or digits")
    if not given["WECOM_AGENT_ID"].isdigit():
        raise ConfigError("WECOM_AGENT_ID must be the app's numeric AgentId")
    return given["WECOM_CORP_ID"], int(given["WECOM_AGENT_ID"])


def _validate_number_format(number_format: str) -> None:
    try:
        number_format.format(platform_code="WX", year=2026, seq=1)
    except (KeyError, IndexError, ValueError) as exc:
        raise ConfigError(
            "FILING_NUMBER_FORMAT may use {platform_code}, {year} and {seq}, e.g. "
            "{platform_code}-{year}-{seq:04d}: " + str(exc)
        ) from None


def _parse_window(text: str):
    match = re.fullmatch(r"(\d{2})-(\d{2})\.\.(\d{2})-(\d{2})", text)
    if not match:
        raise ConfigError("REVIEW_WINDOW must look like 01-01..03-31 (month-day..month-day)")
    start, end = (int(match[1]), int(match[2])), (int(match[3]), int(match[4]))
    try:
        from datetime import date
        if date(2024, *start) > date(2024, *end):
            raise ValueError
    except ValueError:
        raise ConfigError(
            "REVIEW_WINDOW must be two valid dates in order, e.g. 01-01..03-31"
        ) from None
    return start, end


def _parse_time(name: str, text: str) -> tuple[int, int]:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
        raise ConfigError(f"{name} must look like 09:00")
    return int(text[:2]), int(text[3:])


def in_quiet_hours(quiet: str, local_time) -> bool:
    """Whether a local (Asia/Shanghai) time falls in quiet hours like 21:00-08:00."""
    if not quiet:
        return False
    start, end = (_parse_time("REMINDER_QUIET_HOURS", t) for t in quiet.split("-"))
    now = (local_time.hour, local_time.minute)
    return start <= now < end if start <= end else now >= start or now < end
