"""Estate list, filters, create/edit with validation, inline stage changes, floor plans."""

from __future__ import annotations

import io
import re
from datetime import date

import sqlalchemy as sa
from PIL import Image

from crm.core.roles import Role
from crm.estates.models import Estate, EstateAge, EstateStage, FloorPlan
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from tests.factories import jpeg_with_gps_bytes, png_bytes


def _errors(response) -> list[str]:
    return re.findall(r'class="error" role="alert">([^<]+)<', response.get_data(as_text=True))


def _add_estates(app, world, specs):
    with app.app_context():
        for name, stage, district, age in specs:
            create_estate(
                db.session,
                world.a.dealer_id,
                EstateFields(name=name, city_id=world.city_ids["齐齐哈尔"], stage=stage, district=district, age=age),
            )
        db.session.commit()


def _estate_count(app) -> int:
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count(Estate.id)))


def _valid_form(world, **changes):
    data = {
        "name": "碧桂园天玺",
        "city_id": str(world.city_ids["齐齐哈尔"]),
        "district": "龙沙区",
        "address": "卜奎大街 1 号",
        "coord_system": "wgs84",
        "lng": "123.95",
        "lat": "47.34",
        "households": "1800",
        "delivery_date": "2026-09-01",
        "age": "new",
        "finish": "rough",
        "avg_price": "7200",
        "developer": "碧桂园",
        "source": "房天下",
        "stage": "target",
        "notes": "",
    }
    data.update(changes)
    return data


def test_list_filters_by_stage_district_age_and_name(app, world, login):
    _add_estates(
        app,
        world,
        [
            ("万达华府", EstateStage.OPERATING, "龙沙区", EstateAge.NEW),
            ("恒大名都", EstateStage.OPERATING, "建华区", EstateAge.OLD),
            ("保利公园里", EstateStage.ABANDONED, "龙沙区", EstateAge.NEW),
        ],
    )
    client = login(world.a.usernames[Role.OPERATOR])

    def names(**args):
        body = client.get("/estates/", query_string=args).get_data(as_text=True)
        return {n for n in ("万达华府", "恒大名都", "保利公园里", world.a.estate_name) if f">{n}</a>" in body}

    assert names() == {"万达华府", "恒大名都", "保利公园里", world.a.estate_name}
    assert names(stage="operating") == {"万达华府", "恒大名都"}
    assert names(stage="operating", district="龙沙区") == {"万达华府"}
    assert names(age="old") == {"恒大名都"}
    assert names(q="公园") == {"保利公园里"}
    assert names(q=" 万达 华府 ") == {"万达华府"}  # spaces do not matter
    assert names(city_id=world.city_ids["长春"]) == set()
    assert names(stage="no-such-stage") == names()  # a bad filter value is ignored, not an error


def test_htmx_filter_returns_only_the_results_partial(app, world, login):
    client = login(world.a.lead)
    response = client.get("/estates/", query_string={"stage": "target"}, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "<html" not in body
    assert world.a.estate_name in body
    assert "共 1 个楼盘" in body


def test_district_choices_follow_the_city_filter(app, world, login):
    with app.app_context():
        create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(name="长春南关小区", city_id=world.city_ids["长春"], district="南关区"),
        )
        db.session.commit()
    client = login(world.a.lead)
    everything = client.get("/estates/").get_data(as_text=True)
    assert '<option value="南关区"' in everything and '<option value="测试区"' in everything
    response = client.get("/estates/", query_string={"city_id": world.city_ids["长春"]}, headers={"HX-Request": "true"})
    body = response.get_data(as_text=True)
    district_select = body.split('<select id="district" name="district" hx-swap-oob="true">')[1].split("</select>")[0]
    assert '<option value="南关区"' in district_select
    assert '<option value="测试区"' not in district_select


