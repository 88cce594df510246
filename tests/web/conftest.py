"""Web fixtures: `web` (test client + WeCom login through the emulator), a sandbox app served
over real HTTP (`live_server`) and headless Chromium (`chromium`, `browser_page`)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from bot import create_app
from bot.sandbox import seed_sandbox
from tests.web.actions import WebActions
from tests.wecom import QuietHandler

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture
def web(app, emulator):
    """A member's browser on the app (non-sandbox, WeCom played by the emulator)."""
    return WebActions(app, emulator)


@pytest.fixture
def grant(runner):
    """grant(userid, role[, department]) through the CLI, as an admin would."""
    def _grant(userid: str, role: str, department: int | None = None):
        args = ["roles", "grant", userid, role]
        if department is not None:
            args += ["--department", str(department)]
        result = runner.invoke(args=args)
        assert result.exit_code == 0, result.output
    return _grant


@pytest.fixture
def sandbox_app(database_url, tmp_path, clock):
    """The app in sandbox mode (built-in emulator, demo directory and roles seeded)."""
    app = create_app({"ENV": {"DATABASE_URL": database_url}, "CLOCK": clock,
                      "OUTBOX_THREAD": False, "INSTANCE_PATH": str(tmp_path / "instance")})
    seed_sandbox(app)
    yield app
    app.extensions["filingbot.engine"].dispose()


class LiveServer:
    """`app` served over HTTP on a free local port by a threaded werkzeug server."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True,
                                  request_handler=QuietHandler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def live_server(sandbox_app):
    """The sandbox app on http://127.0.0.1:<free port> (`.url`, `.app`)."""
    server = LiveServer(sandbox_app)
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium():
    """Debian's headless Chromium driven by playwright (never a downloaded browser).

    Skipped with a reason when /usr/bin/chromium is missing outside CI; under CI=true it must run.
    """
    if not os.path.exists(CHROMIUM) and not os.environ.get("CI"):
        pytest.skip(f"{CHROMIUM} is missing (apt install chromium fonts-wqy-microhei)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser_page(chromium):
    """A fresh browser context (no cookies) and page, 1280 px wide, Chinese locale."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900}, locale="zh-CN")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def sandbox_login(page, live_server, userid: str, next_path: str = "/") -> None:
    """Pick `userid` on the sandbox's /login page, as a person would."""
    page.goto(f"{live_server.url}/login?next={next_path}")
    page.click(f'button[data-login="{userid}"]')
    page.wait_for_load_state()
