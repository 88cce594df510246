"""Starting the app in real processes for a test, as production runs it: gunicorn serving the
app on a free port, and `flask` commands (the worker) beside it. One place for the start-up,
the readiness wait and the shutdown that tests/sandbox.py, test_gunicorn, test_slow_clients
and test_multi_instance share."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ("-c", str(ROOT / "gunicorn.conf.py"))
APP = "bot:create_app()"


def free_port() -> int:
    """A local TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout: float = 15.0, every: float = 0.05):
    """The first truthy value of condition() within `timeout` seconds, else its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(every)


def child_env(app_env: dict) -> dict:
    """This process's environment without WeCom credentials, database or secret key (a test
    names its own), plus `app_env` and the checkout on the path."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("WECOM_", "DATABASE_URL", "SECRET_KEY"))}
    env.update(app_env, PYTHONPATH=str(ROOT), PYTHONUNBUFFERED="1")
    return env


def start(command: list[str], app_env: dict, log_path: Path) -> subprocess.Popen:
    """Start `command` in the checkout with child_env(app_env), stderr to `log_path`."""
    # The log goes to a file: a pipe nobody reads would block the process once it is full.
    with log_path.open("wb") as log:
        return subprocess.Popen(command, env=child_env(app_env), cwd=ROOT,
                                stdout=subprocess.DEVNULL, stderr=log)


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """Stop a process as systemd would: SIGTERM, then SIGKILL if it does not end in time."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def healthy(url: str) -> bool:
    try:
        return requests.get(url + "/healthz", timeout=2).status_code == 200
    except requests.RequestException:  # not listening yet, or a worker still booting
        return False


@contextmanager
def serve(app_env: dict, log_path: Path, *options: str, app: str = APP):
    """gunicorn serving `app` with `options` on a free port until /healthz answers; yields its
    URL and stops it afterwards. The dispatcher thread runs unless app_env says otherwise."""
    port = free_port()
    command = [sys.executable, "-m", "gunicorn", *options, "-b", f"127.0.0.1:{port}",
               "--no-control-socket", app]
    proc = start(command, {"OUTBOX_THREAD": "1", **app_env}, log_path)
    url = f"http://127.0.0.1:{port}"
    try:
        if not wait_for(lambda: healthy(url) or proc.poll() is not None, timeout=30) \
                or proc.poll() is not None:
            pytest.fail("gunicorn did not start: " + log_path.read_text()[-2000:])
        yield url
    finally:
        stop(proc)
