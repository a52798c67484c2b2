"""Groups without HTTP: daily numbers (refusals, one row per day), the derived figures, the deal formula,
accounts, and the target score's groups factor."""

from __future__ import annotations

from datetime import timedelta

import pytest

from crm.core.models import local_today
from crm.core.roles import Role
from crm.core.validation import FieldError
from crm.estates.models import Estate
from crm.extensions import db
from crm.groups import queries, service
from crm.groups.models import AccountRole, FormulaPart, Group, GroupStatus
from crm.maps.queries import settings_for
from crm.org.models import User
from crm.people.models import KeyMove, KeyPersonMove, Person
from crm.targets import queries as target_queries
from tests.groups.helpers import add_estate, add_group, add_metric, metric_rows, without_offer_and_proposals

TODAY = local_today()


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        ({"members": -1}, "members", "不能小于 0"),
        ({"members": 50, "deposits": -2}, "deposits", "不能小于 0"),
        ({"members": 50, "gmv": -100}, "gmv", "不能小于 0"),
        ({"members": 50, "active_members": 51}, "active_members", "活跃人数不能多于群成员数"),
        ({"members": 50, "owners": 60}, "owners", "业主人数不能多于群成员数"),
    ],
)
def test_impossible_numbers_are_refused_and_nothing_is_saved(app, world, values, field, message):
    with app.app_context():
        group = db.session.get(Group, world.a.group_id)
        before = [(m.day, m.members) for m in metric_rows(group.id)]
        with pytest.raises(FieldError) as refused:
            service.record_metrics(db.session, group, TODAY, values, None)
        db.session.rollback()
        assert (refused.value.field, refused.value.message) == (field, message)
        assert [(m.day, m.members) for m in metric_rows(group.id)] == before


def test_a_future_day_or_no_day_is_refused(app, world):
    with app.app_context():
        group = db.session.get(Group, world.a.group_id)
        for day, message in ((TODAY + timedelta(days=1), "日期不能晚于今天"), (None, "请填写日期")):
            with pytest.raises(FieldError, match=message):
                service.record_metrics(db.session, group, day, {"members": 10}, None)
        db.session.rollback()
        assert len(metric_rows(group.id)) == 1


def test_the_same_day_twice_updates_that_day(app, world):
    with app.app_context():
        group = db.session.get(Group, world.a.group_id)
        lead = db.session.get(User, world.a.user_ids[Role.DEALER_LEAD])
        first = service.record_metrics(db.session, group, TODAY, {"members": 150, "owners": 120, "deposits": 2}, lead)
        db.session.commit()
        second = service.record_metrics(db.session, group, TODAY, {"members": 160, "deposits": 3}, lead)
        db.session.commit()
        rows = [m for m in metric_rows(group.id) if m.day == TODAY]
        assert len(rows) == 1 and first.id == second.id
        # Given values replace the day's; a blank keeps what was entered before.
        assert (rows[0].members, rows[0].owners, rows[0].deposits) == (160, 120, 3)
        assert rows[0].entered_by_id == lead.id
        # A refused update leaves the day as it was.
        with pytest.raises(FieldError):
            service.record_metrics(db.session, group, TODAY, {"owners": 161}, lead)
        db.session.rollback()
        assert db.session.get(type(rows[0]), rows[0].id).owners == 120


def test_penetration_and_active_share(app, world):
    assert queries.penetration(300, 1200) == 0.25
    assert queries.penetration(300, None) is None and queries.penetration(3, 0) is None
    assert queries.active_share(30, 120) == 0.25
    assert queries.active_share(0, 0) is None
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)  # 1,200 households; the world's group: 100 owners
        second = add_group(estate, "二群")
        add_metric(second, TODAY - timedelta(days=3), members=100, owners=80)
        add_metric(second, TODAY, members=110, owners=90)  # only the latest day counts
        dissolved = add_group(estate, "旧群", GroupStatus.DISSOLVED)
        add_metric(dissolved, TODAY, members=300, owners=300)  # a dissolved group reaches nobody
        db.session.commit()
        result = queries.estate_penetration(db.session, estate)
        assert (result.owners, result.households) == (190, 1200)
        assert result.share == pytest.approx(190 / 1200)


