"""Background jobs: long printouts go to an RQ worker on a real Redis (127.0.0.1:6379) when one is
configured, run in the request when not (or when Redis is down), survive a killed worker, and
belong to whoever asked for them."""

from __future__ import annotations

import multiprocessing
import os
import signal
import time
import uuid
from datetime import timedelta

import pytest
from redis import Redis
from rq import SimpleWorker

from crm.core.roles import Role
from crm.extensions import db
from crm.jobs import registry, service
from crm.jobs.models import BackgroundJob, JobStatus
from crm.jobs.worker import work
from crm.plans.models import BattlePlan
from tests.conftest import TEST_PASSWORD
from tests.pdf import poppler

REDIS_URL = "redis://127.0.0.1:6379/15"


def _login(app, username):
    client = app.test_client()
    response = client.post("/login", data={"username": username, "password": TEST_PASSWORD})
    assert response.status_code == 302
    return client


def _job(app, job_id: int) -> BackgroundJob:
    with app.app_context():
        job = db.session.get(BackgroundJob, job_id)
        db.session.expunge(job)
        return job


def _download(client, job_id: int):
    return client.get(f"/jobs/{job_id}/download", buffered=True)  # read the file whole, then close it


def _job_id(response) -> int:
    assert response.status_code == 302, response.status_code
    location = response.headers["Location"]
    assert "/jobs/" in location
    return int(location.rstrip("/").split("/")[-1])


@pytest.fixture
def redis_app(make_app):
    queue = f"pantu-test-{uuid.uuid4().hex[:8]}"
    app = make_app(REDIS_URL=REDIS_URL, JOBS_QUEUE=queue, JOB_THRESHOLD_PLAN_ESTATES=0)
    yield app
    Redis.from_url(REDIS_URL).delete(f"rq:queue:{queue}")


def test_without_redis_the_printout_is_made_in_the_request(make_app, world):
    app = make_app(REDIS_URL="", JOB_THRESHOLD_PLAN_ESTATES=0)
    response = _login(app, world.a.lead).get(f"/plans/{world.a.plan_id}/print.pdf")
    assert response.status_code == 200 and response.data.startswith(b"%PDF")


def test_a_long_printout_is_queued_then_made_by_a_worker(redis_app, world):
    client = _login(redis_app, world.a.lead)
    job_id = _job_id(client.get(f"/plans/{world.a.plan_id}/print.pdf"))

    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "排队中" in page and 'hx-trigger="every 1s"' in page  # the page keeps asking
    assert _job(redis_app, job_id).status is JobStatus.QUEUED

    with redis_app.app_context():
        work(service.redis_connection(), burst=True, worker_class=SimpleWorker)

    fragment = client.get(f"/jobs/{job_id}", headers={"HX-Request": "true"}).get_data(as_text=True)
    assert "已完成" in fragment and "every 1s" not in fragment  # polling stops
    download = _download(client, job_id)
    assert download.status_code == 200 and download.mimetype == "application/pdf"
    assert world.a.plan_title in poppler.squeezed(poppler.text(download.data))
    job = _job(redis_app, job_id)
    assert (job.attempts, job.ran_inline, job.progress) == (1, False, 100)


def test_with_redis_down_the_request_does_the_work_and_says_so(make_app, world):
    app = make_app(REDIS_URL="redis://127.0.0.1:1/0", JOB_THRESHOLD_PLAN_ESTATES=0)
    client = _login(app, world.a.lead)
    job_id = _job_id(client.get(f"/plans/{world.a.plan_id}/print.pdf"))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "已完成" in page and "后台任务服务暂时不可用" in page
    assert _download(client, job_id).data.startswith(b"%PDF")

    health = client.get("/healthz")
    assert health.status_code == 200
    assert health.json == {"status": "degraded", "database": True, "redis": False}


def test_healthz_reports_a_reachable_redis(redis_app):
    assert redis_app.test_client().get("/healthz").json == {"status": "ok", "database": True, "redis": True}


def test_a_job_whose_work_is_gone_fails_with_the_reason_and_can_be_retried(redis_app, world):
    client = _login(redis_app, world.a.lead)
    job_id = _job_id(client.get(f"/plans/{world.a.plan_id}/print.pdf"))
    with redis_app.app_context():
        db.session.delete(db.session.get(BattlePlan, world.a.plan_id))
        db.session.commit()
        work(service.redis_connection(), burst=True, worker_class=SimpleWorker)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "失败" in page and "这份作战规划已被删除" in page and "重新运行" in page
    assert _download(client, job_id).status_code == 404

    client.post(f"/jobs/{job_id}/retry")
    job = _job(redis_app, job_id)
    assert job.status is JobStatus.QUEUED and job.error == ""


