"""Coverage status derived from the data, at each boundary: targeting, the 有盘不做 threshold, groups,
recent operation (metrics or script tasks), orders; and the services HQ decides with."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from crm.core.validation import FieldError
from crm.coverage import queries, service
from crm.coverage.models import CoverageStatus, DecisionKind, DecisionList
from crm.estates.models import Estate, EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.groups.models import Group, GroupMetric, GroupStatus
from crm.orders.models import Order, OrderStatus
from crm.org.models import Brand, User
from crm.scripts.models import ScriptTask, TaskStatus

TODAY = date(2026, 11, 20)


def _th(**overrides) -> queries.Thresholds:
    return queries.Thresholds(today=TODAY, **overrides)


def _estate(dealer_id: int, city_id: int, name: str = "覆盖测试小区", stage=EstateStage.UNPLANNED, **fields) -> Estate:
    return create_estate(db.session, dealer_id, EstateFields(name=name, city_id=city_id, stage=stage, **fields))


def _coverage(estate: Estate, th: queries.Thresholds | None = None) -> queries.EstateCoverage:
    return queries.estate_coverage(db.session, th or _th(), estate.id)


def _group(estate: Estate, status=GroupStatus.OPERATING) -> Group:
    group = Group(dealer_id=estate.dealer_id, estate_id=estate.id, name="测试群", status=status)
    db.session.add(group)
    db.session.flush()
    return group


def _metric(group: Group, day: date) -> None:
    db.session.add(GroupMetric(dealer_id=group.dealer_id, group_id=group.id, day=day, members=50))
    db.session.flush()


@pytest.fixture(autouse=True)
def _in_app(app, world):
    with app.app_context():
        yield
        db.session.rollback()


@pytest.fixture
def city_a(world):
    return world.city_ids["齐齐哈尔"]


def test_targeting_starts_the_clock_and_abandoning_stops_it(app, world, city_a):
    estate = _estate(world.a.dealer_id, city_a)
    assert estate.targeted_on is None
    assert _coverage(estate).status is CoverageStatus.UNPLANNED

    estate.stage = EstateStage.TARGET
    db.session.flush()
    assert estate.targeted_on is not None
    first_day = estate.targeted_on
    assert _coverage(estate).status is CoverageStatus.TARGET_NO_GROUP

    estate.stage = EstateStage.FINDING_GROUP  # moving along the pipeline keeps the first day
    assert estate.targeted_on == first_day

    estate.stage = EstateStage.ABANDONED
    db.session.flush()
    assert estate.targeted_on is None
    assert _coverage(estate).status is CoverageStatus.UNPLANNED


@pytest.mark.parametrize(("days_ago", "neglected"), [(29, False), (30, False), (31, True), (70, True)])
def test_targeted_more_than_the_threshold_with_no_group_is_neglected(app, world, city_a, days_ago, neglected):
    estate = _estate(world.a.dealer_id, city_a, stage=EstateStage.TARGET)
    estate.targeted_on = TODAY - timedelta(days=days_ago)
    db.session.flush()
    coverage = _coverage(estate)
    assert coverage.status is CoverageStatus.TARGET_NO_GROUP
    assert coverage.neglected is neglected

    listed, total = queries.candidates(db.session, _th(), DecisionList.NEGLECTED, TODAY.replace(day=1))
    mine = [c for c in listed if c.estate.estate_id == estate.id]
    assert bool(mine) is neglected
    if neglected:
        assert mine[0].days_overdue == days_ago - 30


def test_the_threshold_is_hqs_setting(app, world, city_a):
    estate = _estate(world.a.dealer_id, city_a, stage=EstateStage.TARGET)
    estate.targeted_on = TODAY - timedelta(days=20)
    hq = db.session.query(User).filter_by(username=world.hq_admin).one()
    brand_id = db.session.query(Brand.id).scalar()
    service.save_settings(db.session, brand_id, service.SettingsFields(14, 14, 200), hq)
    assert queries.thresholds(db.session, brand_id, TODAY).neglect_days == 14
    assert _coverage(estate, queries.thresholds(db.session, brand_id, TODAY)).neglected is True
    with pytest.raises(FieldError):
        service.save_settings(db.session, brand_id, service.SettingsFields(0, 14, 200), hq)


def test_a_group_ends_neglect_and_operation_needs_recent_work(app, world, city_a):
    estate = _estate(world.a.dealer_id, city_a, stage=EstateStage.TARGET)
    estate.targeted_on = TODAY - timedelta(days=90)
    group = _group(estate, status=GroupStatus.PREPARING)
    coverage = _coverage(estate)
    assert (coverage.status, coverage.neglected, coverage.groups) == (CoverageStatus.GROUP_IDLE, False, 1)

    _metric(group, TODAY - timedelta(days=14))  # 15 days counting today: too old for a 14-day window
    assert _coverage(estate).status is CoverageStatus.GROUP_IDLE
    _metric(group, TODAY + timedelta(days=1))  # a future day proves nothing
    assert _coverage(estate).status is CoverageStatus.GROUP_IDLE
    _metric(group, TODAY - timedelta(days=13))
    coverage = _coverage(estate)
    assert coverage.status is CoverageStatus.OPERATING
    assert coverage.last_active_on == TODAY - timedelta(days=13)

    group.status = GroupStatus.DISSOLVED  # a dissolved group is no group
    db.session.flush()
    coverage = _coverage(estate)
    assert (coverage.status, coverage.neglected) == (CoverageStatus.TARGET_NO_GROUP, True)


def test_a_script_task_done_recently_counts_as_operation(app, world):
    task = db.session.get(ScriptTask, world.a.task_id)
    estate = db.session.get(Estate, task.run.group.estate_id)
    db.session.query(Order).filter(Order.estate_id == estate.id).update({"status": OrderStatus.CANCELLED})
    db.session.query(GroupMetric).filter(GroupMetric.group_id == task.run.group_id).delete()
    task.status, task.finished_on = TaskStatus.DONE, TODAY - timedelta(days=30)
    db.session.flush()
    assert _coverage(estate).status is CoverageStatus.GROUP_IDLE
    task.finished_on = TODAY - timedelta(days=2)
    db.session.flush()
    assert _coverage(estate).status is CoverageStatus.OPERATING
    task.status = TaskStatus.SKIPPED  # a skipped script is not work done
    db.session.flush()
    assert _coverage(estate).status is CoverageStatus.GROUP_IDLE


def test_an_order_that_is_not_cancelled_converts_the_estate(app, world):
    estate = db.session.get(Estate, world.a.estate_id)
    order = db.session.get(Order, world.a.order_id)
    assert order.estate_id == estate.id
    assert _coverage(estate).status is CoverageStatus.CONVERTED
    order.status = OrderStatus.CANCELLED
    db.session.flush()
    assert _coverage(estate).status is not CoverageStatus.CONVERTED


def test_dealer_counts_are_a_funnel_per_dealer(app, world, city_a):
    for name, stage, days in [
        ("甲", EstateStage.UNPLANNED, None),
        ("乙", EstateStage.TARGET, 40),
        ("丙", EstateStage.TARGET, 3),
    ]:
        estate = _estate(world.a.dealer_id, city_a, name=f"漏斗{name}", stage=stage)
        if days:
            estate.targeted_on = TODAY - timedelta(days=days)
    db.session.flush()
    rows = {row.key: row for row in queries.dealer_table(db.session, _th(), TODAY.replace(day=1))}
    a, b = rows[world.a.dealer_id].counts, rows[world.b.dealer_id].counts
    assert (a.surveyed, a.targeted, a.neglected) == (b.surveyed + 3, b.targeted + 2, b.neglected + 1)
    assert a.with_group <= a.targeted and a.operating <= a.with_group and a.converted <= a.targeted


def test_the_same_estate_claimed_by_two_dealers_nearby_is_a_conflict(app, world, city_a):
    lat, lng = 47.3500, 123.9500
    _estate(world.a.dealer_id, city_a, name="碧桂园·天玺", lat=lat, lng=lng)
    _estate(world.b.dealer_id, city_a, name="碧桂园 天玺", lat=lat + 0.0009, lng=lng)  # ~100 m north
    _estate(world.a.dealer_id, city_a, name="万达广场", lat=lat, lng=lng)
    _estate(world.b.dealer_id, city_a, name="万达广场", lat=lat + 0.009, lng=lng)  # ~1 km: another estate
    _estate(world.a.dealer_id, city_a, name="未定位家园")
    _estate(world.b.dealer_id, city_a, name="未定位家园", lat=lat, lng=lng)
    found = {c.name_key: c for c in queries.conflicts(db.session, _th())}
    assert set(found) == {"碧桂园天玺", "未定位家园"}
    assert {claim.dealer_id for claim in found["碧桂园天玺"].claims} == {world.a.dealer_id, world.b.dealer_id}
    assert 90 < found["碧桂园天玺"].distance_m < 110
    assert found["未定位家园"].distance_m is None


def test_a_ruling_takes_the_estate_off_the_losers_neglect_list(app, world, city_a):
    for dealer_id in (world.a.dealer_id, world.b.dealer_id):
        estate = _estate(dealer_id, city_a, name="争议小区", stage=EstateStage.TARGET, lat=47.35, lng=123.95)
        estate.targeted_on = TODAY - timedelta(days=40)
    db.session.flush()
    hq = db.session.query(User).filter_by(username=world.hq_admin).one()
    month = TODAY.replace(day=1)

    def listed_dealers():
        page, _ = queries.candidates(db.session, _th(), DecisionList.NEGLECTED, month)
        return {c.estate.dealer_id for c in page if c.estate.name == "争议小区"}

    def counted_neglected():  # the dealer table's 有盘不做 column agrees with the list
        return {row.key: row.counts.neglected for row in queries.dealer_table(db.session, _th(), month)}

    assert listed_dealers() == {world.a.dealer_id, world.b.dealer_id}
    before = counted_neglected()
    with pytest.raises(FieldError):
        service.assign_territory(db.session, _th(), city_a, "争议小区", 999_999, "", hq)
    service.assign_territory(db.session, _th(), city_a, "争议小区", world.b.dealer_id, "长春店先建档", hq)
    assert listed_dealers() == {world.b.dealer_id}
    after = counted_neglected()
    assert after[world.a.dealer_id] == before[world.a.dealer_id] - 1
    assert after[world.b.dealer_id] == before[world.b.dealer_id]
    losers_estate = db.session.query(Estate).filter_by(dealer_id=world.a.dealer_id, name="争议小区").one()
    assert not _coverage(losers_estate).neglected
    with pytest.raises(FieldError, match="已不在"):  # a penalty for an estate HQ gave away is refused too
        service.record_decision(
            db.session, _th(), losers_estate, month, DecisionList.NEGLECTED, DecisionKind.PENALTY, "超期", hq
        )
    [conflict] = queries.conflicts(db.session, _th())
    assert conflict.assignment.dealer_id == world.b.dealer_id


def test_hq_decisions_are_checked_and_kept(app, world, city_a):
    estate = _estate(world.a.dealer_id, city_a, stage=EstateStage.TARGET)
    estate.targeted_on = TODAY - timedelta(days=45)
    db.session.flush()
    hq = db.session.query(User).filter_by(username=world.hq_admin).one()
    month = TODAY.replace(day=1)

    def decide(kind, note="", list_kind=DecisionList.NEGLECTED, on=month):
        return service.record_decision(db.session, _th(), estate, on, list_kind, kind, note, hq)

    with pytest.raises(FieldError, match="原因"):
        decide(DecisionKind.PENALTY)
    with pytest.raises(FieldError):
        decide(DecisionKind.SUPPORT, list_kind=DecisionList.SUPPORTED)  # not operating: not on that list
    with pytest.raises(FieldError):
        decide(DecisionKind.IGNORE, on=date(2026, 12, 1))
    decide(DecisionKind.PENALTY, "超期 15 天未建群")
    decide(DecisionKind.IGNORE, "开发商延期交房")
    latest = queries.latest_decisions(db.session, [estate.id], month, DecisionList.NEGLECTED)[estate.id]
    assert (latest.kind, latest.note, latest.decided_by_id) == (DecisionKind.IGNORE, "开发商延期交房", hq.id)
    assert [d.kind for d in queries.decision_history(db.session, estate.id)] == [
        DecisionKind.IGNORE,
        DecisionKind.PENALTY,
    ]

    _group(estate)  # the estate got a group: it left the 有盘不做 list
    with pytest.raises(FieldError, match="已不在"):
        decide(DecisionKind.PENALTY, "迟到")


def test_month_figures_count_deposits_paid_and_orders_signed_in_the_month(app, world):
    order = db.session.get(Order, world.a.order_id)
    order.deposit_paid_on = TODAY.replace(day=1)
    db.session.flush()
    figures = queries._month_figures(db.session, TODAY.replace(day=1))
    assert figures[(world.a.dealer_id,)].deposits == 1
    before = queries._month_figures(db.session, queries.previous_month(TODAY.replace(day=1)))
    assert before.get((world.a.dealer_id,), queries.MonthFigures()).deposits == 0
