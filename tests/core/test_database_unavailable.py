"""A database that is restarting or out of reach gives a clean 503 page, and the app recovers by itself."""

from __future__ import annotations

from tests.conftest import TEST_PASSWORD


def test_a_lost_database_answers_503_in_chinese_and_asks_to_retry(app, world, make_app, tmp_path):
    signed_in = app.test_client()
    signed_in.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD})
    cookie = signed_in.get_cookie("session")
    assert cookie is not None

    cut_off = make_app(database=f"sqlite:///{tmp_path / 'gone' / 'pantu.sqlite3'}")  # a folder that is not there
    client = cut_off.test_client()
    client.set_cookie("session", cookie.value)
    response = client.get("/estates/")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "系统暂时不可用" in page and "没有保存" in page
    assert "Traceback" not in page and "sqlite" not in page.lower()

    # The same signed-in user, with the database back, carries on without a restart.
    signed_in_again = app.test_client()
    signed_in_again.set_cookie("session", cookie.value)
    assert signed_in_again.get("/estates/").status_code == 200


def test_a_database_lost_while_the_request_ends_still_leaves_a_clean_response(app, world, login, monkeypatch):
    """PostgreSQL shutting down mid-request makes even the closing ROLLBACK fail: that must not escape
    the app (gunicorn would answer a bare 500)."""
    import sqlalchemy as sa
    from sqlalchemy.orm import Session

    client = login(world.a.lead)
    real_close = Session.close
    failures = []

    def close_on_a_dead_connection(self):
        if not failures:
            failures.append(True)
            raise sa.exc.OperationalError(
                "ROLLBACK", {}, Exception("terminating connection due to administrator command")
            )
        return real_close(self)

    monkeypatch.setattr(Session, "close", close_on_a_dead_connection)
    response = client.get("/estates/")
    assert failures and response.status_code == 200
    monkeypatch.setattr(Session, "close", real_close)
    assert client.get("/estates/").status_code == 200
