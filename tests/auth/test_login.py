"""Logging in and out, throttling, CSRF and the session cookie."""

from __future__ import annotations

import sqlalchemy as sa

from crm.auth.models import LoginAttempt
from crm.core.roles import Role
from crm.extensions import db
from tests.conftest import TEST_PASSWORD


def test_login_lands_on_the_home_page_of_the_role(world, client):
    response = client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD})
    assert response.status_code == 302
    home = client.get(response.headers["Location"]).get_data(as_text=True)
    assert world.a.dealer_name in home
    assert "社群负责人" in home


def test_hq_home_shows_the_network(world, login):
    body = login(world.hq_admin).get("/").get_data(as_text=True)
    assert "全国经销商楼盘概况" in body
    assert world.a.dealer_name in body and world.b.dealer_name in body


def test_username_is_case_insensitive(world, client):
    response = client.post("/login", data={"username": world.a.lead.upper(), "password": TEST_PASSWORD})
    assert response.status_code == 302


def test_wrong_password_is_refused_in_chinese(world, client):
    response = client.post("/login", data={"username": world.a.lead, "password": "wrong-password"})
    assert response.status_code == 401
    assert "用户名或密码错误" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302  # still logged out


def test_repeated_failures_lock_the_account_even_with_the_right_password(app, world, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES"]):
        client.post("/login", data={"username": world.a.lead, "password": "wrong-password"})
    response = client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD})
    assert response.status_code == 429
    assert "登录失败次数过多" in response.get_data(as_text=True)
    # Another account from elsewhere is unaffected.
    other = app.test_client().post(
        "/login", data={"username": world.b.lead, "password": TEST_PASSWORD}, environ_base={"REMOTE_ADDR": "10.1.1.1"}
    )
    assert other.status_code == 302
    with app.app_context():
        failures = db.session.scalar(
            sa.select(sa.func.count()).where(LoginAttempt.username == world.a.lead, LoginAttempt.succeeded.is_(False))
        )
    assert failures == app.config["LOGIN_MAX_FAILURES"]


def test_a_success_resets_the_failure_count(app, world, client):
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        client.post("/login", data={"username": world.a.lead, "password": "wrong-password"})
    assert client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD}).status_code == 302
    client.post("/logout")
    for _ in range(app.config["LOGIN_MAX_FAILURES"] - 1):
        client.post("/login", data={"username": world.a.lead, "password": "wrong-password"})
    assert client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD}).status_code == 302


def test_inactive_accounts_cannot_log_in(app, world, client):
    from crm.org.models import User

    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.username == world.a.lead)).one()
        user.is_active_account = False
        db.session.commit()
    response = client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD})
    assert response.status_code == 401


def test_logout_needs_a_post_and_ends_the_session(world, login):
    client = login(world.a.lead)
    assert client.get("/logout").status_code == 405
    assert client.post("/logout").status_code == 302
    assert client.get("/estates/").status_code == 302


def test_next_parameter_cannot_redirect_off_site(world, client):
    response = client.post(
        "/login?next=//evil.example/steal", data={"username": world.a.lead, "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == "/"
    client.post("/logout")
    response = client.post("/login?next=/estates/", data={"username": world.a.lead, "password": TEST_PASSWORD})
    assert response.headers["Location"] == "/estates/"


def test_passwords_are_stored_hashed(app, world):
    from crm.org.models import User

    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.username == world.a.lead)).one()
        assert TEST_PASSWORD not in user.password_hash
        assert user.password_hash.startswith(("pbkdf2:", "scrypt:"))


def test_session_cookie_is_httponly_and_samesite(world, client):
    response = client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Secure" not in cookie


def test_session_cookie_is_secure_over_https(world, client):
    response = client.post(
        "/login", data={"username": world.a.lead, "password": TEST_PASSWORD}, base_url="https://localhost"
    )
    assert "Secure" in response.headers["Set-Cookie"]


def test_state_changing_requests_need_a_csrf_token(world, make_app):
    csrf_app = make_app(WTF_CSRF_ENABLED=True)
    client = csrf_app.test_client()
    response = client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD})
    assert response.status_code == 400
    assert "页面已过期" in response.get_data(as_text=True)

    page = client.get("/login").get_data(as_text=True)
    token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
    response = client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD, "csrf_token": token})
    assert response.status_code == 302
    # htmx requests carry the token in a header; without it a change is refused.
    refused = client.post(
        f"/estates/{world.a.estate_id}/stage", data={"stage": "operating"}, headers={"HX-Request": "true"}
    )
    assert refused.status_code == 400
    home = client.get("/estates/").get_data(as_text=True)
    header_token = home.split('"X-CSRFToken": "')[1].split('"')[0]
    accepted = client.post(
        f"/estates/{world.a.estate_id}/stage",
        data={"stage": "operating"},
        headers={"HX-Request": "true", "X-CSRFToken": header_token},
    )
    assert accepted.status_code == 200


def test_language_switch_to_english_and_back(world, login):
    client = login(world.a.lead)
    client.post("/language/en", data={"next": "/estates/"})
    assert '<html lang="en">' in client.get("/estates/").get_data(as_text=True)
    client.post("/language/zh", data={"next": "/"})
    assert '<html lang="zh-CN">' in client.get("/").get_data(as_text=True)


def test_deactivating_an_account_ends_its_open_session(app, world, login):
    from crm.org.models import User

    client = login(world.a.usernames[Role.OPERATOR])
    assert client.get("/estates/").status_code == 200
    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.username == world.a.usernames[Role.OPERATOR])).one()
        user.is_active_account = False
        db.session.commit()
    assert client.get("/estates/").status_code == 302


def test_a_deactivated_dealers_staff_cannot_work(app, world, login, client):
    from crm.org.models import Dealer

    lead = login(world.a.lead)
    with app.app_context():
        db.session.get(Dealer, world.a.dealer_id).is_active = False
        db.session.commit()
    assert lead.get("/").status_code == 302
    refused = client.post("/login", data={"username": world.a.lead, "password": TEST_PASSWORD})
    assert refused.status_code == 401
    assert login(world.b.lead).get("/").status_code == 200
