"""Submitting, dispatching and running background jobs.

With `REDIS_URL` set, a job goes onto an RQ queue and a worker (`flask --app wsgi crm worker`, on
any machine sharing the database and UPLOAD_FOLDER) runs it; the page polls the job's row. Without
Redis, or when Redis does not answer, the request runs the job itself and says so.

Running a job twice is safe: the result is written to a temporary file and renamed into place, and
the row turns 已完成 only after that, in one commit. A worker killed mid-job leaves the row 进行中
with a heartbeat that goes stale; the user (or an admin) retries it and it runs again from scratch.
"""

from __future__ import annotations

import logging
import os
import secrets
import tempfile
from contextlib import nullcontext
from datetime import timedelta
from pathlib import Path

from flask import current_app, has_request_context
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from sqlalchemy.orm import Session

from crm.core.models import utcnow
from crm.core.scoping import scoped_to, unscoped
from crm.jobs.models import BackgroundJob, JobStatus
from crm.jobs.registry import KINDS, JobRefused, JobResult

log = logging.getLogger(__name__)

QUEUED_TOO_LONG = timedelta(minutes=2)  # no worker took it: say so, offer to run it again


_clients: dict[str, Redis] = {}


def redis_connection() -> Redis | None:
    """This process's client for REDIS_URL (one connection pool per process; redis-py resets it after a fork)."""
    url = current_app.config.get("REDIS_URL")
    if not url:
        return None
    if url not in _clients:
        _clients[url] = Redis.from_url(url, socket_connect_timeout=1, socket_timeout=5)
    return _clients[url]


def jobs_enabled() -> bool:
    """Slow work is deferred to a worker only when Redis is configured; otherwise requests do it."""
    return bool(current_app.config.get("REDIS_URL"))


def redis_reachable() -> bool | None:
    """None when Redis is not configured, else whether it answers."""
    connection = redis_connection()
    if connection is None:
        return None
    try:
        return bool(connection.ping())
    except RedisError:
        return False


def submit(session: Session, kind: str, params: dict, user, title: str) -> BackgroundJob:
    """Record a job for `user` and dispatch it (queue, or run now without Redis)."""
    if kind not in KINDS:
        raise ValueError(f"unknown job kind {kind!r}")
    job = BackgroundJob(
        dealer_id=user.dealer_id,
        kind=kind,
        params=params,
        title=title[:200],
        locale=str(get_locale() or "zh"),
        created_by_id=user.id,
    )
    session.add(job)
    session.commit()
    dispatch(session, job.id)
    return job


def dispatch(session: Session, job_id: int) -> None:
    connection = redis_connection()
    if connection is not None:
        job = _load(session, job_id)
        try:
            Queue(current_app.config["JOBS_QUEUE"], connection=connection).enqueue(
                "crm.jobs.worker.perform",
                job_id,
                job_id=f"pantu-job-{job_id}-{job.attempts + 1}-{secrets.token_hex(4)}",
                job_timeout=KINDS[job.kind].timeout_seconds,
                result_ttl=0,
                failure_ttl=24 * 3600,
            )
            return
        except RedisError as error:
            log.warning("Redis unavailable, running job %s in the request: %s", job_id, error)
            run_job(session, job_id, inline=True, note=_("后台任务服务暂时不可用，已在本次请求中直接完成。"))
            return
    run_job(session, job_id, inline=True)


def _load(session: Session, job_id: int) -> BackgroundJob | None:
    with unscoped():
        return session.get(BackgroundJob, job_id, populate_existing=True)


