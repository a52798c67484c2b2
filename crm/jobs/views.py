"""A job's page: its progress (htmx polls it), the result to download, the reason it failed, retry."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user

from crm.core.htmx import render_page_or_partial
from crm.core.scoping import get_or_404
from crm.extensions import db
from crm.jobs import service
from crm.jobs.models import BackgroundJob
from crm.jobs.registry import KINDS
from crm.pdf.engine import content_disposition

bp = Blueprint("jobs", __name__, url_prefix="/jobs")


def _own_job(background_job_id: int) -> BackgroundJob:
    """The job if the current user asked for it: results are the asker's (even colleagues get 404)."""
    job = get_or_404(BackgroundJob, background_job_id)
    if job.created_by_id != current_user.id:
        abort(404)
    return job


def _context(job: BackgroundJob) -> dict:
    return {
        "job": job,
        "kind": KINDS[job.kind],
        "stuck": service.looks_stuck(job),
        "can_retry": service.can_retry(job),
    }


@bp.route("/<int:background_job_id>")
def show(background_job_id: int):
    job = _own_job(background_job_id)
    return render_page_or_partial("jobs/show.html", "jobs/_status.html", **_context(job))


@bp.route("/<int:background_job_id>/download")
def download(background_job_id: int):
    job = _own_job(background_job_id)
    path = service.result_file(job)
    if path is None:
        abort(404)
    response = send_file(path, mimetype=job.result_mimetype, max_age=0)
    response.headers["Content-Disposition"] = content_disposition(job.result_name)
    return response


@bp.route("/<int:background_job_id>/retry", methods=["POST"])
def retry(background_job_id: int):
    job = _own_job(background_job_id)
    if not service.can_retry(job):
        flash(_("任务还在进行中，请稍候。"), "error")
    else:
        service.retry(db.session, job)
        current_app.logger.info("Job %s retried by user %s", job.id, current_user.id)
    return redirect(url_for("jobs.show", background_job_id=job.id))


def start_job(kind: str, params: dict, title: str):
    """From another page's view: submit the job for the current user and show its page."""
    job = service.submit(db.session, kind, params, current_user, title)
    return redirect(url_for("jobs.show", background_job_id=job.id))
