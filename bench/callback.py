"""Benchmark of the WeCom callback endpoint, POST /wecom/callback, against a floor.

What it measures: throughput (req/s) and latency (p50, p99) of genuinely encrypted WeCom
text-message callbacks ("帮助" from the sandbox directory's demo users) posted by C concurrent
clients to two gunicorn servers started here, with the same number of sync workers each:

* floor: bench/echo_app.py, the least a callback endpoint can do with wechatpy + Flask (verify,
  decrypt, parse, encrypt an echo reply; no database);
* app:   the real bot, `bot:create_app()` in sandbox mode (no WECOM_* variables in its
  environment) on a fresh SQLite database migrated with `flask --app bot db upgrade`.

Targets: app/floor throughput ratio >= 0.6 and app p99 < 50 ms, at 16 clients and 2 workers, with
no errors. The machine is shared and noisy, so absolute figures mean little from one run to the
next: read the ratio against the floor measured in the same run. For the same reason the two
targets are measured in interleaved rounds (floor, app, app, floor, ...) rather than one after the
other, so that drift in the machine's load weighs on both alike.

The load generator runs in this process, on the same machine: at high rates it competes with the
servers for CPU and may cap the floor first, which flatters the ratio. Each request is encrypted
inline (about 30 us, the same for both targets) so that its timestamp is fresh.

Run it from the repo root, with the venv active:

    python bench/callback.py                      # 16 clients, 12 s per target, 2 workers
    python bench/callback.py --clients 32 --seconds 20 --json
"""

import argparse
import contextlib
import functools
import itertools
import json
import math
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import requests
from wechatpy.enterprise.crypto import WeChatCrypto

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    # `python bench/callback.py` puts bench/ on sys.path, not the repo root.
    sys.path.insert(0, str(REPO_ROOT))

from bench import load_sandbox  # noqa: E402
from bench.wrk_loader import run_wrk  # noqa: E402

SANDBOX = load_sandbox()
USERS = ["zhangsan", "lisi", "liulei", "xuli"]  # demo users of the sandbox directory
CONTENT = "帮助"
CALLBACK_PATH = "/wecom/callback"
SAMPLE_SIZE = 20  # responses decrypted and checked per target
REQUEST_TIMEOUT = 30.0
START_TIMEOUT = 60.0
TARGET_RATIO = 0.6
TARGET_P99_MS = 50.0
TARGET_CLIENTS = 16
TARGET_WORKERS = 2
CLIENT_BOUND_PCT = 80  # load generator CPU (% of one core) above which the floor is suspect

INNER_XML = (
    "<xml><ToUserName><![CDATA[{corp}]]></ToUserName>"
    "<FromUserName><![CDATA[{user}]]></FromUserName>"
    "<CreateTime>{ts}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
    "<Content><![CDATA[{content}]]></Content><MsgId>{msg_id}</MsgId>"
    "<AgentID>{agent}</AgentID></xml>"
)
OUTER_XML = (
    "<xml><ToUserName><![CDATA[{corp}]]></ToUserName>"
    "<Encrypt><![CDATA[{encrypt}]]></Encrypt>"
    "<AgentID><![CDATA[{agent}]]></AgentID></xml>"
)


def log(message):
    """Print a progress line on stderr (stdout is kept for the report)."""
    print(message, file=sys.stderr, flush=True)  # noqa: T201


# --- messages ---------------------------------------------------------------------------------


