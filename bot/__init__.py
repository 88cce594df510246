"""filingbot: the WeCom filing assistant.

`create_app()` builds the Flask app; nothing runs at import.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import timedelta
from urllib.parse import urlsplit

from flask import Flask

from bot import db, sandbox_ui
from bot.clock import SHANGHAI, Clock
from bot.config import ConfigError, in_quiet_hours, load_settings
from bot.outbox import Dispatcher, DispatcherThread
from bot.private_files import private_directory
from bot.render import TEMPLATES_DIR
from bot.router import Router
from bot.sandbox_clock import SandboxClock
from bot.wecom import sandbox as wecom_sandbox  # not bot.sandbox, the demo seeding
from bot.wecom.client import BotClient
from bot.wecom.emulator import create_emulator_app, sandbox_emulator
from bot.wecom.emulator.transport import WSGIAdapter

CONFIG_ERROR_EXIT = 4  # a bad setting: every command and server stops with this status


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: settings → database → WeCom client (or sandbox emulator) → routes → CLI.

    `test_config` may give ENV (the environment to read instead of os.environ), CLOCK,
    OUTBOX_THREAD (False to leave delivery to explicit drains) and INSTANCE_PATH (where the
    sandbox keeps its emulator state and generated SECRET_KEY; default ./instance)."""
    test_config = test_config or {}
    app = Flask(__name__, instance_relative_config=True,
                instance_path=test_config.get("INSTANCE_PATH"),
                template_folder=str(TEMPLATES_DIR),
                static_folder=str(TEMPLATES_DIR / "static"))
    try:
        settings = load_settings(test_config.get("ENV", os.environ), app.instance_path)
    except ConfigError as exc:
        sys.stderr.write(f"filingbot: configuration error: {exc}\n")
        # Exit status 4 is gunicorn's "app failed to load": the master stops instead of
        # restarting workers that fail the same way forever.
        raise SystemExit(CONFIG_ERROR_EXIT) from None
    # The instance folder holds the database, the sandbox's secret key and emulator state:
    # owner only (settings may just have created it, for the sandbox's secret_key).
    if os.path.isdir(app.instance_path):
        private_directory(app.instance_path)
    if "OUTBOX_THREAD" in test_config:
        settings = settings.__class__(**{**settings.__dict__,
                                         "outbox_thread": test_config["OUTBOX_THREAD"]})
    app.config["SETTINGS"] = settings
    app.extensions["filingbot.clock"] = test_config.get("CLOCK") or Clock()
    logging.basicConfig(level=logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    # The surfaces are imported here, not at the top: workflow/ and handlers/ import this
    # package's infrastructure modules (bot.render, bot.notify, …), which runs this __init__
    # first; importing the chat handlers, the web pages or the CLI at its top would close the
    # cycle bot → handlers → workflow → bot (`python -c "import workflow.changes"` fails).
    from bot import cli, web
    from bot.wecom import callback

    db.init_app(app)
    if settings.sandbox and "CLOCK" not in test_config:
        app.extensions["filingbot.clock"] = SandboxClock(app.extensions["filingbot.engine"])
    _init_wecom(app)
    _init_router(app)
    _init_outbox(app)
    callback.init_app(app)
    web.init_app(app)
    sandbox_ui.init_app(app)
    cli.init_app(app)
    return app


def _init_wecom(app: Flask) -> None:
    """The API client; in sandbox mode its requests go to the built-in emulator, in-process."""
    settings = app.config["SETTINGS"]
    client = BotClient(corp_id=settings.wecom_corp_id, secret=settings.wecom_secret,
                       agent_id=settings.wecom_agent_id, api_base=settings.wecom_api_base,
                       engine=app.extensions["filingbot.engine"])
    if settings.sandbox and settings.wecom_api_base == wecom_sandbox.API_BASE:
        emulator = sandbox_emulator(settings, app.instance_path,
                                    clock=app.extensions["filingbot.clock"])
        parts = urlsplit(wecom_sandbox.API_BASE)
        client.mount(f"{parts.scheme}://{parts.netloc}/",
                     WSGIAdapter(create_emulator_app(emulator)))
        app.extensions["filingbot.emulator"] = emulator
        app.logger.info("sandbox mode: WeCom is the built-in emulator (no credentials configured)")
    app.extensions["filingbot.client"] = client


def _init_router(app: Flask) -> None:
    from handlers import register_handlers  # a surface: the cycle create_app() names

    router = Router()
    register_handlers(router)
    app.extensions["filingbot.router"] = router


def _init_outbox(app: Flask) -> None:
    """The dispatcher, and its background thread started by the first request a process serves."""
    settings = app.config["SETTINGS"]
    quiet = settings.reminder_quiet_hours
    dispatcher = Dispatcher(app.extensions["filingbot.engine"], app.extensions["filingbot.client"],
                            app.extensions["filingbot.clock"],
                            quiet_hours=lambda now: in_quiet_hours(quiet, now.astimezone(SHANGHAI)),
                            lease=timedelta(seconds=settings.outbox_lease_seconds))
    thread = DispatcherThread(dispatcher)
    app.extensions["filingbot.dispatcher"] = dispatcher
    app.extensions["filingbot.dispatcher_thread"] = thread

    if settings.outbox_thread:
        @app.before_request
        def _start_dispatcher():
            thread.start()
