"""Form answer rules (handlers/forms/validators.py) and their error texts."""

from __future__ import annotations

import datetime

import pytest

from workflow.forms import validators as v
from workflow.forms.validators import Invalid

TODAY = datetime.date(2025, 6, 1)


def refused(func, *args, **kwargs) -> Invalid:
    """The Invalid raised by func(*args, **kwargs), after checking its message renders cleanly."""
    with pytest.raises(Invalid) as info:
        func(*args, **kwargs)
    message = info.value.message
    assert message and len(message) <= 200
    assert "{{" not in message and "{%" not in message and "}}" not in message
    return info.value


# --- Invalid ---------------------------------------------------------------------------------


def test_invalid_is_a_value_error_with_code_and_params():
    exc = Invalid("phone", value="123")
    assert isinstance(exc, ValueError)
    assert exc.code == "phone" and exc.params == {"value": "123"}
    assert "123" in exc.message and "手机号" in exc.message


def test_unknown_code_still_renders_a_generic_message():
    assert "重新填写" in Invalid("no_such_rule").message


# --- platform --------------------------------------------------------------------------------


def test_platform_names_follow_the_list():
    assert v.PLATFORM_NAMES == dict(v.PLATFORMS)
    assert list(v.PLATFORM_NAMES)[:3] == ["WB", "TW", "WX"] and len(v.PLATFORMS) == 10


@pytest.mark.parametrize("answer, code", [
    ("1", "WB"), ("2", "TW"), ("3", "WX"), ("4", "SPH"), ("5", "DY"), ("6", "KS"), ("7", "BL"),
    ("8", "TT"), ("9", "XHS"), ("10", "QT"), ("１", "WB"), ("１０", "QT"), (" 3 ", "WX"),
    ("新浪微博", "WB"), ("腾讯微博", "TW"), ("微信公众号", "WX"), ("微信视频号", "SPH"),
    ("抖音", "DY"), ("快手", "KS"), ("哔哩哔哩", "BL"), ("今日头条", "TT"), ("小红书", "XHS"),
    ("其他", "QT"),
    ("微博", "WB"), ("新浪", "WB"), ("公众号", "WX"), ("微信", "WX"), ("视频号", "SPH"),
    ("B站", "BL"), ("b站", "BL"), ("bilibili", "BL"), ("BiliBili", "BL"), ("头条", "TT"),
    ("红书", "XHS"),
    ("wb", "WB"), ("WX", "WX"), ("sph", "SPH"), ("Xhs", "XHS"), ("ｗｂ", "WB"),
])
def test_platform_accepts_numbers_names_aliases_and_codes(answer, code):
    assert v.platform(answer) == code


@pytest.mark.parametrize("answer", ["0", "11", "-1", "微博啊", "facebook", "", "1 2", "WBX"])
def test_platform_refuses_anything_else(answer):
    exc = refused(v.platform, answer)
    assert exc.code == "platform"
    assert "1 新浪微博" in exc.message and "10 其他" in exc.message
    if answer:
        assert f"“{answer}”" in exc.message


def test_platform_error_truncates_a_long_answer():
    message = refused(v.platform, "我们学校的官方账号在一个很新的平台上面叫做某某某某").message
    assert "“我们学校的官方账号在一个很新的平台上面叫…”" in message


# --- account_id ------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["xartvu1979", "abcdef", "a" * 20, "Ab_c-12", "gh_3f2a9"])
def test_account_id_wx_accepts_wechat_ids(answer):
    assert v.account_id(answer, "WX") == answer


@pytest.mark.parametrize("answer", [
    "abcde", "a" * 21, "1xartvu", "_xartvu", "xart vu1979", "西安艺术", "xartvu.1979",
    "https://mp.weixin.qq.com/x",
])
def test_account_id_wx_refuses_other_text(answer):
    exc = refused(v.account_id, answer, "WX")
    assert exc.code == "account_id_wx"
    assert "6-20" in exc.message and "字母开头" in exc.message and "xartvu1979" in exc.message


@pytest.mark.parametrize("answer, expected", [
    ("12345", "12345"), ("123456789012", "123456789012"), ("１２３４５６７", "1234567"),
    ("https://weibo.com/u/1234567890", "https://weibo.com/u/1234567890"),
    ("http://www.weibo.com/xartvu", "http://www.weibo.com/xartvu"),
    ("https://m.weibo.cn/u/1234567890", "https://m.weibo.cn/u/1234567890"),
    ("https://weibo.cn/1234567", "https://weibo.cn/1234567"),
    ("HTTPS://Weibo.com/u/1", "HTTPS://Weibo.com/u/1"),
])
def test_account_id_wb_accepts_uids_and_weibo_urls(answer, expected):
    assert v.account_id(answer, "WB") == expected