def test_funnel_over_a_window(app, world):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        group = add_group(estate, "漏斗群")
        add_metric(group, TODAY - timedelta(days=40), members=50, store_visits=99, deposits=99, orders=99)  # outside
        add_metric(group, TODAY - timedelta(days=10), members=180, store_visits=10, deposits=4, orders=1)
        add_metric(group, TODAY - timedelta(days=2), members=200, store_visits=6, deposits=4, orders=2)
        db.session.commit()
        funnel = queries.funnel(db.session, [group.id], TODAY - timedelta(days=29), TODAY)
        assert (funnel.members, funnel.store_visits, funnel.deposits, funnel.orders) == (200, 16, 8, 3)
        steps = funnel.steps
        assert [s.count for s in steps] == [200, 16, 8, 3]
        assert steps[0].rate is None
        assert [s.rate for s in steps[1:]] == [pytest.approx(0.08), pytest.approx(0.5), pytest.approx(0.375)]
        empty = queries.funnel(db.session, [group.id], TODAY - timedelta(days=100), TODAY - timedelta(days=90))
        assert [s.rate for s in empty.steps] == [None, None, None, None]


def test_trend_sparklines_cover_the_last_30_days(app, world):
    with app.app_context():
        group = add_group(db.session.get(Estate, world.a.estate_id), "趋势群")
        add_metric(group, TODAY - timedelta(days=29), members=100, active_members=50)
        add_metric(group, TODAY, members=200, active_members=20)
        add_metric(group, TODAY - timedelta(days=31), members=10)  # too old for the trend
        db.session.commit()
        trend = queries.trend(db.session, group, TODAY)
        assert [m.day for m in trend.metrics] == [TODAY - timedelta(days=29), TODAY]
        assert trend.members_points == "0.0,14.0 120.0,2.0"  # 100 of 200 is half height; x spans 0..120
        assert trend.active_share_points == "0.0,14.0 120.0,23.6"  # 50% then 10% of the 24-px drawing height


def test_size_flags():
    assert queries.size_flag(199) is None and queries.size_flag_label(199) == ""
    assert queries.size_flag(200) == "open_new"
    assert queries.size_flag(499) == "open_new"
    assert queries.size_flag(500) == "full"


def _person(dealer_id, estate_id, name, **extra):
    person = Person(dealer_id=dealer_id, estate_id=estate_id, name=name, **extra)
    db.session.add(person)
    return person


def test_formula_health_from_data_and_hand_ticks(app, world):
    without_offer_and_proposals(app, world.a)
    with app.app_context():
        group = db.session.get(Group, world.a.group_id)
        lead = db.session.get(User, world.a.user_ids[Role.DEALER_LEAD])
        health = queries.formula_health(db.session, group)
        assert [p.part for p in health.parts] == list(FormulaPart)
        assert health.score == 0
        assert health.weakest.part is FormulaPart.NEED
        assert health.weakest.hint.startswith("先摸清需求")

        # 需求: a member with a recorded style or budget.
        needy = _person(world.a.dealer_id, world.a.estate_id, "有需求的业主", needs_budget="20万")
        group.members.append(needy)
        db.session.flush()
        health = queries.formula_health(db.session, group)
        assert health.parts[0].is_satisfied and "1 / 2" in health.parts[0].evidence
        assert (health.score, health.weakest.part) == (17, FormulaPart.VALUE)

        # 信任: a key person with three of the seven moves (two are not enough).
        key = _person(world.a.dealer_id, world.a.estate_id, "热心宝妈", is_key_person=True)
        group.members.append(key)
        db.session.flush()
        for move in (KeyMove.INVITE, KeyMove.PROFESSIONALISM):
            db.session.add(KeyPersonMove(dealer_id=world.a.dealer_id, person_id=key.id, move=move, done_on=TODAY))
        db.session.flush()
        db.session.expire_all()
        trust = queries.formula_health(db.session, group).parts[2]
        assert not trust.is_satisfied and "热心宝妈（2/7）" in trust.evidence
        db.session.add(KeyPersonMove(dealer_id=world.a.dealer_id, person_id=key.id, move=KeyMove.POLICY, done_on=TODAY))
        db.session.flush()
        db.session.expire_all()
        group = db.session.get(Group, world.a.group_id)
        assert queries.formula_health(db.session, group).parts[2].is_satisfied

        # 价值/利益/风险/门槛: ticked by hand, with who and a note.
        check = service.set_formula_check(db.session, group, FormulaPart.VALUE, True, "已发 3 套户型方案", lead)
        assert (check.is_done, check.note, check.checked_by_id) == (True, "已发 3 套户型方案", lead.id)
        health = queries.formula_health(db.session, group)
        assert health.parts[1].is_satisfied and health.parts[1].checked_by == lead.name
        assert (health.score, health.weakest.part) == (50, FormulaPart.BENEFIT)
        for part in (FormulaPart.BENEFIT, FormulaPart.RISK, FormulaPart.THRESHOLD):
            service.set_formula_check(db.session, group, part, True, "", lead)
        health = queries.formula_health(db.session, group)
        assert (health.score, health.weakest) == (100, None)
        # Unticking brings the part back as the one to work on; ticking a data part is refused.
        service.set_formula_check(db.session, group, FormulaPart.RISK, False, "", lead)
        assert queries.formula_health(db.session, group).weakest.part is FormulaPart.RISK
        with pytest.raises(FieldError):
            service.set_formula_check(db.session, group, FormulaPart.TRUST, True, "", lead)
        db.session.rollback()


