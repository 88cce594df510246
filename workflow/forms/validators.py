"""Rules for form answers: one small pure function per rule.

Each takes the user's raw answer and returns the normalised value, or raises `Invalid`, whose
`.code` names the rule and whose `.message` (templates/messages/forms/invalid.txt.j2) tells the
user what is wrong and what is expected. Digits, letters and punctuation typed full-width
(１２，０００、ｗｂ) are folded to ASCII (NFKC) before matching, except in free text and URLs.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from decimal import Decimal, InvalidOperation
from urllib.parse import urlsplit

from bot.render import render_text


class Invalid(ValueError):
    """An answer that fails a rule; .code names the rule, .params fill the message."""

    def __init__(self, code: str, **params):
        super().__init__(code)
        self.code = code
        self.params = params

    @property
    def message(self) -> str:
        """The user-facing explanation: what is wrong and what is expected."""
        # render_text's own first parameter is `name`, so a `name` param reaches the
        # template as `account_name`.
        params = {("account_name" if k == "name" else k): v for k, v in self.params.items()}
        return render_text("forms/invalid", code=self.code, **params)

    def __repr__(self) -> str:
        return f"Invalid({self.code!r}, **{self.params!r})"


PLATFORMS: list[tuple[str, str]] = [
    ("WB", "新浪微博"), ("TW", "腾讯微博"), ("WX", "微信公众号"), ("SPH", "微信视频号"),
    ("DY", "抖音"), ("KS", "快手"), ("BL", "哔哩哔哩"), ("TT", "今日头条"), ("XHS", "小红书"),
    ("QT", "其他"),
]
PLATFORM_NAMES: dict[str, str] = dict(PLATFORMS)

# Lookup keys are casefolded with all whitespace removed.
_PLATFORM_LOOKUP: dict[str, str] = {
    **{str(n): code for n, (code, _) in enumerate(PLATFORMS, start=1)},
    **{name: code for code, name in PLATFORMS},
    **{code.casefold(): code for code, _ in PLATFORMS},
    "微博": "WB", "新浪": "WB", "公众号": "WX", "微信": "WX", "视频号": "SPH",
    "b站": "BL", "bilibili": "BL", "头条": "TT", "红书": "XHS", "其它": "QT",
}

_SPACE_RE = re.compile(r"\s+")
_WX_ID_RE = re.compile(r"[A-Za-z][A-Za-z0-9_-]{5,19}")
_WB_UID_RE = re.compile(r"\d{5,12}")
_WB_URL_RE = re.compile(r"https?://(?:(?:www|m)\.)?weibo\.(?:com|cn)/\S+", re.IGNORECASE)
_HANDLE_RE = re.compile(r"@?[^\s@]\S{0,63}")
_URL_SCHEME_RE = re.compile(r"https?://", re.IGNORECASE)
_PHONE_SEPARATORS_RE = re.compile(r"[\s-]+")
_MOBILE_RE = re.compile(r"(?:\+?86|0086)?(1[3-9]\d{9})")
_COUNTRY_RE = re.compile(r"^(?:\+|00)86[\s-]*")
_TRUNK_RE = re.compile(r"^\(0\)[\s-]*")  # "+86 (0)29 …": the trunk 0, written in brackets
_PAREN_AREA_RE = re.compile(r"^\((0\d{2,3})\)")
_EXTENSION_RE = re.compile(r"^(.*?)转(\d{1,6})$")
_YEAR_RE = re.compile(r"([1-9]\d{3})\s*年?")
_COUNT_RE = re.compile(r"(\d+(?:\.\d+)?)(万|w|千|k|亿)?")
_COUNT_GROUPED_RE = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?")
_COUNT_PREFIX_RE = re.compile(r"^(?:大约|约|近)")
_COUNT_SUFFIX_RE = re.compile(r"(?:左右|\+|多|余)?(?:人|个|条|篇|次)?$")
_TRAILING_PUNCT_RE = re.compile(r"[。.!！~～]+$")
_PASSWORD_RE = re.compile(
    r"(?:密码|口令|password|passwd|pwd)\s*[:=]\s*"
    r"(?!(?:无|没有|不|略|空|保密|\*|\(|（)|$)\S",
    re.IGNORECASE,
)

_COUNT_UNITS = {None: 1, "万": 10_000, "w": 10_000, "千": 1_000, "k": 1_000, "亿": 100_000_000}
_YES = {"是", "是的", "有", "对", "对的", "y", "yes", "1"}
_NO = {"否", "无", "没有", "不是", "不", "n", "no", "0"}
_NO_EVENTS = {"无", "没有", "无安全事件", "没有安全事件", "暂无", "none", "n", "no", "否"}

URL_MAX_LEN = 500
SAFETY_MIN_LEN, SAFETY_MAX_LEN = 2, 500


def _fold(text: str) -> str:
    """NFKC-fold full-width characters to ASCII and strip surrounding whitespace."""
    return unicodedata.normalize("NFKC", text).strip()


# Zero-width and bidirectional controls: invisible, yet they make "@xd\u200bnet" differ from
# "@xdnet" and can reorder what a reader sees; removed from every answer.
_INVISIBLE_RE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def visible(text: str) -> str:
    """`text` without zero-width and bidi control characters."""
    return _INVISIBLE_RE.sub("", text)


def one_line(text: str, *, label: str) -> str:
    """Names and IDs are one line: a line break is refused."""
    if "\n" in text.strip() or "\r" in text.strip():
        raise Invalid("one_line", label=label)
    return text


def platform(text: str) -> str:
    """Platform code from a number 1-10, a name or common alias, or a code (any case)."""
    key = _SPACE_RE.sub("", _fold(text)).casefold()
    try:
        return _PLATFORM_LOOKUP[key]
    except KeyError:
        raise Invalid("platform", value=text.strip(), platforms=[n for _, n in PLATFORMS]) from None


def account_id(text: str, platform_code: str) -> str:
    """The account's id on its platform: WeChat id (WX), uid or weibo URL (WB), else URL/handle."""
    raw = text.strip()
    folded = _fold(text)
    code = platform_code.upper()
    if code == "WX":
        if _WX_ID_RE.fullmatch(folded):
            return folded
        raise Invalid("account_id_wx", value=raw)
    if code == "WB":
        digits = _SPACE_RE.sub("", folded)
        if _WB_UID_RE.fullmatch(digits):
            return digits
        if _WB_URL_RE.fullmatch(raw) and len(raw) <= URL_MAX_LEN:
            return raw
        raise Invalid("account_id_wb", value=raw)
    if _URL_SCHEME_RE.match(raw):
        try:
            return url(raw)
        except Invalid:
            raise Invalid("account_id", value=raw) from None
    if "://" not in raw and _HANDLE_RE.fullmatch(raw):
        return raw
    raise Invalid("account_id", value=raw)


