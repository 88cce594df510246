"""A built-in WeCom emulator: the sandbox's WeCom and the tests' WeCom (SPEC §8)."""

from __future__ import annotations

from pathlib import Path

from bot.wecom.emulator.api import create_emulator_app
from bot.wecom.emulator.core import Emulator
from bot.wecom.emulator.phone import Phone, flask_target, http_target

__all__ = ["Emulator", "Phone", "create_emulator_app", "flask_target", "http_target",
           "sandbox_emulator"]


def sandbox_emulator(settings, instance_path: str | Path, clock=None) -> Emulator:
    """The emulator of the sandbox corp, its state in instance/sandbox-wecom.sqlite.

    `clock` (a bot.clock.Clock) is the sandbox's: WeCom lives on the same day as the bot."""
    extra = {"clock": lambda: clock.now().timestamp()} if clock is not None else {}
    return Emulator(
        store_path=str(Path(instance_path) / "sandbox-wecom.sqlite"),
        corp_id=settings.wecom_corp_id, secret=settings.wecom_secret,
        agent_id=settings.wecom_agent_id, token=settings.wecom_token,
        aes_key=settings.wecom_aes_key, **extra,
    )