@pytest.mark.parametrize("answer", [
    "1234", "1234567890123", "xartvu", "weibo.com/u/123456", "https://weibo.com/",
    "https://weibo.com.evil.cn/u/1", "https://example.com/u/123456", "ftp://weibo.com/u/1",
])
def test_account_id_wb_refuses_other_text(answer):
    exc = refused(v.account_id, answer, "WB")
    assert exc.code == "account_id_wb"
    assert "UID" in exc.message and "weibo.com" in exc.message


@pytest.mark.parametrize("platform_code", ["DY", "KS", "BL", "TT", "XHS", "SPH", "TW", "QT", "dy"])
@pytest.mark.parametrize("answer", [
    "https://www.douyin.com/user/MS4wLjABAAAA", "http://space.bilibili.com/123", "@xartvu",
    "xartvu_official", "西安艺术学院", "a", "@" + "a" * 64, "a" * 64,
])
def test_account_id_other_platforms_accept_urls_and_handles(platform_code, answer):
    assert v.account_id(answer, platform_code) == answer


@pytest.mark.parametrize("answer", [
    "", "@", "two words", "a" * 65, "@" + "a" * 65, "https://nohost", "https://a b.com",
    "ftp://example.com/x", "javascript://alert(1)",
])
def test_account_id_other_platforms_refuse_bad_text(answer):
    exc = refused(v.account_id, answer, "DY")
    assert exc.code == "account_id"
    assert "http" in exc.message and "64" in exc.message


# --- url -------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [
    "https://www.example.com", "http://example.com/path?q=1#top", "HTTPS://EXAMPLE.COM",
    "http://localhost:8080/x", "https://mp.weixin.qq.com/s/AbC-123_x", "https://例子.中国/页面",
    "https://example.com/" + "a" * 480,
])
def test_url_accepts_http_and_https(answer):
    assert v.url(answer) == answer


def test_url_strips_surrounding_whitespace():
    assert v.url("  https://example.com/x \n") == "https://example.com/x"


@pytest.mark.parametrize("answer", [
    "", "example.com", "www.example.com/x", "javascript:alert(1)", "ftp://example.com/file",
    "https://", "https://example", "https://exa mple.com", "https://example.com/a b",
    "https://.com", "https://example..com", "https://example.com:99999/",
    "https://example.com/" + "a" * 481, "mailto:a@example.com",
])
def test_url_refuses_other_text(answer):
    exc = refused(v.url, answer)
    assert exc.code == "url"
    assert "http://" in exc.message and "https://" in exc.message


# --- phone -----------------------------------------------------------------------------------


@pytest.mark.parametrize("answer, expected", [
    ("13812345678", "13812345678"), ("138 1234 5678", "13812345678"),
    ("138-1234-5678", "13812345678"), ("+86 138 1234 5678", "13812345678"),
    ("+8613812345678", "13812345678"), ("8613812345678", "13812345678"),
    ("0086 13812345678", "13812345678"), ("１３８１２３４５６７８", "13812345678"),
    ("19912345678", "19912345678"),
    ("010-12345678", "010-12345678"), ("01012345678", "010-12345678"),
    ("029-8765432", "029-8765432"), ("02987654321", "029-87654321"),
    ("0755-12345678", "0755-12345678"), ("075512345678", "0755-12345678"),
    ("0917 1234567", "0917-1234567"), ("(029)87654321", "029-87654321"),
    ("（029）87654321", "029-87654321"), ("029-87654321-123", "029-87654321-123"),
    ("029-87654321转123", "029-87654321-123"), ("02987654321-8", "029-87654321-8"),
])
def test_phone_accepts_mobiles_and_landlines(answer, expected):
    assert v.phone(answer) == expected


@pytest.mark.parametrize("answer", [
    "", "12345", "12812345678", "1381234567", "138123456789", "+1 13812345678",
    "12345678", "010-123456", "010-123456789", "0755123456", "电话13812345678", "abc",
])
def test_phone_refuses_other_text(answer):
    exc = refused(v.phone, answer)
    assert exc.code == "phone"
    assert "11位手机号" in exc.message and "区号" in exc.message


# --- year ------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer, expected", [
    ("2024", 2024), ("2024年", 2024), ("2024 年", 2024), ("２０２３", 2023), (" 2010 ", 2010),
])
def test_year_accepts_past_years(answer, expected):
    assert v.year(answer, today=TODAY) == expected


@pytest.mark.parametrize("answer", ["", "24", "20245", "二〇二四", "2024-01", "去年", "0999",
                                   "2024年度"])
