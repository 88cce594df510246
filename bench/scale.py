"""Benchmark of a province-sized registry (issue #16): 100,000 accounts in 3,000 departments,
300,000 filings, 1,000,000 audit rows, on SQLite or PostgreSQL.

Builds the registry on a freshly migrated database (bot.db.upgrade_database, then a Core
bulk load, bench/scale_data.py), then measures, each in its own subprocess so that its peak
RSS (ru_maxrss) is its own:

* baseline   plain Core SELECT of every account (all columns): the floor, same run;
* campaign   `flask reminders run --today 2027-01-05` (the CLI command, invoked with Flask's
             CLI runner: annual reminders, nudges, deadlines; then the outbox prune);
* rerun      the same command again, which must queue nothing;
* monday     `reminders run --today 2027-01-11`, the next Monday: the office's weekly digest
             (the campaign is not due again yet; waiting filings are nudged again);
* digest     the weekly digest alone: the run's delivery code for that one reminder (the
             office's progress table, rendered and queued), rolled back;
* pages      /accounts and /review/<year> through Flask's test client with a signed-in
             session, for an office user and a department head: p50 / p95;
* export     /accounts.xlsx of the whole registry, as the office downloads it;
* callbacks  `查询` and `待办` posted by 16 concurrent clients to gunicorn with 4 workers,
             genuinely encrypted (bench/scale_callbacks.py): p50 / p95, workers' peak RSS.

The machine is shared and noisy: read each time against the baseline of the same run.

    python bench/scale.py                                  # SQLite, a temporary file
    python bench/scale.py --database postgresql+psycopg://postgres@127.0.0.1/scale_h4
    python bench/scale.py --accounts 2000 --callback-seconds 2 --json   # a smoke run
    python bench/scale.py --only export --keep             # the baseline and the export alone
    python bench/scale.py --only reminders                 # baseline + the reminder figures
    python bench/scale.py --database sqlite:////tmp/kept/scale.sqlite --reuse --only export
    python bench/scale.py --only pages,callbacks           # some figures (and the baseline)

A PostgreSQL database must be empty (or pass --reset to drop its tables first).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.scale_data import (  # noqa: E402
    CAMPAIGN_DAY,
    DIGEST_DAY,
    OFFICE,
    YEAR,
    Size,
    admin_of,
    head_of,
)

GOALS = {  # issue #16, for 100,000 accounts: (seconds or p95 ms, peak RSS MB)
    "campaign": (5.0, 200), "rerun": (1.0, None), "monday": (None, None),
    "digest": (None, None),
    "pages": (150.0, None), "export": (15.0, 200), "callbacks": (50.0, None),
}
FIGURES = ("campaign", "rerun", "monday", "digest", "pages", "export", "callbacks")
GROUPS = {"reminders": ("campaign", "rerun", "monday", "digest")}  # --only names for several
PAGES = ("/accounts", f"/review/{YEAR}")
HEAD_DEPARTMENT = 2


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)  # noqa: T201


def rss_now_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def peak_rss_mb() -> float:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


# --- phases: each runs in a subprocess (`--phase NAME`) and prints one JSON line -------------


def make_app(url: str, folder: str):
    from bot import create_app

    env = {"DATABASE_URL": url, "OUTBOX_THREAD": "0"}
    return create_app({"ENV": env, "OUTBOX_THREAD": False,
                       "INSTANCE_PATH": str(Path(folder) / "instance")})


def phase_baseline(app, args) -> dict:
    """Every account, every column, by plain Core: what any full read costs here."""
    from sqlalchemy import select

    from models import Account

    started = time.perf_counter()
    with app.extensions["filingbot.engine"].connect() as conn:
        rows = conn.execute(select(Account.__table__)).all()
    return {"seconds": time.perf_counter() - started, "rows": len(rows)}


def phase_reminders(app, args) -> dict:
    """The CLI's `reminders run --today DAY`, as an operator or cron runs it."""
    runner = app.test_cli_runner()
    started = time.perf_counter()
    result = runner.invoke(args=["reminders", "run", "--today", args.day])
    seconds = time.perf_counter() - started
    if result.exit_code != 0:
        raise SystemExit(f"reminders run failed: {result.output}{result.exception!r}")
    return {"seconds": seconds, "output": result.output.strip().splitlines()[0]}


