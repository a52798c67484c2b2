"""The migrations build exactly the schema the models describe, and unwind cleanly, on this run's database."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from crm.extensions import db


@pytest.fixture
def empty_database_url(database_url, tmp_path):
    """A brand-new empty database on the same backend as the run."""
    if not database_url.startswith("postgresql"):
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    url = sa.engine.make_url(database_url)
    name = f"{url.database}_migr_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_upgrade_to_head_matches_the_models(empty_database_url, make_app):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        with db.engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = compare_metadata(context, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"


def test_downgrade_to_base_removes_every_table(empty_database_url, make_app):
    app = make_app(empty_database_url)
    with app.app_context():
        upgrade()
        downgrade(revision="base")
        tables = set(sa.inspect(db.engine).get_table_names()) - {"alembic_version"}
        assert tables == set()
        upgrade()  # and back up again
        assert "estate" in sa.inspect(db.engine).get_table_names()
