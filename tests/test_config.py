"""Settings: sandbox without WeCom variables, one-line errors, secrets never shown."""

import pytest

from bot import create_app
from bot.config import ConfigError, load_settings
from tests.wecom import AES_KEY, CORP_ID, SECRET, TOKEN, WEB_SECRET_KEY

REAL = {"WECOM_CORP_ID": CORP_ID, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": SECRET,
        "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY, "SECRET_KEY": WEB_SECRET_KEY}


def test_no_wecom_variables_means_sandbox(tmp_path):
    settings = load_settings({}, tmp_path)
    assert settings.sandbox
    assert settings.database_url == f"sqlite:///{tmp_path}/filingbot.sqlite"


def test_all_wecom_variables_mean_a_real_app(tmp_path):
    settings = load_settings(REAL, tmp_path)
    assert not settings.sandbox
    assert settings.wecom_api_base == "https://qyapi.weixin.qq.com/cgi-bin/"


@pytest.mark.parametrize("change,message", [
    ({"WECOM_AES_KEY": AES_KEY[:42]}, "WECOM_AES_KEY must be exactly 43"),
    ({"WECOM_AES_KEY": AES_KEY[:42] + "!"}, "WECOM_AES_KEY must be exactly 43"),
    ({"WECOM_AES_KEY": ""}, "WECOM_AES_KEY is not set"),
    ({"WECOM_TOKEN": "has space"}, "WECOM_TOKEN must be"),
    ({"WECOM_AGENT_ID": "abc"}, "WECOM_AGENT_ID must be"),
    ({"WECOM_API_BASE": "ftp://x"}, "WECOM_API_BASE must be"),
    ({"DATABASE_URL": "mysql://root:pw@db/x"}, "DATABASE_URL must be"),
    ({"REMINDER_QUIET_HOURS": "9pm"}, "REMINDER_QUIET_HOURS"),
    ({"FILING_NUMBER_FORMAT": "{platform}-{seq}"}, "FILING_NUMBER_FORMAT"),
])
def test_bad_settings_stop_with_one_line_naming_the_variable(tmp_path, change, message):
    with pytest.raises(ConfigError) as info:
        load_settings({**REAL, **change}, tmp_path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_token_without_a_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="WECOM_CORP_ID is not set"):
        load_settings({"WECOM_TOKEN": TOKEN}, tmp_path)


def test_create_app_exits_with_the_reason(tmp_path):
    with pytest.raises(SystemExit) as info:
        create_app({"ENV": {**REAL, "WECOM_AES_KEY": "short"}})
    assert str(info.value).startswith("filingbot: configuration error: WECOM_AES_KEY")


def test_secrets_never_appear_in_the_settings_repr(tmp_path):
    settings = load_settings({**REAL, "DATABASE_URL": "postgresql://bot:hunter2@db/filing"},
                             tmp_path)
    shown = repr(settings)
    for secret in (SECRET, TOKEN, AES_KEY, WEB_SECRET_KEY, "hunter2"):
        assert secret not in shown
    assert "postgresql+psycopg://bot:***@db/filing" in shown
