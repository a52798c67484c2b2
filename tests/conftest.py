"""Fixtures: one migrated database per run (SQLite file, or PostgreSQL via TEST_DATABASE_URL),
emptied after every test; factories; clients logged in as a given user.

No app context stays pushed during a test: a request would reuse it (and its `g` and
session), which hides scoping bugs. Tests that call services open `with app.app_context()`.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from crm import create_app
from crm.extensions import db
from tests.factories import World, build_world

TEST_PASSWORD = "test-password-1"


def _test_database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url.replace("postgresql://", "postgresql+psycopg://", 1) if url.startswith("postgresql://") else url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"


def _reset_postgres_schema(url: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("DROP SCHEMA public CASCADE"))
        conn.execute(sa.text("CREATE SCHEMA public"))
    engine.dispose()


def make_test_app(database_url: str, upload_folder: str, **overrides):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "UPLOAD_FOLDER": upload_folder,
        "WTF_CSRF_ENABLED": False,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "REDIS_URL": "",  # jobs run in the request unless a test gives a Redis
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = _test_database_url(tmp_path_factory)
    if url.startswith("postgresql"):
        _reset_postgres_schema(url)
    return url


@pytest.fixture(scope="session")
def upload_folder(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("uploads")


@pytest.fixture(scope="session")
def app(database_url, upload_folder):
    app = make_test_app(database_url, str(upload_folder))
    with app.app_context():
        upgrade()
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _empty_database_after_test(request, database_url, upload_folder):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        tables = [t.name for t in reversed(db.metadata.sorted_tables)]
        with db.engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                quoted = ", ".join(f'"{name}"' for name in tables)
                conn.execute(sa.text(f"TRUNCATE {quoted} RESTART IDENTITY CASCADE"))
            else:
                for name in tables:
                    conn.execute(sa.text(f'DELETE FROM "{name}"'))
    for child in Path(upload_folder).iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


@pytest.fixture
def make_app(database_url, upload_folder):
    """make_app(**config) → another app on this run's database; its connections close after the test."""
    made = []

    def _make(database=None, **overrides):
        extra = make_test_app(database or database_url, str(upload_folder), **overrides)
        made.append(extra)
        return extra

    yield _make
    for extra in made:
        with extra.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def world(app) -> World:
    """Two dealers (A in 齐齐哈尔, B in 长春), each with a store, an estate with a floor plan,
    and one user per dealer role; plus the two HQ users."""
    with app.app_context():
        world = build_world(db.session, password=TEST_PASSWORD)
        db.session.commit()
        db.session.remove()
    return world


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(app):
    """login(username) → a test client with that user's session."""

    def _login(username: str, password: str = TEST_PASSWORD):
        client = app.test_client()
        response = client.post("/login", data={"username": username, "password": password})
        assert response.status_code == 302, f"login as {username} failed: {response.status_code}"
        return client

    return _login


@pytest.fixture
def count_queries(app):
    """with count_queries() as queries: …  → queries.count is the number of SQL statements run."""
    from contextlib import contextmanager

    @contextmanager
    def _count():
        class Counter:
            count = 0
            statements: list[str] = []

        counter = Counter()
        counter.statements = []

        def _before(conn, cursor, statement, parameters, context, executemany):
            counter.count += 1
            counter.statements.append(statement)

        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", _before)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", _before)

    return _count
