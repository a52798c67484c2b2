"""The city traffic-map PDF (GET /map/print.pdf): what each user may print, and what the printout shows."""

from __future__ import annotations

from datetime import date

import pytest
from PIL import Image

from crm.core.roles import DEALER_ROLES, Role
from crm.estates.models import EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.maps.models import TrafficMapSettings
from tests.pdf import poppler


def _add(app, dealer_id, city_id, name, lng=None, lat=None, **fields):
    with app.app_context():
        create_estate(db.session, dealer_id, EstateFields(name=name, city_id=city_id, lng=lng, lat=lat, **fields))
        db.session.commit()


def _get_pdf(client, **query) -> bytes:
    response = client.get("/map/print.pdf", query_string=query)
    assert response.status_code == 200, response.status_code
    assert response.mimetype == "application/pdf"
    return response.data


@pytest.fixture
def qqhr(app, world):
    """Dealer A's city with a few more estates, and one of dealer B's in the same city."""
    city_id = world.city_ids["齐齐哈尔"]
    _add(app, world.a.dealer_id, city_id, "龙沙一号", 123.95, 47.34, district="龙沙区", households=2400,
         delivery_date=date(2026, 9, 1), stage=EstateStage.OPERATING)  # fmt: skip
    _add(app, world.a.dealer_id, city_id, "<script>alert(1)</script>&华府", 123.90, 47.37, district="建华区",
         households=800, stage=EstateStage.HAS_GROUP)  # fmt: skip
    _add(app, world.a.dealer_id, city_id, "待定位小区", district="铁锋区")
    _add(app, world.b.dealer_id, city_id, "乙方齐市小区", 123.93, 47.36, district="龙沙区", households=900)
    return city_id


def test_a_dealer_prints_its_own_estates_only(app, world, login, qqhr):
    pdf = _get_pdf(login(world.a.lead))
    info = poppler.info(pdf)
    assert info["Page size"].startswith("1190.55 x 841.89 pts")  # A3 landscape
    assert info["Pages"] == "2"
    text = poppler.text(pdf)
    for name in (world.a.estate_name, "龙沙一号", "<script>alert(1)</script>&华府", "待定位小区", world.a.store_name):
        assert name in text, name
    for marker in [*world.b.markers(), "乙方齐市小区"]:
        assert marker not in text, marker
    map_page = poppler.text(pdf, page=1)
    assert "龙沙一号" in map_page and "待定位小区" not in map_page  # the map shows positioned estates only
    table = poppler.squeezed(poppler.text(pdf, page=2, layout=True))
    assert "龙沙一号龙沙区2,4002026-09运营中" in table
    assert "未定位待定位小区铁锋区" in table
    assert "#楼盘名称区域户数交房时间阶段1" in table  # one dealer: no dealer column
    assert "楼盘流量地图·齐齐哈尔·甲经销商" in poppler.squeezed(poppler.text(pdf, page=2))


def test_a_dealer_cannot_print_another_dealers_city_or_estates(app, world, login, qqhr):
    client = login(world.a.lead)
    for query in ({"city_id": world.city_ids["长春"]}, {"dealer_id": world.b.dealer_id}, {"city_id": 99999}):
        text = poppler.text(_get_pdf(client, **query))
        for marker in [*world.b.markers(), "乙方齐市小区"]:
            assert marker not in text, (query, marker)


@pytest.mark.parametrize("role", DEALER_ROLES, ids=lambda r: r.value)
def test_every_dealer_role_may_print_and_sees_no_other_dealer(app, world, login, qqhr, role):
    text = poppler.text(_get_pdf(login(world.a.usernames[role]), city_id=qqhr, dealer_id=world.b.dealer_id))
    assert world.a.estate_name in text
    assert "乙方齐市小区" not in text and world.b.dealer_name not in text


