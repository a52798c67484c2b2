"""HQ's national coverage map: the page, city bubbles (cities.geojson) and one city's estates."""

from __future__ import annotations

import gzip
import json
import re

import pytest

from crm.core.models import local_today
from crm.core.roles import DEALER_ROLES
from crm.estates.models import EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.groups import service as groups
from crm.groups.models import GroupStatus
from crm.maps.coords import CoordSystem, distance_m, from_wgs84
from crm.org.service import DealerFields, create_dealer, get_or_create_brand

QQHR = (123.9182, 47.3543)  # 齐齐哈尔's centre (lng, lat), as tests/factories.py sets it


def _estate(dealer_id, city_id, name, stage=EstateStage.UNPLANNED, lng=123.95, lat=47.34, households=800):
    return create_estate(
        db.session,
        dealer_id,
        EstateFields(name=name, city_id=city_id, stage=stage, lng=lng, lat=lat, households=households),
    )


def _group(estate, worked_today: bool):
    group = groups.create_group(
        db.session, estate, groups.GroupFields(name=f"{estate.name}群", status=GroupStatus.OPERATING)
    )
    if worked_today:
        groups.record_metrics(db.session, group, local_today(), {"members": 80}, None)
    return group


@pytest.fixture
def seeded(app, world):
    """齐齐哈尔: A's converted world estate, one estate at each other status (one of them unpositioned) and an
    unplanned estate of B; 长春: B's converted world estate."""
    qqhr, cc = world.city_ids["齐齐哈尔"], world.city_ids["长春"]
    with app.app_context():
        a, b = world.a.dealer_id, world.b.dealer_id
        _estate(a, qqhr, "未规划小区")
        _estate(a, qqhr, "目标小区", EstateStage.TARGET, lng=123.96)
        create_estate(db.session, a, EstateFields(name="无坐标目标小区", city_id=qqhr, stage=EstateStage.TARGET))
        _group(_estate(a, qqhr, "有群小区", EstateStage.HAS_GROUP, lng=123.97), worked_today=False)
        operating = _estate(a, qqhr, "运营小区", EstateStage.OPERATING, lng=123.98, households=1500)
        _group(operating, worked_today=True)
        _estate(b, qqhr, "乙方跨城小区", lng=123.90)
        db.session.commit()
        return {"qqhr": qqhr, "cc": cc, "operating": operating.id}


def _features(response) -> dict[str, dict]:
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/geo+json"
    assert response.headers["Cache-Control"] == "private, no-store"
    return {f["properties"].get("name") or f["properties"]["n"]: f for f in response.json["features"]}


def test_cities_carry_counts_per_status_and_dealers(world, login, seeded):
    cities = _features(login(world.hq_viewer).get("/hq/coverage/cities.geojson"))
    assert set(cities) == {"齐齐哈尔", "长春"}
    qqhr = cities["齐齐哈尔"]
    assert qqhr["id"] == seeded["qqhr"]
    assert qqhr["geometry"] == {"type": "Point", "coordinates": list(QQHR)}  # OSM tiles: WGS-84 as stored
    assert qqhr["properties"] == {
        "name": "齐齐哈尔",
        "province": "黑龙江省",
        "estates": 7,  # the unpositioned estate counts too: it is the dealer's all the same
        "dealers": 2,
        "counts": {"unplanned": 2, "target_no_group": 2, "group_idle": 1, "operating": 1, "converted": 1},
    }
    cc = cities["长春"]["properties"]
    assert (cc["province"], cc["estates"], cc["dealers"], cc["counts"]["converted"]) == ("吉林省", 1, 1, 1)


def test_the_dealer_filter_counts_one_dealer(world, login, seeded):
    client = login(world.hq_admin)
    cities = _features(client.get("/hq/coverage/cities.geojson", query_string={"dealer_id": world.b.dealer_id}))
    assert cities["齐齐哈尔"]["properties"]["estates"] == 1
    assert cities["齐齐哈尔"]["properties"]["counts"]["unplanned"] == 1
    assert cities["长春"]["properties"]["estates"] == 1
    estates = client.get(
        f"/hq/coverage/cities/{seeded['qqhr']}/estates.geojson", query_string={"dealer_id": world.b.dealer_id}
    ).json
    assert [f["properties"]["n"] for f in estates["features"]] == ["乙方跨城小区"]
    assert estates["dealers"] == {str(world.b.dealer_id): {"code": "BBB", "name": "乙经销商"}}


