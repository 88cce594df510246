"""A sandbox-mode bot running for real: gunicorn (two workers, threads for /sandbox's calls to
its own /wecom/callback) on a free port, with its own instance folder (emulator store, secret
key). The test process builds the same app in-process for assertions and CLI commands: it is
another process sharing the database, the emulator's store and the sandbox clock.

    def test_x(sandbox_server):
        phone = Phone(sandbox_server.emulator, http_target(sandbox_server.callback))
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import create_app
from bot.sandbox import seed_sandbox
from tests.gunicorn_server import ROOT, child_env, serve


def app_spec(instance: Path) -> str:
    """`--app` / gunicorn spec of a sandbox with its own instance folder."""
    return f'bot:create_app({{"INSTANCE_PATH": "{instance}"}})'


@dataclass
class SandboxServer:
    """The running sandbox: its URL, the same app in-process, its instance folder."""

    url: str
    app: object  # the same app, built in the test process
    instance: Path
    env: dict
    log: Path

    @property
    def emulator(self):
        return self.app.extensions["filingbot.emulator"]

    @property
    def callback(self) -> str:
        return self.url + "/wecom/callback"

    @property
    def app_spec(self) -> str:
        """`--app` / gunicorn spec of this sandbox (its instance folder)."""
        return app_spec(self.instance)

    def flask(self, *args: str, stdin: str = "",
              timeout: float = 120) -> subprocess.CompletedProcess:
        """Run `flask --app <this sandbox> ARGS` in a process of its own."""
        return subprocess.run([sys.executable, "-m", "flask", "--app", self.app_spec, *args],
                              input=stdin, capture_output=True, text=True, env=self.env,
                              cwd=ROOT, timeout=timeout)


def sandbox_env(database_url: str) -> dict:
    """Sandbox mode: no WECOM_* variable; the test's database."""
    return child_env({"DATABASE_URL": database_url, "OUTBOX_THREAD": "1"})


@pytest.fixture
def sandbox_server(database_url, tmp_path):
    """The sandbox served by gunicorn, its directory synced and demo roles granted."""
    instance = tmp_path / "instance"
    app = create_app({"ENV": {"DATABASE_URL": database_url}, "INSTANCE_PATH": str(instance),
                      "OUTBOX_THREAD": False})
    seed_sandbox(app)
    log_path = tmp_path / "gunicorn.log"
    try:
        with serve({"DATABASE_URL": database_url}, log_path, "-w", "2", "--threads", "4",
                   "--graceful-timeout", "2", app=app_spec(instance)) as url:
            yield SandboxServer(url, app, instance, sandbox_env(database_url), log_path)
    finally:
        app.extensions["filingbot.engine"].dispose()
