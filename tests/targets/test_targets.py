"""Picking targets: the score, the ranked list, marking targets, and sizing the traffic pool."""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa

from crm.core.models import local_today
from crm.core.roles import Role
from crm.estates.models import Estate, EstateFinish, EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.maps.models import DEFAULT_SCORE_WEIGHTS, TrafficMapSettings
from crm.targets import scoring

TODAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("delivery", "expected"),
    [
        (date(2030, 1, 1), 0.2),  # over two years away
        (date(2028, 6, 1), 0.4),  # 19 months
        (date(2027, 9, 1), 0.7),  # 10 months
        (date(2027, 5, 1), 1.0),  # six months before handover: hottest
        (date(2026, 11, 1), 1.0),
        (date(2026, 8, 1), 1.0),  # three months after handover
        (date(2025, 11, 1), pytest.approx(0.8 - 9 * 0.6 / 21)),  # a year in: decorating fades
        (date(2020, 1, 1), 0.1),  # delivered long ago
    ],
)
def test_delivery_is_hottest_around_handover(delivery, expected):
    assert scoring.delivery_factor(delivery, TODAY).value == expected


def test_factor_curves():
    assert scoring.households_factor(None).value == 0
    assert scoring.households_factor(1000).value == 0.5
    assert scoring.households_factor(5000).value == 1.0
    assert scoring.finish_factor(EstateFinish.ROUGH).value > scoring.finish_factor(EstateFinish.FINISHED).value
    assert scoring.distance_factor(2500).value == 1.0
    assert scoring.distance_factor(6500).value == pytest.approx(0.6)
    assert scoring.distance_factor(20000).value == 0.1
    assert scoring.competitors_factor([]).value == 1.0
    assert scoring.competitors_factor(["欧派", "索菲亚", "尚品宅配"]).value == 0.2
    assert scoring.price_factor(9000, 6000, 12000).value == 0.5
    assert scoring.delivery_factor(date(2027, 2, 1), TODAY).detail == "3 个月后交房"


def test_weighted_total_follows_the_weights():
    factors = {name: scoring.FactorScore(0.0, "") for name in scoring.FACTORS}
    factors["distance"] = scoring.FactorScore(1.0, "")
    only_distance = {name: 0 for name in scoring.FACTORS} | {"distance": 50}
    assert scoring.weighted_total(factors, only_distance) == 100.0
    assert scoring.weighted_total(factors, DEFAULT_SCORE_WEIGHTS) == pytest.approx(100 * 15 / 115, abs=0.1)
    assert scoring.weighted_total(factors, {name: 0 for name in scoring.FACTORS}) == 0.0


def _estates(app, world):
    """A big shell estate next to A's store, handed over soon; and a small finished one far away."""
    city_id = world.city_ids["齐齐哈尔"]
    with app.app_context():
        hot = create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(
                name="热门新盘",
                city_id=city_id,
                lng=123.9190,
                lat=47.3550,
                households=2400,
                delivery_date=local_today().replace(day=1),
                finish=EstateFinish.ROUGH,
                avg_price=9000,
            ),
        )
        cold = create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(
                name="远郊老盘",
                city_id=city_id,
                lng=124.1500,
                lat=47.5000,
                households=300,
                delivery_date=date(2012, 5, 1),
                finish=EstateFinish.FINISHED,
                avg_price=5000,
                competitors="欧派、索菲亚、尚品宅配",
                stage=EstateStage.UNPLANNED,
            ),
        )
        db.session.commit()
        return hot.id, cold.id


def test_ranking_puts_the_hot_estate_first_and_shows_factors(app, world, login):
    hot_id, cold_id = _estates(app, world)
    body = login(world.a.usernames[Role.OPERATOR]).get("/targets/").get_data(as_text=True)
    assert body.index("热门新盘") < body.index(world.a.estate_name) < body.index("远郊老盘")
    assert "本月交房" in body and "毛坯" in body and "欧派、索菲亚、尚品宅配" in body
    assert world.b.estate_name not in body


def _scores(body: str) -> dict[str, int]:
    rows = re.findall(r'<td class="num"><strong>(\d+)</strong></td>\s*<td><a href="/estates/\d+">([^<]+)</a>', body)
    return {name: int(score) for score, name in rows}


