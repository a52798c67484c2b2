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
