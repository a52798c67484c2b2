"""Load: the busiest tablet pages under 50 concurrent connections, gunicorn + PostgreSQL on this machine.

Seeds a dealer-network-sized database (benchmarks/load_seed.py: 60,000 estates, 3,000 groups with a
year of daily metrics, 200,000 people, one busy dealer), starts gunicorn with gunicorn.conf.py
against it (PANTU_ENV=production, Redis for jobs), logs in through the login form, then drives each
page with wrk (Debian's `wrk`, on 127.0.0.1) for --duration seconds at --connections connections:

    floor     GET /healthz                       the stack's floor: routing, one SELECT 1, Redis ping
    login     GET /login                         a template, no database
    今天       GET /scripts/today                  as one 主IP (busy_op01)
    board     GET /groups/board                   the progress board, as the dealer lead
    board/op  GET /groups/board?operator_id=…     the board filtered to one 主IP's estates
    estates   GET /estates/?stage=…&district=…    the estate list with filters, as the lead
    geojson   GET /map/estates.geojson?city_id=…  the traffic map's points, as the lead (gzip)

Each page runs twice: saturated (every connection sends its next request as soon as the last one is
answered: throughput, and latency that is mostly queueing) and as --connections users who read each
page for a while (--think-ms, uniform 0 to twice that) before the next click (a threaded client:
wrk's delay() would hold idle connections open, which gunicorn's sync workers cannot serve). Then a
mixed run: --connections users, each click one of the tablet pages by the weights in MIX (a working
day: mostly 主IP on 今天 and their board, the lead's whole board the rarest); `--only mixed` runs it alone.
It prints requests/s, p50/p95/p99, errors and non-2xx answers per page, each page's throughput as a
share of the floor's in the same run, and the SQL statements of one request of each page (counted
in-process through the Flask test client) at the full size and on a second database 10× smaller.

    .venv/bin/python benchmarks/load.py [--database-url URL] [--scale 1.0] [--duration 20]
        [--connections 50] [--think-ms 5000] [--workers N] [--only REGEX] [--keep] [--reuse] [--profile]

--database-url names a database that must not exist yet (created, migrated, seeded, dropped after
unless --keep; its 10× smaller twin is URL's name + "_tenth"); --reuse loads a database kept earlier.
--profile runs pyinstrument (if installed) on one in-process request of each page that missed the goal.
Goal (issue 10): p95 under 150 ms at 50 concurrent connections on 2 cores, zero errors, query counts
flat in data size.
"""

from __future__ import annotations

import argparse
import collections
import http.client
import http.cookiejar
import json
import math
import os
import random
import re
import secrets
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from benchmarks import load_seed  # noqa: E402
from crm import create_app  # noqa: E402
from crm.core.models import local_today  # noqa: E402
from crm.extensions import db  # noqa: E402

VENV_BIN = ROOT / ".venv" / "bin"
GOAL_P95_MS = 150
USER_AGENT = "pantu-load/1.0"
WRK_SCRIPT = r"""
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) non2xx = 0 end
function response(status, headers, body)
  if status < 200 or status > 299 then non2xx = non2xx + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non2xx") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests":%d,"duration_us":%d,"bytes":%d,"p50":%d,"p95":%d,"p99":%d,"max":%d,'
    .. '"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d,"non2xx":%d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.connect, e.read, e.write, e.status, e.timeout, bad))
end
"""


