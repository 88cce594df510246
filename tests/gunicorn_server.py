"""Starting the app under a real gunicorn for a test, as production runs it."""

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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(condition, timeout=15.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@contextmanager
def serve(app_env: dict, log_path: Path, *options: str):
    """gunicorn serving 'bot:create_app()' with `options` on a free port; yields its URL."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WECOM_", "DATABASE_URL"))}
    env.update(app_env, PYTHONPATH=str(ROOT), OUTBOX_THREAD="1")
    command = [sys.executable, "-m", "gunicorn", *options, "-b", f"127.0.0.1:{port}",
               "--no-control-socket", "bot:create_app()"]
    # The log goes to a file: a pipe nobody reads would block the workers once it is full.
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                if requests.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except requests.RequestException:  # not listening yet, or a worker still booting
                pass
            if time.monotonic() > deadline or proc.poll() is not None:
                pytest.fail("gunicorn did not start: " + log_path.read_text()[-2000:])
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