class MessageFactory:
    """Builds encrypted text-message callbacks with MsgIds unique across the whole run."""

    def __init__(self):
        self.crypto = WeChatCrypto(SANDBOX.TOKEN, SANDBOX.AES_KEY, SANDBOX.CORP_ID)
        # Nanoseconds since the epoch (~1.8e18) plus a counter: unique within the run and
        # across runs, and below 2**63 so it fits a signed BIGINT column.
        self.base = time.time_ns()
        self.counter = itertools.count()  # next() is atomic under the GIL

    def build(self):
        """Return (query params, body bytes, user) for one fresh callback."""
        seq = next(self.counter)
        user = USERS[seq % len(USERS)]
        ts = str(int(time.time()))
        nonce = secrets.token_hex(5)
        inner = INNER_XML.format(
            corp=SANDBOX.CORP_ID, user=user, ts=ts, content=CONTENT,
            msg_id=self.base + seq, agent=SANDBOX.AGENT_ID,
        )
        signed = ET.fromstring(self.crypto.encrypt_message(inner, nonce, ts))
        body = OUTER_XML.format(
            corp=SANDBOX.CORP_ID, encrypt=signed.findtext("Encrypt"), agent=SANDBOX.AGENT_ID
        )
        params = {"msg_signature": signed.findtext("MsgSignature"), "timestamp": ts,
                  "nonce": nonce}
        return params, body.encode("utf-8"), user

    def check_reply(self, body, user, expect_echo):
        """Decrypt a response body; return None if it is a valid text reply, else why not."""
        try:
            outer = ET.fromstring(body)
            inner = self.crypto.decrypt_message(
                body, outer.findtext("MsgSignature"), outer.findtext("TimeStamp"),
                outer.findtext("Nonce"),
            )
            reply = ET.fromstring(inner)
        except Exception as exc:  # any failure makes the reply invalid
            return f"undecryptable reply: {type(exc).__name__}: {exc}"
        msg_type = reply.findtext("MsgType")
        content = reply.findtext("Content") or ""
        if msg_type != "text":
            return f"reply MsgType is {msg_type!r}, not 'text'"
        if not content.strip():
            return "reply Content is empty"
        if reply.findtext("ToUserName") != user:
            return f"reply ToUserName is {reply.findtext('ToUserName')!r}, not {user!r}"
        if expect_echo and content != CONTENT:
            return f"echo Content is {content!r}, not {CONTENT!r}"
        return None


# --- servers ----------------------------------------------------------------------------------


