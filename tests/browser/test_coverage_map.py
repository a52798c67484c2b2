"""HQ opens the national coverage map on a tablet, sees a bubble per city and drills into one city's estates."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from crm.estates.models import EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_hq_drills_from_the_nation_into_one_city(app, world, live_server, page):
    qqhr, cc = world.city_ids["齐齐哈尔"], world.city_ids["长春"]
    with app.app_context():
        # A tight bunch that must cluster, and one estate far enough away to stand alone.
        for i in range(12):
            create_estate(
                db.session,
                world.a.dealer_id,
                EstateFields(name=f"密集小区{i}", city_id=qqhr, lng=123.90 + i * 0.0004, lat=47.30, households=500),
            )
        lonely = create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(
                name="独栋花园", city_id=qqhr, lng=123.93, lat=47.40, households=2600, stage=EstateStage.TARGET
            ),
        )
        db.session.commit()
        lonely_id = lonely.id

    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server) else None)
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.hq_admin)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="覆盖", exact=True).click()
    page.get_by_role("link", name="全国地图").click()

    # The nation: one bubble per city, labelled with its estate count.
    status = page.get_by_role("status").filter(has_text="全国")
    expect(status).to_have_text("全国：2 个城市，15 个楼盘")
    expect(page.locator(".city-bubble")).to_have_count(2)
    expect(page.locator(f".city-{qqhr}")).to_have_text("14")
    expect(page.locator(f".city-{cc}")).to_have_text("1")
    expect(page.get_by_role("button", name="返回全国")).to_be_hidden()

    # Into 齐齐哈尔 by its bubble: the bubbles give way to the estates, clustered and coloured by status.
    page.locator(f".city-{qqhr}").click()
    map_status = page.locator("#coverage-map-status")
    expect(map_status).to_have_text("齐齐哈尔：14 个楼盘")
    expect(page.locator("[data-estates-loaded='14']")).to_have_count(1)
    expect(page.locator(".city-bubble")).to_have_count(0)
    expect(page.locator(".marker-cluster").first).to_be_visible()
    expect(page.locator(".marker-cluster")).to_have_count(1)
    expect(page.locator(".marker-cluster")).to_have_text("12")
    expect(page.locator(".estate-marker")).to_have_count(2)  # the lonely estate and the world's estate
    assert page.url.endswith(f"city_id={qqhr}")

    marker = page.locator(f".estate-{lonely_id}")
    expect(marker).to_have_attribute("fill", "#e8590c")  # 目标未建群
    marker.click()
    popup = page.locator(".leaflet-popup .coverage-popup")
    expect(popup).to_contain_text("独栋花园")
    expect(popup).to_contain_text("目标未建群")
    expect(popup).to_contain_text("AAA · 甲经销商")
    expect(popup).to_contain_text("2,600 户")
    expect(popup.get_by_role("link", name="查看楼盘覆盖")).to_have_attribute(
        "href", f"/hq/coverage/estates/{lonely_id}"
    )

    # Back out to the nation, then into 长春 from the side panel's table.
    page.get_by_role("button", name="返回全国").click()
    expect(map_status).to_have_text("全国：2 个城市，15 个楼盘")
    expect(page.locator(".city-bubble")).to_have_count(2)
    expect(page.locator(".estate-marker")).to_have_count(0)
    page.locator(".coverage-cities").get_by_role("link", name="长春").click()
    expect(map_status).to_have_text("长春：1 个楼盘")
    expect(page.locator(f".estate-{world.b.estate_id}")).to_be_visible()

    # Zooming out past the city level brings the bubbles back.
    for _ in range(4):
        page.locator(".leaflet-control-zoom-out").click()
        page.wait_for_timeout(300)
    expect(page.locator(".city-bubble")).to_have_count(2)
    expect(map_status).to_have_text("全国：2 个城市，15 个楼盘")

    assert all("tile.openstreetmap.org" in url for url in external), external


def test_a_failed_load_says_so(app, world, live_server, page):
    page.route("**/estates.geojson*", lambda route: route.abort())
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.hq_viewer)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server}/hq/coverage/map")
    map_status = page.locator("#coverage-map-status")
    expect(map_status).to_have_text("全国：2 个城市，2 个楼盘")
    page.locator(".coverage-cities").get_by_role("link", name="齐齐哈尔").click()
    expect(map_status).to_have_text("地图数据加载失败，请检查网络后刷新页面。")
