"""HQ on a tablet works through the month's 有盘不做 list: a penalty without a note is refused in the row, then
a decision is recorded and the row changes in place (htmx, CSRF on)."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from crm.core.models import local_today
from crm.estates.models import EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_admin_decides_on_a_neglected_estate_in_place(app, world, live_server, page):
    with app.app_context():
        estate = create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(name="铁锋新城", city_id=world.city_ids["齐齐哈尔"], stage=EstateStage.TARGET),
        )
        estate.targeted_on = local_today() - timedelta(days=45)
        db.session.commit()
        estate_id = estate.id

    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.hq_admin)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/")

    page.goto(f"{live_server}/hq/coverage/neglected")
    page.wait_for_load_state("load")  # htmx is deferred: a submit before it runs would be a full page post
    page.evaluate("window.__samePage = true")
    row = page.locator(f"#candidate-{estate_id}")
    expect(row).to_contain_text("15 天")
    expect(row).to_contain_text("未决定")

    url = f"/hq/coverage/estates/{estate_id}/decision"
    with page.expect_response(lambda r: url in r.url) as response:
        row.get_by_role("button", name="罚").click()
    assert response.value.status == 422
    expect(row.get_by_role("alert")).to_have_text("处罚请写明原因")

    row.get_by_label("备注").fill("两次提醒仍未建群")
    with page.expect_response(lambda r: url in r.url) as response:
        row.get_by_role("button", name="罚").click()
    assert response.value.status == 200
    expect(row).to_contain_text("两次提醒仍未建群")
    expect(row).to_contain_text("总部管理员")
    expect(row.locator(".badge.decision-penalty")).to_have_text("罚")

    with page.expect_response(lambda r: url in r.url) as response:
        row.get_by_role("button", name="忽略").click()
    assert response.value.status == 200
    expect(row.locator(".badge.decision-ignore")).to_have_text("忽略")
    expect(row).not_to_contain_text("两次提醒仍未建群")
    assert page.evaluate("window.__samePage") is True  # swapped in place, no page load

    for height in row.locator(".btn").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)"):
        assert height >= 44
    if os.environ.get("COVERAGE_DECISIONS_SCREENSHOT"):
        page.screenshot(path=os.environ["COVERAGE_DECISIONS_SCREENSHOT"], full_page=True)
    assert not page_errors