def test_weights_change_the_scores(app, world, login):
    _estates(app, world)
    client = login(world.a.lead)
    base = {"join_rate_percent": "30", "conversion_rate_percent": "8", "store_ring_m": "3000", "tile_provider": ""}

    def score_with(factor):
        weights = {f"weight_{name}": "0" for name in scoring.FACTORS} | {f"weight_{factor}": "100"}
        assert client.post("/targets/settings", data={**base, **weights}).status_code == 302
        return _scores(client.get("/targets/").get_data(as_text=True))

    by_price = score_with("price")  # 9000 is the top of the range, 5000 the bottom, A's estate has no price
    assert by_price == {"热门新盘": 100, world.a.estate_name: 50, "远郊老盘": 0}
    by_households = score_with("households")  # 2400, 1200 and 300 of a full 2000
    assert by_households == {"热门新盘": 100, world.a.estate_name: 60, "远郊老盘": 15}
    with app.app_context():
        settings = db.session.scalars(sa.select(TrafficMapSettings)).one()
        assert settings.score_weights["households"] == 100 and settings.score_weights["price"] == 0


def test_marking_targets_moves_only_unplanned_estates_of_the_dealer(app, world, login):
    hot_id, cold_id = _estates(app, world)
    client = login(world.a.lead)
    response = client.post(
        "/targets/mark",
        data={"estate_id": [str(cold_id), str(world.a.estate_id), str(world.b.estate_id)]},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert "已将 1 个楼盘设为目标" in response.get_data(as_text=True)
    with app.app_context():
        stages = dict(db.session.execute(sa.select(Estate.id, Estate.stage)).all())
    assert stages[cold_id] == EstateStage.TARGET
    assert stages[hot_id] == EstateStage.UNPLANNED  # not ticked
    assert stages[world.a.estate_id] == EstateStage.TARGET  # already a target, untouched
    assert stages[world.b.estate_id] == EstateStage.TARGET  # B's: never touched by A
    no_js = client.post("/targets/mark", data={"estate_id": str(hot_id)})
    assert no_js.status_code == 302


def test_traffic_pool_against_the_yearly_target(app, world, login):
    _estates(app, world)
    client = login(world.a.lead)
    client.post(
        "/targets/settings",
        data={
            **{f"weight_{n}": str(w) for n, w in DEFAULT_SCORE_WEIGHTS.items()},
            "join_rate_percent": "25",
            "conversion_rate_percent": "10",
            "yearly_target_orders": "100",
            "avg_order_value": "30000",
            "store_ring_m": "3000",
            "tile_provider": "gaode",
        },
    )
    body = client.get("/targets/").get_data(as_text=True)
    # Pool: only A's targeted estate (1200 households) → 1200 × 25 % × 10 % = 30 orders of 100.
    assert 'id="expected-orders">30<' in body
    assert "预计完成 30%" in body
    assert "还需再圈约 2,800 户" in body  # 100 / 0.025 = 4000 households needed
    assert "¥900,000" in body


def test_settings_refuse_impossible_values_in_chinese(app, world, login):
    client = login(world.a.lead)
    base = {
        **{f"weight_{n}": "10" for n in scoring.FACTORS},
        "join_rate_percent": "30",
        "conversion_rate_percent": "8",
        "store_ring_m": "3000",
        "tile_provider": "",
    }
    for changes, message in (
        ({"join_rate_percent": "130"}, "比例应在 0 到 100 之间"),
        ({"store_ring_m": "10"}, "辐射半径应在 100 到 50000 米之间"),
        ({f"weight_{n}": "0" for n in scoring.FACTORS}, "至少一个因素的权重要大于 0"),
        ({"weight_price": "-1"}, "权重应在 0 到 100 之间"),
    ):
        response = client.post("/targets/settings", data={**base, **changes})
        assert response.status_code == 422, changes
        assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(TrafficMapSettings.id))) == 0


def test_who_may_do_what(world, login):
    installer = login(world.a.usernames[Role.INSTALLER])
    assert installer.get("/targets/").status_code == 403
    operator = login(world.a.usernames[Role.OPERATOR])
    assert operator.get("/targets/").status_code == 200
    assert operator.post("/targets/mark", data={"estate_id": "1"}).status_code == 403
    assert operator.get("/targets/settings").status_code == 403
    assert login(world.hq_admin).get("/targets/").status_code == 403
