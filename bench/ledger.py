"""Benchmark of the ledger import (issue #12): a 20,000-row office ledger checked (dry run) and
applied, then imported again (nothing to change), and the registry exported back — on SQLite
(a fresh file) or on PostgreSQL (`--database-url`, whose public schema is dropped first!).

Reports wall-clock and CPU seconds (the machines are shared: CPU time is what a phase costs,
wall time what a user waits) and peak memory per phase: the process's peak resident set during
the phase (VmHWM, reset before each phase through /proc/self/clear_refs) and its growth over
the resident set at the start of the phase. For scale, the same run times the floor of any
import: openpyxl reading the file's cells and nothing else. Goal: each import under 20 s.

    python bench/ledger.py [--rows 20000] [--departments 300] [--database-url URL] [--streamed]
                           [--json]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from openpyxl import Workbook, load_workbook  # noqa: E402
from sqlalchemy import create_engine, func, insert, select, text  # noqa: E402

from bot.clock import SHANGHAI, FixedClock  # noqa: E402

PLATFORMS = [("微信公众号", "wx{:07d}"), ("新浪微博", "{:010d}"), ("抖音", "@dy{:07d}"),
             ("哔哩哔哩", "https://space.bilibili.com/{}")]


def member_name(department: int, seat: int) -> str:
    """A unique Chinese name (digits would read as a phone number after the name)."""
    return "成员" + "".join("零一二三四五六七八九"[int(c)] for c in f"{department:03d}{seat}")


def build(url: str, departments: int):
    """An app on an empty, migrated database holding a directory of `departments` × 10."""
    from bot import create_app
    from bot.db import upgrade_database
    from models import Department, Membership, User

    if url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(url)
    clock = FixedClock(datetime(2026, 12, 4, 10, 0, tzinfo=SHANGHAI))
    app = create_app({"ENV": {"DATABASE_URL": url}, "CLOCK": clock, "OUTBOX_THREAD": False})
    with app.extensions["filingbot.engine"].begin() as conn:
        conn.execute(insert(Department), [{"id": d, "name": f"部门{d:03d}", "parent_id": 1,
                                           "sort_order": d, "synced_at": clock.now()}
                                          for d in range(2, departments + 2)])
        users, members = [], []
        for d in range(2, departments + 2):
            for s in range(10):
                users.append({"userid": f"u{d}_{s}", "name": member_name(d, s), "position": "",
                              "active": True, "looked_up": True, "synced_at": clock.now()})
                members.append({"userid": f"u{d}_{s}", "department_id": d, "is_leader": s == 0})
        conn.execute(insert(User), users)
        conn.execute(insert(Membership), members)
    return app


def ledger(rows: int, departments: int, streamed: bool = False) -> bytes:
    """A ledger as an office keeps it: every column filled, half the rows with a 备案编号.

    Saved as Excel and WPS save a workbook (shared strings, a <dimension>), or with `streamed`
    as openpyxl's write-only mode writes our own export (inline strings, no <dimension>, which
    openpyxl's reader then finds by reading the sheet once more)."""
    book = Workbook(write_only=streamed)
    if streamed:
        sheet = book.create_sheet("备案台账")
    else:
        sheet = book.active
        sheet.title = "备案台账"
    sheet.append(["平台", "账号名称", "账号ID", "主页链接", "负责人", "管理员", "用途", "开通时间",
                  "部门", "备案编号"])
    for n in range(rows):
        d = 2 + n % departments
        platform, pattern = PLATFORMS[n % len(PLATFORMS)]
        code = {"微信公众号": "WX", "新浪微博": "WB", "抖音": "DY", "哔哩哔哩": "BL"}[platform]
        sheet.append([platform, f"{d:03d}号部门账号{n}", pattern.format(1000000 + n),
                      f"https://example.edu.cn/a/{n}", member_name(d, 0),
                      f"{member_name(d, 1 + n % 9)}、{member_name(d, 1 + (n + 1) % 9)} 13800138000",
                      "发布部门通知与工作动态", f"20{10 + n % 15}-{1 + n % 12:02d}",
                      f"部门{d:03d}", f"{code}-2019-{n + 1:04d}" if n % 2 else ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@contextmanager
def measured(results: dict, name: str):
    """Time the block and record its peak resident memory (MB) and growth over its start."""
    reset = Path("/proc/self/clear_refs")
    try:
        reset.write_text("5")  # resets VmHWM to the current RSS (Linux ≥ 4.0)
    except OSError:
        pass
    start_rss = status("VmRSS")
    started, cpu = time.perf_counter(), time.process_time()
    yield
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = status("VmHWM")
    results[name] = {"seconds": round(seconds, 2), "cpu_seconds": round(cpu, 2),
                     "peak_rss_mb": round(peak / 1024, 1),
                     "growth_mb": round(max(peak - start_rss, 0) / 1024, 1)}


def status(key: str) -> int:
    """A /proc/self/status value in kB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def run(rows: int, departments: int, url: str | None, streamed: bool = False) -> dict:
    from bot.notify import unit_of_work
    from models import Account, AuditLog
    from workflow.access import Viewer
    from workflow.ledger import export
    from workflow.ledger.importing import run_import
    from workflow.queries import RegistryFilters
    from workflow.uow import Actor

    url = url or f"sqlite:///{tempfile.mkdtemp(prefix='filingbot-ledger-')}/bench.sqlite"
    app = build(url, departments)
    data = ledger(rows, departments, streamed)
    actor = Actor("bench", "bench")
    results = {"database": url.split(":", 1)[0].split("+")[0], "rows": rows,
               "file_mb": round(len(data) / 2**20, 2),
               "file": "openpyxl write-only (our export)" if streamed else "as Excel saves it"}
    with measured(results, "openpyxl_read_floor"):
        book = load_workbook(io.BytesIO(data), read_only=True)
        cells = sum(len(r) for r in book.worksheets[0].iter_rows(values_only=True))
        book.close()
    assert cells == (rows + 1) * 10
    reports = {}
    for phase, dry in (("dry_run", True), ("apply", False), ("apply_again", False)):
        with measured(results, phase):
            with unit_of_work(app, actor=actor) as uow:
                reports[phase] = run_import(uow, data, "ledger.xlsx", dry_run=dry)
        report = reports[phase]
        assert report.error is None, report.error
        results[phase]["counts"] = report.counts
    assert reports["dry_run"].counts["new"] == rows, reports["dry_run"].counts
    assert reports["apply_again"].changes == 0
    with measured(results, "export"):
        out = io.BytesIO()
        with unit_of_work(app) as uow:
            written = export.registry_workbook(uow.session, Viewer("bench", frozenset({"admin"}),
                                                                   ()), RegistryFilters(), out)
    assert written == rows
    with unit_of_work(app) as uow:
        accounts = uow.session.scalar(select(func.count()).select_from(Account))
        audits = uow.session.scalar(select(func.count()).select_from(AuditLog))
    assert accounts == rows and audits == rows, (accounts, audits)
    app.extensions["filingbot.engine"].dispose()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--departments", type=int, default=300)
    parser.add_argument("--database-url", help="PostgreSQL URL (its public schema is dropped)")
    parser.add_argument("--streamed", action="store_true",
                        help="the file as our export writes it (no <dimension>, inline strings)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    results = run(args.rows, args.departments, args.database_url, args.streamed)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))  # noqa: T201
        return
    print(f"{results['database']}: {results['rows']} rows, "  # noqa: T201
          f"file {results['file_mb']} MB ({results['file']})")
    for phase in ("openpyxl_read_floor", "dry_run", "apply", "apply_again", "export"):
        r = results[phase]
        counts = " ".join(f"{k}={v}" for k, v in r.get("counts", {}).items())
        print(f"  {phase:20} {r['seconds']:6.2f} s (CPU {r['cpu_seconds']:5.2f} s)  "  # noqa: T201
              f"peak RSS {r['peak_rss_mb']:6.1f} MB (+{r['growth_mb']:.1f})  {counts}")


if __name__ == "__main__":
    os.environ.pop("WECOM_CORP_ID", None)
    main()
