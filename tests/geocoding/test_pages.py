"""The batch page as staff use it: list, start, htmx polling until finished, no-JS fallback, permissions."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.estates.models import Estate
from crm.extensions import db
from tests.geocoding.conftest import add_estates, login_to

HTMX = {"HX-Request": "true"}


class _FormFields(HTMLParser):
    """The hidden inputs of the batch's next-step form (the one carrying a cursor)."""

    def __init__(self):
        super().__init__()
        self.forms: list[dict] = []
        self._current: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._current = {"_attrs": attrs, "fields": {}}
            self.forms.append(self._current)
        elif tag == "input" and self._current is not None and attrs.get("type") == "hidden":
            self._current["fields"][attrs["name"]] = attrs.get("value", "")

    def handle_endtag(self, tag):
        if tag == "form":
            self._current = None


def _next_step(body: str) -> dict | None:
    parser = _FormFields()
    parser.feed(body)
    steps = [form for form in parser.forms if "cursor" in form["fields"]]
    assert len(steps) <= 1
    return steps[0] if steps else None


def _qiqihar(app, world, specs) -> list[int]:
    return add_estates(app, world.a.dealer_id, world.city_ids["齐齐哈尔"], specs)


def _positions(app, ids) -> dict[int, tuple]:
    with app.app_context():
        rows = db.session.execute(sa.select(Estate.id, Estate.lng, Estate.lat).where(Estate.id.in_(ids))).all()
    return {row.id: (row.lng, row.lat) for row in rows}


def _seven_estates(app, world, stub) -> list[int]:
    """Seven estates of dealer A; the stub knows five addresses."""
    ids = _qiqihar(app, world, [(f"测试小区{n}", "龙沙区", f"测试路{n}号") for n in range(7)])
    for n in (0, 1, 3, 4, 6):
        stub.add(f"中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 测试路{n}号", 123.9 + n / 100, 47.3)
    return ids


def test_the_page_lists_estates_without_position_with_links_to_place_them(geo_app, world, stub):
    [estate_id] = _qiqihar(geo_app, world, [("未定位小区", "龙沙区", "测试路1号")])
    client = login_to(geo_app, world.a.usernames[Role.OPERATOR])

    body = client.get("/geocoding/").get_data(as_text=True)

    assert "未定位小区" in body
    assert f'href="/estates/{estate_id}/edit"' in body
    assert "开始批量定位（1 个楼盘）" in body
    assert world.a.estate_name not in body  # it has a position already
    assert stub.count == 0  # showing the page asks nobody


def test_a_batch_runs_through_htmx_polling_until_finished(make_app, world, stub):
    app = make_app(
        GEOCODER_DOMAIN=stub.domain, GEOCODER_SCHEME="http", GEOCODER_MIN_DELAY_SECONDS=0, GEOCODER_BATCH_SIZE=3
    )
    ids = _seven_estates(app, world, stub)
    client = login_to(app, world.a.usernames[Role.OPERATOR])

    response = client.post("/geocoding/batch", data={}, headers=HTMX)
    steps = 1
    while (form := _next_step(response.get_data(as_text=True))) is not None:
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert body.lstrip().startswith('<section id="geocode-batch"')  # the partial, not the page
        assert "load delay:" in form["_attrs"]["hx-trigger"]  # polls by itself
        assert 'hx-swap-oob="beforeend:#geocode-log"' in body  # this step's results go under the last ones
        response = client.post("/geocoding/batch", data=form["fields"], headers=HTMX)
        steps += 1
        assert steps < 10

    body = response.get_data(as_text=True)
    assert steps == 3
    assert "批量定位完成" in body
    assert "已处理 7 / 7 个楼盘" in body
    numbers = re.findall(r'<span class="num">(\d+)</span><span class="label">([^<]+)</span>', body)
    assert numbers == [("5", "已定位"), ("2", "未找到"), ("0", "失败")]
    # What is left to place by hand, with links to do it.
    for missing in (2, 5):
        assert f"测试小区{missing}" in body
        assert f'href="/estates/{ids[missing]}/edit"' in body
    assert "重试定位失败的楼盘" not in body  # not-found answers are remembered: nothing to retry
    positions = _positions(app, ids)
    assert [n for n, estate_id in enumerate(ids) if positions[estate_id][0] is not None] == [0, 1, 3, 4, 6]
    assert len(stub.queries) == 7


def test_failed_estates_are_listed_and_retried_later(geo_app, world, stub):
    ids = _qiqihar(geo_app, world, [("甲方小区", "龙沙区", "测试路1号"), ("乙方楼盘", "龙沙区", "测试路2号")])
    stub.add("中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 测试路1号", 123.9, 47.3)
    stub.add("中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 测试路2号", 123.8, 47.2)
    stub.status = 500
    client = login_to(geo_app, world.a.usernames[Role.OPERATOR])

    body = client.post("/geocoding/batch", data={}, headers=HTMX).get_data(as_text=True)

    assert "批量定位完成" in body
    assert body.count("定位服务出错") == 2
    assert _positions(geo_app, ids) == {ids[0]: (None, None), ids[1]: (None, None)}
    assert "重试定位失败的楼盘" in body

    stub.status = 200
    body = client.post("/geocoding/batch", data={}, headers=HTMX).get_data(as_text=True)
    assert "已处理 2 / 2 个楼盘" in body
    assert _positions(geo_app, ids) == {ids[0]: (123.9, 47.3), ids[1]: (123.8, 47.2)}


