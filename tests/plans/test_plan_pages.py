"""The plan pages: who sees and edits what, htmx edits answering with the plan body, the PDF."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.org.models import User
from crm.plans.models import BattlePlan, PlanEstate, PlanPhase
from tests.pdf import poppler

HX = {"HX-Request": "true"}


def _add_estates(app, world, names):
    with app.app_context():
        ids = [
            create_estate(
                db.session,
                world.a.dealer_id,
                EstateFields(name=n, city_id=world.city_ids["齐齐哈尔"], households=800, lng=123.93, lat=47.36),
            ).id
            for n in names
        ]
        db.session.commit()
        return ids


def _order(app, world):
    with app.app_context():
        plan = db.session.get(BattlePlan, world.a.plan_id)
        return [item.estate.name for item in plan.estates]


def test_lead_creates_a_plan_and_fills_it(app, world, login):
    client = login(world.a.lead)
    response = client.post(
        "/plans/new",
        data={
            "title": "2027 二季度规划",
            "city_id": world.city_ids["齐齐哈尔"],
            "period": "2027 Q2",
            "starts_on": "2027-04-01",
            "ends_on": "2027-06-30",
            "status": "draft",
        },
    )
    assert response.status_code == 302
    plan_url = response.headers["Location"]
    plan_id = int(plan_url.rstrip("/").split("/")[-1])
    (estate_id,) = _add_estates(app, world, ["二季度小区"])
    body = client.post(f"/plans/{plan_id}/estates", data={"estate_id": estate_id}, headers=HX).get_data(as_text=True)
    assert "已加入：二季度小区" in body and "<html" not in body
    assert "第一阶段·铺垫" in body and "2027-04-01" in body
    page = client.get(plan_url).get_data(as_text=True)
    assert "<svg" in page and "二季度小区" in page


def test_bad_plan_input_is_refused_in_chinese(app, world, login):
    client = login(world.a.lead)
    response = client.post(
        "/plans/new",
        data={
            "title": "",
            "city_id": world.city_ids["齐齐哈尔"],
            "starts_on": "2027-04-01",
            "ends_on": "2027-03-01",
            "status": "draft",
        },
    )
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "请填写规划名称" in body
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(BattlePlan.id))) == 2


def test_arrows_reorder_and_drag_reorder(app, world, login):
    two, three = _add_estates(app, world, ["二号院", "三号院"])
    client = login(world.a.lead)
    for estate_id in (two, three):
        client.post(f"/plans/{world.a.plan_id}/estates", data={"estate_id": estate_id}, headers=HX)
    with app.app_context():
        items = {i.estate.name: i.id for i in db.session.get(BattlePlan, world.a.plan_id).estates}
    response = client.post(f"/plans/items/{items['三号院']}/move", data={"direction": "up"}, headers=HX)
    assert response.status_code == 200
    assert _order(app, world) == [world.a.estate_name, "三号院", "二号院"]
    client.post(
        f"/plans/{world.a.plan_id}/reorder",
        data={"plan_estate_id": [items["二号院"], items[world.a.estate_name], items["三号院"]]},
        headers=HX,
    )
    assert _order(app, world) == ["二号院", world.a.estate_name, "三号院"]
    assert client.post(f"/plans/items/{items['三号院']}/move", data={"direction": "sideways"}).status_code == 400


def test_team_and_targets_forms(app, world, login):
    client = login(world.a.lead)
    item_id = world.a.plan_estate_id
    with app.app_context():
        operator_id = db.session.scalar(sa.select(User.id).where(User.username == world.a.usernames[Role.OPERATOR]))
        installer_id = db.session.scalar(sa.select(User.id).where(User.username == world.a.usernames[Role.INSTALLER]))
    ok = client.post(f"/plans/items/{item_id}/team", data={f"team-{item_id}-operator_id": operator_id}, headers=HX)
    assert ok.status_code == 200 and "已保存团队" in ok.get_data(as_text=True)
    refused = client.post(
        f"/plans/items/{item_id}/team", data={f"team-{item_id}-operator_id": installer_id}, headers=HX
    )
    assert refused.status_code == 422 and "所选人员不能担任该角色" in refused.get_data(as_text=True)
    targets = client.post(
        f"/plans/items/{item_id}/targets",
        data={f"targets-{item_id}-target_orders": "12", f"targets-{item_id}-target_gmv": "360000"},
        headers=HX,
    )
    body = targets.get_data(as_text=True)
    assert targets.status_code == 200 and 'data-total="target_orders">12<' in body and "360,000" in body
    negative = client.post(
        f"/plans/items/{item_id}/targets", data={f"targets-{item_id}-target_orders": "-3"}, headers=HX
    )
    assert negative.status_code == 422 and "目标必须是不小于 0 的整数" in negative.get_data(as_text=True)
    with app.app_context():
        item = db.session.get(PlanEstate, item_id)
        assert item.operator_id == operator_id and item.target_orders == 12


def test_shifting_a_phase_through_the_page(app, world, login):
    client = login(world.a.lead)
    with app.app_context():
        phases = db.session.get(PlanEstate, world.a.plan_estate_id).phases
        second_id, before = phases[1].id, [p.starts_on for p in phases]
    body = client.post(f"/plans/phases/{second_id}/shift", data={"days": "7"}, headers=HX).get_data(as_text=True)
    assert "后续阶段随之移动" in body
    with app.app_context():
        after = [p.starts_on for p in db.session.get(PlanEstate, world.a.plan_estate_id).phases]
    assert after[0] == before[0] and (after[1] - before[1]).days == 7 and (after[-1] - before[-1]).days == 7
    client.post(f"/plans/phases/{second_id}/shift", data={"length": "5"}, headers=HX)
    with app.app_context():
        assert db.session.get(PlanPhase, second_id).days == 5
    assert client.post(f"/plans/phases/{second_id}/shift", data={"days": "abc"}).status_code == 400


def test_staff_read_plans_hq_reviews_them_only_the_lead_edits(app, world, login):
    operator = login(world.a.usernames[Role.OPERATOR])
    assert operator.get(f"/plans/{world.a.plan_id}").status_code == 200
    assert operator.post(f"/plans/phases/{world.a.phase_id}/shift", data={"days": "1"}).status_code == 403
    assert operator.get("/plans/new").status_code == 403
    hq = login(world.hq_viewer)
    listing = hq.get("/plans/").get_data(as_text=True)
    assert world.a.plan_title in listing and world.b.plan_title in listing
    assert hq.get(f"/plans/{world.b.plan_id}").status_code == 200
    assert hq.post(f"/plans/items/{world.b.plan_estate_id}/remove").status_code == 403


def test_template_edit(app, world, login):
    client = login(world.a.lead)
    page = client.get(f"/plans/templates/{world.a.template_id}/edit").get_data(as_text=True)
    assert "第一阶段·铺垫 3" in page
    bad = client.post(f"/plans/templates/{world.a.template_id}/edit", data={"name": "新模板", "steps": "铺垫 三"})
    assert bad.status_code == 422 and "阶段名称 天数" in bad.get_data(as_text=True)
    ok = client.post(
        f"/plans/templates/{world.a.template_id}/edit?next=//evil.example/",
        data={"name": "老盘唤醒", "steps": "唤醒 5\n活动 7"},
    )
    assert ok.status_code == 302 and ok.headers["Location"] == "/plans/"
    (estate_id,) = _add_estates(app, world, ["按新模板"])
    body = client.post(f"/plans/{world.a.plan_id}/estates", data={"estate_id": estate_id}, headers=HX).get_data(
        as_text=True
    )
    assert "唤醒" in body


def test_battle_map_pdf_is_a3_landscape_with_names_targets_and_the_font(app, world, login):
    (estate_id,) = _add_estates(app, world, ["<script>alert(1)</script> & 花园"])
    client = login(world.a.lead)
    client.post(f"/plans/{world.a.plan_id}/estates", data={"estate_id": estate_id}, headers=HX)
    client.post(
        f"/plans/items/{world.a.plan_estate_id}/targets", data={f"targets-{world.a.plan_estate_id}-target_orders": "37"}
    )
    response = client.get(f"/plans/{world.a.plan_id}/print.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "attachment" in response.headers["Content-Disposition"]
    text = poppler.squeezed(poppler.text(response.data))
    for expected in (
        world.a.estate_name,
        world.a.plan_title,
        "<script>alert(1)</script>&花园",
        "第一阶段·铺垫",
        world.a.dealer_name,
    ):
        assert poppler.squeezed(expected) in text, expected
    assert "37" in poppler.text(response.data, page=2)
    assert world.b.estate_name not in text
    assert poppler.page_size_mm(response.data) == (420.0, 297.0)  # A3 landscape
    fonts = poppler.fonts(response.data)
    assert fonts and all("Noto-Sans-SC" in f["name"] and f["emb"] == "yes" for f in fonts), fonts


@pytest.mark.parametrize("role", [Role.INSTALLER, Role.DESIGNER])
def test_any_staff_member_may_print_the_battle_map(world, login, role):
    response = login(world.a.usernames[role]).get(f"/plans/{world.a.plan_id}/print.pdf")
    assert response.status_code == 200
