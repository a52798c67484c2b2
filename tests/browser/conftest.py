"""Browser fixtures: the app served over real HTTP (CSRF on) and Debian's chromium driven by Playwright.

The live server runs a second app on the same migrated test database as the `app` fixture, so
tests set data up through services (`with app.app_context(): …`) and the browser sees it; the
database is emptied after each test as usual.
"""

from __future__ import annotations

import os
import threading

import pytest
from werkzeug.serving import make_server

from crm.extensions import db
from tests.conftest import make_test_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
TABLET_VIEWPORT = {"width": 1024, "height": 768}


@pytest.fixture(scope="session")
def live_server(app, database_url, upload_folder):
    """Base URL of the app served by werkzeug in a background thread, with CSRF protection on.

    Depends on `app`, which migrates the database this server uses.
    """
    live_app = make_test_app(database_url, str(upload_folder), WTF_CSRF_ENABLED=True)
    server = make_server("127.0.0.1", 0, live_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
        with live_app.app_context():
            db.engine.dispose()


@pytest.fixture(scope="session")
def browser():
    """Headless chromium from Debian (never Playwright's own download)."""
    if not os.access(CHROMIUM, os.X_OK):
        pytest.fail(
            f"Browser tests need Debian's chromium at {CHROMIUM}: run `sudo apt-get install chromium` "
            "(or `make install-test`). Do not use `playwright install`.",
            pytrace=False,
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser):
    """A fresh tab in its own context (no cookies shared between tests), sized like a tablet."""
    context = browser.new_context(viewport=TABLET_VIEWPORT, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    try:
        yield page
    finally:
        context.close()
