"""Faults: what gunicorn + PostgreSQL + Redis do when something breaks, on a throwaway PostgreSQL cluster.

Never touches the machine's shared PostgreSQL: it initdb's its own cluster in a temporary folder on a
free port (as the postgres user when run as root), migrates and seeds it (benchmarks/load_seed.py at
--scale, default 0.35: the busy dealer has 350 estates, more than the 300 above which the traffic-map
PDF is a background job), and starts gunicorn with gunicorn.conf.py and REDIS_URL pointing at a
closed port (Redis down). Then:

1. PostgreSQL restarted under load: --threads threads GET /estates/ as the dealer lead while
   `pg_ctl restart -m fast` runs; counts the failures, checks each is the clean 503 page
   (系统暂时不可用, Retry-After) and not a connection error or a 500, measures how long until requests
   succeed again, and checks the gunicorn master and workers are the same processes after.
2. Redis down: the traffic-map PDF of the whole city (a background job when Redis is configured)
   still comes out, made in the request, and the job page says so.
3. A 30 MB upload to the floor-plan image form (MAX_CONTENT_LENGTH is 20 MB), with a Content-Length
   and chunked: a 413 page, and the workers' RSS (VmRSS / VmHWM) before and after.
4. Malformed estate imports (a broken .xlsx, a binary .csv, a CSV without rows): a Chinese error.

    .venv/bin/python benchmarks/faults.py [--scale 0.35] [--threads 8] [--keep-cluster]
"""

from __future__ import annotations

import argparse
import glob
import http.client
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import sqlalchemy as sa  # noqa: E402

from benchmarks import load_seed  # noqa: E402
from benchmarks.load import USER_AGENT, migrate_and_seed, start_gunicorn, stop_gunicorn  # noqa: E402

UNAVAILABLE = "系统暂时不可用"


# ------------------------------------------------------------------------------ a throwaway cluster


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A PostgreSQL cluster of our own: initdb into a temporary folder, trust auth, 127.0.0.1 only."""

    def __init__(self):
        found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
        if not found:
            raise SystemExit("no /usr/lib/postgresql/*/bin/initdb: apt-get install -y postgresql")
        self.bin = Path(max(found, key=lambda p: int(Path(p).parts[-3]))).parent
        self.prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        self.root = Path(tempfile.mkdtemp(prefix="pantu-faults-pg-"))
        if self.prefix:
            pwd.getpwnam("postgres")
            shutil.chown(self.root, "postgres")
        self.data = self.root / "data"
        self.port = free_port()

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def pg_ctl(self, *args: str, show: bool = True) -> float:
        cmd = [*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), *args]
        if show:
            print("$ " + " ".join(cmd), flush=True)
        start = time.monotonic()
        # Output to a file, not a pipe: the server pg_ctl starts would hold a pipe open.
        with (self.root / "pg_ctl.out").open("ab") as out:
            subprocess.run(cmd, check=True, stdout=out, stderr=subprocess.STDOUT, timeout=120)
        return time.monotonic() - start

    def start(self) -> None:
        cmd = [*self.prefix, str(self.bin / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres"]
        print("$ " + " ".join(cmd), flush=True)
        subprocess.run([*cmd, "-E", "UTF8"], check=True, capture_output=True, timeout=120)
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self.pg_ctl("-o", options, "-l", str(self.root / "log"), "-w", "start")

    def restart(self) -> float:
        return self.pg_ctl("-m", "fast", "-l", str(self.root / "log"), "-w", "restart")

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.pg_ctl("-m", "immediate", "-w", "stop", show=False)
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)


# ------------------------------------------------------------------------------ HTTP as a logged-in user


class Browser:
    """One user's session against gunicorn over plain HTTP/1.1 (cookies and CSRF tokens by hand)."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        sent = {"User-Agent": USER_AGENT, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        return response.status, dict(response.getheaders()), data

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def csrf(self, path: str) -> str:
        status, _, body = self.get(path)
        assert status == 200, (path, status)
        return re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body.decode()).group(1)

    def post_form(self, path: str, fields: dict, files: dict | None = None):
        boundary = "----pantu" + os.urandom(8).hex()
        parts = []
        for name, value in fields.items():
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for name, (filename, content, mimetype) in (files or {}).items():
            head = (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
                f"Content-Type: {mimetype}\r\n\r\n"
            )
            parts.append(head.encode() + content + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        return self.request(
            "POST", path, body=b"".join(parts), headers={"Content-Type": f"multipart/form-data; boundary={boundary}"}
        )

    def login(self, username: str) -> None:
        token = self.csrf("/login")
        data = urllib.parse.urlencode({"username": username, "password": load_seed.PASSWORD, "csrf_token": token})
        status, _, _ = self.request(
            "POST", "/login", body=data.encode(), headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        assert status == 302, ("login", username, status)


def worker_pids(master: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(master)], capture_output=True, text=True).stdout
    return sorted(int(pid) for pid in out.split())


def memory_kb(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in kB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def text_of(body: bytes) -> str:
    """The visible text of a page, roughly (for printing an error message)."""
    text = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", body.decode(errors="replace"), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", text)).strip()


