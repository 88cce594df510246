"""A/B benchmark of the callback: two revisions of the app against the floor, in one run.

Each revision is checked out in a temporary git worktree and served by its own gunicorn (2 sync
workers, sandbox mode, a fresh SQLite database), next to the floor (bench/echo_app.py). wrk
loads the three in interleaved rounds, and the figure that matters is read from /proc: the CPU
time the workers spent per request. On a shared machine that figure moves far less than
throughput does, so a change worth a few per cent shows up in every round.

    python bench/compare.py                 # HEAD~1 against HEAD
    python bench/compare.py fa4cd7b HEAD --rounds 8

Needs wrk (apt install wrk). Throughput ratios are printed too, as bench/callback.py reports
them; for the verdict against the targets run bench/callback.py itself.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from bench.callback import (  # noqa: E402
    CALLBACK_PATH,
    MessageFactory,
    gunicorn,
    log,
    server_env,
)
from bench.wrk_loader import run_wrk  # noqa: E402

CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: list[str]) -> float:
    """User + system CPU time of the given processes so far (/proc/PID/stat fields 14, 15)."""
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / CLK_TCK


@contextlib.contextmanager
def worktree(revision: str, parent: Path):
    """A detached checkout of `revision`, removed afterwards."""
    path = parent / f"tree-{revision.replace('/', '_').replace('~', '-')}"
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(path), revision],
                   cwd=REPO_ROOT, check=True)
    try:
        yield path
    finally:
        subprocess.run(["git", "worktree", "remove", "--force", str(path)], cwd=REPO_ROOT,
                       check=False)


def app_env(tree: Path, database: Path) -> dict:
    """Environment of one revision's app, its database migrated by that revision."""
    env = {**server_env(database_url=f"sqlite:///{database}"), "PYTHONPATH": str(tree)}
    subprocess.run([sys.executable, "-m", "flask", "--app", "bot", "db", "upgrade"], cwd=tree,
                   env=env, check=True, capture_output=True, timeout=120)
    return env


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("a", nargs="?", default="HEAD~1", help="baseline revision (HEAD~1)")
    parser.add_argument("b", nargs="?", default="HEAD", help="revision to compare (HEAD)")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--seconds", type=int, default=3, help="per target per round")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    factory = MessageFactory()
    figures: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory(prefix="filingbot-compare-") as tmp, \
            contextlib.ExitStack() as stack:
        tmpdir = Path(tmp)
        targets = {"floor": stack.enter_context(gunicorn(
            "bench.echo_app:create_app()", args.workers, server_env(), tmpdir / "floor.log"))}
        for label, revision in (("A", args.a), ("B", args.b)):
            tree = stack.enter_context(worktree(revision, tmpdir))
            log(f"{label} = {revision}: migrating and starting")
            targets[label] = stack.enter_context(gunicorn(
                "bot:create_app()", args.workers, app_env(tree, tmpdir / f"{label}.sqlite"),
                tmpdir / f"{label}.log", cwd=tree))
        for url, _pids in targets.values():  # warm-up
            run_wrk(url, factory, CALLBACK_PATH, 2, args.clients)
        for round_no in range(args.rounds):
            order = list(targets) if round_no % 2 == 0 else list(reversed(targets))
            for name in order:
                url, pids = targets[name]
                before = cpu_seconds(pids)
                result = run_wrk(url, factory, CALLBACK_PATH, args.seconds, args.clients)
                spent = cpu_seconds(pids) - before
                mine = figures.setdefault(name, {"rps": [], "cpu_ms": []})
                mine["rps"].append(result["requests"] / result["seconds"])
                mine["cpu_ms"].append(spent / max(result["requests"], 1) * 1000)
            log(f"round {round_no + 1}/{args.rounds} done")
    print(f"{args.rounds} rounds x {args.seconds} s, {args.clients} clients, "  # noqa: T201
          f"{args.workers} workers; A = {args.a}, B = {args.b}")
    floor_rps = statistics.median(figures["floor"]["rps"])
    for name, mine in figures.items():
        cpu = statistics.median(mine["cpu_ms"])
        rps = statistics.median(mine["rps"])
        print(f"{name:5}  worker CPU {cpu:.3f} ms/request  {rps:7.0f} req/s"  # noqa: T201
              f"  ratio to floor {rps / floor_rps:.2f}")
    a, b = (statistics.median(figures[k]["cpu_ms"]) for k in ("A", "B"))
    print(f"B/A worker CPU per request: {b / a:.3f}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
