"""A dealer lead on a tablet opens an owner and moves them up the relationship ladder with a reason."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.core.roles import Role
from crm.extensions import db
from crm.people.models import LadderStage, Person
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_dealer_lead_moves_an_owner_up_the_ladder(app, world, live_server, page):
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.lead)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/")

    # The people list, then the owner's page.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="业主", exact=True).click()
    expect(page.get_by_role("heading", name="业主与关键人物")).to_be_visible()
    page.get_by_role("link", name=world.a.person_name, exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(world.a.person_name)
    expect(page.locator(".phone")).to_have_text(world.a.person_phone)  # the lead sees the full number

    # Move up one rung with a reason: the ladder and its history swap in place.
    page.wait_for_load_state("load")  # htmx is deferred: a click before it runs would post the whole page
    page.evaluate("window.__samePage = true")
    ladder = page.locator("#ladder")
    expect(ladder.locator(".current-stage")).to_have_text("陌生人")
    ladder.get_by_label("原因").fill("在群里问了团购价")
    with page.expect_response(lambda r: r.url.endswith(f"/people/{world.a.person_id}/stage")) as response:
        ladder.get_by_role("button", name="下一级").click()
    assert response.value.status == 200
    expect(ladder.locator(".current-stage")).to_have_text("旁观者")
    history = page.locator("#ladder .ladder-history tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("陌生人")
    expect(history.first).to_contain_text("旁观者")
    expect(history.first).to_contain_text("在群里问了团购价")
    expect(history.first).to_contain_text(world.a.user_display_names[Role.DEALER_LEAD])

    # Once more, straight to a chosen rung.
    page.locator("#ladder").get_by_label("原因").fill("到店交定")
    page.locator("#ladder").get_by_label("设为", exact=True).select_option(label="准购买者")
    with page.expect_response(lambda r: r.url.endswith(f"/people/{world.a.person_id}/stage")) as response:
        page.locator("#ladder").get_by_role("button", name="设为", exact=True).click()
    assert response.value.status == 200
    expect(page.locator("#ladder .current-stage")).to_have_text("准购买者")
    expect(history).to_have_count(2)
    expect(history.first).to_contain_text("到店交定")  # newest first
    assert page.evaluate("window.__samePage") is True

    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        assert person.ladder_stage is LadderStage.NEAR_BUYER
        changes = [(c.from_stage, c.to_stage, c.reason, c.changed_by_id) for c in person.stage_changes]
        lead_id = world.a.user_ids[Role.DEALER_LEAD]
        assert changes == [
            (LadderStage.BYSTANDER, LadderStage.NEAR_BUYER, "到店交定", lead_id),
            (LadderStage.STRANGER, LadderStage.BYSTANDER, "在群里问了团购价", lead_id),
        ]
        db.session.remove()
    assert page_errors == []