def test_a_job_is_its_askers_alone(redis_app, world):
    job_id = _job_id(_login(redis_app, world.a.lead).get(f"/plans/{world.a.plan_id}/print.pdf"))
    for username in (world.a.usernames[Role.OPERATOR], world.b.lead, world.hq_admin):
        client = _login(redis_app, username)
        for url in (f"/jobs/{job_id}", f"/jobs/{job_id}/download"):
            assert client.get(url, buffered=True).status_code == 404, (username, url)
        assert client.post(f"/jobs/{job_id}/retry").status_code == 404


def _slow_kind(session, params, progress):
    time.sleep(60)
    raise AssertionError("the worker should have been killed by now")


def _run_in_child(app, job_id):
    with app.app_context():
        db.engine.dispose(close=False)
        service.run_job(db.session, job_id)


def test_a_worker_killed_mid_job_leaves_nothing_half_done_and_the_job_runs_again(
    make_app, world, upload_folder, monkeypatch
):
    app = make_app(REDIS_URL="")
    real = registry.KINDS["plans.battle_pdf"]
    monkeypatch.setitem(
        registry.KINDS, real.name, registry.JobKind(real.name, real.label, _slow_kind, real.timeout_seconds)
    )
    with app.app_context():
        job = service.BackgroundJob(
            dealer_id=world.a.dealer_id,
            kind=real.name,
            params={"plan_id": world.a.plan_id},
            created_by_id=world.a.user_ids[Role.DEALER_LEAD],
        )
        db.session.add(job)
        db.session.commit()
        job_id = job.id
        db.session.remove()
        db.engine.dispose()

    child = multiprocessing.get_context("fork").Process(target=_run_in_child, args=(app, job_id))
    child.start()
    deadline = time.monotonic() + 20
    while _job(app, job_id).status is not JobStatus.RUNNING:
        assert time.monotonic() < deadline, "the job never started"
        time.sleep(0.05)
    os.kill(child.pid, signal.SIGKILL)
    child.join(5)

    job = _job(app, job_id)
    assert job.status is JobStatus.RUNNING and job.result_path is None
    assert not list((upload_folder / "jobs" / str(world.a.dealer_id)).glob(f"{job_id}-*"))

    monkeypatch.setitem(registry.KINDS, real.name, real)
    with app.app_context():  # ten minutes later, past the kind's time limit, nothing has moved
        stale = db.session.get(BackgroundJob, job_id)
        stale.heartbeat_at -= timedelta(seconds=real.timeout_seconds + 60)
        db.session.commit()
    client = _login(app, world.a.lead)
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert "任务长时间没有进展" in page and "重新运行" in page

    client.post(f"/jobs/{job_id}/retry")
    job = _job(app, job_id)
    assert (job.status, job.attempts) == (JobStatus.DONE, 2)
    assert _download(client, job_id).data.startswith(b"%PDF")


def test_the_coverage_report_of_a_large_network_is_made_by_a_worker(make_app, world):
    queue = f"pantu-test-{uuid.uuid4().hex[:8]}"
    app = make_app(REDIS_URL=REDIS_URL, JOBS_QUEUE=queue, JOB_THRESHOLD_REPORT_DEALERS=1)
    client = _login(app, world.hq_admin)
    job_id = _job_id(client.get("/hq/coverage/report.pdf?month=2026-11"))
    with app.app_context():
        work(service.redis_connection(), burst=True, worker_class=SimpleWorker)
    download = _download(client, job_id)
    assert download.status_code == 200
    text = poppler.squeezed(poppler.text(download.data))
    assert "月度覆盖报告" in text and world.a.dealer_name in text
    job = _job(app, job_id)
    assert job.dealer_id is None  # HQ's job: no dealer can see it
    assert _login(app, world.a.lead).get(f"/jobs/{job_id}").status_code == 404


def test_housekeeping_forgets_old_tokens_and_old_job_results(app, world, upload_folder):
    from crm.core.models import utcnow
    from crm.core.submissions import FormSubmission

    with app.app_context():
        job = db.session.get(BackgroundJob, world.a.background_job_id)
        result = upload_folder / "jobs" / job.result_path
        assert result.is_file()
        job.finished_at = utcnow() - timedelta(days=40)
        db.session.add(FormSubmission(token="a" * 32, at=utcnow() - timedelta(days=40)))
        db.session.add(FormSubmission(token="b" * 32))
        db.session.commit()
    output = app.test_cli_runner().invoke(args=["crm", "housekeeping"]).output
    assert "removed 1 form tokens, 1 finished jobs" in output
    assert not result.exists()
    with app.app_context():
        assert db.session.get(BackgroundJob, world.a.background_job_id) is None
        assert db.session.get(FormSubmission, "b" * 32) is not None
