"""What an RQ worker runs: `perform(job_id)` inside the app, and the worker loop for `crm worker`."""

from __future__ import annotations

import os

from flask import current_app, has_app_context
from rq import Queue, Worker

from crm.core import gc_pause
from crm.extensions import db

_app = None
_WORKER_PID = os.getpid()  # the process that imported this module: the worker, before it forks work horses


def perform(job_id: int) -> None:
    """Entry point of every queued job (enqueued by name, so the worker imports only this module)."""
    if has_app_context():
        _run(job_id)
        return
    global _app
    if _app is None:
        from crm import create_app

        _app = create_app()
    with _app.app_context():
        _run(job_id)


def _run(job_id: int) -> None:
    from crm.jobs.service import run_job

    if os.getpid() != _WORKER_PID:
        # A forked work horse must not use (or close) the connections it inherited from the worker.
        db.engine.dispose(close=False)
    with gc_pause.paused():
        try:
            run_job(db.session, job_id)
        finally:
            db.session.remove()  # inside the pause too: closing the session detaches every object it loaded


def work(connection, *, burst: bool = False, worker_class: type[Worker] = Worker) -> None:
    """Take jobs from the queue (each in a forked work horse, so a crash or a kill costs one job only)."""
    queue = Queue(current_app.config["JOBS_QUEUE"], connection=connection)
    worker_class([queue], connection=connection).work(burst=burst, with_scheduler=False)
