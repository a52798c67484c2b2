"""Dealers, stores and user accounts: who may manage what."""

from __future__ import annotations

import re

import sqlalchemy as sa

from crm.core.roles import Role
from crm.extensions import db
from crm.org.models import Dealer, Store, User


def _errors(response) -> list[str]:
    return re.findall(r'role="alert">([^<]+)<', response.get_data(as_text=True))


def test_hq_admin_creates_and_edits_a_dealer(app, world, login):
    client = login(world.hq_admin)
    city_id = world.city_ids["齐齐哈尔"]
    response = client.post(
        "/dealers/new",
        data={
            "code": "qqhr2",
            "name": "齐齐哈尔第二经销商",
            "city_id": city_id,
            "territory": "富拉尔基区",
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        dealer = db.session.scalars(sa.select(Dealer).where(Dealer.code == "QQHR2")).one()
        dealer_id = dealer.id
    assert "齐齐哈尔第二经销商" in client.get("/dealers/").get_data(as_text=True)
    response = client.post(
        f"/dealers/{dealer_id}/edit",
        data={"code": "QQHR2", "name": "齐齐哈尔二店", "city_id": city_id, "is_active": ""},
    )
    assert response.status_code == 302
    with app.app_context():
        dealer = db.session.get(Dealer, dealer_id)
        assert (dealer.name, dealer.is_active) == ("齐齐哈尔二店", False)


def test_dealer_code_must_be_unique_and_well_formed(app, world, login):
    client = login(world.hq_admin)
    city_id = world.city_ids["长春"]
    taken = client.post("/dealers/new", data={"code": "aaa", "name": "重复", "city_id": city_id})
    assert taken.status_code == 422 and "该经销商编码已被使用" in _errors(taken)
    bad = client.post("/dealers/new", data={"code": "长春!", "name": "坏编码", "city_id": city_id})
    assert bad.status_code == 422 and any("编码只能包含" in e for e in _errors(bad))


def test_only_hq_admin_manages_dealers(world, login):
    for username in (world.hq_viewer, world.a.lead, world.a.usernames[Role.OPERATOR]):
        client = login(username)
        assert client.get("/dealers/new").status_code == 403
        assert client.post(f"/dealers/{world.a.dealer_id}/edit", data={"name": "x"}).status_code in (403, 404)
    # HQ viewer may look at any dealer; a lead at their own.
    assert login(world.hq_viewer).get(f"/dealers/{world.b.dealer_id}").status_code == 200
    assert login(world.a.lead).get(f"/dealers/{world.a.dealer_id}").status_code == 200
    assert login(world.a.usernames[Role.OPERATOR]).get(f"/dealers/{world.a.dealer_id}").status_code == 403


def test_dealer_lead_adds_and_edits_own_store(app, world, login):
    client = login(world.a.lead)
    response = client.post(
        f"/dealers/{world.a.dealer_id}/stores/new",
        data={
            "name": "铁锋门店",
            "city_id": world.city_ids["齐齐哈尔"],
            "address": "铁锋区 8 号",
            "coord_system": "gcj02",
            "lng": "123.98",
            "lat": "47.33",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        store = db.session.scalars(sa.select(Store).where(Store.name == "铁锋门店")).one()
        assert store.dealer_id == world.a.dealer_id
        assert store.lng != 123.98  # converted from GCJ-02
        store_id = store.id
    duplicate = client.post(
        f"/stores/{store_id}/edit",
        data={"name": world.a.store_name, "city_id": world.city_ids["齐齐哈尔"], "coord_system": "wgs84"},
    )
    assert duplicate.status_code == 422 and "该经销商已有同名门店" in _errors(duplicate)
    form = client.get(f"/stores/{store_id}/edit").get_data(as_text=True)
    assert 'value="123.98"' in form and 'value="47.33"' in form


def test_dealer_lead_manages_own_staff_only_with_dealer_roles(app, world, login):
    client = login(world.a.lead)
    listing = client.get("/users/").get_data(as_text=True)
    assert world.a.usernames[Role.INSTALLER] in listing
    assert "hq_admin" not in listing
    response = client.post(
        "/users/new",
        data={
            "username": "a_new_operator",
            "display_name": "新主IP",
            "role": "operator",
            "password": "long-enough-1",
            "dealer_id": str(world.b.dealer_id),
            "is_active": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalars(sa.select(User).where(User.username == "a_new_operator")).one()
        assert user.dealer_id == world.a.dealer_id  # the dealer in the form is ignored
    escalate = client.post(
        "/users/new", data={"username": "sneaky", "role": "hq_admin", "password": "long-enough-1", "is_active": "y"}
    )
    assert escalate.status_code == 422
    with app.app_context():
        assert db.session.scalars(sa.select(User).where(User.username == "sneaky")).first() is None


def test_user_validation_messages(app, world, login):
    client = login(world.hq_admin)
    cases = [
        (
            {"username": world.a.lead, "role": "operator", "dealer_id": world.a.dealer_id, "password": "long-enough-1"},
            "该用户名已被使用",
        ),
        (
            {"username": "ab", "role": "operator", "dealer_id": world.a.dealer_id, "password": "long-enough-1"},
            "用户名为 3 到 64 位",
        ),
        (
            {"username": "short_pw", "role": "operator", "dealer_id": world.a.dealer_id, "password": "123"},
            "密码至少 8 位",
        ),
        ({"username": "no_pw", "role": "operator", "dealer_id": world.a.dealer_id, "password": ""}, "请设置初始密码"),
        (
            {"username": "no_dealer", "role": "operator", "dealer_id": "", "password": "long-enough-1"},
            "经销商员工必须属于一个经销商",
        ),
    ]
    for data, message in cases:
        response = client.post("/users/new", data={**data, "is_active": "y"})
        assert response.status_code == 422, data
        assert any(message in e for e in _errors(response)), (message, _errors(response))
    hq = client.post(
        "/users/new",
        data={
            "username": "hq_two",
            "role": "hq_viewer",
            "dealer_id": world.a.dealer_id,
            "password": "long-enough-1",
            "is_active": "y",
        },
    )
    assert hq.status_code == 302
    with app.app_context():
        assert db.session.scalars(sa.select(User).where(User.username == "hq_two")).one().dealer_id is None


def test_lead_cannot_demote_or_disable_themselves(app, world, login):
    client = login(world.a.lead)
    with app.app_context():
        lead_id = db.session.scalar(sa.select(User.id).where(User.username == world.a.lead))
    response = client.post(
        f"/users/{lead_id}/edit", data={"username": world.a.lead, "role": "operator", "is_active": "y"}
    )
    assert response.status_code == 422
    assert "不能修改自己的角色或停用自己的账号" in _errors(response)


def test_password_change_lets_the_user_log_in_with_the_new_one(app, world, login):
    client = login(world.a.lead)
    operator_id = world.a.user_ids[Role.OPERATOR]
    username = world.a.usernames[Role.OPERATOR]
    response = client.post(
        f"/users/{operator_id}/edit",
        data={"username": username, "role": "operator", "password": "brand-new-pass", "is_active": "y"},
    )
    assert response.status_code == 302
    assert login(username, "brand-new-pass").get("/").status_code == 200


def test_staff_without_user_management_get_403(world, login):
    for role in (Role.OPERATOR, Role.ASSISTANT, Role.DESIGNER, Role.CONSULTANT, Role.INSTALLER):
        client = login(world.a.usernames[role])
        assert client.get("/users/").status_code == 403
        assert client.get("/users/new").status_code == 403
        assert client.get(f"/users/{world.a.user_ids[Role.INSTALLER]}/edit").status_code == 403