def test_gaode_tiles_get_gcj02_positions(app, world, login, seeded):
    app.config["MAP_TILE_PROVIDER"] = "gaode"
    try:
        client = login(world.hq_admin)
        city = _features(client.get("/hq/coverage/cities.geojson"))["齐齐哈尔"]
        estates = _features(client.get(f"/hq/coverage/cities/{seeded['qqhr']}/estates.geojson"))
        page = client.get("/hq/coverage/map").get_data(as_text=True)
    finally:
        app.config["MAP_TILE_PROVIDER"] = "osm"
    assert distance_m(*city["geometry"]["coordinates"], *from_wgs84(*QQHR, CoordSystem.GCJ02)) < 0.2
    assert 300 < distance_m(*city["geometry"]["coordinates"], *QQHR) < 800
    point = estates["运营小区"]["geometry"]["coordinates"]
    assert distance_m(*point, *from_wgs84(123.98, 47.34, CoordSystem.GCJ02)) < 0.2
    assert "webrd0{s}.is.autonavi.com" in page


def test_city_estates_are_compact_with_a_dealer_legend(world, login, seeded):
    response = login(world.hq_viewer).get(f"/hq/coverage/cities/{seeded['qqhr']}/estates.geojson")
    collection = response.json
    estates = _features(response)
    # Positioned estates only: the one without coordinates has no place on a map.
    assert set(estates) == {world.a.estate_name, "未规划小区", "目标小区", "有群小区", "运营小区", "乙方跨城小区"}
    operating = estates["运营小区"]
    assert operating["id"] == seeded["operating"]
    assert operating["geometry"]["coordinates"] == [123.98, 47.34]
    assert operating["properties"] == {"n": "运营小区", "s": "operating", "d": world.a.dealer_id, "h": 1500}
    assert {name: f["properties"]["s"] for name, f in estates.items()} == {
        world.a.estate_name: "converted",
        "未规划小区": "unplanned",
        "目标小区": "target_no_group",
        "有群小区": "group_idle",
        "运营小区": "operating",
        "乙方跨城小区": "unplanned",
    }
    assert collection["city"] == {"id": seeded["qqhr"], "name": "齐齐哈尔"}
    assert collection["dealers"] == {
        str(world.a.dealer_id): {"code": "AAA", "name": "甲经销商"},
        str(world.b.dealer_id): {"code": "BBB", "name": "乙经销商"},
    }


def test_an_unknown_city_is_404(world, login):
    assert login(world.hq_admin).get("/hq/coverage/cities/999999/estates.geojson").status_code == 404


@pytest.mark.parametrize("role", DEALER_ROLES, ids=lambda r: r.value)
def test_dealer_users_get_403_everywhere(world, login, role):
    client = login(world.a.usernames[role])
    city_id = world.city_ids["齐齐哈尔"]
    for url in ("/hq/coverage/map", "/hq/coverage/cities.geojson", f"/hq/coverage/cities/{city_id}/estates.geojson"):
        assert client.get(url).status_code == 403, url


def test_the_page_has_tabs_legend_cities_table_and_offline_scripts(world, login, seeded):
    page = login(world.hq_viewer).get("/hq/coverage/map").get_data(as_text=True)
    assert 'aria-current="page">全国地图</a>' in page
    for label in ("未规划", "目标未建群", "有群未运营", "运营中", "已转化"):
        assert label in page
    for colour in ("#9aa5b1", "#e8590c", "#f2c94c", "#2f9e44", "#2f6fde"):
        assert colour in page
    assert page.index("吉林省") < page.index("长春") < page.index("黑龙江省") < page.index("齐齐哈尔")
    assert f'data-city-id="{seeded["qqhr"]}"' in page
    row = re.search(r"齐齐哈尔</a>\s*</th>(.*?)</tr>", page, re.DOTALL).group(1)
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["7", "2", "2", "1", "1", "1"]
    assert "甲经销商" in page and "乙经销商" in page  # the dealer filter
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert [s for s in sources if s.startswith(("http:", "https:", "//"))] == []
    assert "/static/vendor/leaflet.markercluster/leaflet.markercluster.js" in page
    assert "/static/js/coverage-map.js" in page
    assert "cdn" not in page.lower()
    assert "user-scalable=no" not in page


def _init_options(page: str) -> dict:
    return json.loads(re.search(r"PantuCoverageMap\.init\([^,]+, (\{.*?\})\);", page).group(1))


