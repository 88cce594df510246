"""bench/scale.py at a small size, on the test database (SQLite or PostgreSQL), so that the
province benchmark keeps working as the code under it changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from models import Account, AuditLog, Filing

ROOT = Path(__file__).resolve().parent.parent
ACCOUNTS = 2000


def run_scale(database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    env["PYTHONPATH"] = str(ROOT)
    done = subprocess.run(
        [sys.executable, "bench/scale.py", "--database", database_url,
         "--accounts", str(ACCOUNTS), "--page-requests", "3", "--callback-seconds", "1",
         "--clients", "4", "--workers", "2", "--json"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_the_scale_bench_loads_a_small_province_and_measures_every_figure(database_url):
    report = run_scale(database_url)
    results = report["results"]
    assert results["load"] | {"seconds": 0} == {
        "departments": 61, "users": 245, "accounts": ACCOUNTS, "filings": 3 * ACCOUNTS,
        "audit": 10 * ACCOUNTS, "seconds": 0}
    assert results["baseline"]["rows"] == ACCOUNTS
    # the day's campaign reminds the accounts without a 年检; its rerun queues nothing
    assert "年检提醒" in results["campaign"]["output"]
    assert results["rerun"]["output"].endswith("消息 0 条")
    assert results["digest"]["output"].startswith("周报 1 项")
    pages = results["pages"]["pages"]
    assert {p: f["status"] for p, f in pages.items()} == {
        "/accounts office": 200, "/review/2026 office": 200, "/accounts head": 200,
        "/review/2026 head": 403}
    assert results["export"]["rows"] == ACCOUNTS
    for command in ("查询", "待办"):
        figures = results["callbacks"][command]
        assert figures["requests"] > 0 and figures["p95_ms"] > 0
        assert not [p for p in figures["problems"] if "answered by message" not in p]
    for row in report["rows"]:
        assert row["rss_mb"] > 0
        assert row["value"] is not None or "403" in row["note"]

    engine = create_engine(database_url)
    with engine.connect() as conn:
        assert conn.scalar(select(func.count()).select_from(Account)) == ACCOUNTS
        assert conn.scalar(select(func.count()).select_from(AuditLog)) == 10 * ACCOUNTS
        if "year" in Filing.__table__.c:  # the indexed copies of fields, once they exist
            by_column = conn.scalar(select(func.count()).select_from(Filing)
                                    .where(Filing.__table__.c.year == 2026))
            assert by_column == sum(1 for f in conn.scalars(select(Filing.fields))
                                    if f.get("year") == 2026)
    engine.dispose()


def test_only_picks_the_figures_to_measure():
    """`--only pages,callbacks` measures those (and the baseline); a misspelt figure is refused
    before anything is loaded."""
    from bench import scale

    assert scale.parse_args([]).only == set(scale.FIGURES)
    assert scale.parse_args(["--only", "pages, callbacks"]).only == {"pages", "callbacks"}
    with pytest.raises(SystemExit):
        scale.parse_args(["--only", "page"])
    results = {"baseline": {"seconds": 2.0, "rss_mb": 400},
               "pages": {"rss_mb": 130, "pages": {"/accounts office": {
                   "status": 200, "requests": 3, "p50_ms": 10.0, "p95_ms": 20.0}}}}
    rows = scale.table(results, scale.parse_args(["--only", "pages"]), scale.Size.scaled(2000))
    assert [r["what"] for r in rows] == ["baseline: SELECT every account",
                                         "page /accounts office p95"]
