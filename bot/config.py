"""Settings read once from the environment, validated, with a one-line reason on failure.

No WeCom variable at all means sandbox mode: the built-in emulator plays WeCom (SPEC §8).
"""

from __future__ import annotations

import os
import re
import secrets
from dataclasses import dataclass, fields
from pathlib import Path
from urllib.parse import urlsplit

from bot.wecom import sandbox

WECOM_VARS = ("WECOM_CORP_ID", "WECOM_AGENT_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY")
SECRET_FIELDS = frozenset({"wecom_secret", "wecom_token", "wecom_aes_key", "database_url",
                           "secret_key"})
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
    secret_key: str = ""  # signs web sessions (bot.web); never shown
    public_url: str = ""  # e.g. https://filing.example.edu.cn; "" = the address of each request
    filing_number_format: str = "{platform_code}-{year}-{seq:04d}"
    school_names: tuple[str, ...] = ()
    reminder_quiet_hours: str = "21:00-08:00"
    review_window: tuple[tuple[int, int], tuple[int, int]] = ((1, 1), (3, 31))
    reminder_time: tuple[int, int] = (9, 0)
    outbox_thread: bool = True
    # Seconds a callback's signed timestamp may lie behind and ahead of our clock (issue 15.7).
    callback_window: tuple[int, int] = (24 * 3600, 5 * 60)
    # PostgreSQL connections each process keeps open, and how many more it may open at a peak.
    db_pool_size: int = 5
    db_max_overflow: int = 10
    # Seconds a dispatcher owns the rows it claimed; a dead dispatcher's rows go out after it.
    outbox_lease_seconds: int = 60

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
    public_url = _parse_public_url(env.get("PUBLIC_URL", "").strip())
    secret_key = load_secret_key(env.get("SECRET_KEY", "").strip(), sandbox_mode, instance_path)
    window = _parse_window(env.get("REVIEW_WINDOW", "").strip() or "01-01..03-31")
    reminder_time = _parse_time("REMINDER_TIME", env.get("REMINDER_TIME", "").strip() or "09:00")
    callback_window = _parse_callback_window(env.get("CALLBACK_WINDOW", "").strip() or "24h,5m")
    pool_size = _parse_int(env, "DB_POOL_SIZE", Settings.db_pool_size, 1, 500)
    max_overflow = _parse_int(env, "DB_MAX_OVERFLOW", Settings.db_max_overflow, 0, 500)
    # Above the WeCom client's HTTP timeout (10 s) with room for a batch, and far inside
    # WeCom's duplicate check window (3.5 h, bot.outbox.dispatcher), which absorbs the resend.
    lease = _parse_int(env, "OUTBOX_LEASE_SECONDS", Settings.outbox_lease_seconds, 15, 3600)
    return Settings(
        database_url=database_url,
        wecom_corp_id=corp_id,
        wecom_agent_id=agent_id,
        wecom_secret=secret,
        wecom_token=token,
        wecom_aes_key=aes_key,
        wecom_api_base=api_base,
        sandbox=sandbox_mode,
        secret_key=secret_key,
        public_url=public_url,
        filing_number_format=number_format,
        school_names=names or ("西安广播电视大学", "西安电大"),
        reminder_quiet_hours=quiet,
        review_window=window,
        reminder_time=reminder_time,
        outbox_thread=env.get("OUTBOX_THREAD", "1").strip() not in ("0", "false", "no"),
        callback_window=callback_window,
        db_pool_size=pool_size,
        db_max_overflow=max_overflow,
        outbox_lease_seconds=lease,
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


SECRET_KEY_FILE = "secret_key"
MIN_SECRET_KEY = 32


def load_secret_key(given: str, sandbox_mode: bool, instance_path: str | Path) -> str:
    """SECRET_KEY from the environment; in sandbox mode without one, the key kept in
    instance/secret_key (created once, mode 0600). A real WeCom app must set it."""
    hint = "e.g. the output of: python3 -c 'import secrets; print(secrets.token_hex(32))'"
    if given:
        if len(given) < MIN_SECRET_KEY:
            raise ConfigError(f"SECRET_KEY must be at least {MIN_SECRET_KEY} characters, {hint}")
        return given
    if not sandbox_mode:
        raise ConfigError(f"SECRET_KEY is not set: it signs the web login sessions and is "
                          f"required with the WECOM_* variables, {hint}")
    path = Path(instance_path) / SECRET_KEY_FILE
    if not path.exists():
        _create_secret_file(path)
    key = path.read_text(encoding="utf-8").strip()
    if len(key) < MIN_SECRET_KEY:
        raise ConfigError(f"{path} holds no usable key: delete it and a new one is generated")
    return key


def _create_secret_file(path: Path) -> None:
    """Write a fresh key beside `path`, then link it into place: several processes starting at
    once (gunicorn workers) all end up reading the one key that won, never a half-written file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(scratch, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_hex(32) + "\n")
        try:
            os.link(scratch, path)
        except FileExistsError:
            pass  # another process was first: its key is the key
    finally:
        scratch.unlink(missing_ok=True)


def _parse_public_url(text: str) -> str:
    """PUBLIC_URL: scheme and host (and port) only, without a trailing slash."""
    if not text:
        return ""
    parts = urlsplit(text.rstrip("/"))
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path \
            or parts.query or parts.fragment or parts.username or parts.password:
        raise ConfigError("PUBLIC_URL must be the address members reach, scheme and host only, "
                          "e.g. https://filing.example.edu.cn")
    return f"{parts.scheme}://{parts.netloc}"


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


def _parse_int(env: dict, name: str, default: int, low: int, high: int) -> int:
    """A whole number setting between `low` and `high` (inclusive); empty means `default`."""
    text = env.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or not low <= int(text) <= high:
        raise ConfigError(f"{name} must be a whole number from {low} to {high}, got {text!r}")
    return int(text)


def _parse_time(name: str, text: str) -> tuple[int, int]:
    if not re.fullmatch(r"([01]\d|2[0-3]):[0-5]\d", text):
        raise ConfigError(f"{name} must look like 09:00")
    return int(text[:2]), int(text[3:])


# Inbound dedup keys are kept 7 days (bot.outbox.maintenance.KEEP_INBOUND): a callback older
# than that could be replayed as new, so the window must stay well inside it.
MAX_CALLBACK_AGE = 6 * 24 * 3600
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def _parse_callback_window(text: str) -> tuple[int, int]:
    """`24h,5m` → (86400, 300): how far behind and ahead of now a callback may be signed."""
    match = re.fullmatch(r"\s*(\d{1,6})([smhd])\s*,\s*(\d{1,6})([smhd])\s*", text)
    if not match:
        raise ConfigError("CALLBACK_WINDOW must look like 24h,5m (how far back, how far ahead; "
                          "units s, m, h, d)")
    back = int(match[1]) * DURATION_UNITS[match[2]]
    ahead = int(match[3]) * DURATION_UNITS[match[4]]
    if not 60 <= back <= MAX_CALLBACK_AGE or not 0 <= ahead <= 3600:
        raise ConfigError("CALLBACK_WINDOW must reach 1m to 6d back (dedup keys are kept 7 days) "
                          "and at most 1h ahead, e.g. 24h,5m")
    return back, ahead


def in_quiet_hours(quiet: str, local_time) -> bool:
    """Whether a local (Asia/Shanghai) time falls in quiet hours like 21:00-08:00."""
    if not quiet:
        return False
    start, end = (_parse_time("REMINDER_QUIET_HOURS", t) for t in quiet.split("-"))
    now = (local_time.hour, local_time.minute)
    return start <= now < end if start <= end else now >= start or now < end
