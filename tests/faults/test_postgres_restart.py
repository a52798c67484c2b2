"""PostgreSQL restarted under a running app: a clean 503 while it is down, then 200 again from the same app.

The test starts its own throwaway cluster (initdb into a temporary folder, a free port on 127.0.0.1,
trust auth) so it can stop and start it without touching the machine's shared PostgreSQL.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from flask_migrate import upgrade

from crm.core.roles import Role
from crm.core.scoping import unscoped
from crm.extensions import db
from crm.org.service import DealerFields, create_dealer, create_user_unchecked, get_or_create_brand, get_or_create_city
from tests.conftest import make_test_app

PASSWORD = "restart-password-1"


def _postgres_bin() -> Path | None:
    found = glob.glob("/usr/lib/postgresql/*/bin/initdb")
    if not found:
        return None
    return Path(max(found, key=lambda p: int(Path(p).parts[-3]))).parent


def _as_postgres() -> list[str] | None:
    """Command prefix to run PostgreSQL's tools: root must hand them to the postgres user."""
    if os.geteuid() != 0:
        return []
    if shutil.which("runuser") is None:
        return None
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return None
    return ["runuser", "-u", "postgres", "--"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, bin_dir: Path, prefix: list[str], root: Path, port: int):
        self.bin_dir, self.prefix, self.root, self.port = bin_dir, prefix, root, port
        self.data = root / "data"

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run([*self.prefix, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()


@pytest.fixture
def cluster():
    bin_dir, prefix = _postgres_bin(), _as_postgres()
    if bin_dir is None:
        pytest.skip("no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb) to start a throwaway cluster")
    if prefix is None:
        pytest.skip("running as root without runuser or a postgres user: cannot run initdb")
    root = Path(tempfile.mkdtemp(prefix="pantu-pg-restart-"))
    if prefix:
        shutil.chown(root, "postgres")
    cluster = Cluster(bin_dir, prefix, root, _free_port())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.running():
            try:
                cluster.stop("immediate")
            except subprocess.SubprocessError:
                pass
        shutil.rmtree(root, ignore_errors=True)


def test_postgres_restart_gives_503_then_the_same_app_recovers(cluster, tmp_path):
    app = make_test_app(cluster.url, str(tmp_path / "uploads"))
    try:
        with app.app_context():
            upgrade()
            with unscoped():
                brand = get_or_create_brand(db.session, "重启品牌")
                city = get_or_create_city(db.session, "齐齐哈尔", "黑龙江省", 47.3543, 123.9182)
                dealer = create_dealer(db.session, brand, DealerFields(code="RST", name="重启经销商", city_id=city.id))
                create_user_unchecked(db.session, "restart_lead", PASSWORD, Role.DEALER_LEAD, dealer)
                db.session.commit()
            db.session.remove()

        client = app.test_client()
        assert client.post("/login", data={"username": "restart_lead", "password": PASSWORD}).status_code == 302
        assert client.get("/estates/").status_code == 200

        cluster.stop("fast")
        down = client.get("/estates/")
        assert down.status_code == 503
        assert down.headers["Retry-After"] == "5"
        page = down.get_data(as_text=True)
        assert "系统暂时不可用" in page
        assert "Traceback" not in page and "psycopg" not in page.lower()

        cluster.start()
        back = client.get("/estates/")  # the same client, the same app: the pool reconnects by itself
        assert back.status_code == 200
        assert "系统暂时不可用" not in back.get_data(as_text=True)
    finally:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
