"""gunicorn settings for production: `gunicorn -c gunicorn.conf.py 'bot:create_app()'`.

Why threads: a sync worker reads a request body with no time limit, so two clients that send
headers announcing a body and then nothing held both default workers and took the bot offline
(issue 15). A gthread worker hands each request to one of `threads` threads; a stalled upload
holds one thread, not the process, and the worker's heartbeat keeps running. That absorbs a few
dozen stalled connections; hundreds are the job of the buffering reverse proxy in front
(deploy/nginx/filingbot.conf), which passes a request on only once its body is complete.

Every value can be overridden on the command line (`-b 0.0.0.0:8000`, `-w 4`) or through
GUNICORN_CMD_ARGS; WEB_CONCURRENCY and GUNICORN_THREADS set the counts.
"""

import os

# Behind the proxy on the same host; without one, bind a public address with -b.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
# Each thread keeps its own SQLite connection (bot.thread_connection); on PostgreSQL a request
# borrows one from the pool (DB_POOL_SIZE + DB_MAX_OVERFLOW, 5 + 10 per process) only while
# it runs.
threads = int(os.environ.get("GUNICORN_THREADS", "32"))

# A worker whose main loop is silent this long is restarted (threads busy with slow requests
# do not count: the heartbeat runs in the main loop). WeCom gives up on a callback after 5 s.
timeout = 30
graceful_timeout = 20  # finish requests in flight on SIGTERM/HUP, then stop
keepalive = 5  # seconds an idle keep-alive connection is kept (the proxy reuses them)

# A callback's request line is its URL: path + msg_signature, timestamp, nonce (+ echostr on
# the GET check), well under 2 KiB. Anything bigger is refused with 4xx before the app runs.
limit_request_line = 4096
limit_request_fields = 50
limit_request_field_size = 8190

# The proxy sets X-Forwarded-*; trust it only from the same host.
forwarded_allow_ips = "127.0.0.1"
# No access log by default: it would add a line per callback. Errors go to stderr.
errorlog = "-"