def test_an_unreachable_provider_pauses_the_batch_until_someone_continues(make_app, world, closed_port):
    app = make_app(GEOCODER_DOMAIN=f"127.0.0.1:{closed_port}", GEOCODER_SCHEME="http", GEOCODER_MIN_DELAY_SECONDS=0)
    _qiqihar(app, world, [(f"测试小区{n}", "龙沙区", f"测试路{n}号") for n in range(3)])
    client = login_to(app, world.a.usernames[Role.OPERATOR])

    body = client.post("/geocoding/batch", data={}, headers=HTMX).get_data(as_text=True)

    assert "批量定位已暂停" in body
    assert "无法连接定位服务" in body
    form = _next_step(body)
    assert form["_attrs"]["hx-trigger"] == "submit"  # no polling against a dead service
    assert form["fields"]["failed"] == "1"


def test_without_javascript_each_step_is_a_page_with_a_continue_button(make_app, world, stub):
    app = make_app(
        GEOCODER_DOMAIN=stub.domain, GEOCODER_SCHEME="http", GEOCODER_MIN_DELAY_SECONDS=0, GEOCODER_BATCH_SIZE=3
    )
    _seven_estates(app, world, stub)
    client = login_to(app, world.a.usernames[Role.OPERATOR])

    response = client.post("/geocoding/batch", data={})
    body = response.get_data(as_text=True)

    assert response.status_code == 200
    assert "<!doctype html>" in body
    assert "已处理 3 / 7 个楼盘" in body
    assert ">继续</button>" in body
    assert 'id="geocode-log"' in body and "测试小区0" in body
    assert "hx-swap-oob" not in body
    form = _next_step(body)
    assert form["fields"]["positioned"] == "2" and form["fields"]["not_found"] == "1"

    body = client.post("/geocoding/batch", data=form["fields"]).get_data(as_text=True)
    assert "已处理 6 / 7 个楼盘" in body


def test_the_batch_never_touches_another_dealers_estates(geo_app, world, stub):
    a_ids = _qiqihar(geo_app, world, [("甲方小区", "龙沙区", "测试路1号")])
    b_ids = add_estates(geo_app, world.b.dealer_id, world.city_ids["长春"], [("乙方小区", "朝阳区", "人民大街1号")])
    stub.add("中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 测试路1号", 123.9, 47.3)
    stub.add("中国, 吉林省, 长春市, 朝阳区, 人民大街1号", 125.3, 43.8)
    client = login_to(geo_app, world.a.usernames[Role.DEALER_LEAD])

    bodies = [client.get("/geocoding/").get_data(as_text=True)]
    response = client.post("/geocoding/batch", data={}, headers=HTMX)
    bodies.append(response.get_data(as_text=True))

    assert "批量定位完成" in bodies[-1]
    assert stub.queries == ["中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 测试路1号"]
    assert _positions(geo_app, a_ids)[a_ids[0]] == (123.9, 47.3)
    assert _positions(geo_app, b_ids)[b_ids[0]] == (None, None)
    for body in bodies:
        assert "乙方小区" not in body
        for marker in world.b.markers():
            assert marker not in body


@pytest.mark.parametrize("who", ["installer", "hq_admin", "hq_viewer"])
def test_installers_and_hq_may_not_geocode(geo_app, world, stub, who):
    ids = _qiqihar(geo_app, world, [("未定位小区", "龙沙区", "测试路1号")])
    stub.add("中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 测试路1号", 123.9, 47.3)
    username = world.a.usernames[Role.INSTALLER] if who == "installer" else getattr(world, who)
    client = login_to(geo_app, username)

    assert client.post("/geocoding/batch", data={}, headers=HTMX).status_code == 403
    assert client.post("/geocoding/batch", data={}).status_code == 403
    assert client.get("/geocoding/").status_code == 403
    assert stub.count == 0
    assert _positions(geo_app, ids)[ids[0]] == (None, None)


def test_baidu_without_a_key_says_so_and_asks_nobody(make_app, world, stub):
    app = make_app(GEOCODER="baidu", BAIDU_AK="", GEOCODER_DOMAIN=stub.domain, GEOCODER_SCHEME="http")
    ids = _qiqihar(app, world, [("未定位小区", "龙沙区", "测试路1号")])
    client = login_to(app, world.a.usernames[Role.OPERATOR])

    page = client.get("/geocoding/")
    step = client.post("/geocoding/batch", data={}, headers=HTMX)

    for response in (page, step):
        body = response.get_data(as_text=True)
        assert response.status_code == 200
        assert "没有配置百度地图密钥（BAIDU_AK）" in body
        assert "开始批量定位" not in body
        assert "未定位小区" in body  # manual placement still works
    assert stub.count == 0
    assert _positions(app, ids)[ids[0]] == (None, None)


def test_a_tampered_step_is_refused(geo_app, world, stub):
    client = login_to(geo_app, world.a.usernames[Role.OPERATOR])
    assert client.post("/geocoding/batch", data={"cursor": "-1"}).status_code == 400
    assert client.post("/geocoding/batch", data={"positioned": "many"}).status_code == 400
    assert stub.count == 0


def test_the_page_runs_the_same_number_of_queries_for_many_estates(geo_app, world, count_queries):
    client = login_to(geo_app, world.a.usernames[Role.OPERATOR])
    _qiqihar(geo_app, world, [("小区0", "龙沙区", "测试路0号")])
    client.get("/geocoding/")
    with count_queries() as few:
        client.get("/geocoding/")
    _qiqihar(geo_app, world, [(f"小区{n}", "龙沙区", f"测试路{n}号") for n in range(1, 20)])
    with count_queries() as many:
        body = client.get("/geocoding/").get_data(as_text=True)
    assert "小区19" in body
    assert many.count == few.count
