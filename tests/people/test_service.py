"""People services and queries below HTTP: phones, the ladder, funnels, the seven moves, interactions, referrals."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.core.scoping import scoped_to
from crm.core.validation import FieldError
from crm.extensions import db
from crm.groups.models import Group
from crm.org.models import User
from crm.people import queries, service
from crm.people.masking import is_valid_mobile, mask_phone, normalize_phone
from crm.people.models import InteractionKind, KeyMove, LadderStage, Person
from crm.people.service import PersonFields


def _person(session, world_dealer, name, **values) -> Person:
    fields = PersonFields(name=name, **values)
    return service.create_person(session, world_dealer.dealer_id, fields)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("138 0013 8000", "13800138000"), ("+86-138-0013-8000", "13800138000"), ("8613800138000", "13800138000")],
)
def test_phones_are_normalised(raw, expected):
    assert normalize_phone(raw) == expected
    assert is_valid_mobile(expected)


@pytest.mark.parametrize("bad", ["12800138000", "1380013800", "138001380001", "abc"])
def test_invalid_mobiles_are_refused_in_chinese(app, world, bad):
    with app.app_context():
        with pytest.raises(FieldError) as refused:
            _person(db.session, world.a, "张三", phone=bad)
        assert refused.value.field == "phone"
        assert "手机号格式不正确" in refused.value.message


def test_person_is_stored_with_the_normalised_phone(app, world):
    with app.app_context():
        person = _person(db.session, world.a, "张三", phone="+86 139 0000 1111")
        assert person.phone == "13900001111"
        assert person.ladder_stage is LadderStage.STRANGER
        assert mask_phone(person.phone) == "139****1111"


def test_duplicate_phone_or_wechat_id_within_the_dealer_is_refused(app, world):
    with app.app_context():
        with pytest.raises(FieldError) as refused:
            _person(db.session, world.a, "重复", phone="138 0013 8" + world.a.person_phone[-3:])
        assert (refused.value.field, refused.value.message) == ("phone", "该手机号已登记，请在列表中搜索该号码")
        _person(db.session, world.a, "李四", wechat_id="lisi_wx")
        with pytest.raises(FieldError) as refused:
            _person(db.session, world.a, "李四二号", wechat_id="lisi_wx")
        assert refused.value.message == "该微信号已登记：李四"


def test_the_same_phone_at_another_dealer_is_no_duplicate(app, world):
    with app.app_context():
        person = _person(db.session, world.b, "乙方新业主", phone=world.a.person_phone)
        assert person.dealer_id == world.b.dealer_id


def test_editing_a_person_keeps_their_own_phone(app, world):
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        fields = PersonFields.from_person(person)
        fields.notes = "新备注"
        service.update_person(db.session, person, fields)
        assert person.phone == world.a.person_phone and person.notes == "新备注"


def test_floor_plan_groups_and_operator_must_fit(app, world):
    with app.app_context():
        with pytest.raises(FieldError) as refused:
            _person(db.session, world.a, "甲", floor_plan_id=world.a.floor_plan_id)  # no estate chosen
        assert refused.value.field == "floor_plan_id"
        with pytest.raises(FieldError) as refused:
            _person(db.session, world.a, "甲", estate_id=world.a.estate_id, group_ids=[world.b.group_id])
        assert refused.value.field == "group_ids"
        with pytest.raises(FieldError) as refused:
            _person(db.session, world.a, "甲", operator_id=world.a.user_ids[Role.DESIGNER])
        assert refused.value.field == "operator_id"
        with pytest.raises(FieldError) as refused:
            _person(db.session, world.a, "甲", estate_id=world.b.estate_id)
        assert refused.value.field == "estate_id"
        person = _person(
            db.session,
            world.a,
            "甲",
            estate_id=world.a.estate_id,
            floor_plan_id=world.a.floor_plan_id,
            group_ids=[world.a.group_id],
            operator_id=world.a.user_ids[Role.OPERATOR],
            tags=["宝妈", "群主", "宝妈"],
        )
        assert [g.id for g in person.groups] == [world.a.group_id]
        assert person.tags == ["群主", "宝妈"]


def test_ladder_moves_record_from_to_who_why_newest_first(app, world):
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        lead = db.session.get(User, world.a.user_ids[Role.DEALER_LEAD])
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        service.move_stage(db.session, person, LadderStage.PARTICIPANT, by=lead, reason="群里参与接龙")
        service.move_stage(db.session, person, LadderStage.INTENT, by=operator, reason="问了报价")
        service.move_stage(db.session, person, LadderStage.BYSTANDER, by=operator, reason="装修推迟")
        db.session.commit()
        history = [
            (c.from_stage, c.to_stage, c.changed_by_id, c.reason)
            for c in db.session.get(Person, person.id).stage_changes
        ]
        assert history == [
            (LadderStage.INTENT, LadderStage.BYSTANDER, operator.id, "装修推迟"),
            (LadderStage.PARTICIPANT, LadderStage.INTENT, operator.id, "问了报价"),
            (LadderStage.STRANGER, LadderStage.PARTICIPANT, lead.id, "群里参与接龙"),
        ]
        assert person.ladder_stage is LadderStage.BYSTANDER
        with pytest.raises(FieldError):
            service.move_stage(db.session, person, LadderStage.BYSTANDER, by=lead)


def test_neighbour_stages_stop_at_the_ends():
    assert service.neighbour_stage(LadderStage.STRANGER, -1) is None
    assert service.neighbour_stage(LadderStage.STRANGER, 1) is LadderStage.BYSTANDER
    assert service.neighbour_stage(LadderStage.REFERRER, 1) is None
    assert service.neighbour_stage(LadderStage.REFERRER, -1) is LadderStage.SPREADER


def test_funnel_per_group_and_per_estate(app, world):
    with app.app_context():
        second_group = Group(dealer_id=world.a.dealer_id, estate_id=world.a.estate_id, name="甲方二群")
        db.session.add(second_group)
        db.session.flush()
        stages = [LadderStage.INTENT, LadderStage.INTENT, LadderStage.BUYER, LadderStage.REFERRER]
        for index, stage in enumerate(stages):
            person = _person(
                db.session, world.a, f"业主{index}", estate_id=world.a.estate_id, group_ids=[second_group.id]
            )
            service.move_stage(db.session, person, stage, by=None)
        _person(db.session, world.a, "无楼盘的人")  # counts for the dealer, not for the estate
        _person(db.session, world.b, "乙方的人", estate_id=world.b.estate_id)
        db.session.commit()

        with scoped_to(world.a.dealer_id):
            by_group = queries.ladder_funnel(db.session, group_id=second_group.id)
            assert sum(by_group.values()) == 4
            assert by_group[LadderStage.INTENT] == 2 and by_group[LadderStage.BUYER] == 1
            assert by_group[LadderStage.REFERRER] == 1 and by_group[LadderStage.STRANGER] == 0
            cumulative = queries.at_or_above(by_group)
            assert cumulative[LadderStage.STRANGER] == 4
            assert cumulative[LadderStage.INTENT] == 4
            assert cumulative[LadderStage.NEAR_BUYER] == 2
            assert cumulative[LadderStage.BUYER] == 2
            assert cumulative[LadderStage.LOYAL_FAN] == 1
            assert cumulative[LadderStage.REFERRER] == 1

            first_group = queries.ladder_funnel(db.session, group_id=world.a.group_id)
            assert first_group == {s: (1 if s is LadderStage.STRANGER else 0) for s in LadderStage}

            by_estate = queries.ladder_funnel(db.session, estate_id=world.a.estate_id)
            assert by_estate[LadderStage.STRANGER] == 1 and sum(by_estate.values()) == 5
            assert sum(queries.ladder_funnel(db.session).values()) == 6  # the dealer's everyone
            assert list(by_estate) == list(LadderStage)


def test_seven_moves_progress_and_next_step(app, world):
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        assert queries.next_move(person) is KeyMove.INVITE
        lead = db.session.get(User, world.a.user_ids[Role.DEALER_LEAD])
        service.tick_move(db.session, person, KeyMove.INVITE, by=lead, note="周六到店")
        service.tick_move(db.session, person, KeyMove.POLICY, by=lead)
        assert len(queries.moves_done(person)) == 2
        assert queries.next_move(person) is KeyMove.PROFESSIONALISM
        assert queries.move_hint(KeyMove.PROFESSIONALISM)
        service.untick_move(db.session, person, KeyMove.INVITE)
        assert queries.next_move(person) is KeyMove.INVITE
        for move in KeyMove:
            service.tick_move(db.session, person, move, by=lead)
        db.session.commit()
        person = db.session.get(Person, world.a.person_id)
        assert len(person.key_moves) == 7 and queries.next_move(person) is None


def test_interactions_newest_first(app, world):
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        operator = db.session.get(User, world.a.user_ids[Role.OPERATOR])
        service.add_interaction(db.session, person, InteractionKind.STORE_VISIT, by=operator, note="看样品")
        service.add_interaction(db.session, person, InteractionKind.DEPOSIT, by=operator, note="交定 2000")
        db.session.commit()
        kinds = [i.kind for i in db.session.get(Person, person.id).interactions]
        assert kinds == [InteractionKind.DEPOSIT, InteractionKind.STORE_VISIT, InteractionKind.WECHAT]
        latest = db.session.get(Person, person.id).interactions[0]
        assert service.can_delete_interaction(operator, latest)
        assert not service.can_delete_interaction(db.session.get(User, world.a.user_ids[Role.DEALER_LEAD]), latest)
        service.delete_interaction(db.session, latest)
        db.session.commit()
        assert len(db.session.get(Person, person.id).interactions) == 2


def test_referral_tree_counts_and_orders(app, world):
    with app.app_context():
        root = db.session.get(Person, world.a.person_id)
        child1 = _person(db.session, world.a, "子一", referred_by_id=root.id)
        child2 = _person(db.session, world.a, "子二", referred_by_id=root.id)
        grandchild = _person(db.session, world.a, "孙一", referred_by_id=child1.id)
        _person(db.session, world.a, "孤单的人")
        service.move_stage(db.session, child2, LadderStage.BUYER, by=None)
        service.add_interaction(db.session, grandchild, InteractionKind.ORDER, by=None)
        db.session.commit()
        with scoped_to(world.a.dealer_id):
            forest = queries.referral_forest(db.session)
        assert [n.person.name for n in forest] == [world.a.person_name]
        top = forest[0]
        assert (top.direct, top.total, top.orders) == (2, 3, 2)
        by_name = {n.person.name: n for n in top.children}
        assert (by_name["子一"].direct, by_name["子一"].total, by_name["子一"].orders) == (1, 1, 1)
        assert (by_name["子二"].direct, by_name["子二"].total, by_name["子二"].orders) == (0, 0, 0)


def test_a_referral_loop_is_refused(app, world):
    with app.app_context():
        a = db.session.get(Person, world.a.person_id)
        b = _person(db.session, world.a, "乙", referred_by_id=a.id)
        c = _person(db.session, world.a, "丙", referred_by_id=b.id)
        fields = PersonFields.from_person(a)
        fields.referred_by_id = c.id
        with pytest.raises(FieldError) as refused:
            service.update_person(db.session, a, fields)
        assert refused.value.field == "referred_by_id"
        assert "推荐循环" in refused.value.message
        fields.referred_by_id = a.id
        with pytest.raises(FieldError) as refused:
            service.update_person(db.session, a, fields)
        assert refused.value.message == "不能把自己设为推荐人"
        db.session.rollback()
        assert db.session.scalar(sa.select(Person.referred_by_id).where(Person.id == a.id)) is None


def test_a_referrer_must_be_the_dealers_person(app, world):
    with app.app_context():
        with pytest.raises(FieldError) as refused:
            _person(db.session, world.a, "甲", referred_by_id=world.b.person_id)
        assert refused.value.field == "referred_by_id"
