"""Issue 15 item 10: the instance folder and the SQLite database are readable by the bot's user
only (they hold the access token, phone numbers and every filing)."""

from __future__ import annotations

import os
import stat

import pytest
from sqlalchemy import text

from bot import create_app
from bot.db import make_engine


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def loose_umask():
    """The common default umask, under which new files are world-readable (0644)."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def test_item10_sandbox_instance_folder_is_0700_and_its_database_0600(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    app = create_app({"ENV": {}, "INSTANCE_PATH": str(instance), "OUTBOX_THREAD": False})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    with app.extensions["filingbot.engine"].begin() as conn:  # a write: the WAL exists now
        conn.execute(text("INSERT INTO counter (name, value) VALUES ('probe', 1)"))
    database = instance / "filingbot.sqlite"
    assert mode(instance) == 0o700
    assert mode(database) == 0o600
    assert mode(instance / "filingbot.sqlite-wal") == 0o600
    assert mode(instance / "filingbot.sqlite-shm") == 0o600
    assert mode(instance / "sandbox-wecom.sqlite") == 0o600  # the sandbox corp's secret
    assert mode(instance / "secret_key") == 0o600
    app.extensions["filingbot.engine"].dispose()


def test_item10_an_existing_world_readable_instance_is_tightened_at_start(tmp_path, loose_umask):
    instance = tmp_path / "instance"
    instance.mkdir(mode=0o755)
    database = instance / "filingbot.sqlite"
    database.touch(mode=0o644)
    (instance / "filingbot.sqlite-wal").touch(mode=0o644)
    os.chmod(instance, 0o755)
    os.chmod(database, 0o644)
    app = create_app({"ENV": {}, "INSTANCE_PATH": str(instance), "OUTBOX_THREAD": False})
    assert mode(instance) == 0o700
    assert mode(database) == 0o600
    assert mode(instance / "filingbot.sqlite-wal") == 0o600
    app.extensions["filingbot.engine"].dispose()


def test_item10_a_database_elsewhere_gets_a_private_folder_and_file(tmp_path, loose_umask):
    os.chmod(tmp_path, 0o755)  # a shared folder such as /var/lib
    url = f"sqlite:///{tmp_path / 'data' / 'bot.sqlite'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert mode(tmp_path / "data") == 0o700  # created by the bot
    assert mode(tmp_path / "data" / "bot.sqlite") == 0o600
    assert mode(tmp_path) == 0o755  # an existing folder is left as it is