def url(text: str) -> str:
    """An http(s) URL with a dotted host (or localhost), no spaces, at most 500 characters."""
    value = text.strip()
    if len(value) > URL_MAX_LEN or _SPACE_RE.search(value) or not _URL_SCHEME_RE.match(value):
        raise Invalid("url", value=value, max_len=URL_MAX_LEN)
    try:
        parts = urlsplit(value)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError:
        raise Invalid("url", value=value, max_len=URL_MAX_LEN) from None
    labels = host.split(".")
    if host != "localhost" and (len(labels) < 2 or not all(labels)):
        raise Invalid("url", value=value, max_len=URL_MAX_LEN)
    return value


def phone(text: str) -> str:
    """A mainland mobile (returned as 11 digits) or a landline with area code ('0xx-xxxxxxxx',
    '-ext' after it): 029-8888-1234, (029)88881234, +86 (0)29 8888 1234 → 029-88881234."""
    folded = _fold(text)
    compact = _PHONE_SEPARATORS_RE.sub("", folded)
    mobile = _MOBILE_RE.fullmatch(compact)
    if mobile:
        return mobile.group(1)
    landline = _landline(folded)
    if landline is None:
        raise Invalid("phone", value=text.strip())
    return landline


def _landline(folded: str) -> str | None:
    """'0xx-xxxxxxxx[-ext]' from a landline as people write it, or None."""
    local = _COUNTRY_RE.sub("", folded)
    international = local != folded
    local = _TRUNK_RE.sub("0", local)
    if international and not local.startswith("0"):  # +86 29 8888 1234: no trunk 0 written
        local = "0" + local
    local = _PAREN_AREA_RE.sub(r"\1-", local)
    extension = None
    if match := _EXTENSION_RE.fullmatch(local):
        local, extension = match.groups()
    groups = [g for g in _PHONE_SEPARATORS_RE.split(local) if g]
    if not groups or not all(g.isdigit() for g in groups) or not groups[0].startswith("0"):
        return None
    if len(groups[0]) in (3, 4):
        area, rest = groups[0], groups[1:]
    else:  # area and number typed together: 010 and 02x are the only three-digit area codes
        split = 3 if groups[0].startswith(("010", "02")) else 4
        area, rest = groups[0][:split], [groups[0][split:], *groups[1:]]
    number = ""
    while rest and len(number) < 7:  # 8888-1234: the number written in two groups
        number += rest.pop(0)
    if not 7 <= len(number) <= 8 or len(rest) > 1 or (rest and extension):
        return None
    extension = rest[0] if rest else extension
    if extension is not None and not 1 <= len(extension) <= 6:
        return None
    return f"{area}-{number}" + (f"-{extension}" if extension else "")


def year(text: str, *, today: datetime.date, not_before: int | None = None) -> int:
    """A past 4-digit year ('2024' or '2024年'), not before `not_before` when given."""
    match = _YEAR_RE.fullmatch(_fold(text))
    if not match:
        raise Invalid("year_format", value=text.strip())
    value = int(match.group(1))
    latest = today.year - 1
    if value > latest:
        raise Invalid("year_future", year=value, this_year=today.year, latest=latest)
    if not_before is not None and value < not_before:
        raise Invalid("year_before_start", year=value, start=not_before, latest=latest)
    return value


