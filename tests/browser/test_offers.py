"""A dealer lead on a tablet builds an offer's tiers on its page (htmx, CSRF on) and sees the price follow."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_lead_adds_tiers_and_sees_the_status_follow(app, world, live_server, page):
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.lead)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/")

    page.goto(f"{live_server}/offers/{world.a.offer_id}")
    page.wait_for_load_state("load")  # htmx is deferred: a submit before it runs would be a full page post
    page.evaluate("window.__samePage = true")
    expect(page.get_by_role("heading", name="阶梯价")).to_be_visible()

    form = page.locator("#offer-tiers form.form-row")
    form.get_by_label("交定户数（满）").fill("30")
    form.get_by_label("折扣（88 即 88折）").fill("101")
    with page.expect_response(lambda r: r.url.endswith(f"/offers/{world.a.offer_id}/tiers")) as response:
        form.get_by_role("button", name="添加").click()
    assert response.value.status == 422
    expect(page.get_by_text("折扣应在 1 到 100 之间（88 即 88折，100 为原价）")).to_be_visible()

    form = page.locator("#offer-tiers form.form-row")
    form.get_by_label("折扣（88 即 88折）").fill("85")
    with page.expect_response(lambda r: r.url.endswith(f"/offers/{world.a.offer_id}/tiers")) as response:
        form.get_by_role("button", name="添加").click()
    assert response.value.status == 200
    expect(page.get_by_text("已添加档位")).to_be_visible()
    expect(page.locator("#offer-tiers tbody tr")).to_have_count(2)
    expect(page.locator("#offer-prices thead")).to_contain_text("满 30 户")
    assert page.evaluate("window.__samePage") is True  # swapped in place, no page load

    # Every button and link a finger uses is at least 44 px tall.
    for box in page.locator("#offer-body .btn").evaluate_all("els => els.map(e => e.getBoundingClientRect().height)"):
        assert box >= 44
    if os.environ.get("OFFERS_SCREENSHOT"):
        page.screenshot(path=os.environ["OFFERS_SCREENSHOT"], full_page=True)
    assert not page_errors