def test_list_paginates(app, world, login):
    app.config["ESTATES_PER_PAGE"] = 2
    try:
        _add_estates(app, world, [(f"分页测试{i}号院", EstateStage.TARGET, "", None) for i in range(4)])
        client = login(world.a.lead)
        first = client.get("/estates/").get_data(as_text=True)
        assert "第 1 / 3 页" in first
        third = client.get("/estates/?page=3").get_data(as_text=True)
        assert third.count('<tr id="estate-') == 1
        beyond = client.get("/estates/?page=99")
        assert beyond.status_code == 200
    finally:
        app.config["ESTATES_PER_PAGE"] = 25


def test_create_estate_stores_wgs84_and_shows_it(app, world, login):
    client = login(world.a.usernames[Role.OPERATOR])
    response = client.post("/estates/new", data=_valid_form(world, coord_system="bd09", lng="123.9621", lat="47.3496"))
    assert response.status_code == 302
    detail = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "碧桂园天玺" in detail and "1,800" in detail and "2026-09" in detail
    with app.app_context():
        estate = db.session.scalars(sa.select(Estate).where(Estate.name == "碧桂园天玺")).one()
        assert estate.dealer_id == world.a.dealer_id
        assert estate.coord_system.value == "bd09"
        # BD-09 sits ~1.3 km north-east of WGS-84 here: the stored point moved back south-west.
        assert estate.lng < 123.9621 - 0.005 and estate.lat < 47.3496 - 0.003
        assert estate.delivery_date == date(2026, 9, 1)


def test_delivery_month_is_typed_as_a_month(app, world, login):
    client = login(world.a.lead)
    for typed, name in (("2027-06", "月份甲"), ("2027年6月", "月份乙"), ("2027/6", "月份丙")):
        assert client.post("/estates/new", data=_valid_form(world, name=name, delivery_date=typed)).status_code == 302
    bad = client.post("/estates/new", data=_valid_form(world, name="月份丁", delivery_date="2027-13"))
    assert bad.status_code == 422 and any("月份不正确" in e for e in _errors(bad))
    with app.app_context():
        dates = set(db.session.scalars(sa.select(Estate.delivery_date).where(Estate.name.like("月份%"))))
        assert dates == {date(2027, 6, 1)}
        estate_id = db.session.scalar(sa.select(Estate.id).where(Estate.name == "月份甲"))
    assert 'value="2027-06"' in client.get(f"/estates/{estate_id}/edit").get_data(as_text=True)


def test_edit_form_shows_coordinates_as_they_were_entered(app, world, login):
    client = login(world.a.lead)
    client.post("/estates/new", data=_valid_form(world, coord_system="gcj02", lng="123.961234", lat="47.349876"))
    with app.app_context():
        estate_id = db.session.scalar(sa.select(Estate.id).where(Estate.name == "碧桂园天玺"))
    form = client.get(f"/estates/{estate_id}/edit").get_data(as_text=True)
    assert 'value="123.961234"' in form and 'value="47.349876"' in form


def test_bad_input_rerenders_with_chinese_messages_and_saves_nothing(app, world, login):
    client = login(world.a.lead)
    before = _estate_count(app)
    cases = [
        ({"name": ""}, "请填写楼盘名称"),
        ({"households": "-5"}, "户数不能小于 0"),
        ({"households": "很多"}, "请输入整数"),
        ({"lat": "91"}, "纬度应在 -90 到 90 之间"),
        ({"lng": "181"}, "经度应在 -180 到 180 之间"),
        ({"lat": "", "lng": "123.9"}, "经度和纬度需要同时填写"),
        ({"delivery_date": "明年五月"}, "日期格式不正确"),
        ({"delivery_date": "2026-02-30"}, "日期格式不正确"),
        ({"city_id": "99999"}, None),
        ({"stage": "bogus"}, None),
    ]
    for changes, message in cases:
        response = client.post("/estates/new", data=_valid_form(world, **changes))
        assert response.status_code == 422, changes
        if message:
            assert any(message in e for e in _errors(response)), (changes, _errors(response))
        assert "本次未保存" in response.get_data(as_text=True)
    assert _estate_count(app) == before


