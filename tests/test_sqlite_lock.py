"""bot.sqlite_lock is sealed inside the engine factory: only bot.db imports it, and only
bot.db knows the methods its connection class adds (issue 10)."""

from __future__ import annotations

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "handlers", "models", "workflow")


def test_only_the_engine_factory_imports_the_write_lock():
    graph = grimp.build_graph(*PACKAGES)
    assert graph.find_modules_that_directly_import("bot.sqlite_lock") == {"bot.db"}


def test_no_other_module_calls_the_lock_connections_own_methods():
    callers = sorted(
        str(path.relative_to(ROOT))
        for package in PACKAGES for path in (ROOT / package).rglob("*.py")
        if "begin_write" in path.read_text(encoding="utf-8")
        or "holds_write_lock" in path.read_text(encoding="utf-8")
    )
    assert callers == ["bot/db.py", "bot/sqlite_lock.py"]
