"""Territory conflicts: the same estate claimed by two dealers is listed for HQ, who gives it to one of them;
the other dealer's copy then leaves the 有盘不做 list."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa

from crm.core.models import local_today
from crm.coverage.models import TerritoryAssignment
from crm.estates.models import EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db

HX = {"HX-Request": "true"}
QQHR = (47.3543, 123.9182)  # lat, lng of 齐齐哈尔's centre
METRES_PER_DEGREE_LAT = 111_195


def _text(response) -> str:
    return response.get_data(as_text=True)


def _estate(app, dealer_id: int, city_id: int, name: str, north_m: float | None = 0, days_ago=None, **fields) -> int:
    """A targeted estate `north_m` metres north of the city centre (None: not positioned)."""
    with app.app_context():
        position = {}
        if north_m is not None:
            position = {"lat": QQHR[0] + north_m / METRES_PER_DEGREE_LAT, "lng": QQHR[1]}
        estate = create_estate(
            db.session,
            dealer_id,
            EstateFields(name=name, city_id=city_id, stage=EstateStage.TARGET, **position, **fields),
        )
        if days_ago is not None:
            estate.targeted_on = local_today() - timedelta(days=days_ago)
        db.session.commit()
        return estate.id


def _cards(page: str) -> list[str]:
    return re.findall(r'<article class="card conflict-card.*?</article>', page, re.S)


def _card(page: str, name: str) -> str:
    return next((card for card in _cards(page) if f"<h2>{name} " in card), "")


def _rulings(app) -> list[tuple[str, int, str]]:
    with app.app_context():
        return [
            (r.name_key, r.dealer_id, r.note)
            for r in db.session.scalars(sa.select(TerritoryAssignment).order_by(TerritoryAssignment.id))
        ]


@pytest.fixture
def city_a(world):
    return world.city_ids["齐齐哈尔"]


def _assign(client, city_id: int, name_key: str, dealer_id, note: str = "", headers=HX):
    return client.post(
        "/hq/coverage/conflicts/assign",
        data={"city_id": city_id, "name_key": name_key, "dealer_id": dealer_id, "note": note},
        headers=headers,
    )


def test_same_name_100_m_apart_is_a_conflict_1_km_apart_is_not(app, world, login, city_a):
    _estate(app, world.a.dealer_id, city_a, "鹤城丽景", north_m=0, district="龙沙区", households=960)
    _estate(app, world.b.dealer_id, city_a, "鹤城 丽景", north_m=100, district="龙沙区", households=980)
    _estate(app, world.a.dealer_id, city_a, "远方花园", north_m=0)
    _estate(app, world.b.dealer_id, city_a, "远方花园", north_m=1000)
    page = _text(login(world.hq_viewer).get("/hq/coverage/conflicts"))
    [card] = _cards(page)
    for expected in (
        "鹤城丽景",
        "鹤城 丽景",
        "齐齐哈尔",
        "AAA",
        "甲经销商",
        "BBB",
        "乙经销商",
        "龙沙区",
        "960",
        "980",
        "位置相距约 100 米",
        "待划归",
    ):
        assert expected in card, expected
    assert "远方花园" not in page
    assert "待划归 1 · 共 1" in page


def test_an_unpositioned_claim_is_judged_by_name(app, world, login, city_a):
    _estate(app, world.a.dealer_id, city_a, "无坐标小区", north_m=None)
    _estate(app, world.b.dealer_id, city_a, "无坐标小区", north_m=None)
    card = _card(_text(login(world.hq_viewer).get("/hq/coverage/conflicts")), "无坐标小区")
    assert "未定位：只按名称判断" in card and card.count("<td>未定位</td>") == 2


def test_no_conflicts(app, world, login):
    page = _text(login(world.hq_admin).get("/hq/coverage/conflicts"))
    assert "没有归属冲突" in page and "待划归 0 · 共 0" in page


def test_assigning_records_the_ruling_and_the_losers_estate_leaves_the_neglected_list(app, world, login, city_a):
    a_copy = _estate(app, world.a.dealer_id, city_a, "鹤城丽景", north_m=0, days_ago=40)
    b_copy = _estate(app, world.b.dealer_id, city_a, "鹤城丽景", north_m=100, days_ago=40)
    client = login(world.hq_admin)
    neglected = _text(client.get("/hq/coverage/neglected"))
    assert f'id="candidate-{a_copy}"' in neglected and f'id="candidate-{b_copy}"' in neglected

    response = _assign(client, city_a, "鹤城丽景", world.a.dealer_id, "甲方先报备")
    assert response.status_code == 200
    card = _text(response)
    assert "<html" not in card and card.lstrip().startswith('<article class="card conflict-card is-resolved"')
    assert "划归：甲经销商" in card and "甲方先报备" in card and "总部管理员" in card and "已保存划归" in card
    assert _rulings(app) == [("鹤城丽景", world.a.dealer_id, "甲方先报备")]

    page = _text(client.get("/hq/coverage/conflicts"))
    assert "已划归" in _card(page, "鹤城丽景") and "待划归 0 · 共 1" in page
    neglected = _text(client.get("/hq/coverage/neglected"))
    assert f'id="candidate-{a_copy}"' in neglected  # the winner still has to build a group
    assert f'id="candidate-{b_copy}"' not in neglected


def test_a_ruling_can_be_changed_and_the_latest_stands(app, world, login, city_a):
    a_copy = _estate(app, world.a.dealer_id, city_a, "鹤城丽景", days_ago=40)
    b_copy = _estate(app, world.b.dealer_id, city_a, "鹤城丽景", days_ago=40)
    client = login(world.hq_admin)
    assert _assign(client, city_a, "鹤城丽景", world.a.dealer_id, headers={}).status_code == 302
    response = _assign(client, city_a, "鹤城丽景", world.b.dealer_id, "乙方已进群", headers={})
    assert response.status_code == 302 and response.headers["Location"].endswith("/hq/coverage/conflicts")
    page = _text(client.get("/hq/coverage/conflicts"))
    assert "已划归：乙经销商 负责该楼盘" in page
    assert "划归：乙经销商" in _card(page, "鹤城丽景") and "乙方已进群" in _card(page, "鹤城丽景")
    assert [dealer for _, dealer, _ in _rulings(app)] == [world.a.dealer_id, world.b.dealer_id]
    neglected = _text(client.get("/hq/coverage/neglected"))
    assert f'id="candidate-{b_copy}"' in neglected and f'id="candidate-{a_copy}"' not in neglected


def test_unresolved_conflicts_come_first(app, world, login, city_a):
    for name in ("甲盘", "乙盘"):
        _estate(app, world.a.dealer_id, city_a, name)
        _estate(app, world.b.dealer_id, city_a, name)
    client = login(world.hq_admin)
    assert _assign(client, city_a, "甲盘", world.a.dealer_id).status_code == 200
    names = [re.search(r"<h2>(\S+) ", card).group(1) for card in _cards(_text(client.get("/hq/coverage/conflicts")))]
    assert names == ["乙盘", "甲盘"]


def test_only_a_claiming_dealer_can_be_given_the_estate(app, world, login, city_a):
    from crm.org.models import Brand
    from crm.org.service import DealerFields, create_dealer

    _estate(app, world.a.dealer_id, city_a, "鹤城丽景")
    _estate(app, world.b.dealer_id, city_a, "鹤城丽景")
    with app.app_context():
        brand = db.session.scalars(sa.select(Brand)).first()
        outsider = create_dealer(db.session, brand, DealerFields(code="CCC", name="丙经销商", city_id=city_a)).id
        db.session.commit()
    client = login(world.hq_admin)
    refused = _assign(client, city_a, "鹤城丽景", outsider)
    assert refused.status_code == 422 and "只能划归给申报了该楼盘的经销商" in _text(refused)
    assert "<html" not in _text(refused) and "鹤城丽景" in _text(refused)
    missing = _assign(client, city_a, "鹤城丽景", "")
    assert missing.status_code == 422 and "请选择经销商" in _text(missing)
    plain = _assign(client, city_a, "鹤城丽景", outsider, headers={})
    assert plain.status_code == 422 and "只能划归给申报了该楼盘的经销商" in _text(plain)
    gone = _assign(client, city_a, "没有冲突的楼盘", world.a.dealer_id)
    assert gone.status_code == 422 and "这个楼盘已没有归属冲突，请刷新页面" in _text(gone)
    assert _rulings(app) == []


def test_hq_viewer_sees_conflicts_but_cannot_assign(app, world, login, city_a):
    _estate(app, world.a.dealer_id, city_a, "鹤城丽景")
    _estate(app, world.b.dealer_id, city_a, "鹤城丽景")
    client = login(world.hq_viewer)
    page = _text(client.get("/hq/coverage/conflicts"))
    assert "鹤城丽景" in page and 'name="dealer_id"' not in page
    assert _assign(client, city_a, "鹤城丽景", world.a.dealer_id).status_code == 403
    assert _rulings(app) == []
