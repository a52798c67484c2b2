"""Garbage collection waits while a request runs (CPython 3.11 can crash inside SQLAlchemy's loading)."""

from __future__ import annotations

import gc
import runpy
from pathlib import Path

import pytest

from tests.conftest import TEST_PASSWORD

GUNICORN_CONF = Path(__file__).resolve().parents[2] / "gunicorn.conf.py"


@pytest.fixture
def collection_enabled():
    was = gc.isenabled()
    gc.enable()
    yield
    gc.enable() if was else gc.disable()


def _probed_app(make_app, seen: list):
    app = make_app()

    @app.route("/_probe/collection")
    def _probe():
        seen.append(gc.isenabled())
        return "ok"

    return app


def test_a_request_runs_with_collection_paused_and_it_resumes_after(make_app, world, collection_enabled):
    seen = []
    client = _probed_app(make_app, seen).test_client()
    assert client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD}).status_code == 302
    assert gc.isenabled()
    assert client.get("/_probe/collection").get_data(as_text=True) == "ok"
    assert seen == [False]
    assert gc.isenabled()


def test_a_request_that_fails_still_resumes_collection(make_app, world, collection_enabled):
    app = make_app()

    @app.route("/_probe/fails")
    def _fails():
        raise RuntimeError("boom")

    client = app.test_client()
    client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD})
    with pytest.raises(RuntimeError):  # the test app lets errors through instead of answering 500
        client.get("/_probe/fails")
    assert gc.isenabled()


def test_under_gunicorn_collection_stays_paused_until_the_response_is_sent(make_app, world, collection_enabled):
    hooks = runpy.run_path(str(GUNICORN_CONF))
    seen = []
    client = _probed_app(make_app, seen).test_client()
    client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD})
    hooks["pre_request"](None, None)
    client.get("/_probe/collection")
    assert seen == [False]
    assert not gc.isenabled(), "the app must leave resuming to gunicorn's post_request"
    hooks["post_request"](None, None, {}, None)
    assert gc.isenabled()


def test_a_background_job_runs_with_collection_paused(app, world, monkeypatch, collection_enabled):
    from crm.jobs import service, worker

    seen = []
    monkeypatch.setattr(service, "run_job", lambda session, job_id: seen.append((job_id, gc.isenabled())))
    with app.app_context():
        worker.perform(42)
    assert seen == [(42, False)]
    assert gc.isenabled()