# ------------------------------------------------------------------------------ 1. PostgreSQL restart


def postgres_restart(cluster: Cluster, port: int, master: int, threads: int) -> None:
    print("\n== 1. PostgreSQL restarted under load (pg_ctl restart -m fast) ==", flush=True)
    browser = Browser(port)
    browser.login("busy_lead")
    workers_before = worker_pids(master)
    results: list[tuple[float, float, str]] = []  # (start, end, outcome)
    stop = threading.Event()
    lock = threading.Lock()

    def hammer():
        mine = Browser(port)
        mine.cookies = dict(browser.cookies)
        while not stop.is_set():
            start = time.monotonic()
            try:
                status, headers, body = mine.get("/estates/", timeout=15)
                if status == 200:
                    outcome = "200"
                elif status == 503 and UNAVAILABLE in body.decode() and headers.get("Retry-After"):
                    outcome = "503 clean"
                else:
                    outcome = f"{status} other"
            except OSError as error:
                outcome = f"connection error {error.__class__.__name__}"
            with lock:
                results.append((start, time.monotonic(), outcome))

    pool = [threading.Thread(target=hammer, daemon=True) for _ in range(threads)]
    for thread in pool:
        thread.start()
    time.sleep(4)
    restart_at = time.monotonic()
    took = cluster.restart()
    restarted_at = time.monotonic()
    time.sleep(8)
    stop.set()
    for thread in pool:
        thread.join(timeout=20)

    outcomes = Counter(outcome for _, _, outcome in results)
    failures = [(s, e, o) for s, e, o in results if o != "200"]
    print(f"{threads} threads, {len(results)} requests; pg_ctl restart took {took:.2f} s")
    for outcome, n in sorted(outcomes.items()):
        print(f"  {outcome:<28}{n:6d}")
    if failures:
        first_fail = min(s for s, _, _ in failures) - restart_at
        last_fail = max(e for _, e, _ in failures)
        back = min((s for s, _, o in results if o == "200" and s >= last_fail), default=None)
        ok_after = [o for s, _, o in results if s > last_fail]
        print(f"  first failure began {first_fail:+.2f} s after the restart command")
        print(f"  last failure ended {last_fail - restarted_at:+.2f} s after pg_ctl returned")
        if back is not None:
            print(
                f"  requests succeed again {back - restart_at:.2f} s after the restart began; all {len(ok_after)} after"
            )
        print(
            "  every failure a clean 503 (系统暂时不可用, Retry-After):",
            "yes" if all(o == "503 clean" for _, _, o in failures) else "NO",
        )
    workers_after = worker_pids(master)
    same = workers_before == workers_after
    print(f"  gunicorn master {master} alive: {Path(f'/proc/{master}').exists()}; workers {workers_before}")
    print(f"  same worker processes after: {'yes' if same else f'NO (now {workers_after})'}")


# ------------------------------------------------------------------------------ 2. Redis down