def run(cmd: list[str], env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    print("$ " + _shown(cmd, env), flush=True)
    return subprocess.run(cmd, env={**os.environ, **(env or {})}, check=True, **kwargs)


def _shown(cmd: list[str], env: dict | None) -> str:
    prefix = " ".join(f"{k}={shlex.quote(v)}" for k, v in (env or {}).items())
    return (prefix + " " if prefix else "") + shlex.join(cmd)


# ------------------------------------------------------------------------------ databases


def create_database(url: str) -> None:
    parsed = make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": parsed.database}):
            raise SystemExit(
                f"database {parsed.database} exists: drop it (dropdb -h {parsed.host} -U {parsed.username} "
                f"{parsed.database}), pick another --database-url, or pass --reuse"
            )
        conn.execute(sa.text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def drop_database(url: str) -> None:
    parsed = make_url(url)
    admin = sa.create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
    admin.dispose()


def in_process_app(url: str, uploads: str):
    return create_app(
        {
            "TESTING": True,
            "SECRET_KEY": "load",
            "SQLALCHEMY_DATABASE_URI": url,
            "WTF_CSRF_ENABLED": False,
            "UPLOAD_FOLDER": uploads,
            "REDIS_URL": "",
        }
    )


def migrate_and_seed(url: str, scale: float, uploads: str) -> load_seed.Seeded:
    """`flask db upgrade` as an operator would run it, then the bulk seed; ANALYZE after."""
    run(
        [str(VENV_BIN / "flask"), "--app", "wsgi", "db", "upgrade"],
        {"DATABASE_URL": url, "PANTU_ENV": "development"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    app = in_process_app(url, uploads)
    start = time.perf_counter()
    with app.app_context():
        seeded = load_seed.seed(scale, local_today())
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(sa.text("VACUUM ANALYZE"))
        db.session.remove()
        db.engine.dispose()
    counts = ", ".join(f"{v:,} {k}" for k, v in seeded.counts.items())
    print(f"seeded (scale {scale:g}): {counts} in {time.perf_counter() - start:.0f} s", flush=True)
    return seeded


def describe(url: str, uploads: str) -> load_seed.Seeded:
    """What a kept database holds (for --reuse)."""
    from crm.core.scoping import unscoped
    from crm.estates.models import City
    from crm.org.models import User

    app = in_process_app(url, uploads)
    with app.app_context(), unscoped():
        city_id = db.session.scalar(sa.select(City.id).where(City.name == load_seed.BUSY_CITY[0]))
        operators = db.session.execute(
            sa.select(User.id, User.username).where(User.username.like("busy_op%")).order_by(User.username)
        ).all()
        db.session.remove()
        db.engine.dispose()
    return load_seed.Seeded({}, city_id, "busy_lead", [u for _, u in operators], operators[0][0])


def pages(seeded: load_seed.Seeded) -> list[tuple[str, str, str | None]]:
    """(label, path, user) — user None means anonymous."""
    query = urllib.parse.urlencode({"stage": "operating", "district": load_seed.BUSY_DISTRICTS[1]})
    return [
        ("floor /healthz", "/healthz", None),
        ("login page", "/login", None),
        ("今天 (主IP)", "/scripts/today", seeded.operators[0]),
        ("board (lead)", "/groups/board", seeded.lead),
        ("board (one 主IP)", f"/groups/board?operator_id={seeded.busy_operator_id}", seeded.operators[0]),
        ("estates filtered", f"/estates/?{query}", seeded.lead),
        ("map geojson", f"/map/estates.geojson?city_id={seeded.city_id}", seeded.lead),
    ]


# ------------------------------------------------------------------------------ query counts


def query_counts(url: str, seeded: load_seed.Seeded, uploads: str) -> dict[str, tuple[int, int, float]]:
    """Per page: SQL statements of one request (after a warm-up), body size, median seconds of 5 alone."""
    app = in_process_app(url, uploads)
    counted = []
    with app.app_context():
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: counted.append(1))
    clients = {}
    result = {}
    for label, path, user in pages(seeded):
        if user not in clients:
            clients[user] = app.test_client()
            if user:
                login = clients[user].post("/login", data={"username": user, "password": load_seed.PASSWORD})
                assert login.status_code == 302, (user, login.status_code)
        client = clients[user]
        client.get(path, headers={"Accept-Encoding": "gzip"})
        before = len(counted)
        response = client.get(path, headers={"Accept-Encoding": "gzip"})
        assert response.status_code == 200, (path, response.status_code)
        statements = len(counted) - before
        times = []
        for _ in range(5):
            start = time.perf_counter()
            client.get(path, headers={"Accept-Encoding": "gzip"})
            times.append(time.perf_counter() - start)
        result[label] = (statements, len(response.get_data()), statistics.median(times))
    with app.app_context():
        db.engine.dispose()
    return result


def profile(url: str, seeded: load_seed.Seeded, uploads: str, labels: set[str]) -> None:
    try:
        from pyinstrument import Profiler
    except ImportError:
        print("(pyinstrument is not installed: .venv/bin/pip install pyinstrument)")
        return
    app = in_process_app(url, uploads)
    for label, path, user in pages(seeded):
        if label not in labels:
            continue
        client = app.test_client()
        if user:
            client.post("/login", data={"username": user, "password": load_seed.PASSWORD})
        client.get(path)
        profiler = Profiler(interval=0.0005)
        profiler.start()
        client.get(path, headers={"Accept-Encoding": "gzip"})
        profiler.stop()
        print(f"\n--- pyinstrument: one request of {label} ({path}) ---")
        print(profiler.output_text(unicode=True, color=False, show_all=False))
    with app.app_context():
        db.engine.dispose()


# ------------------------------------------------------------------------------ gunicorn + wrk


def start_gunicorn(
    url: str, port: int, workers: int | None, uploads: str, log: Path, extra_env: dict | None = None
) -> subprocess.Popen:
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": secrets.token_hex(32),
        "PANTU_ENV": "production",
        "REDIS_URL": os.environ.get("LOAD_REDIS_URL", "redis://127.0.0.1:6379/0"),
        "UPLOAD_FOLDER": uploads,
        "BIND": f"127.0.0.1:{port}",
    }
    if workers:
        env["WEB_CONCURRENCY"] = str(workers)
    env.update(extra_env or {})
    cmd = [str(VENV_BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"]
    shown = {**env, "SECRET_KEY": "$(openssl rand -hex 32)"}
    print(f"$ {_shown(cmd, shown)} > {log} 2>&1 &", flush=True)
    process = subprocess.Popen(
        cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log.open("wb"), stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return process
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise SystemExit(f"gunicorn did not answer /healthz in 30 s; see {log}")


def stop_gunicorn(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def login_cookie(base: str, username: str) -> str:
    """Log in through the real form (CSRF token and all); return the Cookie header value."""
    jar = http.cookiejar.CookieJar()

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar), NoRedirect)
    opener.addheaders = [("User-Agent", USER_AGENT)]
    page = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    data = urllib.parse.urlencode({"username": username, "password": load_seed.PASSWORD, "csrf_token": token})
    try:
        opener.open(f"{base}/login", data=data.encode())
        raise SystemExit(f"login as {username} did not redirect")
    except urllib.error.HTTPError as error:
        if error.code != 302:
            raise
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def check(base: str, path: str, cookie: str | None) -> int:
    headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip", **({"Cookie": cookie} if cookie else {})}
    request = urllib.request.Request(base + path, headers=headers)
    with urllib.request.urlopen(request, timeout=600) as response:
        assert response.status == 200, (path, response.status)
        return len(response.read())


def wrk(base: str, path: str, cookie: str | None, args, script: Path) -> dict:
    cmd = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--timeout",
        "10s",
        "-s",
        str(script),
        "-H",
        f"User-Agent: {USER_AGENT}",
        "-H",
        "Accept-Encoding: gzip",
    ]
    if cookie:
        cmd += ["-H", f"Cookie: {cookie}"]
    cmd.append(base + path)
    shown = [("Cookie: $COOKIE" if part.startswith("Cookie: ") else part) for part in cmd]
    print("$ " + shlex.join(shown), flush=True)
    output = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRKJSON "))
    figures = json.loads(line.removeprefix("WRKJSON "))
    figures["rps"] = figures["requests"] / (figures["duration_us"] / 1e6)
    figures["errors"] = sum(figures[k] for k in ("connect", "read", "write", "timeout"))
    return figures


# A working day's mix for the mixed run: what 50 tablets of a dealer network open, by weight. Most
# users are 主IP on 今天 and their own board; leads and consultants filter estates and open the map;
# a lead's whole board is the rarest (one lead per dealer) and the heaviest page.
MIX = {
    "今天 (主IP)": 5,
    "board (one 主IP)": 3,
    "estates filtered": 2,
    "map geojson": 2,
    "board (lead)": 1,
}


def _stats(latencies: list[float], counts: dict, seconds: float) -> dict:
    ordered = sorted(latencies) or [0.0]

    def pct(q: float) -> float:
        return ordered[max(0, math.ceil(q * len(ordered)) - 1)] * 1e6

    return {
        "requests": len(latencies),
        "rps": len(latencies) / seconds,
        "p50": pct(0.50),
        "p95": pct(0.95),
        "p99": pct(0.99),
        **counts,
    }


def users(port: int, targets: list[tuple[str, str, str | None, int]], args) -> dict[str, dict]:
    """--connections users, each reading a page for a while (uniform 0 … 2 × --think-ms) before the
    next click, on a new connection each time as a browser would to gunicorn's sync workers (which
    close it after every answer). Threads of the standard library; latency from connect to last byte.
    targets: (label, path, cookie, weight); each click picks one by weight. Returns stats per label.

    Not wrk: wrk's delay() holds the connection open while "thinking", and a sync worker that accepted
    it waits on it, so the run would measure idle clients starving the workers (see the report).
    """
    think = args.think_ms / 1000
    end = time.monotonic() + args.duration
    latencies: dict[str, list[float]] = {label: [] for label, *_ in targets}
    counts = {label: {"non2xx": 0, "errors": 0} for label, *_ in targets}
    weights = [weight for *_, weight in targets]
    lock = threading.Lock()

    def user(seed: int) -> None:
        rng = random.Random(seed)
        time.sleep(rng.uniform(0, 2 * think))  # users arrive spread over one think time
        while time.monotonic() < end:
            label, path, cookie, _ = rng.choices(targets, weights)[0]
            headers = {"User-Agent": USER_AGENT, "Accept-Encoding": "gzip", **({"Cookie": cookie} if cookie else {})}
            start = time.monotonic()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                conn.close()
                with lock:
                    latencies[label].append(time.monotonic() - start)
                    counts[label]["non2xx"] += not 200 <= response.status < 300
            except OSError:
                with lock:
                    counts[label]["errors"] += 1
            time.sleep(rng.uniform(0, 2 * think))

    started = time.monotonic()
    pool = [threading.Thread(target=user, args=(n,), daemon=True) for n in range(args.connections)]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    seconds = time.monotonic() - started
    result = {label: _stats(latencies[label], counts[label], seconds) for label in latencies}
    everything = [value for values in latencies.values() for value in values]
    totals = {key: sum(c[key] for c in counts.values()) for key in ("non2xx", "errors")}
    result["all"] = _stats(everything, totals, seconds)
    return result


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/pantu_load")
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full network size")
    parser.add_argument("--duration", type=int, default=20, help="seconds of load per page")
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument(
        "--think-ms",
        type=int,
        default=5000,
        help="mean think time of the second, 'users' run of each page (0: skip it)",
    )
    parser.add_argument("--only", help="regular expression: load only the pages whose label matches")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: gunicorn.conf.py's)")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--keep", action="store_true", help="keep the databases (prints their URLs)")
    parser.add_argument(
        "--reuse", action="store_true", help="load databases kept by an earlier --keep run (keeps them)"
    )
    parser.add_argument("--profile", action="store_true", help="pyinstrument one request of each page that misses")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed: apt-get install -y wrk")

    url = args.database_url
    tenth = make_url(url).set(database=make_url(url).database + "_tenth").render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="pantu-load-"))
    script = tmp / "report.lua"
    script.write_text(WRK_SCRIPT)
    print(f"python {sys.version.split()[0]}, {os.cpu_count()} cores; database {make_url(url).database}", flush=True)
    created = []
    keep = args.keep or args.reuse
    try:
        main_run(args, url, tenth, tmp, script, created)
    finally:
        if keep:
            print(f"kept: {url} and {tenth} (rerun with --reuse)")
        else:
            for target in created:
                drop_database(target)
        shutil.rmtree(tmp, ignore_errors=True)


def main_run(args, url: str, tenth: str, tmp: Path, script: Path, created: list[str]) -> None:
    uploads = str(tmp / "uploads")
    process = None
    try:
        if args.reuse:
            seeded = describe(url, uploads)
        else:
            for target, scale in ((url, args.scale), (tenth, args.scale / 10)):
                create_database(target)
                created.append(target)
                seeded_here = migrate_and_seed(target, scale, uploads)
                if target == url:
                    seeded = seeded_here
        counts_full = query_counts(url, seeded, uploads)
        counts_tenth = query_counts(tenth, describe(tenth, uploads), uploads)

        base = f"http://127.0.0.1:{args.port}"
        load_before = os.getloadavg()
        process = start_gunicorn(url, args.port, args.workers, uploads, tmp / "gunicorn.log")
        workers = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        print(f"gunicorn master {process.pid}, {len(workers)} workers", flush=True)
        cookies = {}
        results = {}
        for label, path, user in pages(seeded):
            if args.only and not re.search(args.only, label):
                continue
            if user and user not in cookies:
                cookies[user] = login_cookie(base, user)
            cookie = cookies.get(user)
            for mode, think in (("saturated", 0), ("users", args.think_ms)):
                if mode == "users" and not think:
                    continue
                # Wait out what the previous run left queued: wrk stops with up to --connections requests
                # accepted and unanswered, seconds of work that would land on the next run's first users.
                for _ in range(3):
                    check(base, path, cookie)
                if mode == "saturated":
                    r = wrk(base, path, cookie, args, script)
                else:
                    r = users(args.port, [(label, path, cookie, 1)], args)[label]
                results[(label, mode)] = r
                print(
                    f"  {label} [{mode}]: {r['rps']:.1f} req/s, p50 {r['p50'] / 1000:.0f} ms, "
                    f"p95 {r['p95'] / 1000:.0f} ms, p99 {r['p99'] / 1000:.0f} ms, "
                    f"errors {r['errors']}, non-2xx {r['non2xx']}",
                    flush=True,
                )
        mixed = None
        if args.think_ms and (not args.only or re.search(args.only, "mixed")):
            targets = []
            for label, path, user in pages(seeded):
                if label in MIX:
                    if user and user not in cookies:
                        cookies[user] = login_cookie(base, user)
                    targets.append((label, path, cookies.get(user), MIX[label]))
            check(base, "/healthz", None)
            mixed = users(args.port, targets, args)
            r = mixed["all"]
            print(
                f"  mixed [users]: {r['rps']:.1f} req/s, p50 {r['p50'] / 1000:.0f} ms, p95 {r['p95'] / 1000:.0f} ms, "
                f"p99 {r['p99'] / 1000:.0f} ms, errors {r['errors']}, non-2xx {r['non2xx']}",
                flush=True,
            )
        load_after = os.getloadavg()
    finally:
        if process is not None:
            stop_gunicorn(process)
    # A worker that died (a crash, a timeout) was replaced: gunicorn logs why, and every boot.
    log_lines = (tmp / "gunicorn.log").read_text(errors="replace").splitlines()
    replaced = sum("Booting worker" in line for line in log_lines) - len(workers)
    deaths = collections.Counter(
        match.group(1) or match.group(2)
        for match in (re.search(r"was sent (SIG\w+)|(WORKER TIMEOUT)", line) for line in log_lines)
        if match
    )

    print(
        f"\n{args.connections} connections, {args.duration} s per run, wrk -t{args.threads} on 127.0.0.1, "
        f"gunicorn {len(workers)} sync workers, PostgreSQL {make_url(url).host}; "
        f"queries at scale {args.scale:g} / {args.scale / 10:g}"
    )
    modes = [("saturated", "no think time: every connection sends its next request at once")]
    if args.think_ms:
        modes.append(("users", f"{args.connections} users, think time uniform 0–{2 * args.think_ms} ms"))
    missed = []
    for mode, description in modes:
        floor = results.get(("floor /healthz", mode), {}).get("rps")
        print(f"\n[{mode}] {description}")
        header = f"{'page':<18}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}{'errors':>8}{'non-2xx':>8}"
        print(header + f"{'÷ floor':>9}{'queries':>9}{'KB':>8}{'alone ms':>10}")
        for label, _path, _user in pages(seeded):
            if (label, mode) not in results:
                continue
            r = results[(label, mode)]
            queries = f"{counts_full[label][0]}/{counts_tenth[label][0]}"
            ratio = f"{r['rps'] / floor:9.2f}" if floor and mode == "saturated" else f"{'':9}"
            print(
                f"{label:<18}{r['rps']:8.1f}{r['p50'] / 1000:8.1f}{r['p95'] / 1000:8.1f}{r['p99'] / 1000:8.1f}"
                f"{r['errors']:8d}{r['non2xx']:8d}{ratio}{queries:>9}{counts_full[label][1] / 1024:8.1f}"
                f"{counts_full[label][2] * 1000:10.1f}"
            )
            if r["p95"] / 1000 >= GOAL_P95_MS or r["errors"] or r["non2xx"]:
                missed.append(f"{label} [{mode}]")
    if mixed:
        print(f"\n[mixed] {args.connections} users, each click one of these pages by weight, same think time")
        header = f"{'page':<18}{'weight':>7}{'req/s':>8}{'p50 ms':>8}{'p95 ms':>8}{'p99 ms':>8}"
        print(header + f"{'errors':>8}{'non-2xx':>8}")
        for label, r in mixed.items():
            weight = MIX.get(label, sum(MIX.values()))
            print(
                f"{label:<18}{weight:7d}{r['rps']:8.1f}{r['p50'] / 1000:8.1f}{r['p95'] / 1000:8.1f}"
                f"{r['p99'] / 1000:8.1f}{r['errors']:8d}{r['non2xx']:8d}"
            )
            if r["p95"] / 1000 >= GOAL_P95_MS or r["errors"] or r["non2xx"]:
                missed.append(f"{label} [mixed]")
    flat = [label for label in counts_full if counts_full[label][0] != counts_tenth[label][0]]
    print(
        "\n'alone ms': median of 5 requests one at a time, in-process (Flask test client), no load; KB as sent (gzip)."
        f"\nload average before/after the wrk runs: {load_before[0]:.2f} / {load_after[0]:.2f}"
        f" (anything above ~0.1 before means other processes shared these {os.cpu_count()} cores)"
    )
    why = ", ".join(f"{cause} × {n}" for cause, n in deaths.items())
    print(f"workers replaced during the run: {replaced}" + (f" ({why})" if why else ""))
    if replaced:
        missed.append(f"{replaced} workers replaced")
    print("query counts flat (full vs 10× smaller):", "yes" if not flat else "NO: " + ", ".join(flat))
    print(f"goal (p95 < {GOAL_P95_MS} ms, zero errors):", "met" if not missed else "missed by " + ", ".join(missed))
    if args.profile and missed:
        profile(url, seeded, uploads, {m.rsplit(" [", 1)[0] for m in missed})


if __name__ == "__main__":
    main()
