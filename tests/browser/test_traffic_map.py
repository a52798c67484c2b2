"""A dealer lead opens the traffic map on a tablet, sees markers and clusters, and reads an estate card."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from crm.estates.models import Estate, EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from tests.conftest import TEST_PASSWORD

pytestmark = pytest.mark.browser


def test_map_shows_clusters_and_opens_the_estate_card(app, world, live_server, page):
    with app.app_context():
        city_id = world.city_ids["齐齐哈尔"]
        # A tight bunch that must cluster, and one estate far enough away to stand alone.
        for i in range(12):
            create_estate(
                db.session,
                world.a.dealer_id,
                EstateFields(name=f"密集小区{i}", city_id=city_id, lng=123.90 + i * 0.0004, lat=47.30, households=500),
            )
        create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(
                name="独栋花园",
                city_id=city_id,
                lng=123.9300,
                lat=47.3800,
                households=2600,
                stage=EstateStage.OPERATING,
            ),
        )
        db.session.commit()
        lonely_id = db.session.scalar(sa.select(Estate.id).where(Estate.name == "独栋花园"))

    external = []
    page.on("request", lambda r: external.append(r.url) if not r.url.startswith(live_server) else None)
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.lead)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="地图").click()

    expect(page.locator("[data-estates-loaded='14']")).to_have_count(1)
    expect(page.locator(".marker-cluster").first).to_be_visible()
    marker = page.locator(f".estate-{lonely_id}")
    expect(marker).to_be_visible()
    marker.click()
    card = page.locator("#estate-card")
    expect(card).to_contain_text("独栋花园")
    expect(card).to_contain_text("2,600")
    expect(card).to_contain_text("运营中")
    expect(card.get_by_role("link", name="打开楼盘")).to_have_attribute("href", f"/estates/{lonely_id}")

    # Turning the 运营中 layer off hides that estate; other dealers' estates never arrive.
    page.locator("#map-toggles").get_by_label("运营中").uncheck()
    expect(marker).to_have_count(0)
    assert all("tile.openstreetmap.org" in url for url in external), external


def test_tapping_the_map_places_an_unpositioned_estate(app, world, live_server, page):
    with app.app_context():
        estate = create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(name="手动定位小区", city_id=world.city_ids["齐齐哈尔"], address="龙沙区某路 8 号"),
        )
        db.session.commit()
        estate_id = estate.id
    page.goto(f"{live_server}/login")
    page.get_by_label("用户名").fill(world.a.lead)
    page.get_by_label("密码").fill(TEST_PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.goto(f"{live_server}/estates/{estate_id}")
    page.get_by_role("link", name="在地图上定位").click()
    page.wait_for_load_state("load")  # the map and its marker exist once the page's scripts ran
    before = page.get_by_label("经度").input_value()
    box = page.locator(".folium-map").bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.75, box["y"] + box["height"] * 0.3)
    expect(page.get_by_label("经度")).not_to_have_value(before)
    page.get_by_role("button", name="保存位置").click()
    expect(page.get_by_text("已定位：手动定位小区")).to_be_visible()
    with app.app_context():
        placed = db.session.get(Estate, estate_id)
        assert placed.lng > 123.9182 and placed.lat > 47.3543  # tapped right of and above the city centre