def redis_down_pdf(port: int, city_id: int) -> None:
    print("\n== 2. Redis down (REDIS_URL to a closed port): the city's traffic-map PDF ==", flush=True)
    browser = Browser(port)
    browser.login("busy_lead")
    status, _, body = browser.get("/healthz")
    print(f"/healthz → {status} {body.decode()}")
    start = time.monotonic()
    status, headers, _ = browser.get(f"/map/print.pdf?city_id={city_id}", timeout=300)
    took = time.monotonic() - start
    location = headers.get("Location", "")
    print(f"GET /map/print.pdf?city_id={city_id} → {status} {location} in {took:.1f} s")
    if status == 302 and "/jobs/" in location:
        path = urllib.parse.urlsplit(location).path
        status, _, page = browser.get(path)
        text = text_of(page)
        note = re.search(r"后台任务服务[^。]*。", text)
        print(f"job page {path} → {status}; says: {note.group(0) if note else text[:200]}")
        status, headers, pdf = browser.get(path.rstrip("/") + "/download", timeout=60)
    else:
        pdf = b""
    print(f"download → {status} {headers.get('Content-Type', '')}, {len(pdf) / 1024:.0f} KB, starts {pdf[:5]!r}")
    if pdf.startswith(b"%PDF") and shutil.which("pdfinfo"):
        with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
            handle.write(pdf)
            handle.flush()
            info = subprocess.run(["pdfinfo", handle.name], capture_output=True, text=True).stdout
        pages = re.search(r"Pages:\s+(\d+)", info)
        print(f"pdfinfo: {pages.group(1) if pages else '?'} pages")


# ------------------------------------------------------------------------------ 3. a huge upload