def free_port():
    """Return a TCP port that is free on 127.0.0.1 right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(database_url=None):
    """Environment for the servers: sandbox mode (no WECOM_*), repo root on PYTHONPATH."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WECOM_")}
    paths = [str(REPO_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["PYTHONUNBUFFERED"] = "1"
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def migrate(env):
    """Create the app's schema with `flask --app bot db upgrade`."""
    cmd = [sys.executable, "-m", "flask", "--app", "bot", "db", "upgrade"]
    try:
        subprocess.run(cmd, cwd=REPO_ROOT, env=env, check=True, capture_output=True, text=True,
                       timeout=120)
    except subprocess.CalledProcessError as exc:
        log(f"migration failed ({exc.returncode}):\n{exc.stdout}{exc.stderr}")
        raise


def tail(path, lines=30):
    """Return the last lines of a log file."""
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return ""


def wait_until_up(proc, base_url, log_path):
    """Block until the server answers any HTTP request; raise if it dies or times out."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            requests.get(base_url + CALLBACK_PATH, timeout=1)
            return
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError(f"server not answering after {START_TIMEOUT:.0f} s:\n{tail(log_path)}")


def stop(proc):
    """Stop gunicorn and its workers (its own process group), forcefully if need be."""
    if proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@functools.cache
def control_socket_args():
    """`--no-control-socket` if this gunicorn has one (27+), else nothing."""
    # Otherwise both servers would fight over the same ~/.gunicorn/gunicorn.ctl.
    help_text = subprocess.run([sys.executable, "-m", "gunicorn", "--help"], capture_output=True,
                               text=True, check=False).stdout
    return ["--no-control-socket"] if "--no-control-socket" in help_text else []


@contextlib.contextmanager
def gunicorn(app_spec, workers, env, log_path, cwd=REPO_ROOT):
    """Run `gunicorn -w N -b 127.0.0.1:PORT app_spec` in `cwd`; yield its base URL and its
    worker pids, stop it on exit."""
    port = free_port()
    # `-k sync`: gunicorn reads ./gunicorn.conf.py (threaded workers) from `cwd` by itself; the
    # benchmark compares sync workers, one request at a time, as it always has.
    cmd = [sys.executable, "-m", "gunicorn", "-k", "sync", "-w", str(workers),
           "-b", f"127.0.0.1:{port}", *control_socket_args(), app_spec]
    with open(log_path, "wb") as log_file:
        # A new session makes gunicorn the leader of its own process group, so stop() can
        # signal the master and its workers together, and Ctrl-C here does not reach them.
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log_file,
                                stderr=subprocess.STDOUT, start_new_session=True)
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(proc, base_url, log_path)
        worker_pids = subprocess.run(["pgrep", "-P", str(proc.pid)], capture_output=True,
                                     text=True, check=False).stdout.split()
        yield base_url, worker_pids
    finally:
        stop(proc)


# --- load -------------------------------------------------------------------------------------


@dataclass
class Target:
    """A server under test, with its clients' sessions and the measurements so far."""

    name: str
    url: str
    clients: int
    expect_echo: bool
    sessions: list = field(default_factory=list)
    latencies_ms: list = field(default_factory=list)
    ok: int = 0
    errors: Counter = field(default_factory=Counter)
    error_examples: dict = field(default_factory=dict)
    elapsed: float = 0.0
    client_cpu: float = 0.0  # CPU seconds this process (the load generator) spent measuring
    samples: list = field(default_factory=list)  # (body, user) of the first responses
    loader: str = "python"
    phases: list = field(default_factory=list)  # wrk: (requests, p50, p99) per measured phase

    def __post_init__(self):
        """Give each client its own keep-alive session."""
        # gunicorn's sync workers close the connection after each response anyway; the
        # sessions still spare the client its per-request setup, equally for both targets.
        self.sessions = [requests.Session() for _ in range(self.clients)]


@dataclass
class ClientResult:
    """What one client thread saw during one phase."""

    latencies_ms: list = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)
    error_examples: dict = field(default_factory=dict)
    samples: list = field(default_factory=list)

    def error(self, kind, detail):
        """Count an error and keep its first example."""
        self.errors[kind] += 1
        self.error_examples.setdefault(kind, detail)


def post_one(session, url, factory, result):
    """Send one callback, time it, and record it in result."""
    params, body, user = factory.build()
    start = time.perf_counter()
    try:
        resp = session.post(url, params=params, data=body, timeout=REQUEST_TIMEOUT,
                            headers={"Content-Type": "text/xml"})
        content = resp.content
    except requests.RequestException as exc:
        result.error(type(exc).__name__, str(exc)[:300])
        return
    latency_ms = (time.perf_counter() - start) * 1000.0
    if resp.status_code != 200:
        result.error(f"HTTP {resp.status_code}", content[:300].decode("utf-8", "replace"))
    elif b"<Encrypt>" not in content:
        result.error("no encrypted body", content[:300].decode("utf-8", "replace") or "(empty)")
    else:
        result.latencies_ms.append(latency_ms)
        if len(result.samples) < SAMPLE_SIZE:
            result.samples.append((content, user))


def client_loop(session, url, factory, deadline, result):
    """Post callbacks back to back until the deadline."""
    while time.perf_counter() < deadline:
        post_one(session, url, factory, result)


def run_phase_wrk(target, factory, seconds, record):
    """Load the target with wrk; then check a few replies with the Python client."""
    figures = run_wrk(target.url, factory, CALLBACK_PATH, seconds, target.clients)
    if not record:
        return
    errors = sum(figures["errors"].values())
    target.elapsed += figures["seconds"]
    target.client_cpu += figures["cpu"]
    target.ok += figures["requests"] - errors
    target.phases.append((figures["requests"] - errors, figures["p50_ms"], figures["p99_ms"]))
    for kind, count in figures["errors"].items():
        if count:
            target.errors[kind] += count
            target.error_examples.setdefault(kind, "reported by wrk")
    if figures["recycled"]:
        target.errors["recycled MsgIds"] += 1
        target.error_examples.setdefault("recycled MsgIds", "a phase ran out of prepared callbacks")
    sample = ClientResult()
    while len(target.samples) + len(sample.samples) < SAMPLE_SIZE and not sample.errors:
        post_one(target.sessions[0], target.url + CALLBACK_PATH, factory, sample)
    target.samples.extend(sample.samples)


def run_phase(target, factory, seconds, record):
    """Load the target with all its clients for `seconds`; add the results if `record`."""
    if target.loader == "wrk":
        return run_phase_wrk(target, factory, seconds, record)
    url = target.url + CALLBACK_PATH
    results = [ClientResult() for _ in target.sessions]
    cpu_start = time.process_time()
    start = time.perf_counter()
    deadline = start + seconds
    threads = [
        threading.Thread(target=client_loop, args=(session, url, factory, deadline, result),
                         daemon=True)
        for session, result in zip(target.sessions, results, strict=False)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - start  # includes the requests in flight at the deadline
    cpu = time.process_time() - cpu_start  # all client threads; the main thread only waits
    if not record:
        return
    target.elapsed += elapsed
    target.client_cpu += cpu
    for result in results:
        target.latencies_ms.extend(result.latencies_ms)
        target.ok += len(result.latencies_ms)
        target.errors.update(result.errors)
        for kind, detail in result.error_examples.items():
            target.error_examples.setdefault(kind, detail)
        target.samples.extend(result.samples[: SAMPLE_SIZE - len(target.samples)])


def round_order(targets, rounds):
    """Yield targets in ABBA order over the rounds (floor, app, app, floor, ...)."""
    for i in range(rounds):
        yield from (targets if i % 2 == 0 else reversed(targets))


def measure(targets, factory, args):
    """Warm every target up, then measure them in interleaved rounds."""
    for target in targets:
        log(f"warm-up {target.name}: {args.warmup:g} s")
        run_phase(target, factory, args.warmup, record=False)
    per_round = args.seconds / args.rounds
    for target in round_order(targets, args.rounds):
        log(f"measure {target.name}: {per_round:g} s")
        run_phase(target, factory, per_round, record=True)


def check_samples(target, factory):
    """Decrypt the sampled responses; count invalid ones as errors. Returns #valid."""
    valid = 0
    for body, user in target.samples:
        problem = factory.check_reply(body, user, target.expect_echo)
        if problem is None:
            valid += 1
        else:
            target.errors["invalid reply"] += 1
            target.error_examples.setdefault("invalid reply", problem)
    return valid


# --- report -----------------------------------------------------------------------------------


def percentile(sorted_values, pct):
    """Nearest-rank percentile of an already sorted list (None if empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(pct / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def summarize(target, valid_samples):
    """Reduce a target's measurements to a dict of figures."""
    latencies = sorted(target.latencies_ms)
    errors = sum(target.errors.values())
    if target.phases:  # wrk: p50 weighted by requests, p99 the worst phase (conservative)
        total = sum(n for n, _, _ in target.phases) or 1
        p50 = round(sum(n * p for n, p, _ in target.phases) / total, 2)
        p99 = max(p for _, _, p in target.phases)
    else:
        p50 = round(percentile(latencies, 50), 2) if latencies else None
        p99 = round(percentile(latencies, 99), 2) if latencies else None
    return {
        "requests": target.ok + errors - target.errors.get("invalid reply", 0),
        "ok": target.ok,
        "errors": errors,
        "error_kinds": dict(target.errors),
        "error_examples": dict(target.error_examples),
        "seconds": round(target.elapsed, 3),
        "throughput_rps": round(target.ok / target.elapsed, 1) if target.elapsed else 0.0,
        "p50_ms": p50,
        "p99_ms": p99,
        # Percent of one core used by the load generator; near 100 it is GIL-bound and
        # the target may be limited by the client rather than by the server.
        "client_cpu_pct": round(100.0 * target.client_cpu / target.elapsed) if target.elapsed
        else 0,
        "samples_checked": len(target.samples),
        "samples_valid": valid_samples,
    }


def verdict(summary, args):
    """Compare the app to the targets; return the comparison figures and checks."""
    floor, app = summary["targets"]["floor"], summary["targets"]["app"]
    ratio = app["throughput_rps"] / floor["throughput_rps"] if floor["throughput_rps"] else 0.0
    p99 = app["p99_ms"]
    checks = {
        "ratio": ratio >= TARGET_RATIO,
        "p99": p99 is not None and p99 < TARGET_P99_MS,
        "no_errors": app["errors"] == 0 and floor["errors"] == 0,
    }
    return {
        "throughput_ratio": round(ratio, 3),
        "app_p99_ms": p99,
        "checks": checks,
        "pass": all(checks.values()),
        "at_target_load": args.clients == TARGET_CLIENTS and args.workers == TARGET_WORKERS,
    }


def fmt(value, spec):
    """Format a number, or '-' for None."""
    return "-" if value is None else format(value, spec)


def report(summary):
    """Print the human-readable report on stdout."""
    cfg = summary["config"]
    out = [
        f"clients={cfg['clients']} workers={cfg['workers']} seconds={cfg['seconds']:g} "
        f"per target in {cfg['rounds']} interleaved rounds, warm-up={cfg['warmup']:g} s, "
        f"load generator: {cfg['loader']}",
        "",
        f"{'target':<7}{'requests':>10}{'errors':>8}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}"
        f"{'samples ok':>12}{'client CPU':>12}",
    ]
    for name, t in summary["targets"].items():
        out.append(
            f"{name:<7}{t['requests']:>10}{t['errors']:>8}{t['throughput_rps']:>10.1f}"
            f"{fmt(t['p50_ms'], '.1f'):>9}{fmt(t['p99_ms'], '.1f'):>9}"
            f"{t['samples_valid']:>7}/{t['samples_checked']:<4}{t['client_cpu_pct']:>11}%"
        )
    for name, t in summary["targets"].items():
        for kind, count in t["error_kinds"].items():
            out.append(f"  {name} error {kind} x{count}: {t['error_examples'].get(kind, '')}")
    floor = summary["targets"]["floor"]
    if floor["client_cpu_pct"] >= CLIENT_BOUND_PCT and cfg["loader"] == "python":
        out.append(
            f"warning: the load generator used {floor['client_cpu_pct']}% of a core while loading "
            "the floor (one Python process, so at most ~100%): the floor may be client-bound, "
            "which understates it and flatters the app/floor ratio."
        )
    result = summary.get("result")
    if result:
        checks = result["checks"]
        mark = {True: "ok", False: "MISSED"}
        out += [
            "",
            f"app/floor throughput ratio: {result['throughput_ratio']:.2f}   "
            f"app p99: {fmt(result['app_p99_ms'], '.1f')} ms",
            f"verdict: {'PASS' if result['pass'] else 'FAIL'} - "
            f"ratio {result['throughput_ratio']:.2f} >= {TARGET_RATIO} {mark[checks['ratio']]}; "
            f"p99 {fmt(result['app_p99_ms'], '.1f')} ms < {TARGET_P99_MS:g} ms "
            f"{mark[checks['p99']]}; errors {mark[checks['no_errors']]} "
            f"(targets: ratio >= {TARGET_RATIO}, p99 < {TARGET_P99_MS:g} ms at "
            f"{TARGET_CLIENTS} clients, {TARGET_WORKERS} workers)",
        ]
        if not result["at_target_load"]:
            out.append("note: the targets are defined at 16 clients and 2 workers; "
                       "this run used other settings.")
    print("\n".join(out))  # noqa: T201


# --- main -------------------------------------------------------------------------------------


def parse_args(argv=None):
    """Parse the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=TARGET_CLIENTS,
                        help="concurrent client threads (default 16)")
    parser.add_argument("--seconds", type=float, default=12.0,
                        help="measured seconds per target (default 12)")
    parser.add_argument("--warmup", type=float, default=2.0,
                        help="unmeasured warm-up seconds per target (default 2)")
    parser.add_argument("--workers", type=int, default=TARGET_WORKERS,
                        help="gunicorn workers per server (default 2)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="interleaved rounds the measured seconds are split into (default 4;"
                             " wrk measures whole seconds)")
    parser.add_argument("--json", action="store_true",
                        help="print a machine-readable summary instead of the report")
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto",
                        help="load generator: wrk (apt install wrk) or the Python threads; "
                             "auto picks wrk when it is installed")
    parser.add_argument("--floor-only", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.clients < 1 or args.workers < 1 or args.rounds < 1 or args.seconds <= 0:
        parser.error("--clients, --workers, --rounds and --seconds must be positive")
    if args.loader == "auto":
        args.loader = "wrk" if shutil.which("wrk") else "python"
    elif args.loader == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt install wrk), or use --loader python")
    return args


def run(args, tmpdir):
    """Start the servers, load them, and return the summary dict."""
    factory = MessageFactory()
    app_env = server_env(database_url=f"sqlite:///{tmpdir}/bench.sqlite")
    with contextlib.ExitStack() as stack:
        log("starting floor (bench.echo_app)")
        floor_url, _ = stack.enter_context(gunicorn(
            "bench.echo_app:create_app()", args.workers, server_env(), tmpdir / "floor.log"))
        targets = [Target("floor", floor_url, args.clients, expect_echo=True, loader=args.loader)]
        if not args.floor_only:
            log("migrating the app's database")
            migrate(app_env)
            log("starting app (bot:create_app())")
            app_url, _ = stack.enter_context(gunicorn(
                "bot:create_app()", args.workers, app_env, tmpdir / "app.log"))
            targets.append(Target("app", app_url, args.clients, expect_echo=False,
                                  loader=args.loader))
        measure(targets, factory, args)
        summary = {
            "config": {k: getattr(args, k) for k in ("clients", "seconds", "warmup", "workers",
                                                     "rounds", "loader")},
            "targets": {t.name: summarize(t, check_samples(t, factory)) for t in targets},
        }
        for target in targets:
            if target.errors:
                log(f"--- tail of {target.name}'s server log ---\n"
                    f"{tail(tmpdir / (target.name + '.log'))}")
    if not args.floor_only:
        summary["result"] = verdict(summary, args)
    return summary


def main(argv=None):
    """Entry point: run the benchmark and print the report (or JSON)."""
    args = parse_args(argv)
    # Turn SIGTERM into SystemExit so the servers are stopped on the way out.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with tempfile.TemporaryDirectory(prefix="filingbot-bench-") as tmp:
        summary = run(args, Path(tmp))
    if args.json:
        print(json.dumps(summary, indent=2, ensure_ascii=False))  # noqa: T201
    else:
        report(summary)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        log("interrupted; servers stopped")
        sys.exit(130)
