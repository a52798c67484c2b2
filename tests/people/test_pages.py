"""People pages over HTTP: masking per role in pages and htmx partials, search, permissions, htmx widgets."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from crm.core.roles import Role
from crm.extensions import db
from crm.org.models import Dealer
from crm.org.service import create_user_unchecked
from crm.people import service
from crm.people.models import Interaction, InteractionKind, KeyMove, KeyPersonMove, LadderStage, Person
from tests.conftest import TEST_PASSWORD

HX = {"HX-Request": "true"}
OTHER_OPERATOR = "aaa_operator_2"


@pytest.fixture
def assigned(app, world):
    """Dealer A's owner is assigned to A's operator; a second operator of A has no one."""
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        person.operator_id = world.a.user_ids[Role.OPERATOR]
        dealer = db.session.get(Dealer, world.a.dealer_id)
        create_user_unchecked(db.session, OTHER_OPERATOR, TEST_PASSWORD, Role.OPERATOR, dealer, "第二主IP")
        db.session.commit()
        db.session.remove()
    return world


def _full(world) -> str:
    return world.a.person_phone


def _masked(world) -> str:
    return f"{world.a.person_phone[:3]}****{world.a.person_phone[-4:]}"


def _pages(client, world, can_edit: bool) -> dict[str, str]:
    """Every place a dealer's person's phone shows, as this client sees it."""
    person_id = world.a.person_id
    bodies = {
        "list": client.get("/people/").get_data(as_text=True),
        "list partial": client.get("/people/", query_string={"estate_id": world.a.estate_id}, headers=HX).get_data(
            as_text=True
        ),
        "detail": client.get(f"/people/{person_id}").get_data(as_text=True),
    }
    if can_edit:
        response = client.post(
            f"/people/{person_id}/stage", data={"stage": "bystander", "step": "set", "view": "row"}, headers=HX
        )
        assert response.status_code == 200
        bodies["row partial"] = response.get_data(as_text=True)
        response = client.post(f"/people/{person_id}/stage", data={"stage": "stranger", "step": "set"}, headers=HX)
        assert response.status_code == 200
        bodies["edit form"] = client.get(f"/people/{person_id}/edit").get_data(as_text=True)
    return bodies


@pytest.mark.parametrize(
    ("username", "sees_full", "can_edit"),
    [
        ("aaa_dealer_lead", True, True),
        ("aaa_operator", True, True),  # the assigned operator
        (OTHER_OPERATOR, False, True),
        ("aaa_assistant", False, True),
        ("aaa_designer", False, True),
        ("aaa_consultant", False, True),
        ("aaa_installer", False, False),
    ],
)
def test_phone_masking_per_role_in_pages_and_partials(assigned, login, username, sees_full, can_edit):
    world = assigned
    client = login(username)
    for where, body in _pages(client, world, can_edit).items():
        if where == "edit form":
            assert (_full(world) in body) is sees_full, where
            continue
        if sees_full:
            assert _full(world) in body, f"{username}: {where} hides the number"
        else:
            assert _full(world) not in body, f"{username}: {where} shows the full number"
            assert _masked(world) in body, f"{username}: {where} shows no masked number"


def test_search_by_phone_for_a_masked_role_finds_the_person_but_not_the_number(assigned, login):
    world = assigned
    client = login("aaa_assistant")
    response = client.get("/people/", query_string={"q": "138 0013 8" + world.a.person_phone[-3:]}, headers=HX)
    body = response.get_data(as_text=True)
    assert world.a.person_name in body
    assert _masked(world) in body
    assert _full(world) not in body
    # Part of a number finds nothing for a masked role (no probing digit by digit)…
    body = client.get("/people/", query_string={"q": world.a.person_phone[:7]}, headers=HX).get_data(as_text=True)
    assert world.a.person_name not in body
    # …but does for the lead.
    lead = login(world.a.lead)
    body = lead.get("/people/", query_string={"q": world.a.person_phone[:7]}, headers=HX).get_data(as_text=True)
    assert world.a.person_name in body


def test_search_by_name_and_wechat_and_filters(app, world, login):
    with app.app_context():
        key = service.create_person(
            db.session,
            world.a.dealer_id,
            service.PersonFields(
                name="王群主",
                wechat_id="wang_qz",
                estate_id=world.a.estate_id,
                tags=["群主"],
                is_key_person=True,
                operator_id=world.a.user_ids[Role.OPERATOR],
            ),
        )
        service.move_stage(db.session, key, LadderStage.INTENT, by=None)
        db.session.commit()
        db.session.remove()
    client = login(world.a.lead)

    def names(**query):
        body = client.get("/people/", query_string=query, headers=HX).get_data(as_text=True)
        return {name for name in ("王群主", world.a.person_name) if f">{name}</a>" in body}

    assert names() == {"王群主", world.a.person_name}
    assert names(q="wang_q") == {"王群主"}
    assert names(q="甲方专属") == {world.a.person_name}
    assert names(tag="群主") == {"王群主"}
    assert names(key_only="1") == {"王群主"}
    assert names(stage="intent") == {"王群主"}
    assert names(operator_id=world.a.user_ids[Role.OPERATOR]) == {"王群主"}
    assert names(group_id=world.a.group_id) == {world.a.person_name}
    assert names(estate_id=world.a.estate_id) == {"王群主", world.a.person_name}


def test_list_shows_the_funnel_of_the_chosen_group(world, login):
    client = login(world.a.lead)
    body = client.get("/people/", query_string={"group_id": world.a.group_id}, headers=HX).get_data(as_text=True)
    assert re.search(r'data-stage="stranger">\s*<span class="label">陌生人</span>\s*<span class="num">1</span>', body)
    assert "及以上 1" in body


def test_hq_has_no_access_to_people(world, login):
    for username in (world.hq_admin, world.hq_viewer):
        client = login(username)
        assert client.get("/people/").status_code == 403
        assert client.get(f"/people/{world.a.person_id}").status_code == 403
        assert client.get("/people/referrals").status_code == 403
        assert client.post(f"/people/{world.a.person_id}/stage", data={"stage": "buyer"}).status_code == 403
        assert "业主</a>" not in client.get("/").get_data(as_text=True)


def test_installer_reads_but_does_not_change(world, login):
    client = login(world.a.usernames[Role.INSTALLER])
    assert client.get("/people/").status_code == 200
    body = client.get(f"/people/{world.a.person_id}").get_data(as_text=True)
    assert world.a.estate_name in body
    assert "下一级" not in body
    assert client.get("/people/new").status_code == 403
    assert client.post(f"/people/{world.a.person_id}/stage", data={"stage": "buyer"}).status_code == 403
    url = f"/people/{world.a.person_id}/interactions"
    assert client.post(url, data={"kind": "call"}).status_code == 403


def test_another_dealers_person_is_not_found(world, login):
    client = login(world.a.lead)
    assert client.get(f"/people/{world.b.person_id}").status_code == 404
    assert client.post(f"/people/{world.b.person_id}/moves/invite", data={}).status_code == 404
    body = client.get("/people/", query_string={"q": world.b.person_phone}).get_data(as_text=True)
    assert world.b.person_name not in body


def test_create_validates_phone_in_chinese_and_refuses_duplicates(app, world, login):
    client = login(world.a.usernames[Role.OPERATOR])
    response = client.post("/people/new", data={"name": "新业主", "phone": "12345"})
    assert response.status_code == 422
    assert "手机号格式不正确" in response.get_data(as_text=True)
    response = client.post("/people/new", data={"name": "新业主", "phone": world.a.person_phone})
    assert response.status_code == 422
    body = response.get_data(as_text=True)
    assert "该手机号已登记，请在列表中搜索该号码" in body  # the holder stays unnamed
    response = client.post(
        "/people/new",
        data={
            "name": "新业主",
            "phone": "139-0000-2222",
            "estate_id": world.a.estate_id,
            "floor_plan_id": world.a.floor_plan_id,
            "group_ids": [world.a.group_id],
            "building": "3",
            "unit": "2",
            "room": "1501",
            "tags": ["宝妈"],
            "operator_id": world.a.user_ids[Role.OPERATOR],
            "decoration_start": "2027-03-01",
            "is_key_person": "y",
        },
    )
    assert response.status_code == 302
    with app.app_context():
        person = db.session.scalars(sa.select(Person).where(Person.name == "新业主")).one()
        assert (person.dealer_id, person.phone, person.room, person.tags, person.is_key_person) == (
            world.a.dealer_id,
            "13900002222",
            "1501",
            ["宝妈"],
            True,
        )
        assert [g.id for g in person.groups] == [world.a.group_id]
        db.session.remove()


def test_edit_form_refuses_a_referral_loop(app, world, login):
    with app.app_context():
        child = service.create_person(
            db.session, world.a.dealer_id, service.PersonFields(name="被推荐人", referred_by_id=world.a.person_id)
        )
        db.session.commit()
        child_id = child.id
        db.session.remove()
    client = login(world.a.lead)
    response = client.post(
        f"/people/{world.a.person_id}/edit",
        data={"name": world.a.person_name, "phone": world.a.person_phone, "referred_by_id": child_id},
    )
    assert response.status_code == 422
    assert "不能形成推荐循环" in response.get_data(as_text=True)


def test_masked_editor_keeps_the_hidden_number(app, assigned, login):
    world = assigned
    client = login("aaa_assistant")
    response = client.post(f"/people/{world.a.person_id}/edit", data={"name": "改名业主", "phone": ""})
    assert response.status_code == 302
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        assert (person.name, person.phone) == ("改名业主", world.a.person_phone)
        db.session.remove()


def test_stage_change_by_htmx_updates_ladder_and_history(app, world, login):
    client = login(world.a.lead)
    url = f"/people/{world.a.person_id}/stage"
    response = client.post(url, data={"stage": "stranger", "step": "up", "reason": "在群里发言"}, headers=HX)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert 'id="ladder"' in body and "在群里发言" in body
    response = client.post(url, data={"stage": "stranger", "step": "set", "reason": ""}, headers=HX)
    assert response.status_code == 200
    response = client.post(url, data={"stage": "stranger", "step": "down"}, headers=HX)
    assert response.status_code == 422
    assert "已经在阶梯的尽头" in response.get_data(as_text=True)
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        assert person.ladder_stage is LadderStage.STRANGER
        lead_id = world.a.user_ids[Role.DEALER_LEAD]
        assert [(c.from_stage, c.to_stage, c.changed_by_id, c.reason) for c in person.stage_changes] == [
            (LadderStage.BYSTANDER, LadderStage.STRANGER, lead_id, ""),
            (LadderStage.STRANGER, LadderStage.BYSTANDER, lead_id, "在群里发言"),
        ]
        db.session.remove()


def test_key_person_moves_by_htmx(app, world, login):
    with app.app_context():
        db.session.get(Person, world.a.person_id).is_key_person = True
        db.session.commit()
        db.session.remove()
    client = login(world.a.usernames[Role.OPERATOR])
    page = client.get(f"/people/{world.a.person_id}").get_data(as_text=True)
    assert "0/7" in page and "下一步：诚恳邀约" in page
    url = f"/people/{world.a.person_id}/moves/invite"
    body = client.post(url, data={"done": "1", "note": "周六到店"}, headers=HX).get_data(as_text=True)
    assert "1/7" in body and "下一步：显示专业" in body and "周六到店" in body
    with app.app_context():
        done = db.session.scalars(sa.select(KeyPersonMove)).one()
        assert (done.move, done.done_by_id, done.note) == (
            KeyMove.INVITE,
            world.a.user_ids[Role.OPERATOR],
            "周六到店",
        )
        db.session.remove()
    body = client.post(url, data={"done": "0"}, headers=HX).get_data(as_text=True)
    assert "0/7" in body and "下一步：诚恳邀约" in body
    assert client.post(f"/people/{world.a.person_id}/moves/nonsense", data={}).status_code == 404


def test_moves_are_for_key_people_only(world, login):
    client = login(world.a.lead)
    assert client.post(f"/people/{world.a.person_id}/moves/invite", data={"done": "1"}).status_code == 400
    assert "七步连接关键人物" not in client.get(f"/people/{world.a.person_id}").get_data(as_text=True)


def test_interactions_quick_add_and_delete_own(app, world, login):
    operator = login(world.a.usernames[Role.OPERATOR])
    url = f"/people/{world.a.person_id}/interactions"
    body = operator.post(url, data={"kind": "store_visit", "note": "到店看门"}, headers=HX).get_data(as_text=True)
    assert body.index("到店看门") < body.index("初次沟通")  # newest first
    assert operator.post(url, data={"kind": "bogus"}, headers=HX).status_code == 422
    with app.app_context():
        own = db.session.scalars(sa.select(Interaction).where(Interaction.note == "到店看门")).one().id
        db.session.remove()
    # Someone else's entry (the world's chat has no author) cannot be deleted.
    assert operator.post(f"/people/interactions/{world.a.interaction_id}/delete").status_code == 403
    lead = login(world.a.lead)
    assert lead.post(f"/people/interactions/{own}/delete").status_code == 403
    body = operator.post(f"/people/interactions/{own}/delete", headers=HX).get_data(as_text=True)
    assert "到店看门" not in body and "初次沟通" in body
    with app.app_context():
        assert db.session.scalars(sa.select(Interaction.kind)).all() == [InteractionKind.WECHAT, InteractionKind.WECHAT]
        db.session.remove()


def test_referrals_page_shows_counts(app, world, login):
    with app.app_context():
        child = service.create_person(
            db.session, world.a.dealer_id, service.PersonFields(name="小李", referred_by_id=world.a.person_id)
        )
        service.move_stage(db.session, child, LadderStage.BUYER, by=None)
        db.session.commit()
        db.session.remove()
    body = login(world.a.usernames[Role.DESIGNER]).get("/people/referrals").get_data(as_text=True)
    assert "直接推荐 1 人 · 累计带来 1 人 · 成交 1 单" in body
    assert "小李" in body and world.b.person_name not in body


def _add_people(app, world, names):
    with app.app_context():
        for name in names:
            service.create_person(
                db.session,
                world.a.dealer_id,
                service.PersonFields(
                    name=name,
                    estate_id=world.a.estate_id,
                    group_ids=[world.a.group_id],
                    operator_id=world.a.user_ids[Role.OPERATOR],
                ),
            )
        db.session.commit()
        db.session.remove()


def test_list_query_count_stays_flat(app, world, login, count_queries):
    client = login(world.a.lead)
    _add_people(app, world, ["业主甲"])
    client.get("/people/")
    with count_queries() as few:
        client.get("/people/")
    _add_people(app, world, [f"业主{index}" for index in range(15)])
    with count_queries() as many:
        client.get("/people/")
    assert many.count == few.count


def test_nav_link_for_people(world, login):
    body = login(world.a.usernames[Role.INSTALLER]).get("/").get_data(as_text=True)
    assert 'href="/people/"' in body


def test_an_operator_cannot_assign_a_person_to_themselves_to_unmask_the_phone(app, world, login):
    operator = login(world.a.usernames[Role.OPERATOR])
    page = operator.get(f"/people/{world.a.person_id}/edit").get_data(as_text=True)
    assert world.a.person_phone not in page
    operator.post(
        f"/people/{world.a.person_id}/edit",
        data={"name": world.a.person_name, "operator_id": world.a.user_ids[Role.OPERATOR]},
    )
    with app.app_context():
        assert db.session.get(Person, world.a.person_id).operator_id is None
    assert world.a.person_phone not in operator.get(f"/people/{world.a.person_id}").get_data(as_text=True)


def test_a_blank_follow_up_is_refused(app, world, login):
    client = login(world.a.lead)
    response = client.post(
        f"/people/{world.a.person_id}/interactions", data={"kind": "call", "note": " "}, headers={"HX-Request": "true"}
    )
    assert "请写下这次跟进的内容" in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Interaction.id))) == 2  # the two from the test world
