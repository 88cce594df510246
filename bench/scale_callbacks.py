"""`查询` and `待办` callbacks against the loaded registry, for bench/scale.py.

The app runs under gunicorn (sync workers, sandbox mode: the built-in WeCom emulator, no
WECOM_* variables) on the benchmark's database, with its outbox thread off so that the
campaign's queued messages are not delivered while the callbacks are timed. Clients post
genuinely encrypted text callbacks (bench.callback.MessageFactory's crypto), each from one of
the registry's people: the office, department heads and account administrators in turn.
The load generator is wrk when installed (p50/p95/p99 from its histogram), else Python threads.
"""

from __future__ import annotations

import contextlib
import itertools
import secrets
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from bench.callback import (
    CALLBACK_PATH,
    INNER_XML,
    OUTER_XML,
    SANDBOX,
    ClientResult,
    MessageFactory,
    client_loop,
    gunicorn,
    percentile,
    server_env,
)
from bench.wrk_loader import run_wrk

SAMPLES = 8  # replies decrypted and checked per command
HEADROOM_RPS = 1500  # callbacks prepared per second of wrk (the bot answers far fewer)
TIMEOUT = 30  # seconds: a slower answer counts as an error (wrk's default, 2 s, hides the tail)


class Callbacks(MessageFactory):
    """Encrypted `content` callbacks from `users` in turn (MsgIds unique across the run)."""

    def __init__(self, users: list[str], content: str):
        super().__init__()
        self.users, self.content = users, content
        self.turn = itertools.count()

    def build(self):
        seq = next(self.counter)
        user = self.users[next(self.turn) % len(self.users)]
        ts, nonce = str(int(time.time())), secrets.token_hex(5)
        inner = INNER_XML.format(corp=SANDBOX.CORP_ID, user=user, ts=ts, content=self.content,
                                 msg_id=self.base + seq, agent=SANDBOX.AGENT_ID)
        signed = ET.fromstring(self.crypto.encrypt_message(inner, nonce, ts))
        body = OUTER_XML.format(corp=SANDBOX.CORP_ID, encrypt=signed.findtext("Encrypt"),
                                agent=SANDBOX.AGENT_ID)
        params = {"msg_signature": signed.findtext("MsgSignature"), "timestamp": ts,
                  "nonce": nonce}
        return params, body.encode("utf-8"), user


def peak_rss_mb(pids: list[str]) -> float | None:
    """The largest VmHWM (peak RSS) among the processes, in MB."""
    peaks = []
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
    return round(max(peaks), 1) if peaks else None


def python_load(url: str, factory: Callbacks, seconds: float, clients: int) -> dict:
    """Load with `clients` Python threads (when wrk is missing); percentiles from every call."""
    import requests

    results = [ClientResult() for _ in range(clients)]
    sessions = [requests.Session() for _ in range(clients)]
    deadline = time.perf_counter() + seconds
    threads = [threading.Thread(target=client_loop, daemon=True,
                                args=(s, url + CALLBACK_PATH, factory, deadline, r))
               for s, r in zip(sessions, results, strict=True)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies = sorted(x for r in results for x in r.latencies_ms)
    errors = {}
    for r in results:
        for kind, count in r.errors.items():
            errors[kind] = errors.get(kind, 0) + count
    return {"requests": len(latencies) + sum(errors.values()), "seconds": elapsed,
            "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "p99_ms": percentile(latencies, 99), "errors": errors}


def check_replies(url: str, factory: Callbacks) -> tuple[list[str], float | None]:
    """Post a few callbacks one by one; the problems found in their decrypted replies, and
    their median latency (ms) with no other load."""
    import requests

    problems = []
    result = ClientResult()
    with requests.Session() as session:
        from bench.callback import post_one

        for _ in range(SAMPLES):
            post_one(session, url + CALLBACK_PATH, factory, result)
    for kind, n in result.errors.items():
        if kind == "no encrypted body" and result.error_examples[kind] == "(empty)":
            # an empty 200: the bot took too long and answers by message instead (SPEC §4)
            problems.append(f"{n} of {SAMPLES} answered by message (empty 200)")
        else:
            problems.append(f"{kind} x{n}: {result.error_examples[kind]}")
    for body, user in result.samples:
        problem = factory.check_reply(body, user, expect_echo=False)
        if problem:
            problems.append(problem)
    alone = percentile(sorted(result.latencies_ms), 50)
    return problems, None if alone is None else round(alone, 1)


def warm_up(url: str, factory: Callbacks, workers: int) -> None:
    """A few untimed callbacks, so that every worker has imported, compiled its templates and
    connected before the single-client latency is taken (else it reads a cold worker's)."""
    import requests

    from bench.callback import post_one

    with requests.Session() as session:
        for _ in range(3 * workers):
            post_one(session, url + CALLBACK_PATH, factory, ClientResult())


def measure(database_url: str, users: list[str], *, commands=("查询", "待办"), seconds: float,
            warmup: float, clients: int, workers: int, loader: str, log_dir: Path) -> dict:
    """Each command's latency under `clients` concurrent clients, and the workers' peak RSS."""
    env = {**server_env(database_url=database_url), "OUTBOX_THREAD": "0"}
    figures = {}
    with gunicorn("bot:create_app()", workers, env, log_dir / "gunicorn.log") as (url, pids):
        for content in commands:
            factory = Callbacks(users, content)
            warm_up(url, factory, workers)
            problems, alone = check_replies(url, factory)
            if loader == "wrk":
                run_wrk(url, factory, CALLBACK_PATH, warmup, clients, headroom_rps=HEADROOM_RPS,
                        timeout=TIMEOUT)
                run = run_wrk(url, factory, CALLBACK_PATH, seconds, clients,
                              headroom_rps=HEADROOM_RPS, timeout=TIMEOUT)
                run["errors"] = {k: v for k, v in run["errors"].items() if v}
                if run["recycled"]:
                    problems.append("wrk ran out of prepared callbacks (MsgIds replayed)")
            else:
                python_load(url, factory, warmup, clients)
                run = python_load(url, factory, seconds, clients)
            if not run["requests"]:  # nothing answered: wrk's empty histogram reads 0
                run.update(p50_ms=None, p95_ms=None, p99_ms=None)
                problems.append(f"no answer within the {seconds:g} s measured")
            figures[content] = {"alone_p50_ms": alone,
                "requests": run["requests"], "rps": round(run["requests"] / run["seconds"], 1),
                "p50_ms": run["p50_ms"], "p95_ms": run["p95_ms"], "p99_ms": run["p99_ms"],
                "errors": run["errors"], "problems": problems}
        rss = peak_rss_mb(pids)
    for content in figures:
        figures[content]["rss_mb"] = rss  # the workers served both commands
    return figures
