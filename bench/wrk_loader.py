"""Load generation with wrk (a C load generator), for bench/callback.py.

The Python load generator costs about 1.5 ms of CPU per request and, on a two-core machine,
takes most of a core from the servers it measures. wrk costs a fraction of that, so the
servers get the machine. Every request is still a distinct, genuinely encrypted callback:
they are built beforehand (one line per request: path with query, a tab, the body) and each
wrk thread plays its own share of the lines, so no MsgId is sent twice unless a phase runs out
of lines (then `recycled` says so, and the app answers those from its dedup table).
"""

from __future__ import annotations

import re
import resource
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import urlencode

WRK_THREADS = 2
HEADROOM_RPS = 6000  # requests prepared per measured second: twice the fastest floor seen here

SCRIPT = r"""
local counter = 0
function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
end
function init(args)
  local nthreads = tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(args[1]) do
    if i % nthreads == tid then
      local path, body = line:match("([^\t]+)\t(.*)")
      reqs[#reqs + 1] = wrk.format("POST", path, {["Content-Type"] = "text/xml"}, body)
    end
    i = i + 1
  end
  idx = 0
end
function request()
  idx = idx + 1
  if idx > #reqs then idx = 1 end
  return reqs[idx]
end
function done(summary, latency, requests)
  io.write(string.format("p95_us %d\n", latency:percentile(95)))
end
"""


def write_requests(path: Path, factory, callback_path: str, count: int) -> None:
    """Build `count` distinct encrypted callbacks into a file wrk's script reads."""
    with path.open("w", encoding="utf-8") as out:
        for _ in range(count):
            params, body, _user = factory.build()
            out.write(f"{callback_path}?{urlencode(params)}\t{body.decode('utf-8')}\n")


UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def parse(output: str) -> dict:
    """Requests, rate, p50/p99 (ms) and errors from wrk's --latency report."""
    def latency(pct: str) -> float | None:
        match = re.search(rf"^\s*{pct}%\s+([\d.]+)(us|ms|s)\s*$", output, re.M)
        return round(float(match.group(1)) * UNITS[match.group(2)], 2) if match else None

    p95 = re.search(r"^p95_us (\d+)$", output, re.M)  # printed by SCRIPT's done()
    total = re.search(r"(\d+) requests in ([\d.]+)(s|m)", output)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    sockets = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                        output)
    seconds = float(total.group(2)) * (60 if total.group(3) == "m" else 1)
    return {
        "requests": int(total.group(1)), "seconds": seconds,
        "p50_ms": latency("50"), "p95_ms": round(int(p95.group(1)) / 1000, 2) if p95 else None,
        "p99_ms": latency("99"),
        "errors": {"HTTP non-2xx": int(non_2xx.group(1)) if non_2xx else 0,
                   # read errors are counted when gunicorn closes a keep-alive socket
                   "socket connect/timeout": sum(int(sockets.group(i)) for i in (1, 4))
                   if sockets else 0},
    }


def run_wrk(base_url: str, factory, callback_path: str, seconds: float, connections: int,
            headroom_rps: int = HEADROOM_RPS, timeout: int = 2) -> dict:
    """Load `base_url` for `seconds` with wrk; return parse() figures plus cpu and recycled.
    `headroom_rps`: callbacks prepared per second (fewer for a slower endpoint); a request
    slower than `timeout` seconds counts as an error (wrk's own default is 2)."""
    seconds = max(1, round(seconds))  # wrk takes whole seconds only
    with tempfile.TemporaryDirectory(prefix="filingbot-wrk-") as tmp:
        lines = Path(tmp) / "requests.txt"
        prepared = int(seconds * headroom_rps) + 1000
        write_requests(lines, factory, callback_path, prepared)
        script = Path(tmp) / "callbacks.lua"
        script.write_text(SCRIPT)
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(
            ["wrk", f"-t{WRK_THREADS}", f"-c{max(connections, WRK_THREADS)}", f"-d{seconds:g}s",
             f"--timeout={timeout}s", "--latency", "-s", str(script), base_url, "--", str(lines),
             str(WRK_THREADS)],
            capture_output=True, text=True, check=True, timeout=seconds + 60)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figures = parse(done.stdout)
    figures["cpu"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    figures["recycled"] = figures["requests"] > prepared
    return figures