def test_accounts_are_the_dealers_own_users(app, world):
    with app.app_context():
        group = db.session.get(Group, world.a.group_id)
        designer = world.a.user_ids[Role.DESIGNER]
        account = service.add_account(db.session, group, designer, AccountRole.DESIGNER)
        assert (account.dealer_id, account.user_id, account.role) == (world.a.dealer_id, designer, AccountRole.DESIGNER)
        with pytest.raises(FieldError, match="该账号已在群里"):
            service.add_account(db.session, group, designer, AccountRole.HELPER)
        for foreign in (world.b.user_ids[Role.OPERATOR], None, 999_999):
            with pytest.raises(FieldError, match="只能添加本经销商的在职账号"):
                service.add_account(db.session, group, foreign, AccountRole.HELPER)
        service.remove_account(db.session, account)
        db.session.commit()
        assert [a.user_id for a in db.session.get(Group, world.a.group_id).accounts] == [
            world.a.user_ids[Role.OPERATOR]
        ]


def test_group_owner_must_be_the_dealers_person(app, world):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        with pytest.raises(FieldError, match="群主须是本经销商登记过的人"):
            service.create_group(db.session, estate, service.GroupFields(name="X群", owner_person_id=world.b.person_id))
        with pytest.raises(FieldError, match="请填写群名称"):
            service.create_group(db.session, estate, service.GroupFields(name="  "))
        db.session.rollback()
        group = service.create_group(
            db.session, estate, service.GroupFields(name="Y群", owner_person_id=world.a.person_id)
        )
        assert group.owner_person_id == world.a.person_id


def test_target_score_counts_groups(app, world):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        empty = add_estate(world, "无群小区")
        add_group(estate, "二群")
        add_group(estate, "散了的群", GroupStatus.DISSOLVED)
        db.session.commit()
        counts = target_queries.group_counts(db.session, [estate.id, empty.id])
        assert counts == {estate.id: 2}
        assert target_queries.group_counts(db.session, []) == {}
        settings = settings_for(db.session, world.a.dealer_id)
        scores = {s.estate.id: s for s in target_queries.ranked_estates(db.session, world.a.dealer_id, settings, TODAY)}
        assert scores[estate.id].factors["groups"].value == 1.0
        assert scores[empty.id].factors["groups"].value == 0.0


def test_value_benefit_risk_and_threshold_come_from_proposals_and_the_offer(app, world):
    """The world's estate has a shared proposal and an offer with a tier, a promise and an early bird."""
    with app.app_context():
        health = queries.formula_health(db.session, db.session.get(Group, world.a.group_id))
        value, benefit, risk, threshold = health.parts[1], health.parts[3], health.parts[4], health.parts[5]
        assert all(p.is_satisfied and not p.is_manual for p in (value, benefit, risk, threshold))
        assert value.evidence == "已分享到群的方案：1 个"
        assert benefit.evidence == "团购：满10户88折，到店交定送五金升级礼包"
        assert risk.evidence == "掉漆、门皮起翘、门框变形 5 年免费维修"
        assert threshold.evidence == "前 20 名送智能门锁"
        from crm.proposals import service as proposals
        from crm.proposals.models import Proposal

        proposals.revoke_share(db.session, db.session.get(Proposal, world.a.proposal_id))
        health = queries.formula_health(db.session, db.session.get(Group, world.a.group_id))
        assert health.parts[1].is_manual and not health.parts[1].is_satisfied  # back to a hand tick