def test_duplicate_name_in_the_same_city_is_refused(app, world, login):
    client = login(world.a.lead)
    response = client.post("/estates/new", data=_valid_form(world, name=world.a.estate_name))
    assert response.status_code == 422
    assert "本经销商在该城市已有同名楼盘" in _errors(response)
    # Width, case and spacing variants are the same estate.
    response = client.post(
        "/estates/new", data=_valid_form(world, name=" " + world.a.estate_name.replace("花园", " 花园"))
    )
    assert response.status_code == 422
    # Another dealer may survey the same estate; so may this dealer in another city.
    other = login(world.b.lead)
    assert other.post("/estates/new", data=_valid_form(world, name=world.a.estate_name)).status_code == 302
    assert (
        client.post(
            "/estates/new", data=_valid_form(world, name=world.a.estate_name, city_id=str(world.city_ids["长春"]))
        ).status_code
        == 302
    )


def test_edit_estate_and_rename_conflict(app, world, login):
    client = login(world.a.lead)
    client.post("/estates/new", data=_valid_form(world, name="融创壹号院"))
    response = client.post(f"/estates/{world.a.estate_id}/edit", data=_valid_form(world, name="融创壹号院"))
    assert response.status_code == 422
    response = client.post(
        f"/estates/{world.a.estate_id}/edit", data=_valid_form(world, name="甲方专属花园二期", households="900")
    )
    assert response.status_code == 302
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        assert (estate.name, estate.households) == ("甲方专属花园二期", 900)


