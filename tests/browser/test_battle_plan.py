"""A dealer lead edits a battle plan on a tablet and downloads its PDF."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from crm.estates.models import Estate
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.plans import service
from crm.plans.models import BattlePlan, PlanEstate
from tests.conftest import TEST_PASSWORD
from tests.pdf import poppler

pytestmark = pytest.mark.browser


def test_lead_reorders_shifts_and_prints_the_plan(app, world, live_server, page, tmp_path):
    with app.app_context():
        plan = db.session.get(BattlePlan, world.a.plan_id)
        for name in ("二号小区", "三号小区"):
            estate = create_estate(
                db.session,
                world.a.dealer_id,
                EstateFields(name=name, city_id=world.city_ids["齐齐哈尔"], households=900, lng=123.94, lat=47.36),
            )
            service.add_estate(db.session, plan, estate)
        db.session.commit()
        spare = create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(name="待加入小区", city_id=world.city_ids["齐齐哈尔"], households=700, lng=123.95, lat=47.34),
        )
        db.session.commit()
        spare_id = spare.id

    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.lead)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="作战规划").click()
    page.get_by_role("link", name=world.a.plan_title).click()
    page.wait_for_load_state("load")
    expect(page.locator(".plan-map svg")).to_be_visible()

    # Move 三号小区 up one place with its arrow: the list renumbers in place.
    with page.expect_response(lambda r: r.url.endswith("/move")):
        page.get_by_role("button", name="上移 三号小区").click()
    expect(page.locator(".plan-estate .plan-estate-head strong")).to_have_text(
        [world.a.estate_name, "三号小区", "二号小区"]
    )

    # Add an estate from the picker.
    page.get_by_label("加入楼盘").select_option(value=str(spare_id))
    with page.expect_response(lambda r: r.url.endswith("/estates")):
        page.get_by_role("button", name="加入规划").click()
    expect(page.get_by_text("已加入：待加入小区")).to_be_visible()

    # Shift the first estate's 铺垫 phase by a week: later phases follow.
    first = page.locator(".plan-estate").first
    first.locator("summary").click()
    with page.expect_response(lambda r: "/shift" in r.url):
        first.get_by_role("button", name="第一阶段·铺垫 移动 +7 天").click()
    expect(page.get_by_text("已移动阶段，后续阶段随之移动")).to_be_visible()
    with app.app_context():
        item = db.session.scalars(sa.select(PlanEstate).where(PlanEstate.id == world.a.plan_estate_id)).one()
        gaps = [(b.starts_on - a.ends_on).days for a, b in zip(item.phases, item.phases[1:], strict=False)]
        assert gaps[0] == 8 and all(gap == 1 for gap in gaps[1:])
        order = [i.estate.name for i in db.session.get(BattlePlan, world.a.plan_id).estates]
        assert order == [world.a.estate_name, "三号小区", "二号小区", "待加入小区"]
        assert db.session.get(Estate, spare_id).stage.value == "target"

    # Download the battle map.
    with page.expect_download() as download:
        page.get_by_role("link", name="下载作战图 PDF").click()
    path = tmp_path / "battle.pdf"
    download.value.save_as(path)
    text = poppler.squeezed(poppler.text(path.read_bytes()))
    assert "三号小区" in text and "待加入小区" in text and poppler.squeezed(world.a.plan_title) in text
