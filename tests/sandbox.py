"""A sandbox-mode bot running for real: gunicorn (two workers, threads for /sandbox's calls to
its own /wecom/callback) on a free port, with its own instance folder (emulator store, secret
key). The test process builds the same app in-process for assertions and CLI commands: it is
another process sharing the database, the emulator's store and the sandbox clock.

    def test_x(sandbox_server):
        phone = Phone(sandbox_server.emulator, http_target(sandbox_server.callback))
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from bot import create_app
from bot.sandbox import seed_sandbox

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    """A local TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float = 15.0, every: float = 0.05):
    """The first truthy value of condition() within `timeout` seconds, else None."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


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
        return f'bot:create_app({{"INSTANCE_PATH": "{self.instance}"}})'

    def flask(self, *args: str, stdin: str = "",
              timeout: float = 120) -> subprocess.CompletedProcess:
        """Run `flask --app <this sandbox> ARGS` in a process of its own."""
        return subprocess.run([sys.executable, "-m", "flask", "--app", self.app_spec, *args],
                              input=stdin, capture_output=True, text=True, env=self.env,
                              cwd=ROOT, timeout=timeout)


def sandbox_env(database_url: str) -> dict:
    """Sandbox mode: no WECOM_* variable; the test's database."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WECOM_", "DATABASE_URL", "SECRET_KEY"))}
    env.update(DATABASE_URL=database_url, PYTHONPATH=str(ROOT), OUTBOX_THREAD="1",
               PYTHONUNBUFFERED="1")
    return env


@pytest.fixture
def sandbox_server(database_url, tmp_path):
    """The sandbox served by gunicorn, its directory synced and demo roles granted."""
    instance = tmp_path / "instance"
    env = sandbox_env(database_url)
    app = create_app({"ENV": {"DATABASE_URL": database_url}, "INSTANCE_PATH": str(instance),
                      "OUTBOX_THREAD": False})
    seed_sandbox(app)
    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    server = SandboxServer(f"http://127.0.0.1:{port}", app, instance, env, log_path)
    command = [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "4",
               "--graceful-timeout", "2", "-b", f"127.0.0.1:{port}", "--no-control-socket",
               server.app_spec]
    # The log goes to a file: a pipe nobody reads would block the workers once it is full.
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=log)
    try:
        def up():
            try:
                return requests.get(server.url + "/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False
        if not wait_for(lambda: up() or proc.poll() is not None, timeout=30) or \
                proc.poll() is not None:
            pytest.fail("gunicorn did not start: " + log_path.read_text()[-2000:])
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        app.extensions["filingbot.engine"].dispose()
