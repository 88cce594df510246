"""The sandbox's own surfaces (sandbox mode only): /sandbox, demo users' phones side by side
in the browser over the running server, and `flask --app bot sandbox today`, the sandbox clock.

Modules: `clock_actions` (time travel and that day's reminders, shared by page and CLI),
`phones` (what a member's phone shows, as JSON), `views` (the page and its endpoints),
`cli` (the `sandbox` command group)."""

from __future__ import annotations


def init_app(app) -> None:
    """Register `flask --app bot sandbox …`, and /sandbox when the emulator plays WeCom."""
    from bot.sandbox_ui.cli import sandbox_cli

    app.cli.add_command(sandbox_cli)
    if "filingbot.emulator" in app.extensions:
        from bot.sandbox_ui.views import bp

        app.register_blueprint(bp)