def phase_digest(app, args) -> dict:
    """The weekly digest alone: the daily run's own delivery of one planned digest (the
    office's progress table, rendered and queued), rolled back afterwards."""
    from bot.clock import SHANGHAI, FixedClock
    from bot.notify import unit_of_work
    from bot.reminders.common import Planned
    from bot.reminders.delivery import deliver
    from workflow.roles import holders

    day = date.fromisoformat(args.day)
    clock = FixedClock(datetime.combine(day, datetime.min.time().replace(hour=9),
                                        tzinfo=SHANGHAI))
    week = day.isocalendar()
    started = time.perf_counter()
    with unit_of_work(app, as_of=clock) as job:
        office = holders(job.session, "office")
        planned = Planned("digest", "office", f"{week.year}-W{week.week:02d}", 1, office,
                          {"year": day.year - 1, "final": False})
        report = deliver(job, [planned], day)
        job.session.rollback()
    return {"seconds": time.perf_counter() - started,
            "output": f"周报 1 项，发给 {len(office)} 人；消息 {report['messages']} 条（已回滚）"}


def signed_in(app, userid: str):
    """A test client whose session is `userid`'s, as /login/callback leaves it."""
    client = app.test_client()
    with client.session_transaction() as session:
        session["uid"], session["login_at"] = userid, time.time()
    return client


def phase_pages(app, args) -> dict:
    """p50/p95 of each page for each user, after a short warm-up."""
    from bench.callback import percentile

    figures = {}
    for label, userid in (("office", OFFICE[0]), ("head", head_of(HEAD_DEPARTMENT))):
        client = signed_in(app, userid)
        for path in PAGES:
            times, status = [], None
            for n in range(args.page_requests + 2):
                started = time.perf_counter()
                response = client.get(path)
                elapsed = (time.perf_counter() - started) * 1000
                status = response.status_code
                if status != 200:
                    break
                if n >= 2:
                    times.append(elapsed)
            times.sort()
            figures[f"{path} {label}"] = {
                "status": status, "requests": len(times),
                "p50_ms": percentile(times, 50), "p95_ms": percentile(times, 95)}
    return {"pages": figures}


def phase_export(app, args) -> dict:
    """/accounts.xlsx as the office downloads it, written to a file block by block as a client
    would (the peak RSS is the server's, not a copy of the file held by the test client); the
    file is kept for the row count."""
    client = signed_in(app, OFFICE[0])
    started = time.perf_counter()
    response = client.get("/accounts.xlsx")
    with open(args.out, "wb") as out:
        for block in response.response:
            out.write(block)
        size = out.tell()
    response.close()
    seconds = time.perf_counter() - started
    if response.status_code != 200:
        raise SystemExit(f"/accounts.xlsx answered {response.status_code}")
    return {"seconds": seconds, "bytes": size}


PHASES = {"baseline": phase_baseline, "reminders": phase_reminders, "digest": phase_digest,
          "pages": phase_pages, "export": phase_export}


def run_phase(args) -> None:
    app = make_app(args.database, args.folder)
    before = rss_now_mb()
    result = PHASES[args.phase](app, args)
    result.update(rss_start_mb=before, rss_mb=peak_rss_mb())
    app.extensions["filingbot.engine"].dispose()
    print(json.dumps(result, ensure_ascii=False))  # noqa: T201


def subprocess_phase(args, phase: str, **extra) -> dict:
    """Run one phase in a fresh interpreter; its JSON result."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--phase", phase,
           "--database", args.database, "--folder", args.folder,
           "--page-requests", str(args.page_requests)]
    for key, value in extra.items():
        cmd += [f"--{key}", str(value)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"phase {phase} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# --- the run ---------------------------------------------------------------------------------


def loaded_counts(database: str) -> dict:
    """--reuse: the counts of a registry an earlier run loaded (no load, 0 s)."""
    from sqlalchemy import create_engine, func, select

    from models import Account, AuditLog, Department, Filing, User

    engine = create_engine(database)
    try:
        with engine.connect() as conn:
            counts = {name: conn.scalar(select(func.count()).select_from(table))
                      for name, table in (("departments", Department), ("users", User),
                                          ("accounts", Account), ("filings", Filing),
                                          ("audit", AuditLog))}
    finally:
        engine.dispose()
    if not counts["accounts"]:
        raise SystemExit("--reuse: the database holds no registry; run without --reuse first")
    return counts | {"seconds": 0}


def prepare(args, size: Size) -> dict:
    """Migrate (after --reset, drop everything first) and load; the load's counts."""
    from sqlalchemy import create_engine, inspect

    from bench.scale_data import is_empty, load
    from bot.db import upgrade_database

    if args.reuse:
        return loaded_counts(args.database)

    if args.reset and args.database.startswith("postgresql"):
        engine = create_engine(args.database)
        with engine.begin() as conn:
            from sqlalchemy import text

            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    upgrade_database(args.database)
    engine = create_engine(args.database)
    try:
        if "account" not in inspect(engine).get_table_names() or not is_empty(engine):
            raise SystemExit("the database is not empty: use a new one, or --reset")
        log(f"loading {size}")
        return load(engine, size)
    finally:
        engine.dispose()


