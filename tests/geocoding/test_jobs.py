"""With Redis, HQ's dealers can position every waiting estate in a background job and close the page."""

from __future__ import annotations

import uuid

from redis import Redis
from rq import SimpleWorker

from crm.estates.models import Estate
from crm.extensions import db
from crm.jobs import service as jobs
from crm.jobs.models import BackgroundJob, JobStatus
from crm.jobs.worker import work
from tests.geocoding.conftest import add_estates, login_to

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_every_waiting_estate_is_positioned_by_a_background_job(make_app, world, stub):
    queue = f"pantu-test-{uuid.uuid4().hex[:8]}"
    app = make_app(
        REDIS_URL=REDIS_URL,
        JOBS_QUEUE=queue,
        GEOCODER_DOMAIN=stub.domain,
        GEOCODER_SCHEME="http",
        GEOCODER_MIN_DELAY_SECONDS=0,
        GEOCODER_BATCH_SIZE=2,
    )
    city = world.city_ids["齐齐哈尔"]
    specs = [(f"后台小区{n}", "龙沙区", f"卜奎大街{n}号") for n in range(5)]
    ids = add_estates(app, world.a.dealer_id, city, specs)
    for n in range(4):  # the stub knows four of the five addresses
        stub.add(f"中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 卜奎大街{n}号", 123.95, 47.34)
    client = login_to(app, world.a.lead)
    assert "在后台定位全部" in client.get("/geocoding/").get_data(as_text=True)

    started = client.post("/geocoding/job")
    assert started.status_code == 302 and "/jobs/" in started.headers["Location"]
    with app.app_context():
        work(jobs.redis_connection(), burst=True, worker_class=SimpleWorker)
        positioned = [db.session.get(Estate, estate_id).has_position for estate_id in ids]
        job = db.session.query(BackgroundJob).filter_by(kind="geocoding.batch").one()
        assert job.status is JobStatus.DONE and job.progress == 100
    assert positioned == [True, True, True, True, False]
    page = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "已定位 4 个" in page and "未找到 1 个" in page
    Redis.from_url(REDIS_URL).delete(f"rq:queue:{queue}")


def test_without_redis_there_is_no_background_button(geo_app, world):
    client = login_to(geo_app, world.a.lead)
    assert "在后台定位全部" not in client.get("/geocoding/").get_data(as_text=True)
    assert client.post("/geocoding/job").status_code == 404