def test_inline_stage_change_returns_the_row(app, world, login):
    client = login(world.a.usernames[Role.ASSISTANT])
    response = client.post(
        f"/estates/{world.a.estate_id}/stage", data={"stage": "has_group"}, headers={"HX-Request": "true"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert body.strip().startswith(f'<tr id="estate-{world.a.estate_id}"')
    assert '<option value="has_group" selected>' in body
    with app.app_context():
        assert db.session.get(Estate, world.a.estate_id).stage == EstateStage.HAS_GROUP
    assert client.post(f"/estates/{world.a.estate_id}/stage", data={"stage": "nonsense"}).status_code == 400


def test_installer_reads_estates_but_cannot_change_them(app, world, login):
    client = login(world.a.usernames[Role.INSTALLER])
    assert client.get("/estates/").status_code == 200
    assert client.get(f"/estates/{world.a.estate_id}").status_code == 200
    list_page = client.get("/estates/").get_data(as_text=True)
    assert "新建楼盘" not in list_page
    for method, url in [
        ("GET", "/estates/new"),
        ("POST", "/estates/new"),
        ("GET", f"/estates/{world.a.estate_id}/edit"),
        ("POST", f"/estates/{world.a.estate_id}/stage"),
        ("POST", f"/estates/{world.a.estate_id}/floor-plans"),
        ("POST", f"/estates/floor-plans/{world.a.floor_plan_id}/delete"),
    ]:
        response = client.open(url, method=method, data={"stage": "operating", "name": "x"})
        assert response.status_code == 403, url
        assert "没有权限" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Estate, world.a.estate_id).stage == EstateStage.TARGET


def test_hq_sees_all_dealers_estates_but_cannot_edit(app, world, login):
    client = login(world.hq_viewer)
    body = client.get("/estates/").get_data(as_text=True)
    assert world.a.estate_name in body and world.b.estate_name in body
    only_b = client.get("/estates/", query_string={"dealer_id": world.b.dealer_id}).get_data(as_text=True)
    assert world.b.estate_name in only_b and world.a.estate_name not in only_b
    assert login(world.hq_admin).get("/estates/new").status_code == 403


def test_add_floor_plan_with_a_real_photo_strips_gps(app, world, login, upload_folder):
    client = login(world.a.usernames[Role.DESIGNER])
    response = client.post(
        f"/estates/{world.a.estate_id}/floor-plans",
        data={
            "name": "B户型 三室两厅",
            "area_m2": "118.5",
            "rooms": "3",
            "unit_count": "120",
            "image": (io.BytesIO(jpeg_with_gps_bytes()), "plan.jpg", "image/jpeg"),
        },
        headers={"HX-Request": "true"},
        content_type="multipart/form-data",
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 200, body
    assert "B户型 三室两厅" in body and "118.50 ㎡" in body
    with app.app_context():
        plan = db.session.scalars(sa.select(FloorPlan).where(FloorPlan.name == "B户型 三室两厅")).one()
        plan_id, image_path = plan.id, plan.image_path
    stored = upload_folder / image_path
    with Image.open(stored) as image:
        assert image.format == "JPEG"
        assert not image.getexif()  # EXIF, GPS included, is gone
    image_response = client.get(f"/estates/floor-plans/{plan_id}/image")
    assert image_response.status_code == 200
    assert image_response.data == stored.read_bytes()
    image_response.close()


def test_floor_plan_rejects_non_images_and_bad_numbers(app, world, login):
    client = login(world.a.lead)
    response = client.post(
        f"/estates/{world.a.estate_id}/floor-plans",
        data={"name": "假图片", "image": (io.BytesIO(b"%PDF-1.4 not an image"), "plan.png", "image/png")},
        headers={"HX-Request": "true"},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    assert "无法识别的图片" in response.get_data(as_text=True)
    response = client.post(
        f"/estates/{world.a.estate_id}/floor-plans",
        data={"name": "负面积", "area_m2": "-3"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 422
    assert "面积应在 1 到 100000 ㎡ 之间" in response.get_data(as_text=True)
    response = client.post(
        f"/estates/{world.a.estate_id}/floor-plans",
        data={"name": world.a.floor_plan_name},
        headers={"HX-Request": "true"},
    )
    assert "该楼盘已有同名户型" in response.get_data(as_text=True)
    with app.app_context():
        assert (
            db.session.scalar(sa.select(sa.func.count(FloorPlan.id)).where(FloorPlan.estate_id == world.a.estate_id))
            == 1
        )


def test_floor_plan_upload_without_htmx_redirects_back(app, world, login):
    client = login(world.a.lead)
    response = client.post(
        f"/estates/{world.a.estate_id}/floor-plans",
        data={"name": "C户型", "image": (io.BytesIO(png_bytes()), "c.png", "image/png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    assert "C户型" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_delete_floor_plan_removes_row_and_file(app, world, login, upload_folder):
    with app.app_context():
        image_path = db.session.get(FloorPlan, world.a.floor_plan_id).image_path
    assert (upload_folder / image_path).exists()
    client = login(world.a.lead)
    response = client.post(f"/estates/floor-plans/{world.a.floor_plan_id}/delete", headers={"HX-Request": "true"})
    assert response.status_code == 200
    assert world.a.floor_plan_name not in response.get_data(as_text=True)
    assert not (upload_folder / image_path).exists()


def test_estate_list_query_count_does_not_grow_with_rows(app, world, login, count_queries):
    client = login(world.a.lead)
    with count_queries() as few:
        client.get("/estates/")
    _add_estates(app, world, [(f"查询计数{i}号", EstateStage.TARGET, "龙沙区", None) for i in range(15)])
    with count_queries() as many:
        client.get("/estates/")
    assert many.count == few.count, many.statements


def test_home_and_admin_pages_query_count_is_flat(app, world, login, count_queries):
    """HQ pages list every dealer: adding dealers, stores and users must not add queries."""
    client = login(world.hq_admin)
    urls = ["/", "/dealers/", "/users/", f"/dealers/{world.a.dealer_id}"]
    before = {}
    for url in urls:
        with count_queries() as counter:
            assert client.get(url).status_code == 200
        before[url] = counter.count
    from crm.core.scoping import unscoped
    from crm.org.models import Brand
    from tests.factories import build_dealer

    with app.app_context(), unscoped():
        from crm.estates.models import City

        brand = db.session.scalars(sa.select(Brand)).first()
        city = db.session.get(City, world.city_ids["长春"])
        for i in range(3):
            build_dealer(db.session, brand, f"EXTRA{i}", f"追加经销商{i}", city, f"追加{i}", "test-password-1")
        db.session.commit()
    for url in urls:
        with count_queries() as counter:
            client.get(url)
        assert counter.count == before[url], (url, counter.statements)
