"""A dealer lead on a tablet (CSRF on): moves an order on, adds a line, signs its contract and revises it."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from crm.core.roles import Role
from tests.conftest import TEST_PASSWORD
from tests.orders.helpers import TODAY


@pytest.fixture(autouse=True)
def _today(monkeypatch):
    """The order pages run on a fixed day inside the test offer, whatever the clock says."""
    monkeypatch.setattr("crm.orders.views.local_today", lambda: TODAY)


pytestmark = pytest.mark.browser


def test_lead_moves_the_order_on_and_signs_then_revises_its_contract(app, world, live_server, page):  # noqa: F811
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    page.on("dialog", lambda dialog: dialog.accept())
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.lead)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/")

    page.goto(f"{live_server}/orders/{world.a.order_id}")
    page.wait_for_load_state("load")  # htmx is deferred: a submit before it runs would be a full page post
    page.evaluate("window.__samePage = true")
    with page.expect_response(lambda r: r.url.endswith(f"/orders/{world.a.order_id}/status")) as response:
        page.get_by_role("button", name="下一步：已验收").click()
    assert response.value.status == 200
    expect(page.get_by_text("订单已进入“已验收”")).to_be_visible()
    expect(page.locator("#order-status table")).to_contain_text(world.a.user_display_names[Role.DEALER_LEAD])

    form = page.locator("#order-items form.form-row")
    form.get_by_label("产品名称").fill("踢脚线")
    form.get_by_label("数量").fill("10")
    form.get_by_label("原价（元）").fill("40")
    with page.expect_response(lambda r: r.url.endswith(f"/orders/{world.a.order_id}/items")) as response:
        form.get_by_role("button", name="添加").click()
    assert response.value.status == 200
    expect(page.get_by_text("已添加产品")).to_be_visible()
    expect(page.locator("#order-items tfoot")).to_contain_text("¥5,579.20")
    assert page.evaluate("window.__samePage") is True  # swapped in place, no page load
    for height in page.locator("#order-items .btn, #order-status .btn").evaluate_all(
        "els => els.map(e => e.getBoundingClientRect().height)"
    ):
        assert height >= 44

    page.get_by_role("link", name="甲方专属销售合同").click()  # the world's draft
    page.get_by_role("button", name="标记已签署").click()
    expect(page.get_by_text("已标记签署")).to_be_visible()
    sha256 = page.locator("code.sha256").inner_text()
    assert len(sha256) == 64
    page.get_by_role("button", name="新建修订版").click()
    expect(page.get_by_text("已新建修订版草稿")).to_be_visible()
    expect(page.locator("h1")).to_contain_text("第 2 版")
    expect(page.locator("#contract-versions")).to_contain_text(sha256[:12])
    if os.environ.get("ORDERS_SCREENSHOT"):
        page.screenshot(path=os.environ["ORDERS_SCREENSHOT"], full_page=True)
    assert not page_errors
