"""Plan editing rules, below HTTP: ordering, phase shifting, team seats, targets, conflicts."""

from __future__ import annotations

from datetime import date, timedelta
from itertools import pairwise

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.core.validation import FieldError
from crm.estates.models import Estate, EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.maps.models import TrafficMapSettings
from crm.org.models import User
from crm.plans import queries, service
from crm.plans.models import DEFAULT_TEMPLATE_STEPS, BattlePlan, PlanStatus

START = date(2027, 1, 4)


@pytest.fixture
def ctx(app, world):
    """An app context with dealer A's plan loaded (its one estate is world.a.estate)."""
    with app.app_context():
        plan = db.session.get(BattlePlan, world.a.plan_id)
        yield plan
        db.session.rollback()


def _estates(world, names, households=1000):
    return [
        create_estate(
            db.session,
            world.a.dealer_id,
            EstateFields(name=name, city_id=world.city_ids["齐齐哈尔"], households=households, lng=123.9, lat=47.35),
        )
        for name in names
    ]


def _user(username):
    return db.session.scalars(sa.select(User).where(User.username == username)).one()


def test_adding_an_estate_lays_out_the_template_phases(ctx, world):
    plan = ctx
    item = plan.estates[0]
    assert [p.name for p in item.phases] == [s["name"] for s in DEFAULT_TEMPLATE_STEPS]
    assert [p.days for p in item.phases][1:5] == [3, 3, 2, 2]  # 铺垫 3 / 信任 3 / 价值 2 / 报名 2
    assert item.phases[0].starts_on == START
    for before, after in pairwise(item.phases):
        assert after.starts_on == before.ends_on + timedelta(days=1)  # back to back
    assert item.target_members == 360  # 1200 households × 30 % default join rate
    assert item.target_orders == round(360 * 0.08)


def test_planning_an_unplanned_estate_makes_it_a_target(ctx, world):
    (fresh,) = _estates(world, ["新规划小区"])
    assert fresh.stage == EstateStage.UNPLANNED
    service.add_estate(db.session, ctx, fresh)
    assert fresh.stage == EstateStage.TARGET
    with pytest.raises(FieldError, match="已在规划中"):
        service.add_estate(db.session, ctx, fresh)


def test_ordering_by_arrows_and_by_drag(ctx, world):
    plan = ctx
    for estate in _estates(world, ["二号", "三号", "四号"]):
        service.add_estate(db.session, plan, estate)
    names = lambda: [i.estate.name for i in sorted(plan.estates, key=lambda i: i.position)]  # noqa: E731
    assert names() == [world.a.estate_name, "二号", "三号", "四号"]
    service.move_estate(db.session, plan.estates[3], -1)
    assert names() == [world.a.estate_name, "二号", "四号", "三号"]
    service.move_estate(db.session, plan.estates[0], -1)  # already first: stays
    assert names()[0] == world.a.estate_name
    by_name = {i.estate.name: i.id for i in plan.estates}
    service.reorder_estates(db.session, plan, [by_name["三号"], by_name[world.a.estate_name], 99999])
    assert names() == ["三号", world.a.estate_name, "二号", "四号"]
    assert [i.position for i in plan.estates] == [1, 2, 3, 4]
    service.remove_estate(db.session, plan.estates[0])
    assert names() == [world.a.estate_name, "二号", "四号"] and [i.position for i in plan.estates] == [1, 2, 3]


def test_shifting_a_phase_moves_the_later_ones_only(ctx):
    phases = ctx.estates[0].phases
    before = [p.starts_on for p in phases]
    service.shift_phase(db.session, phases[2], 5)
    after = [p.starts_on for p in phases]
    assert after[:2] == before[:2]
    assert all(a == b + timedelta(days=5) for a, b in zip(after[2:], before[2:], strict=True))
    service.resize_phase(db.session, phases[1], 6)  # 铺垫 3 → 6 days: everything after moves 3 days
    assert phases[1].days == 6
    assert phases[2].starts_on == after[2] + timedelta(days=3)
    with pytest.raises(FieldError):
        service.resize_phase(db.session, phases[1], 0)


def test_team_seats_take_only_fitting_roles_of_the_dealer(ctx, world):
    item = ctx.estates[0]
    operator = _user(world.a.usernames[Role.OPERATOR])
    assistant = _user(world.a.usernames[Role.ASSISTANT])
    installer = _user(world.a.usernames[Role.INSTALLER])
    other_dealers_operator = _user(world.b.usernames[Role.OPERATOR])
    service.assign_team(db.session, item, service.TeamFields(operator_id=operator.id, assistant_ids=(assistant.id,)))
    assert item.operator == operator and item.assistants == [assistant]
    with pytest.raises(FieldError):
        service.assign_team(db.session, item, service.TeamFields(operator_id=installer.id))
    with pytest.raises(FieldError):
        service.assign_team(db.session, item, service.TeamFields(operator_id=other_dealers_operator.id))
    with pytest.raises(FieldError):
        service.assign_team(db.session, item, service.TeamFields(designer_id=assistant.id))


