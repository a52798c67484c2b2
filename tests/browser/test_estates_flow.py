"""A dealer lead works the estate list on a tablet: log in, filter, add an estate, move one along."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from crm.estates.models import Estate, EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser

# Dealer A's estates beyond the world's 甲方专属花园 (目标, 测试区).
EXTRA_ESTATES = [
    ("北岸小区", "建华区", EstateStage.HAS_GROUP),
    ("南湖名苑", "龙沙区", EstateStage.TARGET),
    ("东城雅居", "铁锋区", EstateStage.OPERATING),
]


def _estate_names(app) -> set[str]:
    with app.app_context():
        names = set(db.session.scalars(sa.select(Estate.name)))
        db.session.remove()
    return names


def _expect_listed(page, names):
    """The results region lists exactly `names` (order is the database's collation, so compared as a set)."""
    links = page.locator("#estate-results tbody tr td:first-child a")
    expect(links).to_have_count(len(names))
    assert sorted(links.all_inner_texts()) == sorted(names)


def test_dealer_lead_filters_adds_and_moves_estates(app, world, live_server, page):
    qqhr = world.city_ids["齐齐哈尔"]
    with app.app_context():
        ids = {
            name: create_estate(
                db.session,
                world.a.dealer_id,
                EstateFields(name=name, city_id=qqhr, district=district, households=500, stage=stage),
            ).id
            for name, district, stage in EXTRA_ESTATES
        }
        db.session.commit()
        db.session.remove()
    a_estates = [world.a.estate_name, *ids]
    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))

    # Log in.
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.lead)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(f"{live_server}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(world.a.dealer_name)

    # The estate list: A's estates, none of B's.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="楼盘", exact=True).click()
    expect(page.get_by_role("heading", name="楼盘列表")).to_be_visible()
    _expect_listed(page, a_estates)
    expect(page.get_by_text(world.b.estate_name)).to_have_count(0)
    expect(page.locator("#estate-results .result-count")).to_have_text("共 4 个楼盘")

    # Filter by stage: the results swap in place (htmx), the page does not reload.
    page.wait_for_load_state("load")  # htmx is deferred: a change before it runs would go unheard
    filters = page.locator("#estate-filters")
    page.evaluate("window.__samePage = true")
    with page.expect_response(lambda r: "/estates/?" in r.url and "stage=target" in r.url) as response:
        filters.get_by_label("阶段").select_option(label="目标")
    assert response.value.status == 200
    _expect_listed(page, [world.a.estate_name, "南湖名苑"])
    expect(page.locator("#estate-results .result-count")).to_have_text("共 2 个楼盘")
    expect(page).to_have_url(re.compile(r"/estates/\?.*stage=target"))

    # Narrow further by typing part of a name.
    search = filters.get_by_label("搜索名称")
    with page.expect_response(lambda r: "/estates/?" in r.url and "q=%E5%8D%97%E6%B9%96" in r.url) as response:
        search.fill("南湖")
        search.press("End")  # a key goes up after typing: the search listens to keyup
    assert response.value.status == 200
    _expect_listed(page, ["南湖名苑"])
    assert page.evaluate("window.__samePage") is True

    # A new estate: bad input first.
    page.get_by_role("link", name="新建楼盘").click()
    expect(page.get_by_role("heading", name="新建楼盘")).to_be_visible()
    expect(page.get_by_label("城市")).to_have_value(str(qqhr))  # defaults to the dealer's city
    page.get_by_label("楼盘名称").fill("")
    page.get_by_label("户数", exact=True).fill("-5")
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name="保存").click()
    assert navigation.value.status == 422
    expect(page.get_by_text("请填写楼盘名称")).to_be_visible()
    expect(page.get_by_text("户数不能小于 0")).to_be_visible()
    expect(page.get_by_text("请修改标红的内容后再保存（本次未保存）。")).to_be_visible()
    assert _estate_names(app) == {*a_estates, world.b.estate_name}

    # Then valid input.
    page.get_by_label("楼盘名称").fill("测试新建小区")
    page.get_by_label("城市").select_option(label="齐齐哈尔")
    page.get_by_label("户数", exact=True).fill("800")
    page.get_by_label("交房时间").fill("2027-06")
    page.get_by_role("button", name="保存").click()
    expect(page).to_have_url(re.compile(r"/estates/\d+$"))
    expect(page.get_by_role("heading", level=1)).to_contain_text("测试新建小区")
    expect(page.get_by_role("status")).to_have_text("已添加楼盘：测试新建小区")
    with app.app_context():
        created = db.session.scalars(sa.select(Estate).where(Estate.name == "测试新建小区")).one()
        assert (created.dealer_id, created.city_id, created.households, created.delivery_date) == (
            world.a.dealer_id,
            qqhr,
            800,
            date(2027, 6, 1),
        )
        db.session.remove()

    # Back to the list: the new estate is there.
    page.get_by_role("navigation", name="主菜单").get_by_role("link", name="楼盘", exact=True).click()
    _expect_listed(page, [*a_estates, "测试新建小区"])

    # Move an estate to another stage right in the list.
    page.wait_for_load_state("load")
    row = page.locator(f"#estate-{ids['北岸小区']}")
    with page.expect_response(lambda r: r.url.endswith(f"/estates/{ids['北岸小区']}/stage")) as response:
        row.get_by_label("阶段").select_option(label="转化中")
    assert response.value.status == 200
    expect(row.get_by_label("阶段")).to_have_value(EstateStage.CONVERTING.value)
    expect(row.get_by_label("阶段")).to_have_class(re.compile(r"\bstage-converting\b"))
    with app.app_context():
        assert db.session.get(Estate, ids["北岸小区"]).stage is EstateStage.CONVERTING
        db.session.remove()

    assert page_errors == []