@pytest.mark.parametrize("username", ["hq_admin", "hq_viewer"])
def test_hq_prints_every_dealer_with_a_dealer_column(app, world, login, qqhr, username):
    client = login(username)
    pdf = _get_pdf(client, city_id=qqhr)
    text = poppler.text(pdf)
    assert world.a.estate_name in text and "乙方齐市小区" in text
    assert "#楼盘名称区域户数交房时间阶段经销商" in poppler.squeezed(poppler.text(pdf, page=2, layout=True))
    assert world.a.dealer_name in text and world.b.dealer_name in text
    assert "楼盘流量地图·齐齐哈尔·总部" in poppler.squeezed(text)

    only_b = poppler.text(_get_pdf(client, city_id=qqhr, dealer_id=world.b.dealer_id))
    assert "乙方齐市小区" in only_b and world.a.estate_name not in only_b
    assert "乙经销商" in only_b  # in the header, instead of a dealer column

    changchun = poppler.text(_get_pdf(client, city_id=world.city_ids["长春"]))
    assert world.b.estate_name in changchun and world.a.estate_name not in changchun


def test_filters_of_the_map_page_apply(app, world, login, qqhr):
    text = poppler.text(_get_pdf(login(world.a.lead), district="龙沙区", delivery_from="2026-01"))
    assert "龙沙一号" in text
    assert world.a.estate_name not in text and "待定位小区" not in text
    assert "区域龙沙区" in poppler.squeezed(text)


def test_estate_names_are_text_in_an_embedded_font_and_page_one_is_a_map(app, world, login, qqhr, tmp_path):
    pdf = _get_pdf(login(world.a.usernames[Role.INSTALLER]))
    for font in poppler.fonts(pdf):
        assert "Noto-Sans-SC" in font["name"] and font["emb"] == font["sub"] == "yes", font

    png = poppler.page_png(pdf, tmp_path / "page1", dpi=50)
    assert png.exists() and png.stat().st_size > 15_000
    with Image.open(png) as image:
        assert image.size == (827, 585)  # A3 landscape at 50 dpi
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert len(colours) > 200  # circles, rings, labels: not a blank page
    stage_green = sum(count for count, rgb in colours if _near(rgb, (0x2F, 0x9E, 0x44)))
    assert stage_green > 20  # the 运营中 estate's green circle is drawn


def _near(rgb, target, tolerance=24) -> bool:
    return all(abs(a - b) <= tolerance for a, b in zip(rgb, target, strict=True))


def test_the_file_name_and_headers(app, world, login, qqhr):
    response = login(world.a.lead).get("/map/print.pdf")
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''%E6%A5%BC%E7%9B%98%E6%B5%81%E9%87%8F%E5%9C%B0%E5%9B%BE-%E9%BD%90%E9%BD%90" in disposition
    assert response.headers["Cache-Control"] == "private"


def test_store_rings_follow_each_dealers_setting(app, world, login, qqhr):
    with app.app_context():
        db.session.add(TrafficMapSettings(dealer_id=world.a.dealer_id, store_ring_m=2500))
        db.session.commit()
    text = poppler.squeezed(poppler.text(_get_pdf(login(world.a.lead)), page=1))
    assert "门店辐射圈2.5公里" in text


def test_the_map_page_links_to_the_pdf_with_its_filters(app, world, login, qqhr):
    page = login(world.a.lead).get("/map/", query_string={"district": "龙沙区"}).get_data(as_text=True)
    assert f'href="/map/print.pdf?city_id={qqhr}&amp;district=%E9%BE%99%E6%B2%99%E5%8C%BA"' in page
    assert "下载地图 PDF" in page


def test_a_second_download_comes_from_the_cache(app, world, login, qqhr, monkeypatch):
    from crm.pdf import engine

    calls = []
    real = engine._write_pdf
    monkeypatch.setattr(engine, "_write_pdf", lambda html: calls.append(1) or real(html))
    client = login(world.a.lead)
    assert _get_pdf(client) == _get_pdf(client)
    assert len(calls) == 1


def test_an_unknown_city_prints_an_empty_map(app, world, login):
    text = poppler.text(_get_pdf(login(world.hq_admin), city_id=99999))
    assert "没有符合条件且已定位的楼盘" in text
    assert world.a.estate_name not in text and world.b.estate_name not in text


def test_queries_stay_flat_as_estates_grow(app, world, login, count_queries):
    client = login(world.a.lead)
    with count_queries() as few:
        _get_pdf(client)
    for i in range(25):
        _add(app, world.a.dealer_id, world.city_ids["齐齐哈尔"], f"批量{i}号", 123.9 + i / 500, 47.35 + i / 900)
    with count_queries() as many:
        assert "批量24号" in poppler.text(_get_pdf(client))
    assert many.count == few.count
