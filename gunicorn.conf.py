"""gunicorn settings for 盘图: `.venv/bin/gunicorn -c gunicorn.conf.py wsgi:app`.

Environment: WEB_CONCURRENCY (workers), BIND (host:port) or PORT, GUNICORN_TIMEOUT (seconds),
BEHIND_PROXY=1 with FORWARDED_ALLOW_IPS (the proxy's addresses, default 127.0.0.1,::1).
"""

import gc
import os

# Sync workers, one request each at a time: 2 × cores + 1. The pages are CPU work (SQLAlchemy rows →
# Jinja), so on 2 cores 2, 3 and 5 workers gave the same throughput within the noise of a shared
# machine (benchmarks/load.py --workers N; 8 was slower), but a PDF rendered in the request holds its
# worker for seconds, and with 5 one such render still leaves 4 to serve pages.
# A sync worker also waits on any client that connects and sends nothing yet (a browser's preconnect,
# a slow phone upload): run it behind a buffering proxy (nginx), never exposed directly.
cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
workers = int(os.environ.get("WEB_CONCURRENCY") or 2 * cores + 1)

# A bare PORT (as hosting platforms set it) still binds to loopback; set BIND=0.0.0.0:8000 to listen
# on every interface.
bind = os.environ.get("BIND") or f"127.0.0.1:{os.environ.get('PORT', '8000')}"

# Small PDFs render in the request (a few seconds); large ones are background jobs, but they run in
# the request too when Redis is down or not configured, so leave room for those before killing a worker.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = 30

accesslog = "-"  # access log to stdout, errors to stderr
errorlog = "-"

# Trust X-Forwarded-* (the https scheme) only from a proxy we were told about; the app's ProxyFix
# reads the same setting.
if os.environ.get("BEHIND_PROXY", "").strip().lower() in {"1", "true", "yes", "on"}:
    forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
else:
    forwarded_allow_ips = ""

# No preload_app: each worker imports the app after forking, so no SQLAlchemy pool (or Redis
# connection) is ever shared between processes.
preload_app = False


# No garbage collection from before a request is read until its response has been sent: a collection
# inside SQLAlchemy's loading can crash CPython 3.11 workers (crm/core/gc_pause.py tells the story), and
# one between requests keeps its pause out of page times.
def post_worker_init(worker):
    # What the worker allocated loading the app lives as long as the worker: keep it out of every
    # collection, so the ones between requests walk only what requests left behind.
    gc.freeze()


def pre_request(worker, req):
    gc.disable()


def post_request(worker, req, environ=None, resp=None):
    gc.enable()
