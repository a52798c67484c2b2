"""A dealer lead on a tablet enters today's numbers for a group straight from the progress board."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from crm.core.models import local_today
from crm.extensions import db
from crm.groups.models import GroupMetric
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_lead_enters_todays_metrics_on_the_board(app, world, live_server, page):
    gid = world.a.group_id
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.lead)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/")

    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="社群", exact=True).click()
    expect(page.get_by_role("heading", name="社群进度看板")).to_be_visible()
    row = page.locator(f"#board-group-{gid}")
    expect(row.locator("[data-col=members]")).to_have_text("120")  # the world's last entry
    expect(page.get_by_text(world.b.group_name)).to_have_count(0)

    # Today's numbers, entered in the group's row: only that row (and its estate's totals) change.
    page.wait_for_load_state("load")  # htmx is deferred: a submit before it runs would be a full page post
    page.evaluate("window.__samePage = true")
    row.get_by_text("录入数据").click()
    form = row.get_by_role("form")
    expect(form.get_by_label("日期")).to_have_value(local_today().isoformat())
    form.get_by_label("群成员", exact=True).fill("260")
    form.get_by_label("业主", exact=True).fill("240")
    form.get_by_label("活跃人数").fill("80")
    form.get_by_label("交定").fill("3")
    with page.expect_response(lambda r: f"/groups/{gid}/metrics" in r.url) as response:
        form.get_by_role("button", name="保存数据").click()
    assert response.value.status == 200
    row = page.locator(f"#board-group-{gid}")
    expect(row.locator("[data-col=members]")).to_have_text("260")
    expect(row.locator("[data-col=penetration]")).to_have_text("20.0%")  # 240 owners of 1,200 households
    expect(row.locator("[data-col=flag]")).to_contain_text("建议开新群（扫码进群上限 200）")
    estate = page.locator(f"#board-estate-{world.a.estate_id}")
    expect(estate.locator("[data-col=members]")).to_have_text("260")
    expect(estate.locator("[data-col=deposits]")).to_have_text("3")
    assert page.evaluate("window.__samePage") is True

    # An impossible entry is refused in Chinese, and nothing changes.
    row.get_by_text("录入数据").click()
    form = row.get_by_role("form")
    form.get_by_label("群成员", exact=True).fill("100")
    form.get_by_label("活跃人数").fill("150")
    with page.expect_response(lambda r: f"/groups/{gid}/metrics" in r.url) as response:
        form.get_by_role("button", name="保存数据").click()
    assert response.value.status == 422
    row = page.locator(f"#board-group-{gid}")
    expect(row.get_by_text("活跃人数不能多于群成员数")).to_be_visible()
    expect(row.locator("[data-col=members]")).to_have_text("260")
    with app.app_context():
        today = db.session.scalars(
            sa.select(GroupMetric).where(GroupMetric.group_id == gid, GroupMetric.day == local_today())
        ).all()
        assert [(m.members, m.owners, m.active_members, m.deposits) for m in today] == [(260, 240, 80, 3)]
        db.session.remove()
    assert page_errors == []
