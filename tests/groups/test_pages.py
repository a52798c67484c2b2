"""The group pages: CRUD, accounts, quick metrics, the deal formula, the board, and who may do what."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from crm.core.models import local_today
from crm.core.roles import DEALER_ROLES, Role
from crm.estates.models import Estate, EstateStage
from crm.extensions import db
from crm.groups.models import FormulaPart, Group, GroupAccount, GroupFormulaCheck, GroupKind, GroupStatus
from crm.org.service import create_user_unchecked
from crm.plans.models import BattlePlan, PlanEstate, PlanStatus
from tests.conftest import TEST_PASSWORD
from tests.factories import make_plan
from tests.groups.helpers import (
    HX,
    add_estate,
    add_group,
    add_metric,
    metric_post,
    metric_rows,
    without_offer_and_proposals,
)

TODAY = local_today()


def _text(response) -> str:
    return response.get_data(as_text=True)


# ---------------------------------------------------------------- CRUD


def test_lead_creates_edits_and_deletes_a_group(app, world, login):
    client = login(world.a.lead)
    form = client.get(f"/groups/new?estate_id={world.a.estate_id}")
    assert form.status_code == 200 and world.a.person_name in _text(form)  # the owner picker: the estate's people
    refused = client.post(f"/groups/new?estate_id={world.a.estate_id}", data={"name": "", "kind": "self_built"})
    assert refused.status_code == 422 and "请填写群名称" in _text(refused)
    response = client.post(
        f"/groups/new?estate_id={world.a.estate_id}",
        data={
            "name": "甲方花园二群",
            "kind": "owners",
            "origin": "key_person",
            "platform": "wecom",
            "owner_person_id": str(world.a.person_id),
            "started_on": "2026-10-01",
            "status": "operating",
        },
    )
    assert response.status_code == 302
    group_url = response.headers["Location"]
    page = _text(client.get(group_url))
    assert "已添加社群：甲方花园二群" in page
    assert "业主群/他建群" in page and "进群：关键人拉入" in page and "企业微信" in page and world.a.person_name in page
    with app.app_context():
        group = db.session.scalars(sa.select(Group).where(Group.name == "甲方花园二群")).one()
        assert (group.dealer_id, group.estate_id, group.kind, group.started_on) == (
            world.a.dealer_id,
            world.a.estate_id,
            GroupKind.OWNERS,
            date(2026, 10, 1),
        )
        group_id = group.id

    # The estate page lists its groups, with a link to add one.
    estate_page = _text(client.get(f"/estates/{world.a.estate_id}"))
    assert "甲方花园二群" in estate_page and world.a.group_name in estate_page
    assert f"/groups/new?estate_id={world.a.estate_id}" in estate_page

    edit = client.post(
        f"/groups/{group_id}/edit",
        data={"name": "甲方花园二群（满）", "kind": "owners", "platform": "wechat", "status": "silent"},
    )
    assert edit.status_code == 302
    with app.app_context():
        group = db.session.get(Group, group_id)
        assert (group.name, group.status, group.origin, group.owner_person_id) == (
            "甲方花园二群（满）",
            GroupStatus.SILENT,
            None,
            None,
        )
    foreign_owner = client.post(
        f"/groups/{group_id}/edit",
        data={
            "name": "x",
            "kind": "owners",
            "platform": "wechat",
            "status": "silent",
            "owner_person_id": world.b.person_id,
        },
    )
    assert foreign_owner.status_code == 422 and "群主须是本经销商登记过的人" in _text(foreign_owner)

    assert client.post(f"/groups/{group_id}/delete").status_code == 302
    with app.app_context():
        assert db.session.get(Group, group_id) is None


def test_new_group_needs_an_estate_of_ones_own(app, world, login):
    client = login(world.a.lead)
    assert client.get("/groups/new").status_code == 404
    assert client.get(f"/groups/new?estate_id={world.b.estate_id}").status_code == 404


def test_accounts_add_and_remove(app, world, login):
    client = login(world.a.lead)
    url = f"/groups/{world.a.group_id}/accounts"
    foreign = client.post(url, data={"user_id": world.b.user_ids[Role.OPERATOR], "role": "helper"}, headers=HX)
    assert foreign.status_code == 422 and "只能添加本经销商的在职账号" in _text(foreign)
    added = client.post(url, data={"user_id": world.a.user_ids[Role.ASSISTANT], "role": "helper"}, headers=HX)
    assert added.status_code == 200 and "<html" not in _text(added)
    assert world.a.user_display_names[Role.ASSISTANT] in _text(added) and "马甲" in _text(added)
    with app.app_context():
        ours = sa.select(GroupAccount).where(GroupAccount.group_id == world.a.group_id)
        accounts = {a.user_id: a for a in db.session.scalars(ours)}
        assert world.b.user_ids[Role.OPERATOR] not in accounts
        new_id = accounts[world.a.user_ids[Role.ASSISTANT]].id
    removed = client.post(f"/groups/accounts/{new_id}/delete", headers=HX)
    assert removed.status_code == 200 and '我方账号 <span class="muted">(1)</span>' in _text(removed)
    with app.app_context():
        assert db.session.get(GroupAccount, new_id) is None


# ---------------------------------------------------------------- quick metrics


def test_quick_metrics_on_the_board_row(app, world, login):
    client = login(world.a.lead)
    gid = world.a.group_id
    url = f"/groups/{gid}/metrics?view=board"
    response = client.post(url, data=metric_post(gid, day=TODAY.isoformat(), members=240, owners=180), headers=HX)
    body = _text(response)
    assert response.status_code == 200 and "<html" not in body
    assert f'id="board-group-{gid}"' in body and "240" in body
    assert "15.0%" in body  # 180 owners of 1,200 households
    assert "建议开新群（扫码进群上限 200）" in body
    assert f'id="board-estate-{world.a.estate_id}" hx-swap-oob="true"' in body  # the estate's totals follow

    # Again the same day: the row is updated, not duplicated.
    client.post(url, data=metric_post(gid, day=TODAY.isoformat(), members=510, owners=180), headers=HX)
    refused = client.post(
        url, data=metric_post(gid, day=TODAY.isoformat(), members=100, active_members=101), headers=HX
    )
    assert refused.status_code == 422 and "活跃人数不能多于群成员数" in _text(refused)
    negative = client.post(url, data=metric_post(gid, day=TODAY.isoformat(), members=-3), headers=HX)
    assert negative.status_code == 422 and "不能小于 0" in _text(negative)
    with app.app_context():
        today_rows = [m for m in metric_rows(gid) if m.day == TODAY]
        assert [(m.members, m.owners) for m in today_rows] == [(510, 180)]
    assert "已满 500" in _text(client.get("/groups/board"))


def test_quick_metrics_on_the_group_page(app, world, login):
    client = login(world.a.usernames[Role.OPERATOR])
    gid = world.a.group_id
    response = client.post(
        f"/groups/{gid}/metrics",
        data=metric_post(gid, day=TODAY.isoformat(), members=130, active_members=65),
        headers=HX,
    )
    body = _text(response)
    assert response.status_code == 200 and 'id="group-metrics"' in body and "<html" not in body
    assert "50.0%" in body  # active share
    plain = client.post(f"/groups/{gid}/metrics", data=metric_post(gid, day="2026/13/40", members=1))
    assert plain.status_code == 422 and "日期格式不正确" in _text(plain)


# ---------------------------------------------------------------- the group page and the formula


def test_group_page_shows_numbers_formula_and_members(app, world, login):
    without_offer_and_proposals(app, world.a)
    client = login(world.a.usernames[Role.ASSISTANT])  # not the person's operator: the phone is masked
    page = _text(client.get(f"/groups/{world.a.group_id}"))
    assert world.a.group_name in page and world.a.person_name in page
    assert world.a.person_phone not in page and world.a.person_phone[-4:] in page
    assert "成交公式健康度：0%" in page and "下一步先补：需求" in page
    assert "<svg" in page and "转化漏斗" in page
    lead_page = _text(login(world.a.lead).get(f"/groups/{world.a.group_id}"))
    assert world.a.person_phone in lead_page


def test_formula_toggle(app, world, login):
    without_offer_and_proposals(app, world.a)
    client = login(world.a.lead)
    url = f"/groups/{world.a.group_id}/formula"
    response = client.post(url, data={"part": "value", "is_done": "y", "note": "已发户型方案"}, headers=HX)
    body = _text(response)
    assert response.status_code == 200 and 'id="group-formula"' in body and "已发户型方案" in body
    assert "成交公式健康度：17%" in body
    with app.app_context():
        check = db.session.scalars(sa.select(GroupFormulaCheck)).one()
        assert (check.part, check.is_done, check.checked_by_id) == (
            FormulaPart.VALUE,
            True,
            world.a.user_ids[Role.DEALER_LEAD],
        )
    assert client.post(url, data={"part": "value"}, headers=HX).status_code == 200  # unticked
    assert client.post(url, data={"part": "trust", "is_done": "y"}, headers=HX).status_code == 400
    assert client.post(url, data={"part": "nonsense"}, headers=HX).status_code == 400
    with app.app_context():
        assert db.session.scalars(sa.select(GroupFormulaCheck)).one().is_done is False


# ---------------------------------------------------------------- permissions


READERS = {Role.DEALER_LEAD, Role.OPERATOR, Role.ASSISTANT, Role.DESIGNER, Role.CONSULTANT}
EDITORS = {Role.DEALER_LEAD, Role.OPERATOR, Role.ASSISTANT}


@pytest.mark.parametrize("role", DEALER_ROLES, ids=lambda r: r.value)
def test_dealer_roles(app, world, login, role):
    client = login(world.a.usernames[role])
    gid = world.a.group_id
    read = 200 if role in READERS else 403
    assert client.get("/groups/board").status_code == read
    assert client.get(f"/groups/{gid}").status_code == read
    write = client.post(f"/groups/{gid}/metrics", data=metric_post(gid, day=TODAY.isoformat(), members=1))
    assert write.status_code == (302 if role in EDITORS else 403)
    assert client.get(f"/groups/new?estate_id={world.a.estate_id}").status_code == (200 if role in EDITORS else 403)
    nav = _text(client.get("/"))
    assert ('href="/groups/board"' in nav) is (role in READERS)
    estate_page = _text(client.get(f"/estates/{world.a.estate_id}"))
    assert (world.a.group_name in estate_page) is (role in READERS)


@pytest.mark.parametrize("who", ["hq_admin", "hq_viewer"])
def test_hq_sees_no_group_pages(app, world, login, who):
    client = login(who)
    gid = world.a.group_id
    assert client.get("/groups/board").status_code == 403
    assert client.get(f"/groups/{gid}").status_code == 403
    assert client.post(f"/groups/{gid}/metrics", data=metric_post(gid, members=1)).status_code == 403
    estate_page = _text(client.get(f"/estates/{world.a.estate_id}"))
    assert world.a.group_name not in estate_page and world.a.person_name not in estate_page


def test_another_dealers_group_is_404_even_for_editors(app, world, login):
    client = login(world.a.lead)
    assert client.get(f"/groups/{world.b.group_id}").status_code == 404
    assert client.post(f"/groups/{world.b.group_id}/metrics", data={}).status_code == 404
    assert client.post(f"/groups/accounts/{world.b.account_id}/delete").status_code == 404


# ---------------------------------------------------------------- the board


def _board_world(app, world, estates: int, groups_each: int, prefix: str = "看板小区") -> list[int]:
    """Extra estates of dealer A (stage 运营中) with groups, metrics and an active plan."""
    ids = []
    with app.app_context():
        for n in range(estates):
            estate = add_estate(world, f"{prefix}{n:02d}", stage=EstateStage.OPERATING)
            for g in range(groups_each):
                group = add_group(estate, f"{prefix}{n:02d}-{g}群")
                add_metric(group, TODAY - timedelta(days=1), members=100 + g, owners=50, deposits=1)
                add_metric(group, TODAY, members=110 + g, owners=60, deposits=2)
            ids.append(estate.id)
        db.session.commit()
    return ids


def _count_board(client, count_queries) -> int:
    with count_queries() as queries:
        response = client.get("/groups/board")
    assert response.status_code == 200
    return queries.count


def test_board_query_count_does_not_grow(app, world, login, count_queries):
    client = login(world.a.lead)
    client.get("/groups/board")  # warm up: the session's user and dealer
    _board_world(app, world, estates=2, groups_each=1)
    small = _count_board(client, count_queries)
    _board_world(app, world, estates=12, groups_each=3, prefix="更多小区")
    large = _count_board(client, count_queries)
    assert large == small, f"{small} queries for 3 estates, {large} for 15"
    assert small <= 15


def test_board_rows_totals_phase_and_filters(app, world, login):
    (operating_id,) = _board_world(app, world, estates=1, groups_each=2)
    with app.app_context():
        estate = db.session.get(Estate, operating_id)
        plan = make_plan(
            db.session, world.a.dealer_id, world.city_ids["齐齐哈尔"], estate, "在执行的规划", starts_on=TODAY
        )
        plan.status = PlanStatus.ACTIVE
        plan.estates[0].operator_id = world.a.user_ids[Role.CONSULTANT]
        hidden = add_estate(world, "未规划小区")  # unplanned, no group: not on the board by default
        add_estate(world, "待建群小区", stage=EstateStage.TARGET)  # worked, no group yet: counted, not listed
        add_estate(world, "转化中小区", stage=EstateStage.CONVERTING)  # a stage whose estates all lack groups
        other_city = add_estate(world, "外地小区", stage=EstateStage.TARGET)
        other_city.city_id = world.city_ids["长春"]
        add_group(other_city, "外地群")
        db.session.commit()
        hidden_name = hidden.name
    client = login(world.a.lead)
    body = _text(client.get("/groups/board"))
    assert "看板小区00" in body and world.a.estate_name in body and "外地小区" in body
    assert hidden_name not in body and "待建群小区" not in body
    assert "另有 1 个楼盘还没有社群" in body  # the 目标 stage's estate without a group, unplanned not counted
    assert body.count("这些楼盘都还没有社群") == 1  # 转化中; 目标 lists the world's estate, which has a group
    assert "转化中小区" not in body
    assert 'href="/groups/board?stage=target"' in client.get("/groups/board").get_data(as_text=True)
    assert world.b.estate_name not in body and world.b.group_name not in body
    # Stages in pipeline order: 目标 (the world's estate) before 运营中.
    assert body.index(world.a.estate_name) < body.index("看板小区00")
    # Totals: 111 + 110 members, 120 owners of 1,000 households, 3 + 3 deposits; the phase of the active plan.
    assert "221" in body and "12.0%" in body and "找盘建群" in body

    by_city = _text(client.get("/groups/board", query_string={"city_id": world.city_ids["长春"]}))
    assert "外地小区" in by_city and "看板小区00" not in by_city and "另有" not in by_city
    by_stage = _text(client.get("/groups/board", query_string={"stage": "operating"}, headers=HX))
    assert "看板小区00" in by_stage and world.a.estate_name not in by_stage and "<html" not in by_stage
    by_unplanned = _text(client.get("/groups/board", query_string={"stage": "unplanned"}))
    by_target = _text(client.get("/groups/board", query_string={"stage": "target"}))
    assert "待建群小区" in by_target and world.a.estate_name in by_target and "还没有社群" in by_target
    assert "另有" not in by_target
    assert hidden_name in by_unplanned
    # An operator's estates: through a plan item, or through a group account.
    by_consultant = _text(client.get("/groups/board", query_string={"operator_id": world.a.user_ids[Role.CONSULTANT]}))
    assert "看板小区00" in by_consultant and world.a.estate_name not in by_consultant
    by_operator = _text(client.get("/groups/board", query_string={"operator_id": world.a.user_ids[Role.OPERATOR]}))
    assert world.a.estate_name in by_operator and "看板小区00" not in by_operator


def test_board_ignores_draft_and_finished_plans_for_the_phase(app, world, login):
    with app.app_context():
        estate = db.session.get(Estate, world.a.estate_id)
        draft = make_plan(db.session, world.a.dealer_id, world.city_ids["齐齐哈尔"], estate, "草稿规划", TODAY)
        assert draft.status is PlanStatus.DRAFT
        db.session.commit()
    body = _text(login(world.a.lead).get("/groups/board"))
    assert "找盘建群" not in body and "无进行中的阶段" in body


def test_map_card_counts_groups(app, world, login):
    with app.app_context():
        add_group(db.session.get(Estate, world.a.estate_id), "甲方二群")
        db.session.commit()
    staff = _text(login(world.a.lead).get(f"/map/estates/{world.a.estate_id}/card"))
    assert "2 个" in staff and world.a.group_name in staff and "暂无社群" not in staff
    hq = _text(login("hq_viewer").get(f"/map/estates/{world.a.estate_id}/card"))
    assert "2 个" in hq and world.a.group_name not in hq
    installer = _text(login(world.a.usernames[Role.INSTALLER]).get(f"/map/estates/{world.b.estate_id}/card"))
    assert world.b.group_name not in installer


def test_deactivated_user_cannot_be_added(app, world, login):
    with app.app_context():
        from crm.org.models import Dealer

        dealer = db.session.get(Dealer, world.a.dealer_id)
        gone = create_user_unchecked(db.session, "a_gone", TEST_PASSWORD, Role.ASSISTANT, dealer, "离职马甲")
        gone.is_active_account = False
        db.session.commit()
        gone_id = gone.id
    response = login(world.a.lead).post(
        f"/groups/{world.a.group_id}/accounts", data={"user_id": gone_id, "role": "helper"}, headers=HX
    )
    assert response.status_code == 422
    with app.app_context():
        assert db.session.scalars(sa.select(BattlePlan)).first() is not None
        assert not db.session.scalars(sa.select(PlanEstate).where(PlanEstate.operator_id == gone_id)).all()
