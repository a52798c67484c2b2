"""The traffic map page, its GeoJSON endpoint and the estate card."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.estates.models import Estate, EstateAge, EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.maps.coords import CoordSystem, distance_m, from_wgs84
from crm.maps.models import TileProvider, TrafficMapSettings


def _add(app, world, name, lng, lat, **fields):
    with app.app_context():
        estate = create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(name=name, city_id=world.city_ids["齐齐哈尔"], lng=lng, lat=lat, **fields),
        )
        db.session.commit()
        return estate.id


def _set_tiles(app, world, provider):
    with app.app_context():
        db.session.add(TrafficMapSettings(dealer_id=world.a.dealer_id, tile_provider=provider, store_ring_m=2500))
        db.session.commit()


def test_geojson_is_compact_and_only_the_dealers_positioned_estates(app, world, login):
    _add(app, world, "无坐标小区", None, None)
    client = login(world.a.usernames[Role.OPERATOR])
    response = client.get("/map/estates.geojson")
    assert response.status_code == 200
    collection = response.json
    assert collection["type"] == "FeatureCollection"
    assert [f["properties"]["n"] for f in collection["features"]] == [world.a.estate_name]
    feature = collection["features"][0]
    assert feature["id"] == world.a.estate_id
    assert feature["properties"] == {"n": world.a.estate_name, "s": "target", "h": 1200, "a": None, "d": None}
    assert "乙方" not in response.get_data(as_text=True)
    assert "\\u" not in response.get_data(as_text=True)  # names travel as UTF-8


def test_geojson_ignores_a_dealer_filter_pointing_at_another_dealer(app, world, login):
    client = login(world.a.lead)
    response = client.get("/map/estates.geojson", query_string={"dealer_id": world.b.dealer_id})
    assert [f["id"] for f in response.json["features"]] == [world.a.estate_id]
    hq = login(world.hq_viewer).get("/map/estates.geojson", query_string={"dealer_id": world.b.dealer_id})
    assert [f["id"] for f in hq.json["features"]] == [world.b.estate_id]


def test_geojson_filters_district_and_delivery_window(app, world, login):
    from datetime import date

    _add(app, world, "龙沙一号", 123.95, 47.34, district="龙沙区", delivery_date=date(2026, 3, 1))
    _add(app, world, "龙沙二号", 123.96, 47.35, district="龙沙区", delivery_date=date(2026, 9, 1))
    _add(app, world, "建华一号", 123.97, 47.36, district="建华区", delivery_date=date(2026, 9, 1))
    client = login(world.a.lead)

    def names(**args):
        return {f["properties"]["n"] for f in client.get("/map/estates.geojson", query_string=args).json["features"]}

    assert names(district="龙沙区") == {"龙沙一号", "龙沙二号"}
    assert names(delivery_from="2026-09") == {"龙沙二号", "建华一号"}
    assert names(delivery_to="2026-03") == {"龙沙一号"}
    assert names(delivery_from="2026-04", delivery_to="2026-09", district="建华区") == {"建华一号"}
    assert names(delivery_from="not-a-month") == names()


def test_gaode_tiles_shift_points_into_gcj02(app, world, login):
    estate_id = _add(app, world, "坐标校验小区", 123.95, 47.34)
    client = login(world.a.lead)
    osm = {f["id"]: f for f in client.get("/map/estates.geojson").json["features"]}[estate_id]
    assert osm["geometry"]["coordinates"] == [123.95, 47.34]
    _set_tiles(app, world, TileProvider.GAODE)
    gaode = {f["id"]: f for f in client.get("/map/estates.geojson").json["features"]}[estate_id]
    expected = from_wgs84(123.95, 47.34, CoordSystem.GCJ02)
    assert distance_m(*gaode["geometry"]["coordinates"], *expected) < 0.2
    assert 300 < distance_m(*gaode["geometry"]["coordinates"], 123.95, 47.34) < 800
    page = client.get("/map/").get_data(as_text=True)
    assert "webrd0{s}.is.autonavi.com" in page
    assert "高德地图" in page


def test_tianditu_without_a_key_says_so_and_still_draws_a_map(app, world, login):
    _set_tiles(app, world, TileProvider.TIANDITU)
    app.config["MAP_TIANDITU_KEY"] = ""
    page = login(world.a.lead).get("/map/").get_data(as_text=True)
    assert "天地图需要密钥" in page
    assert "tile.openstreetmap.org" in page
    app.config["MAP_TIANDITU_KEY"] = "test-key"
    try:
        page = login(world.a.lead).get("/map/").get_data(as_text=True)
        assert "tianditu.gov.cn" in page and "tk=test-key" in page and "天地图需要密钥" not in page
    finally:
        app.config["MAP_TIANDITU_KEY"] = ""


def test_map_page_loads_nothing_from_other_hosts_but_tiles(app, world, login):
    page = login(world.a.lead).get("/map/").get_data(as_text=True)
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    external = [s for s in sources if s.startswith(("http:", "https:", "//"))]
    assert external == [], external
    assert "/static/vendor/leaflet/leaflet.js" in page
    assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in page
    assert "cdn" not in page.lower()
    assert "PantuTrafficMap.init(" in page
    assert "user-scalable=no" not in page  # folium's standalone-page viewport must not block pinch zoom


def test_store_ring_uses_the_dealers_radius(app, world, login):
    page = login(world.a.lead).get("/map/").get_data(as_text=True)
    assert '"radius": 3000' in page and world.b.store_name not in page
    _set_tiles(app, world, TileProvider.OSM)  # settings with a 2.5 km ring
    page = login(world.a.lead).get("/map/").get_data(as_text=True)
    assert '"radius": 2500' in page and "门店辐射圈 2.5 公里" in page


def test_estate_card_shows_the_estate_and_distance_to_store(app, world, login):
    estate_id = _add(
        app,
        world,
        "卡片小区",
        123.9182,
        47.3633,
        households=2400,
        stage=EstateStage.OPERATING,
        age=EstateAge.NEW,
        competitors="欧派、索菲亚",
    )
    body = login(world.a.usernames[Role.INSTALLER]).get(f"/map/estates/{estate_id}/card").get_data(as_text=True)
    assert "卡片小区" in body and "2,400" in body and "运营中" in body and "欧派、索菲亚" in body
    assert "1.0 公里" in body  # 0.009° north of the store
    assert f'href="/estates/{estate_id}"' in body


@pytest.mark.parametrize("username", ["hq_admin", "hq_viewer"])
def test_hq_sees_every_dealer_on_the_map(app, world, login, username):
    collection = login(username).get("/map/estates.geojson").json
    assert {f["id"] for f in collection["features"]} == {world.a.estate_id, world.b.estate_id}
    assert login(username).get("/map/", query_string={"city_id": world.city_ids["长春"]}).status_code == 200


def test_map_geojson_scales_flat_in_queries(app, world, login, count_queries):
    client = login(world.a.lead)
    with count_queries() as few:
        client.get("/map/estates.geojson")
    for i in range(20):
        _add(app, world, f"批量{i}号", 123.9 + i / 1000, 47.35)
    with count_queries() as many:
        assert len(client.get("/map/estates.geojson").json["features"]) == 21
    assert many.count == few.count


def test_settings_rows_are_private(app, world):
    with app.app_context():
        db.session.add(TrafficMapSettings(dealer_id=world.b.dealer_id, store_ring_m=9999))
        db.session.commit()
        from crm.core.scoping import scoped_to
        from crm.maps.queries import settings_for

        with scoped_to(world.a.dealer_id):
            assert settings_for(db.session, world.b.dealer_id).store_ring_m == 3000
        assert db.session.scalar(sa.select(sa.func.count(Estate.id))) == 2


def test_geojson_is_gzipped_for_clients_that_accept_it(app, world, login):
    import gzip
    import json

    for i in range(30):
        _add(app, world, f"压缩测试{i}号", 123.9 + i / 1000, 47.36)
    client = login(world.a.lead)
    plain = client.get("/map/estates.geojson")
    packed = client.get("/map/estates.geojson", headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert packed.headers["Content-Type"] == "application/geo+json"
    assert len(packed.data) < len(plain.data) / 3
    assert json.loads(gzip.decompress(packed.data)) == plain.json


def test_manual_placement_stores_wgs84_from_the_tiles_datum(app, world, login):
    estate_id = _add(app, world, "待定位小区", None, None)
    _set_tiles(app, world, TileProvider.GAODE)
    client = login(world.a.usernames[Role.ASSISTANT])
    page = client.get(f"/map/estates/{estate_id}/place").get_data(as_text=True)
    assert '"draggable": true' in page and 'id="lng"' in page
    gcj = from_wgs84(123.95, 47.34, CoordSystem.GCJ02)
    response = client.post(f"/map/estates/{estate_id}/place", data={"lng": f"{gcj[0]:.6f}", "lat": f"{gcj[1]:.6f}"})
    assert response.status_code == 302
    with app.app_context():
        estate = db.session.get(Estate, estate_id)
        assert distance_m(estate.lng, estate.lat, 123.95, 47.34) < 0.2
        assert estate.coord_system == CoordSystem.GCJ02


def test_manual_placement_refuses_points_outside_china(app, world, login):
    estate_id = _add(app, world, "待定位小区", None, None)
    client = login(world.a.lead)
    response = client.post(f"/map/estates/{estate_id}/place", data={"lng": "2.35", "lat": "48.85"})
    assert response.status_code == 422
    assert "位置不在中国境内" in response.get_data(as_text=True)
    assert login(world.a.usernames[Role.INSTALLER]).get(f"/map/estates/{estate_id}/place").status_code == 403
    with app.app_context():
        assert db.session.get(Estate, estate_id).lat is None


def test_a_store_name_cannot_break_out_of_the_map_script(app, world, login):
    from crm.org.models import Store

    with app.app_context():
        db.session.get(Store, world.a.store_id).name = "X`);alert(document.domain);(`${1}</script>"
        db.session.commit()
    page = (
        login(world.hq_admin).get("/map/", query_string={"city_id": world.city_ids["齐齐哈尔"]}).get_data(as_text=True)
    )
    assert re.search(r"(?<!\\)`\);alert", page) is None  # every backtick of the name is escaped
    assert "X\\`);alert(document.domain);(\\`\\${1}&lt;/script&gt;" in page
