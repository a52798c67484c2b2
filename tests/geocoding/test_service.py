"""Geocoding estates below HTTP: positions in WGS-84, the persistent cache, failures, batch steps."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.core.scoping import scoped_to
from crm.estates.models import Estate, EstateStage
from crm.extensions import db
from crm.geocoding import service
from crm.geocoding.models import GeocodeCacheEntry
from crm.geocoding.providers import build_provider, provider_for_app
from crm.geocoding.service import BatchCounts, OutcomeStatus
from crm.maps.coords import CoordSystem, distance_m, to_wgs84
from tests.geocoding.conftest import add_estates

BUKUI_QUERY = "中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 卜奎大街168号"
BUKUI_BAIDU_QUERY = "齐齐哈尔市龙沙区卜奎大街168号"


def _bukui(app, world, name="卜奎花园", address="卜奎大街168号") -> int:
    return add_estates(app, world.a.dealer_id, world.city_ids["齐齐哈尔"], [(name, "龙沙区", address)])[0]


def _geocode(app, estate_id):
    with app.app_context():
        outcome = service.geocode_estate(db.session, provider_for_app(app), db.session.get(Estate, estate_id))
        db.session.commit()
    return outcome


def _estate(app, estate_id) -> Estate:
    with app.app_context():
        estate = db.session.get(Estate, estate_id)
        db.session.expunge(estate)
        return estate


def _cache(app) -> list[GeocodeCacheEntry]:
    with app.app_context():
        entries = db.session.scalars(sa.select(GeocodeCacheEntry).order_by(GeocodeCacheEntry.id)).all()
        db.session.expunge_all()
        return entries


def test_nominatim_positions_an_estate_in_wgs84_and_changes_nothing_else(geo_app, world, stub):
    stub.add(BUKUI_QUERY, 123.951234, 47.341234)
    estate_id = _bukui(geo_app, world)
    before = _estate(geo_app, estate_id)

    outcome = _geocode(geo_app, estate_id)

    assert outcome.status is OutcomeStatus.POSITIONED
    assert (outcome.estate_id, outcome.query, outcome.from_cache) == (estate_id, BUKUI_QUERY, False)
    estate = _estate(geo_app, estate_id)
    assert (estate.lng, estate.lat, estate.coord_system) == (123.951234, 47.341234, CoordSystem.WGS84)
    for name in ("name", "address", "district", "city_id", "households", "stage", "notes", "dealer_id"):
        assert getattr(estate, name) == getattr(before, name), name
    assert stub.queries == [BUKUI_QUERY]
    _path, _query, params = stub.requests[0]
    assert params["countrycodes"] == "cn"
    [entry] = _cache(geo_app)
    assert (entry.provider, entry.query, entry.lng, entry.lat) == ("nominatim", BUKUI_QUERY, 123.951234, 47.341234)


def test_a_second_estate_at_the_same_address_is_answered_from_the_cache(geo_app, world, stub):
    stub.add(BUKUI_QUERY, 123.95, 47.34)
    first = _bukui(geo_app, world, name="卜奎花园一期")
    second = _bukui(geo_app, world, name="卜奎花园二期", address="齐齐哈尔市龙沙区卜奎大街168号")
    _geocode(geo_app, first)

    outcome = _geocode(geo_app, second)

    assert outcome.status is OutcomeStatus.POSITIONED
    assert outcome.from_cache
    assert stub.count == 1
    assert (_estate(geo_app, second).lng, _estate(geo_app, second).lat) == (123.95, 47.34)


def test_not_found_is_remembered_and_not_asked_again(geo_app, world, stub):
    estate_id = _bukui(geo_app, world, address="无名路1号")

    first = _geocode(geo_app, estate_id)
    again = _geocode(geo_app, estate_id)

    assert first.status is again.status is OutcomeStatus.NOT_FOUND
    assert "找不到" in first.reason
    assert again.from_cache
    assert stub.count == 1
    [entry] = _cache(geo_app)
    assert (entry.lng, entry.lat, entry.found) == (None, None, False)
    assert not _estate(geo_app, estate_id).has_position


def test_an_answer_no_finer_than_a_town_counts_as_not_found(geo_app, world, stub):
    """A district centre would put the estate kilometres off: better to place it by hand."""
    stub.add(BUKUI_QUERY, 123.96, 47.35, display_name="龙沙区, 齐齐哈尔市, 黑龙江省, 中国", place_rank=12)
    estate_id = _bukui(geo_app, world)

    outcome = _geocode(geo_app, estate_id)

    assert outcome.status is OutcomeStatus.NOT_FOUND
    assert "龙沙区, 齐齐哈尔市" in outcome.reason
    assert not _estate(geo_app, estate_id).has_position
    assert not _cache(geo_app)[0].found


@pytest.mark.parametrize(
    ("failure", "reason", "stops_batch"),
    [
        ("http-500", "出错", False),
        ("http-429", "过于频繁", True),
        ("timeout", "超时", False),
        ("closed-port", "无法连接", True),
    ],
)
def test_transport_errors_leave_the_estate_untouched_and_are_not_cached(
    make_app, geo_app, world, stub, closed_port, failure, reason, stops_batch
):
    stub.add(BUKUI_QUERY, 123.95, 47.34)
    estate_id = _bukui(geo_app, world)
    app = geo_app
    if failure.startswith("http-"):
        stub.status = int(failure.removeprefix("http-"))
    elif failure == "timeout":
        stub.delay_s = 0.5
        app = make_app(
            GEOCODER_DOMAIN=stub.domain, GEOCODER_SCHEME="http", GEOCODER_MIN_DELAY_SECONDS=0, GEOCODER_TIMEOUT=0.1
        )
    else:
        app = make_app(GEOCODER_DOMAIN=f"127.0.0.1:{closed_port}", GEOCODER_SCHEME="http", GEOCODER_MIN_DELAY_SECONDS=0)

    outcome = _geocode(app, estate_id)

    assert outcome.status is OutcomeStatus.FAILED
    assert reason in outcome.reason
    assert outcome.stops_batch is stops_batch
    assert not _estate(geo_app, estate_id).has_position
    assert _cache(geo_app) == []
    # One call, one outcome: no hidden retries behind the rate limiter's back.
    assert stub.count == (0 if failure == "closed-port" else 1)

    # Nothing was remembered, so the estate is asked again once the service is back.
    stub.status, stub.delay_s = 200, 0.0
    asked_before = stub.count
    assert _geocode(geo_app, estate_id).status is OutcomeStatus.POSITIONED
    assert stub.count == asked_before + 1


def test_baidu_answers_are_converted_from_bd09_to_wgs84(baidu_app, world, stub):
    bd_lng, bd_lat = 123.968765, 47.352345
    stub.add(BUKUI_BAIDU_QUERY, bd_lng, bd_lat)
    estate_id = _bukui(baidu_app, world)

    outcome = _geocode(baidu_app, estate_id)

    assert outcome.status is OutcomeStatus.POSITIONED
    estate = _estate(baidu_app, estate_id)
    expected_lng, expected_lat = to_wgs84(bd_lng, bd_lat, CoordSystem.BD09)
    assert distance_m(estate.lng, estate.lat, expected_lng, expected_lat) < 1
    assert 1000 < distance_m(estate.lng, estate.lat, bd_lng, bd_lat) < 2000
    assert estate.coord_system is CoordSystem.WGS84
    [(path, query, params)] = stub.requests
    assert (path, query, params["ak"]) == ("/geocoding/v3/", BUKUI_BAIDU_QUERY, "test-ak")
    [entry] = _cache(baidu_app)
    assert entry.provider == "baidu"
    assert distance_m(entry.lng, entry.lat, expected_lng, expected_lat) < 1


def test_baidu_falling_back_to_the_city_centre_counts_as_not_found(baidu_app, world, stub):
    stub.add(BUKUI_BAIDU_QUERY, 123.97, 47.36, level="城市")
    estate_id = _bukui(baidu_app, world)

    outcome = _geocode(baidu_app, estate_id)

    assert outcome.status is OutcomeStatus.NOT_FOUND
    assert "城市" in outcome.reason
    assert not _estate(baidu_app, estate_id).has_position


def _qiqihar_estates(app, world, count: int) -> list[int]:
    specs = [(f"测试小区{n}", "龙沙区", f"测试路{n}号") for n in range(count)]
    return add_estates(app, world.a.dealer_id, world.city_ids["齐齐哈尔"], specs)


def test_batch_steps_walk_the_unpositioned_estates_after_the_cursor(geo_app, world, stub):
    ids = _qiqihar_estates(geo_app, world, 7)
    for n in (0, 1, 3, 4, 6):
        stub.add(f"中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 测试路{n}号", 123.9 + n / 100, 47.3)
    steps, cursor, counts = [], None, BatchCounts()
    with geo_app.app_context():
        provider = provider_for_app(geo_app)
        while True:
            progress = service.batch_step(db.session, provider, cursor, counts, limit=3)
            db.session.commit()
            steps.append([outcome.estate_id for outcome in progress.outcomes])
            assert progress.total == 7
            cursor, counts = progress.cursor, progress.counts
            if progress.finished:
                break

    assert steps == [ids[0:3], ids[3:6], ids[6:7]]
    assert (progress.positioned, progress.not_found, progress.failed, progress.done) == (5, 2, 0, 7)
    assert progress.percent == 100 and not progress.is_running
    assert cursor == ids[-1]
    # The estate the world started with already had a position: it was never asked for.
    assert len(stub.queries) == 7


def test_a_batch_pauses_when_the_provider_is_unreachable(make_app, world, closed_port):
    app = make_app(GEOCODER_DOMAIN=f"127.0.0.1:{closed_port}", GEOCODER_SCHEME="http", GEOCODER_MIN_DELAY_SECONDS=0)
    ids = _qiqihar_estates(app, world, 4)
    with app.app_context():
        progress = service.batch_step(db.session, provider_for_app(app), limit=3)
        db.session.commit()

    assert [outcome.estate_id for outcome in progress.outcomes] == ids[:1]
    assert "无法连接" in progress.stopped_reason
    assert (progress.failed, progress.remaining, progress.finished, progress.is_running) == (1, 3, False, False)


def test_a_slow_provider_ends_the_step_early(geo_app, world, stub):
    ids = _qiqihar_estates(geo_app, world, 3)
    stub.delay_s = 0.2
    with geo_app.app_context():
        progress = service.batch_step(db.session, provider_for_app(geo_app), limit=3, time_budget_s=0.1)
        db.session.commit()
    assert [outcome.estate_id for outcome in progress.outcomes] == ids[:1]
    assert progress.remaining == 2 and progress.is_running


def test_a_batch_sees_only_the_scoped_dealers_estates(geo_app, world, stub):
    a_ids = _qiqihar_estates(geo_app, world, 2)
    b_ids = add_estates(geo_app, world.b.dealer_id, world.city_ids["长春"], [("乙方小区", "朝阳区", "人民大街1号")])
    stub.add("中国, 吉林省, 长春市, 朝阳区, 人民大街1号", 125.3, 43.8)

    with geo_app.app_context(), scoped_to(world.a.dealer_id):
        progress = service.batch_step(db.session, build_provider(geo_app.config), limit=10)
        db.session.commit()

    assert [outcome.estate_id for outcome in progress.outcomes] == a_ids
    assert progress.finished
    assert not any("长春" in query for query in stub.queries)
    assert not _estate(geo_app, b_ids[0]).has_position


def test_estate_stage_and_cursor_survive_an_unknown_estate(geo_app, world, stub):
    """A cursor past the last estate is simply finished (e.g. a stale form after estates were deleted)."""
    with geo_app.app_context():
        progress = service.batch_step(db.session, provider_for_app(geo_app), cursor=10**9, limit=3)
    assert progress.finished and progress.outcomes == [] and progress.cursor == 10**9
    assert _estate(geo_app, world.a.estate_id).stage is EstateStage.TARGET