def test_year_refuses_non_years(answer):
    exc = refused(v.year, answer, today=TODAY)
    assert exc.code == "year_format"
    assert "4位" in exc.message


@pytest.mark.parametrize("answer", ["2025", "2026", "2099年"])
def test_year_refuses_the_current_and_future_years(answer):
    exc = refused(v.year, answer, today=TODAY)
    assert exc.code == "year_future"
    assert "2024年或更早" in exc.message


def test_year_current_year_message_says_not_over_yet():
    assert "2025年尚未结束" in refused(v.year, "2025", today=TODAY).message


def test_year_respects_the_start_year():
    assert v.year("2020", today=TODAY, not_before=2020) == 2020
    exc = refused(v.year, "2019", today=TODAY, not_before=2020)
    assert exc.code == "year_before_start"
    assert "2020年至2024年" in exc.message and "2019" in exc.message


def test_year_before_start_when_no_full_year_has_passed():
    exc = refused(v.year, "2024", today=TODAY, not_before=2025)
    assert exc.code == "year_before_start"
    assert "2025年才开通" in exc.message and "至" not in exc.message


def test_year_future_is_checked_before_start():
    assert refused(v.year, "2026", today=TODAY, not_before=2020).code == "year_future"


# --- count -----------------------------------------------------------------------------------


@pytest.mark.parametrize("answer, expected", [
    ("0", 0), ("12000", 12000), ("12,000", 12000), ("12，000", 12000), ("1,234,567", 1234567),
    ("１２０００", 12000), ("1.2万", 12000), ("3万", 30000), ("1.5k", 1500), ("1.5K", 1500),
    ("1.5千", 1500), ("2w", 20000), ("1.0", 1), ("约1200", 1200), ("大约1200", 1200),
    ("1200左右", 1200), ("1200+", 1200), ("1200 多", 1200), ("1.2万左右", 12000),
    ("1200条", 1200), ("3万人", 30000), ("1 200", 1200), ("007", 7),
])
def test_count_accepts_numbers_in_common_forms(answer, expected):
    assert v.count(answer) == expected


@pytest.mark.parametrize("answer", [
    "", "-5", "1.5", "0.5万" + "1", "1.23456万", "很多", "万", "12,00", "1,2000", "1.5.2",
    "abc", "1e3", "12000-", "约", "3万5",
])
def test_count_refuses_negatives_fractions_and_text(answer):
    exc = refused(v.count, answer)
    assert exc.code == "count"
    assert "整数" in exc.message and "1.2万" in exc.message


# --- yes_no ----------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["是", "是的", "有", "对", "y", "Y", "yes", "YES", "1",
                                   "是。", "１"])
def test_yes_no_yes(answer):
    assert v.yes_no(answer) is True


@pytest.mark.parametrize("answer", ["否", "无", "没有", "不是", "n", "N", "no", "No", "0", "否！"])
def test_yes_no_no(answer):
    assert v.yes_no(answer) is False


@pytest.mark.parametrize("answer", ["", "也许", "maybe", "2", "是否", "yes no", "好"])
def test_yes_no_refuses_anything_else(answer):
    exc = refused(v.yes_no, answer)
    assert exc.code == "yes_no"
    assert "“是”或“否”" in exc.message


# --- text ------------------------------------------------------------------------------------


@pytest.mark.parametrize("answer, expected", [
    ("西安艺术学院官方微博", "西安艺术学院官方微博"), ("  两边有空格  ", "两边有空格"),
    ("🎨🎭🎬🎵🎹", "🎨🎭🎬🎵🎹"), ("x", "x"), ("第一行\n第二行", "第一行\n第二行"),
])
def test_text_trims_and_keeps_any_unicode(answer, expected):
    assert v.text(answer, label="账号名称", max_len=10) == expected


def test_text_counts_characters_not_bytes():
    assert v.text("字" * 10, label="账号名称", max_len=10) == "字" * 10
    assert v.text("😀" * 10, label="账号名称", max_len=10) == "😀" * 10


@pytest.mark.parametrize("answer", ["", "   ", "\n"])
def test_text_refuses_empty(answer):
    exc = refused(v.text, answer, label="账号名称", max_len=10)
    assert exc.code == "too_short"
    assert "账号名称不能为空" in exc.message


def test_text_refuses_below_min_len():
    exc = refused(v.text, "短", label="申请理由", max_len=500, min_len=5)
    assert exc.code == "too_short"
    assert "申请理由" in exc.message and "5个字" in exc.message


