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
    ({"DB_POOL_SIZE": "0"}, "DB_POOL_SIZE must be a whole number from 1"),
    ({"DB_MAX_OVERFLOW": "-1"}, "DB_MAX_OVERFLOW must be a whole number"),
    ({"OUTBOX_LEASE_SECONDS": "5"}, "OUTBOX_LEASE_SECONDS must be a whole number from 15"),
])
def test_bad_settings_stop_with_one_line_naming_the_variable(tmp_path, change, message):
    with pytest.raises(ConfigError) as info:
        load_settings({**REAL, **change}, tmp_path)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_token_without_a_key_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="WECOM_CORP_ID is not set"):
        load_settings({"WECOM_TOKEN": TOKEN}, tmp_path)


def test_create_app_exits_with_the_reason(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        create_app({"ENV": {**REAL, "WECOM_AES_KEY": "short"}})
    assert info.value.code == 4  # gunicorn's "app failed to load": its master stops too
    assert capsys.readouterr().err.startswith("filingbot: configuration error: WECOM_AES_KEY")


def test_secrets_never_appear_in_the_settings_repr(tmp_path):
    settings = load_settings({**REAL, "DATABASE_URL": "postgresql://bot:hunter2@db/filing"},
                             tmp_path)
    shown = repr(settings)
    for secret in (SECRET, TOKEN, AES_KEY, WEB_SECRET_KEY, "hunter2"):
        assert secret not in shown
    assert "postgresql+psycopg://bot:***@db/filing" in shown


# --- web settings: SECRET_KEY and PUBLIC_URL -------------------------------------------------

def test_a_real_app_needs_a_secret_key(tmp_path):
    env = {k: v for k, v in REAL.items() if k != "SECRET_KEY"}
    with pytest.raises(ConfigError, match="SECRET_KEY is not set") as info:
        load_settings(env, tmp_path)
    assert "\n" not in str(info.value)
    with pytest.raises(ConfigError, match="at least 32 characters"):
        load_settings({**env, "SECRET_KEY": "short"}, tmp_path)


def test_every_flask_command_refuses_to_start_without_it(tmp_path):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "SECRET_KEY"))}
    env.update({k: v for k, v in REAL.items() if k != "SECRET_KEY"},
               DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite")
    for command in (["roles", "list"], ["db", "upgrade"], ["run", "--port", "0"]):
        done = subprocess.run([sys.executable, "-m", "flask", "--app", "bot", *command],
                              env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 4, command
        lines = done.stderr.strip().splitlines()
        assert lines[-1].startswith("filingbot: configuration error: SECRET_KEY is not set")
        assert "Traceback" not in done.stderr


def test_the_sandbox_generates_its_key_once_and_keeps_it(tmp_path):
    import os
    import stat
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:  # workers starting at once all read the one key
        keys = set(pool.map(lambda _: load_settings({}, tmp_path).secret_key, range(16)))
    assert len(keys) == 1 and len(keys.pop()) >= 32
    path = tmp_path / "secret_key"
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret_key"]  # no scratch files left
    assert load_settings({}, tmp_path).secret_key == path.read_text().strip()
    assert load_settings({"SECRET_KEY": "k" * 40}, tmp_path).secret_key == "k" * 40


def test_a_damaged_key_file_is_named(tmp_path):
    (tmp_path / "secret_key").write_text("short\n")
    with pytest.raises(ConfigError, match="delete it"):
        load_settings({}, tmp_path)


@pytest.mark.parametrize("value,expected", [
    ("", ""), ("https://filing.example.edu.cn", "https://filing.example.edu.cn"),
    ("https://filing.example.edu.cn/", "https://filing.example.edu.cn"),
    ("http://10.0.0.5:8080", "http://10.0.0.5:8080"),
])
def test_public_url(tmp_path, value, expected):
    assert load_settings({**REAL, "PUBLIC_URL": value}, tmp_path).public_url == expected


@pytest.mark.parametrize("value", ["filing.example.edu.cn", "ftp://x.cn", "https://x.cn/app",
                                   "https://x.cn?a=1", "https://user:pw@x.cn"])
def test_a_bad_public_url_is_refused(tmp_path, value):
    with pytest.raises(ConfigError, match="PUBLIC_URL must be"):
        load_settings({**REAL, "PUBLIC_URL": value}, tmp_path)


def test_gunicorn_stops_instead_of_restarting_workers_forever(tmp_path):
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "SECRET_KEY"))}
    env.update({k: v for k, v in REAL.items() if k != "SECRET_KEY"},
               DATABASE_URL=f"sqlite:///{tmp_path}/x.sqlite",
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    done = subprocess.run([sys.executable, "-m", "gunicorn", "-w", "2", "-b", "127.0.0.1:0",
                           "--no-control-socket", "bot:create_app()"],
                          env=env, capture_output=True, text=True, timeout=60, cwd=tmp_path)
    # The master gave up ("App failed to load", status 4; 1 when gunicorn's own HaltServer
    # reaches it mid-start) instead of booting failing workers until the timeout.
    assert done.returncode in (1, 4)
    assert "filingbot: configuration error: SECRET_KEY is not set" in done.stderr


def test_pool_sizes_and_the_lease_reach_the_engine_and_the_dispatcher(tmp_path):
    app = create_app({"ENV": {**REAL, "DATABASE_URL": "postgresql://u@127.0.0.1:1/x",
                              "DB_POOL_SIZE": "12", "DB_MAX_OVERFLOW": "4",
                              "OUTBOX_LEASE_SECONDS": "90"},
                      "INSTANCE_PATH": str(tmp_path), "OUTBOX_THREAD": False})
    assert app.extensions["filingbot.engine"].pool.size() == 12
    assert app.config["SETTINGS"].db_max_overflow == 4
    assert app.extensions["filingbot.dispatcher"].lease.total_seconds() == 90