_DAY_RE = re.compile(r"^(?:(\d{4})\s*[-./年]\s*)?(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*[日号]?$")
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "昨天": -1, "前天": -2, "明天": 1}


def day(text: str, *, today: datetime.date, ahead: bool) -> datetime.date:
    """A calendar day: 2026-11-20, 2026年11月20日, 11月20日, 11/20, 今天/昨天. Without a year,
    the next such day when `ahead` (a deadline), else the last one (something that happened)."""
    folded = _fold(text).strip()
    if folded in _RELATIVE_DAYS:
        return today + datetime.timedelta(days=_RELATIVE_DAYS[folded])
    match = _DAY_RE.match(folded)
    if not match:
        raise Invalid("day", value=text[:20])
    year_text, month, day_of_month = match.groups()
    try:
        found = datetime.date(int(year_text or today.year), int(month), int(day_of_month))
    except ValueError:
        raise Invalid("day", value=text[:20]) from None
    shift = 0
    if year_text is None and ahead and found < today:
        shift = 1
    elif year_text is None and not ahead and found > today:
        shift = -1
    try:
        return found.replace(year=found.year + shift)
    except ValueError:  # 2月29日 in a year without one
        raise Invalid("day", value=text[:20]) from None


_LEADING_DAY_RE = re.compile(
    r"^\s*(?:(?P<days>\d{1,3})\s*天(?:内|之内|以内)?"
    r"|(?P<day>(?:\d{4}\s*年\s*)?\d{1,2}\s*月\s*\d{1,2}\s*[日号]"
    r"|(?:\d{4}[-./])?\d{1,2}[-./]\d{1,2}(?=前|之前|以前|[，,。;；:：、\s]|$)))"
    r"\s*(?:前|之前|以前)?[\s，,。;；:：、]*")


def leading_day(text: str, *, today: datetime.date) -> tuple[datetime.date | None, str]:
    """A deadline written first (2026-12-31 …, 3月31日前 …, 60天内 …) and the rest of the text;
    (None, text) when the text does not start with one."""
    match = _LEADING_DAY_RE.match(text)
    if not match:
        return None, text.strip()
    rest = text[match.end():].strip()
    if match.group("days"):
        return today + datetime.timedelta(days=int(match.group("days"))), rest
    return day(match.group("day"), today=today, ahead=True), rest


def count(text: str) -> int:
    """A non-negative integer: '12000', '12,000', '1.2万', '1.5k', '约1200', '1200左右', '1200+'."""
    folded = _SPACE_RE.sub("", _fold(text)).casefold()
    core = _COUNT_SUFFIX_RE.sub("", _COUNT_PREFIX_RE.sub("", folded), count=1)
    number = core.rstrip("万w千k亿")
    if "," in number:
        if not _COUNT_GROUPED_RE.fullmatch(number):
            raise Invalid("count", value=text.strip())
        core = core.replace(",", "")
    match = _COUNT_RE.fullmatch(core)
    if not match:
        raise Invalid("count", value=text.strip())
    try:
        amount = Decimal(match.group(1)) * _COUNT_UNITS[match.group(2)]
    except InvalidOperation:
        raise Invalid("count", value=text.strip()) from None
    if amount != amount.to_integral_value():
        raise Invalid("count", value=text.strip())
    return int(amount)


def yes_no(text: str) -> bool:
    """True for 是/有/对/y/yes/1, False for 否/无/没有/不是/n/no/0 (any case)."""
    key = _TRAILING_PUNCT_RE.sub("", _SPACE_RE.sub("", _fold(text))).casefold()
    if key in _YES:
        return True
    if key in _NO:
        return False
    raise Invalid("yes_no", value=text.strip())


def text(value: str, *, label: str, max_len: int, min_len: int = 1) -> str:
    """Free text, trimmed, between min_len and max_len characters."""
    value = value.strip()
    if len(value) < min_len:
        raise Invalid("too_short", label=label, min_len=min_len, max_len=max_len, length=len(value))
    if len(value) > max_len:
        raise Invalid("too_long", label=label, min_len=min_len, max_len=max_len, length=len(value))
    return value


def safety_events(text: str) -> str:
    """'无' when there were no security incidents, otherwise their description (2-500 chars)."""
    value = text.strip()
    key = _TRAILING_PUNCT_RE.sub("", _SPACE_RE.sub("", _fold(value))).casefold()
    if key in _NO_EVENTS:
        return "无"
    if len(value) < SAFETY_MIN_LEN:
        raise Invalid("safety_events", value=value, min_len=SAFETY_MIN_LEN)
    if len(value) > SAFETY_MAX_LEN:
        raise Invalid("too_long", label="安全事件说明", min_len=SAFETY_MIN_LEN,
                      max_len=SAFETY_MAX_LEN, length=len(value))
    return value


def looks_like_password(text: str) -> bool:
    """True when the text holds a credential line such as '密码：abc123' or 'password=xyz'."""
    return bool(_PASSWORD_RE.search(unicodedata.normalize("NFKC", text)))


def password_refused() -> Invalid:
    """The refusal for an answer holding a password (regulation art. 13)."""
    return Invalid("password")