@pytest.mark.parametrize("answer", ["字" * 11, "😀" * 11, "a" * 500])
def test_text_refuses_over_max_len(answer):
    exc = refused(v.text, answer, label="账号名称", max_len=10)
    assert exc.code == "too_long"
    assert exc.params["max_len"] == 10
    assert ("账号名称" in exc.message and "10字以内" in exc.message
            and f"{len(answer)}字" in exc.message)


def test_too_long_renders_without_length():
    assert "10字以内" in Invalid("too_long", label="账号名称", max_len=10).message


# --- safety_events ---------------------------------------------------------------------------


@pytest.mark.parametrize("answer", ["无", "没有", "无安全事件", "none", "None", "n", "N", "否",
                                   "无。", " 无 "])
def test_safety_events_none(answer):
    assert v.safety_events(answer) == "无"


@pytest.mark.parametrize("answer", [
    "3月账号被盗，已改密并报备", "有过一次", "x" * 500, "  5月误发一条信息，已删除  ",
])
def test_safety_events_description(answer):
    assert v.safety_events(answer) == answer.strip()


@pytest.mark.parametrize("answer", ["", "有", "是"])
def test_safety_events_refuses_too_short(answer):
    exc = refused(v.safety_events, answer)
    assert exc.code == "safety_events"
    assert "“无”" in exc.message and "简要说明" in exc.message


def test_safety_events_refuses_too_long():
    exc = refused(v.safety_events, "x" * 501)
    assert exc.code == "too_long"
    assert "500字以内" in exc.message


# --- passwords -------------------------------------------------------------------------------


@pytest.mark.parametrize("answer", [
    "密码：abc123", "密码:abc123", "密码 ： abc123", "登录密码：Xartvu@2024", "口令=123456",
    "password=xyz", "Password: hunter2", "PASSWD:secret", "pwd=1234", "账号xartvu1979 密码：abc",
    "ｐａｓｓｗｏｒｄ：ｘｙｚ", "管理员张三，13812345678，密码：abc123",
])
def test_looks_like_password_catches_credential_lines(answer):
    assert v.looks_like_password(answer) is True


@pytest.mark.parametrize("answer", [
    "", "xartvu1979", "密码由管理员保管", "密码：", "密码：无", "密码：（不提供）", "password",
    "账号密码不外传", "3月账号被盗，已修改密码", "https://example.com/reset-password",
])
def test_looks_like_password_leaves_ordinary_text(answer):
    assert v.looks_like_password(answer) is False


def test_password_refused_cites_article_13():
    exc = v.password_refused()
    assert isinstance(exc, Invalid) and exc.code == "password"
    message = exc.message
    assert "第十三条" in message and "不会收集密码" in message and "删除密码" in message
    assert len(message) <= 200


# --- every code renders ----------------------------------------------------------------------


@pytest.mark.parametrize("exc", [
    Invalid("platform", value="x", platforms=[n for _, n in v.PLATFORMS]),
    Invalid("platform", value="x"),
    Invalid("account_id_wx", value="x"), Invalid("account_id_wb", value="x"),
    Invalid("account_id", value="x"), Invalid("url", value="x", max_len=500), Invalid("url"),
    Invalid("phone", value="x"), Invalid("year_format", value="x"),
    Invalid("year_future", year=2030, this_year=2025, latest=2024),
    Invalid("year_before_start", year=2010, start=2015, latest=2024),
    Invalid("count", value="x"), Invalid("yes_no", value="x"),
    Invalid("too_short", label="名称", max_len=10), Invalid("too_long", label="名称", max_len=10),
    Invalid("safety_events", value="x"), Invalid("password"),
    # Raised by handlers/forms/answers.py; their texts live in the same template.
    Invalid("month", value="x"), Invalid("person", value="x"),
    Invalid("date_future", value="2030年1月", today=datetime.date(2026, 11, 25)),
    Invalid("one_person", label="负责人"),
    Invalid("outsider_phone", value="x"), Invalid("no_accounts"),
    Invalid("account_other_dept", value="x"), Invalid("account", value="x"),
    Invalid("account_closed", value="x"),
    Invalid("duplicate_account", name="西安艺术学院", number="XA-WB-001"),
    Invalid("duplicate_pending", name="西安艺术学院", number="#12"),
    Invalid("duplicate_annual", year=2024, number="#12"),
])
def test_every_code_renders_a_short_clean_message(exc):
    message = exc.message
    assert message and len(message) <= 200 and "\n" not in message
    assert "{" not in message and "}" not in message
    assert "填写的内容不符合要求" not in message  # not the generic fallback


def test_a_name_param_reaches_the_template():
    message = Invalid("duplicate_account", name="西安艺术学院", number="XA-WB-001").message
    assert "西安艺术学院" in message and "XA-WB-001" in message