def count_rows(path: str) -> int:
    """Data rows of the export's first sheet (its header row not counted)."""
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True)
    try:
        return sum(1 for _ in book.worksheets[0].iter_rows(values_only=True)) - 1
    finally:
        book.close()


def callback_users(size: Size) -> list[str]:
    """The office, then heads and administrators of departments spread over the registry."""
    spread = range(2, size.departments + 2, max(1, size.departments // 50))
    return [OFFICE[0], *(head_of(d) for d in spread), *(admin_of(d, 0) for d in spread)]


def measure(args, size: Size) -> dict:
    from bench import scale_callbacks

    results = {"load": prepare(args, size)}
    log(f"loaded: {results['load']}")
    results["baseline"] = subprocess_phase(args, "baseline")
    log(f"baseline: {results['baseline']}")
    for name, day in (("campaign", CAMPAIGN_DAY), ("rerun", CAMPAIGN_DAY),
                      ("monday", DIGEST_DAY)):
        if name in args.only:
            results[name] = subprocess_phase(args, "reminders", day=day.isoformat())
            log(f"{name}: {results[name]}")
    if "digest" in args.only:
        results["digest"] = subprocess_phase(args, "digest", day=DIGEST_DAY.isoformat())
        log(f"digest: {results['digest']}")
    if "pages" in args.only:
        results["pages"] = subprocess_phase(args, "pages")
        log(f"pages: {results['pages']}")
    if "export" in args.only:
        out = Path(args.folder) / "accounts.xlsx"
        results["export"] = subprocess_phase(args, "export", out=out)
        results["export"]["rows"] = count_rows(str(out))
        log(f"export: {results['export']}")
    if args.callback_seconds > 0 and "callbacks" in args.only:
        results["callbacks"] = scale_callbacks.measure(
            args.database, callback_users(size), seconds=args.callback_seconds,
            warmup=min(2.0, args.callback_seconds), clients=args.clients, workers=args.workers,
            loader=args.loader, log_dir=Path(args.folder))
        log(f"callbacks: {results['callbacks']}")
    return results


# --- the report ------------------------------------------------------------------------------


def verdict(value, goal) -> str:
    if goal is None or value is None:
        return ""
    return "ok" if value < goal else "MISSED"


def table(results: dict, args, size: Size) -> list[dict]:
    """One row per figure: what, value, goal, verdict, ratio to the baseline, peak RSS."""
    base = results["baseline"]["seconds"]
    rows = [{"what": "baseline: SELECT every account", "value": base, "unit": "s",
             "goal": None, "rss_mb": results["baseline"]["rss_mb"]}]
    for name, label in (("campaign", f"campaign {CAMPAIGN_DAY}"),
                        ("rerun", f"rerun {CAMPAIGN_DAY}"),
                        ("monday", f"next Monday's run {DIGEST_DAY}"),
                        ("digest", "weekly digest alone")):
        if name not in results:
            continue
        seconds, rss_goal = GOALS[name]
        rows.append({"what": label, "value": results[name]["seconds"], "unit": "s",
                     "goal": seconds, "rss_mb": results[name]["rss_mb"], "rss_goal": rss_goal,
                     "note": results[name]["output"]})
    for page, figures in results.get("pages", {}).get("pages", {}).items():
        note = "" if figures["status"] == 200 else f"HTTP {figures['status']}"
        if figures["status"] == 403 and page.startswith("/review"):
            note = "403: a school-wide page, not a head's (by design)"
            figures = {**figures, "p95_ms": None}
        rows.append({"what": f"page {page} p95", "value": figures["p95_ms"], "unit": "ms",
                     "goal": GOALS["pages"][0], "rss_mb": results["pages"]["rss_mb"],
                     "note": note or f"p50 {figures['p50_ms']:.1f} ms"})
    if export := results.get("export"):
        rows.append({"what": "/accounts.xlsx export", "value": export["seconds"], "unit": "s",
                     "goal": GOALS["export"][0], "rss_mb": export["rss_mb"],
                     "rss_goal": GOALS["export"][1],
                     "note": f"{export['rows']} rows, {export['bytes'] / 1e6:.1f} MB"})
    for content, figures in results.get("callbacks", {}).items():
        issues = [*(f"{k} x{v}" for k, v in figures["errors"].items()), *figures["problems"]]
        rows.append({"what": f"callback {content} p95 ({args.clients} clients, "
                             f"{args.workers} workers)",
                     "value": figures["p95_ms"], "unit": "ms", "goal": GOALS["callbacks"][0],
                     "rss_mb": figures["rss_mb"],
                     "note": "; ".join([*issues, f"p50 {figures['p50_ms']} ms",
                                        f"{figures['rps']} req/s",
                                        f"alone (one client) p50 {figures['alone_p50_ms']} ms"])})
    for row in rows:
        value = row["value"]
        row["ratio"] = (None if value is None else
                        value / base if row["unit"] == "s" else value / 1000 / base)
        row["ok"] = (verdict(value, row["goal"]) != "MISSED"
                     and verdict(row["rss_mb"], row.get("rss_goal")) != "MISSED"
                     and not row.get("note", "").startswith("HTTP"))
        if row["value"] is None and row["goal"] is not None and not row["note"].startswith("403"):
            row["ok"] = False
    return rows


def print_report(rows: list[dict], results: dict, args, size: Size, database: str) -> None:
    out = [f"{size.accounts} accounts, {size.departments} departments, "
           f"{results['load']['filings']} filings, {results['load']['audit']} audit rows on "
           f"{database} (loaded in {results['load']['seconds']} s); {os.cpu_count()} CPUs",
           "", f"{'figure':<46}{'value':>11}{'goal':>10}{'× base':>8}{'peak RSS':>10}"
               f"{'RSS goal':>10}  verdict  note"]
    for row in rows:
        value = "-" if row["value"] is None else f"{row['value']:.2f} {row['unit']}"
        goal = "" if row["goal"] is None else f"< {row['goal']:g} {row['unit']}"
        ratio = "" if row["ratio"] is None else f"{row['ratio']:.1f}"
        rss_goal = f"< {row['rss_goal']}" if row.get("rss_goal") else ""
        mark = "" if row["goal"] is None and not row.get("rss_goal") else (
            "ok" if row["ok"] else "MISSED")
        out.append(f"{row['what']:<46}{value:>11}{goal:>10}{ratio:>8}{row['rss_mb']:>8.0f} MB"
                   f"{rss_goal:>10}  {mark:<7}  {row.get('note', '')}")
    if size.accounts != 100_000:
        out.append(f"note: the goals are for 100,000 accounts; this run has {size.accounts}.")
    print("\n".join(out))  # noqa: T201


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", help="database URL (default: a temporary SQLite file)")
    parser.add_argument("--reset", action="store_true",
                        help="PostgreSQL: drop every table of the database first")
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--departments", type=int)
    parser.add_argument("--filings", type=int)
    parser.add_argument("--audit", type=int)
    parser.add_argument("--page-requests", type=int, default=40, help="per page and user")
    parser.add_argument("--callback-seconds", type=float, default=10.0,
                        help="measured seconds per command (0: skip the callbacks)")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--json", action="store_true", help="print the results as JSON")
    parser.add_argument("--save", help="also write the results as JSON to this file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    parser.add_argument("--only", default=",".join(FIGURES),
                        help="comma-separated figures to measure besides the baseline: "
                             f"{','.join(FIGURES)}, or {','.join(GROUPS)} (default: all)")
    parser.add_argument("--reuse", action="store_true",
                        help="measure the registry an earlier run loaded into --database "
                             "(no load; the reminders' figures then find last run's queue)")
    # internal: one phase in a subprocess
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--folder", help=argparse.SUPPRESS)
    parser.add_argument("--day", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.database and args.database.startswith("postgresql://"):
        args.database = "postgresql+psycopg://" + args.database[len("postgresql://"):]
    args.only = {g for f in args.only.split(",") if f.strip()
                 for g in GROUPS.get(f.strip(), (f.strip(),))}
    if unknown := args.only - set(FIGURES):
        parser.error(f"--only: unknown figures {', '.join(sorted(unknown))}")
    if args.reuse and not args.database:
        parser.error("--reuse needs --database")
    if args.loader == "auto":
        args.loader = "wrk" if shutil.which("wrk") else "python"
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.phase:
        run_phase(args)
        return 0
    size = Size.scaled(args.accounts, args.departments, args.filings, args.audit)
    folder = tempfile.mkdtemp(prefix="filingbot-scale-")
    args.folder = folder
    database = "PostgreSQL" if (args.database or "").startswith("postgresql") else "SQLite"
    args.database = args.database or f"sqlite:///{folder}/scale.sqlite"
    try:
        results = measure(args, size)
    finally:
        if args.keep:
            log(f"kept {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    rows = table(results, args, size)
    summary = json.dumps({"database": database, "size": size.__dict__, "results": results,
                          "rows": rows, "day": date.today().isoformat()}, ensure_ascii=False,
                         default=str)
    if args.save:
        Path(args.save).write_text(summary + "\n")
    if args.json:
        print(summary)  # noqa: T201
    else:
        print_report(rows, results, args, size, database)
    return 0


if __name__ == "__main__":
    sys.exit(main())
