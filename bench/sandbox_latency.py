"""How soon a message shows on /sandbox: from the page's POST (/sandbox/say, /sandbox/tap) to the
bot's outbox message appearing in another phone's /sandbox/feed, against gunicorn in sandbox
mode (2 workers × 4 threads, a fresh instance folder and SQLite database).

    python bench/sandbox_latency.py --rounds 10

The page polls the feed every 0.7 s, so what a person waits is this figure plus up to 0.7 s.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


def main() -> None:
    """Serve a fresh sandbox, play --rounds approvals through the page's endpoints, print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        instance = Path(tmp) / "instance"
        spec = f'bot:create_app({{"INSTANCE_PATH": "{instance}"}})'
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("WECOM_", "DATABASE_URL", "SECRET_KEY"))}
        env["PYTHONPATH"] = str(REPO_ROOT)
        subprocess.run([sys.executable, "-m", "flask", "--app", spec, "db", "upgrade"],
                       env=env, cwd=REPO_ROOT, check=True, capture_output=True)
        port = 20000 + os.getpid() % 20000
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-w", "2", "--threads", "4", "-b",
             f"127.0.0.1:{port}", "--no-control-socket", spec],
            env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}"
            web = wait_up(url)
            card_after_submit, card_after_tap = [], []
            for i in range(args.rounds):
                say(web, url, "zhangsan", "登记\n平台：抖音\n账号名称：文法学院抖音号"
                    f"{i}\n账号ID：wfdy{i:04d}\n负责人：李明\n管理员：张三\n用途：短视频\n开通时间：2020年1月")
                after = {u: last_id(web, url, u) for u in ("liming", "wangwu")}
                started = say(web, url, "zhangsan", "确认")
                card, seen = wait_card(web, url, "liming", after["liming"])
                card_after_submit.append(seen - started)
                started = post(web, url + "/sandbox/tap", {
                    "userid": "liming", "task_id": card["task_id"],
                    "key": card["card"]["button_list"][0]["key"]})
                _card, seen = wait_card(web, url, "wangwu", after["wangwu"])
                card_after_tap.append(seen - started)
            for name, values in (("say 确认 → head's card on the feed", card_after_submit),
                                 ("tap 确认 → office's card on the feed", card_after_tap)):
                print(f"{name}: median {statistics.median(values) * 1000:.0f} ms, "  # noqa: T201
                      f"max {max(values) * 1000:.0f} ms over {len(values)} rounds")
        finally:
            server.terminate()
            server.wait(timeout=30)


def wait_up(url: str) -> requests.Session:
    """A session holding the page's cookie and CSRF token, once the server answers."""
    web = requests.Session()
    for _ in range(300):
        try:
            page = web.get(url + "/sandbox", timeout=2)
            if page.ok:
                web.headers["X-CSRFToken"] = re.search(r'"csrf": "([^"]+)"', page.text).group(1)
                return web
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise SystemExit("the sandbox server did not start")


def post(web, url, body) -> float:
    """POST and return the time the answer came back (the page then polls)."""
    response = web.post(url, json=body, timeout=30)
    response.raise_for_status()
    return time.monotonic()


def say(web, url, userid, text) -> float:
    """Type `text` on `userid`'s phone; the time the page's POST returned."""
    return post(web, url + "/sandbox/say", {"userid": userid, "text": text})


def feed(web, url, userid, after):
    """`userid`'s messages after `after`, as the page polls them."""
    return web.get(url + "/sandbox/feed", params={"as": userid, "after": str(after)},
                   timeout=10).json()["phones"][userid]["messages"]


def last_id(web, url, userid) -> int:
    """The id of `userid`'s newest message (0 for none)."""
    messages = feed(web, url, userid, 0)
    return messages[-1]["id"] if messages else 0


def wait_card(web, url, userid, after):
    """The first card on `userid`'s feed after `after`, and when the feed showed it."""
    while True:
        for message in feed(web, url, userid, after):
            if message["type"] == "template_card":
                return message, time.monotonic()
        time.sleep(0.01)


if __name__ == "__main__":
    main()