def run_job(session: Session, job_id: int, *, inline: bool = False, note: str = "") -> None:
    """Do a job's work once (a finished job is left alone)."""
    job = _load(session, job_id)
    if job is None or job.status is JobStatus.DONE:
        return
    now = utcnow()
    job.status, job.attempts, job.started_at, job.heartbeat_at = JobStatus.RUNNING, job.attempts + 1, now, now
    job.progress, job.error, job.ran_inline = 10, "", inline
    job.message = _("正在生成…")
    session.commit()
    dealer_id, locale, kind, params = job.dealer_id, job.locale, KINDS[job.kind], dict(job.params)

    def progress(percent: int, message: str = "") -> None:
        """Commit the work so far with the job's progress (and heartbeat)."""
        row = _load(session, job_id)
        row.progress, row.message, row.heartbeat_at = max(0, min(int(percent), 99)), message[:200], utcnow()
        session.commit()

    try:
        with (
            unscoped() if dealer_id is None else scoped_to(dealer_id),
            force_locale(locale),
            nullcontext() if has_request_context() else current_app.test_request_context("/"),
        ):
            result = kind.run(session, params, progress)
            stored = _store_result(job, result) if result.content else None
    except JobRefused as refusal:
        session.rollback()
        _fail(session, job_id, str(refusal))
        return
    except Exception:
        session.rollback()
        log.exception("Job %s (%s) failed", job_id, kind.name)
        _fail(session, job_id, _("生成时系统出错，可以重试；如果再次失败，请联系管理员。"))
        return
    job = _load(session, job_id)
    job.status, job.progress, job.finished_at = JobStatus.DONE, 100, utcnow()
    job.result_path, job.result_name, job.result_mimetype = stored, result.filename, result.mimetype
    job.result_url = result.url
    job.message = " ".join(part for part in (result.summary, note) if part)[:200]
    session.commit()


def _fail(session: Session, job_id: int, reason: str) -> None:
    job = _load(session, job_id)
    job.status, job.error, job.finished_at, job.message = JobStatus.FAILED, reason, utcnow(), ""
    session.commit()


def results_root() -> Path:
    return Path(current_app.config["UPLOAD_FOLDER"]) / "jobs"


def _store_result(job: BackgroundJob, result: JobResult) -> str:
    """Write the result beside its final name, then rename: a reader never sees half a file."""
    folder = results_root() / (str(job.dealer_id) if job.dealer_id else "hq")
    folder.mkdir(parents=True, exist_ok=True)
    suffix = Path(result.filename).suffix[:10] or ".bin"
    final = folder / f"{job.id}-{job.attempts}-{secrets.token_hex(8)}{suffix}"
    handle, temporary = tempfile.mkstemp(dir=folder, prefix=".partial-")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(result.content)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, final)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return str(final.relative_to(results_root()))


def result_file(job: BackgroundJob) -> Path | None:
    if job.status is not JobStatus.DONE or not job.result_path:
        return None
    path = (results_root() / job.result_path).resolve()
    if results_root().resolve() not in path.parents or not path.is_file():
        return None
    return path


def looks_stuck(job: BackgroundJob) -> bool:
    """Running past its time limit (the worker probably died) or queued with no worker taking it."""
    now = utcnow()
    if job.status is JobStatus.RUNNING and job.heartbeat_at is not None:
        kind = KINDS[job.kind]
        return now - job.heartbeat_at > timedelta(seconds=kind.stale_after_seconds or kind.timeout_seconds)
    if job.status is JobStatus.QUEUED:
        return now - job.queued_at > QUEUED_TOO_LONG
    return False


def can_retry(job: BackgroundJob) -> bool:
    return job.status is JobStatus.FAILED or looks_stuck(job)


def retry(session: Session, job: BackgroundJob) -> None:
    """Run a failed or stuck job again from scratch."""
    job.status, job.progress, job.error, job.message = JobStatus.QUEUED, 0, "", ""
    job.queued_at = utcnow()
    session.commit()
    dispatch(session, job.id)


def should_defer(size: int, threshold_setting: str) -> bool:
    """A printout of `size` things goes to a worker when Redis is configured and it is over the threshold."""
    return jobs_enabled() and size > current_app.config[threshold_setting]
