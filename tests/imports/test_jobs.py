"""A big estate list is written by a background job when Redis is configured: all rows or none."""

from __future__ import annotations

import io
import uuid

import sqlalchemy as sa
from redis import Redis
from rq import SimpleWorker

from crm.core.roles import Role
from crm.estates.models import Estate
from crm.extensions import db
from crm.jobs import service as jobs
from crm.jobs.worker import work
from tests.conftest import TEST_PASSWORD
from tests.imports.files import HEADER, csv_bytes

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_a_big_import_runs_as_a_job_and_reports_what_it_did(make_app, world):
    queue = f"pantu-test-{uuid.uuid4().hex[:8]}"
    app = make_app(REDIS_URL=REDIS_URL, JOBS_QUEUE=queue, JOB_THRESHOLD_IMPORT_ROWS=2)
    client = app.test_client()
    client.post("/login", data={"username": world.a.usernames[Role.OPERATOR], "password": TEST_PASSWORD})
    rows = [HEADER] + [[f"批量小区{n}", "龙沙区", "800", "2027-06", "7000", "", ""] for n in range(3)]
    upload = client.post(
        "/imports/new",
        data={
            "file": (io.BytesIO(csv_bytes(rows)), "big.csv"),
            "city_id": str(world.city_ids["齐齐哈尔"]),
            "coord_system": "wgs84",
        },
    )
    import_id = int(upload.headers["Location"].rstrip("/").rsplit("/", 1)[-1])

    started = client.post(f"/imports/{import_id}/apply")
    assert started.status_code == 302 and "/jobs/" in started.headers["Location"]
    job_url = started.headers["Location"]
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Estate.id)).where(Estate.name.like("批量小区%"))) == 0
        work(jobs.redis_connection(), burst=True, worker_class=SimpleWorker)
        assert db.session.scalar(sa.select(sa.func.count(Estate.id)).where(Estate.name.like("批量小区%"))) == 3
    page = client.get(job_url).get_data(as_text=True)
    assert "已完成" in page and "新增 3 个" in page and 'href="/estates/"' in page
    Redis.from_url(REDIS_URL).delete(f"rq:queue:{queue}")