def test_targets_and_totals(ctx, world):
    plan = ctx
    (second,) = _estates(world, ["二号"])
    service.add_estate(db.session, plan, second)
    service.update_targets(db.session, plan.estates[0], {"target_orders": 10, "target_gmv": 300000})
    service.update_targets(db.session, plan.estates[1], {"target_orders": 5, "target_gmv": None})
    totals = queries.totals(plan)
    assert totals["target_orders"] == 15 and totals["target_gmv"] == 300000
    assert plan.estates[0].target_members == 0  # a target left out is zero
    with pytest.raises(FieldError, match="目标不能为负数"):
        service.update_targets(db.session, plan.estates[0], {"target_orders": -1})


def test_an_operator_on_too_many_overlapping_estates_is_flagged(ctx, world):
    plan = ctx
    operator = _user(world.a.usernames[Role.OPERATOR])
    estates = _estates(world, ["二号", "三号", "远期四号"])
    items = [plan.estates[0]] + [service.add_estate(db.session, plan, e) for e in estates[:2]]
    later = service.add_estate(db.session, plan, estates[2], starts_on=START + timedelta(days=200))
    for item in [*items, later]:
        service.assign_team(db.session, item, service.TeamFields(operator_id=operator.id))
    db.session.add(TrafficMapSettings(dealer_id=world.a.dealer_id, max_operator_estates=2))
    db.session.flush()
    found = queries.conflicts(db.session, plan)
    assert [c.kind for c in found] == ["operator_overload"]
    assert "同时负责 3 个楼盘（上限 2）" in found[0].message
    assert found[0].plan_estate_ids == {i.id for i in items}  # the far-off fourth does not overlap
    settings = db.session.scalars(sa.select(TrafficMapSettings)).one()
    settings.max_operator_estates = 3
    db.session.flush()
    assert queries.conflicts(db.session, plan) == []


def test_back_to_back_campaigns_do_not_overlap(ctx, world):
    plan = ctx
    operator = _user(world.a.usernames[Role.OPERATOR])
    first = plan.estates[0]
    (estate,) = _estates(world, ["接力小区"])
    second = service.add_estate(db.session, plan, estate, starts_on=first.ends_on + timedelta(days=1))
    (estate3,) = _estates(world, ["再接力"])
    third = service.add_estate(db.session, plan, estate3, starts_on=second.ends_on + timedelta(days=1))
    for item in (first, second, third):
        service.assign_team(db.session, item, service.TeamFields(operator_id=operator.id))
    db.session.add(TrafficMapSettings(dealer_id=world.a.dealer_id, max_operator_estates=1))
    db.session.flush()
    assert queries.conflicts(db.session, plan) == []


def test_an_estate_in_two_overlapping_plans_is_flagged(ctx, world):
    plan = ctx
    other = service.create_plan(
        db.session,
        world.a.dealer_id,
        service.PlanFields(
            title="另一份规划",
            city_id=plan.city_id,
            period="2027 Q1",
            starts_on=START + timedelta(days=30),
            ends_on=START + timedelta(days=120),
        ),
    )
    estate = db.session.get(Estate, world.a.estate_id)
    service.add_estate(db.session, other, estate)
    found = queries.conflicts(db.session, plan)
    assert [c.kind for c in found] == ["estate_in_two_plans"]
    assert "另一份规划" in found[0].message
    other.status = PlanStatus.DONE  # a finished plan no longer competes
    db.session.flush()
    assert queries.conflicts(db.session, plan) == []


def test_template_steps_are_parsed_and_checked():
    assert service.parse_steps("找盘建群 10\n第一阶段·铺垫，3\n\n 报名,2 ") == [
        {"name": "找盘建群", "days": 10},
        {"name": "第一阶段·铺垫", "days": 3},
        {"name": "报名", "days": 2},
    ]
    for bad in ("铺垫 三", "铺垫 0", "", "  \n "):
        with pytest.raises(FieldError):
            service.parse_steps(bad)


def test_plan_dates_must_be_in_order(ctx, world):
    with pytest.raises(FieldError, match="结束日期不能早于开始日期"):
        service.create_plan(
            db.session,
            world.a.dealer_id,
            service.PlanFields(
                title="倒序", city_id=ctx.city_id, period="", starts_on=START, ends_on=START - timedelta(1)
            ),
        )