def raw_upload(port: int, cookies: dict, path: str, size: int, chunked: bool) -> tuple[str, float]:
    """POST a `size`-byte multipart body over a raw socket; return the status line and seconds."""
    boundary = "----pantu-huge"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\n巨型户型\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="huge.jpg"\r\n'
        "Content-Type: image/jpeg\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    total = len(head) + size + len(tail)
    request = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        f"User-Agent: {USER_AGENT}",
        "Cookie: " + "; ".join(f"{k}={v}" for k, v in cookies.items()),
        f"Content-Type: multipart/form-data; boundary={boundary}",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {total}",
        "Connection: close",
    ]
    start = time.monotonic()
    sock = socket.create_connection(("127.0.0.1", port), timeout=60)
    received = b""
    try:
        sock.sendall(("\r\n".join(request) + "\r\n\r\n").encode())
        block = b"\xff" * 65536
        pieces = [head] + [block] * (size // len(block)) + [b"\xff" * (size % len(block)), tail]
        for piece in pieces:
            if not piece:
                continue
            sock.sendall(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
        if chunked:
            sock.sendall(b"0\r\n\r\n")
    except OSError:
        pass  # the server answered early and closed: read what it said
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except OSError:
        pass
    finally:
        sock.close()
    status = received.split(b"\r\n", 1)[0].decode(errors="replace") or "(no answer: connection reset)"
    page = text_of(received.split(b"\r\n\r\n", 1)[-1]) if received else ""
    shown = re.search(r"413 文件太大[^。]*。?", page)
    return f"{status} «{shown.group(0) if shown else page[:120]}»", time.monotonic() - start


def huge_upload(port: int, master: int, estate_id: int) -> None:
    print("\n== 3. A 30 MB upload to the floor-plan image form (MAX_CONTENT_LENGTH 20 MB) ==", flush=True)
    browser = Browser(port)
    browser.login("busy_lead")
    path = f"/estates/{estate_id}/floor-plans"
    before = {pid: memory_kb(pid) for pid in worker_pids(master)}
    for chunked in (False, True):
        # No CSRF token needed: the body (where the token would be) is refused before it is read.
        outcome, took = raw_upload(port, browser.cookies, path, 30 * 1024 * 1024, chunked)
        kind = "chunked" if chunked else "Content-Length"
        print(f"POST {path} 30 MB ({kind}) → {outcome} in {took:.2f} s")
    after = {pid: memory_kb(pid) for pid in worker_pids(master)}
    print(f"{'worker':>8}{'VmRSS before':>14}{'after':>10}{'VmHWM before':>14}{'after':>10}  (MB)")
    for pid in sorted(set(before) | set(after)):
        b, a = before.get(pid, (0, 0)), after.get(pid, (0, 0))
        print(f"{pid:>8}{b[0] / 1024:14.1f}{a[0] / 1024:10.1f}{b[1] / 1024:14.1f}{a[1] / 1024:10.1f}")
    grew = max((after[p][1] - before[p][1]) / 1024 for p in after if p in before)
    print(f"largest peak-RSS growth of a worker: {grew:.1f} MB (the upload was 30 MB)")
    status, _, _ = browser.get(f"/estates/{estate_id}")
    print(f"the same user right after: GET /estates/{estate_id} → {status}")


# ------------------------------------------------------------------------------ 4. malformed imports


def malformed_imports(port: int, city_id: int) -> None:
    print("\n== 4. Malformed estate imports (POST /imports/new) ==", flush=True)
    browser = Browser(port)
    browser.login("busy_lead")
    cases = (
        ("楼盘表.xlsx", b"PK\x03\x04 this is not really a workbook" + os.urandom(2048), "a broken .xlsx"),
        ("楼盘表.csv", os.urandom(4096).replace(b"\n", b"\x00"), "a binary .csv"),
        ("楼盘表.csv", "\ufeff".encode() + b"\r\n\r\n", "a .csv with no header row"),
        ("楼盘表.pdf", b"%PDF-1.4 nothing", "a .pdf"),
    )
    for filename, content, label in cases:
        token = browser.csrf("/imports/new")
        fields = {"csrf_token": token, "city_id": str(city_id), "coord_system": "wgs84"}
        status, _, body = browser.post_form(
            "/imports/new", fields, {"file": (filename, content, "application/octet-stream")}
        )
        errors = re.findall(r'<p class="error"[^>]*>(.*?)</p>', body.decode(errors="replace"), flags=re.S)
        shown = " / ".join(text_of(e.encode()) for e in errors) or text_of(body)[:160]
        print(f"{label:<26} → {status}  «{shown}»")


# ------------------------------------------------------------------------------ main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.35)
    parser.add_argument("--threads", type=int, default=8, help="client threads during the restart")
    parser.add_argument("--port", type=int, default=0, help="gunicorn port (default: a free one)")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the cluster running (prints where)")
    args = parser.parse_args()

    cluster = Cluster()
    tmp = Path(tempfile.mkdtemp(prefix="pantu-faults-"))
    process = None
    try:
        cluster.start()
        admin = sa.create_engine(cluster.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(sa.text('CREATE DATABASE "pantu"'))
        admin.dispose()
        url = cluster.url("pantu")
        seeded = migrate_and_seed(url, args.scale, str(tmp / "uploads"))
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            estate_id = conn.scalar(
                sa.text("SELECT min(e.id) FROM estate e JOIN dealer d ON d.id = e.dealer_id AND d.code = 'BUSY'")
            )
        engine.dispose()

        port = args.port or free_port()
        closed = free_port()  # nothing listens there: Redis is "down"
        redis_env = {"REDIS_URL": f"redis://127.0.0.1:{closed}/0"}
        process = start_gunicorn(url, port, None, str(tmp / "uploads"), tmp / "gunicorn.log", redis_env)
        print(f"gunicorn master {process.pid}, workers {worker_pids(process.pid)}", flush=True)

        postgres_restart(cluster, port, process.pid, args.threads)
        redis_down_pdf(port, seeded.city_id)
        huge_upload(port, process.pid, estate_id)
        malformed_imports(port, seeded.city_id)
        log = (tmp / "gunicorn.log").read_text(errors="replace")
        print(
            f"\ngunicorn log: {log.count('WORKER TIMEOUT')} worker timeouts, {log.count('Traceback')} tracebacks, "
            f"{log.count('Booting worker')} workers booted in all"
        )
        raised = Counter(
            line.strip()[:200] for line in log.splitlines() if re.match(r"^[\w.]+(Error|Exception|Warning)\b", line)
        )
        for line, n in raised.most_common():
            print(f"  {n} × {line}")
        if "Traceback" in log:
            start = log.rindex("\n", 0, log.index("Traceback")) + 1
            print("  the first one, in full:\n    " + "\n    ".join(log[start:].splitlines()[:80]))
        for line in log.splitlines():
            if '" 500 ' in line:
                print("  500 in the access log: " + line[:200])
    finally:
        if process is not None:
            stop_gunicorn(process)
        if args.keep_cluster:
            print(f"cluster kept: {cluster.url('pantu')} (data {cluster.data})")
        else:
            cluster.destroy()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