def test_status_texts_come_from_the_server(world, login, seeded):
    options = _init_options(login(world.hq_admin).get("/hq/coverage/map").get_data(as_text=True))
    assert options["texts"]["city"] == "{city}：{count} 个楼盘"
    assert [(s["value"], s["label"]) for s in options["statuses"]][3] == ("operating", "运营中")
    assert options["openCityId"] is None
    assert options["citiesUrl"] == "/hq/coverage/cities.geojson"
    assert options["estatesUrl"] == "/hq/coverage/cities/0/estates.geojson"
    assert options["estateUrl"] == "/hq/coverage/estates/0"


def test_city_id_opens_the_map_on_that_city_and_dealer_id_filters(world, login, seeded):
    client = login(world.hq_admin)
    page = client.get(
        "/hq/coverage/map", query_string={"city_id": seeded["cc"], "dealer_id": world.b.dealer_id}
    ).get_data(as_text=True)
    options = _init_options(page)
    assert options["openCityId"] == seeded["cc"]
    assert options["citiesUrl"] == f"/hq/coverage/cities.geojson?dealer_id={world.b.dealer_id}"
    assert options["estatesUrl"] == f"/hq/coverage/cities/0/estates.geojson?dealer_id={world.b.dealer_id}"
    assert "center: [43.8171, 125.3235]" in page and '"zoom": 11' in page
    assert f'<option value="{world.b.dealer_id}" selected>' in page
    national = client.get("/hq/coverage/map", query_string={"city_id": 999999}).get_data(as_text=True)
    assert _init_options(national)["openCityId"] is None
    assert "center: [35.0, 105.0]" in national and '"zoom": 4' in national


def test_no_personal_data_reaches_the_map(world, login, seeded):
    client = login(world.hq_admin)
    bodies = [
        client.get("/hq/coverage/map").get_data(as_text=True),
        client.get("/hq/coverage/cities.geojson").get_data(as_text=True),
        *(
            client.get(f"/hq/coverage/cities/{city}/estates.geojson").get_data(as_text=True)
            for city in (seeded["qqhr"], seeded["cc"])
        ),
    ]
    assert world.a.estate_name in bodies[2] and world.b.estate_name in bodies[3]
    for dealer in (world.a, world.b):
        private = [
            dealer.person_name,
            dealer.person_phone,
            dealer.group_name,
            *dealer.usernames.values(),
            *dealer.user_display_names.values(),
        ]
        for body in bodies:
            assert not [text for text in private if text in body]
    assert "有群小区群" not in bodies[2] and "运营小区群" not in bodies[2]


def _more_dealers(app, world, count: int, start: int) -> None:
    """`count` more dealers, each with two estates in each of the world's cities, one of them operating."""
    with app.app_context():
        brand = get_or_create_brand(db.session, "测试品牌")
        for n in range(start, start + count):
            dealer = create_dealer(
                db.session, brand, DealerFields(code=f"X{n:03d}", name=f"扩展经销商{n}", city_id=world.city_ids["长春"])
            )
            for city in world.city_ids.values():
                _estate(dealer.id, city, f"扩展{n}号小区{city}", lng=124 + n / 100)
                _group(_estate(dealer.id, city, f"扩展{n}号运营{city}", EstateStage.OPERATING), worked_today=True)
        db.session.commit()


def test_query_counts_do_not_grow_with_dealers_and_estates(app, world, login, count_queries):
    client = login(world.hq_viewer)
    city_url = f"/hq/coverage/cities/{world.city_ids['齐齐哈尔']}/estates.geojson"

    def counted(url):
        with count_queries() as counter:
            response = client.get(url)
        assert response.status_code == 200
        return counter.count, response

    few = [counted("/hq/coverage/cities.geojson")[0], counted(city_url)[0]]
    _more_dealers(app, world, 3, 0)
    _more_dealers(app, world, 5, 3)
    many_cities, cities = counted("/hq/coverage/cities.geojson")
    many_estates, estates = counted(city_url)
    assert [many_cities, many_estates] == few
    assert _features(cities)["齐齐哈尔"]["properties"]["dealers"] == 9
    assert len(estates.json["features"]) == 17 and len(estates.json["dealers"]) == 9


def test_city_estates_are_gzipped_for_clients_that_accept_it(app, world, login):
    _more_dealers(app, world, 4, 0)
    client = login(world.hq_admin)
    url = f"/hq/coverage/cities/{world.city_ids['齐齐哈尔']}/estates.geojson"
    plain = client.get(url)
    packed = client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.data)) == plain.json
