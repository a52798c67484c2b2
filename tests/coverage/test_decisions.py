"""HQ's month lists (有盘不做, 有盘有群有运营) with a decision per estate, and the leaderboards: what HQ sees,
who may decide, what is refused, and that no page shows a person."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.models import local_today
from crm.core.roles import DEALER_ROLES
from crm.coverage import queries
from crm.coverage.models import CoverageDecision, DecisionKind, DecisionList
from crm.estates.models import Estate, EstateStage
from crm.estates.service import EstateFields, create_estate
from crm.extensions import db
from crm.groups.models import Group, GroupMetric, GroupStatus
from crm.orders.models import Order, OrderStatus, OrderStatusChange
from crm.org.models import Brand, Dealer, User
from crm.org.service import DealerFields, create_dealer

HX = {"HX-Request": "true"}
TODAY = local_today()
THIS_MONTH = queries.month_start(TODAY)


def _text(response) -> str:
    return response.get_data(as_text=True)


def _row(page: str, estate_id: int) -> str:
    """The list row of one estate ('' when the estate is not on the page)."""
    match = re.search(rf'<tr id="candidate-{estate_id}".*?</tr>', page, re.S)
    return match.group(0) if match else ""


def neglected_estate(app, dealer_id: int, city_id: int, name: str, days_ago: int = 40, **fields) -> int:
    """A targeted estate with no group, targeted `days_ago` days ago (有盘不做 past 30 days)."""
    with app.app_context():
        values = {"district": "建华区", "households": 800, **fields}
        estate = create_estate(
            db.session, dealer_id, EstateFields(name=name, city_id=city_id, stage=EstateStage.TARGET, **values)
        )
        estate.targeted_on = TODAY - timedelta(days=days_ago)
        db.session.commit()
        return estate.id


def _decisions(app, estate_id: int) -> list[CoverageDecision]:
    with app.app_context():
        rows = db.session.scalars(
            sa.select(CoverageDecision).where(CoverageDecision.estate_id == estate_id).order_by(CoverageDecision.id)
        ).all()
        db.session.expunge_all()
        return rows


def _decide(client, estate_id: int, kind: str, note: str = "", list_kind="neglected", month=None, headers=HX, **args):
    return client.post(
        f"/hq/coverage/estates/{estate_id}/decision",
        query_string=args,
        data={"month": (month or THIS_MONTH).strftime("%Y-%m"), "list_kind": list_kind, "kind": kind, "note": note},
        headers=headers,
    )


@pytest.fixture
def city_a(world):
    return world.city_ids["齐齐哈尔"]


# ---------------------------------------------------------------- the 有盘不做 list and decisions on it


def test_neglected_list_shows_the_overdue_estate_with_its_facts(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城", days_ago=40)
    neglected_estate(app, world.a.dealer_id, city_a, "刚选定小区", days_ago=10)  # not overdue yet
    page = _text(login(world.hq_viewer).get("/hq/coverage/neglected"))
    row = _row(page, estate_id)
    for expected in (
        "AAA",
        "甲经销商",
        "齐齐哈尔",
        "铁锋新城",
        "建华区",
        "800",
        (TODAY - timedelta(days=40)).isoformat(),
    ):
        assert expected in row, expected
    assert "10 天" in row  # 40 days since targeting, 30 allowed
    assert f'href="/hq/coverage/estates/{estate_id}"' in row
    assert "未决定" in row
    assert "刚选定小区" not in page
    assert world.a.estate_name not in page  # it has a group


def test_admin_records_a_decision_and_sees_who_and_when(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    client = login(world.hq_admin)
    response = _decide(client, estate_id, "penalty", "两次提醒仍未建群")
    assert response.status_code == 200
    row = _text(response)
    assert "<html" not in row and row.lstrip().startswith(f'<tr id="candidate-{estate_id}"')
    assert "两次提醒仍未建群" in row and "总部管理员" in row and "已保存" in row
    assert 'class="badge decision-penalty"' in row

    page = _text(client.get("/hq/coverage/neglected"))
    row = _row(page, estate_id)
    assert "两次提醒仍未建群" in row and "总部管理员" in row and TODAY.isoformat() in row
    [decision] = _decisions(app, estate_id)
    with app.app_context():
        admin_id = db.session.scalar(sa.select(User.id).where(User.username == world.hq_admin))
    assert (decision.kind, decision.list_kind, decision.month, decision.decided_by_id) == (
        DecisionKind.PENALTY,
        DecisionList.NEGLECTED,
        THIS_MONTH,
        admin_id,
    )
    assert decision.dealer_id == world.a.dealer_id
    assert abs(decision.decided_at - datetime.now(UTC)) < timedelta(minutes=1)


def test_a_second_decision_replaces_the_first_on_the_page_and_both_stay_in_history(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    client = login(world.hq_admin)
    assert _decide(client, estate_id, "penalty", "两次提醒仍未建群").status_code == 200
    assert _decide(client, estate_id, "ignore", "楼盘延期交房").status_code == 200

    row = _row(_text(login(world.hq_viewer).get("/hq/coverage/neglected")), estate_id)
    assert "楼盘延期交房" in row and 'decision-ignore"' in row
    assert "两次提醒仍未建群" not in row and "decision-penalty" not in row
    history = _decisions(app, estate_id)
    assert [(d.kind, d.note) for d in history] == [
        (DecisionKind.PENALTY, "两次提醒仍未建群"),
        (DecisionKind.IGNORE, "楼盘延期交房"),
    ]


def test_a_plain_post_redirects_back_to_the_same_list_with_a_message(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    client = login(world.hq_admin)
    response = _decide(client, estate_id, "support", headers={}, dealer_id=world.a.dealer_id, show="all")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/hq/coverage/neglected?")
    assert f"dealer_id={world.a.dealer_id}" in response.headers["Location"]
    page = _text(client.get(response.headers["Location"]))
    assert "已记录：铁锋新城 · 扶持" in page
    assert 'decision-support"' in _row(page, estate_id)


def test_a_penalty_needs_a_note(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    client = login(world.hq_admin)
    refused = _decide(client, estate_id, "penalty", "  ")
    assert refused.status_code == 422
    assert "处罚请写明原因" in _text(refused) and "<html" not in _text(refused)
    plain = _decide(client, estate_id, "penalty", "", headers={})
    assert plain.status_code == 422 and "处罚请写明原因" in _text(plain) and "铁锋新城" in _text(plain)
    assert _decisions(app, estate_id) == []


def test_a_decision_without_a_choice_is_refused(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    refused = _decide(login(world.hq_admin), estate_id, "", "备注")
    assert refused.status_code == 422 and "请选择：罚、扶持或忽略" in _text(refused)
    assert _decisions(app, estate_id) == []


def test_an_estate_that_left_the_list_is_refused(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    client = login(world.hq_admin)
    page = _text(client.get("/hq/coverage/neglected"))
    assert "铁锋新城" in _row(page, estate_id)
    with app.app_context():  # meanwhile the dealer builds a group
        db.session.add(
            Group(dealer_id=world.a.dealer_id, estate_id=estate_id, name="新建群", status=GroupStatus.OPERATING)
        )
        db.session.commit()
    refused = _decide(client, estate_id, "penalty", "未建群")
    assert refused.status_code == 422
    assert "该楼盘已不在「有盘不做」名单上，请刷新页面" in _text(refused)
    assert "已不在名单上" in _text(refused)
    assert _decisions(app, estate_id) == []
    assert _row(_text(client.get("/hq/coverage/neglected")), estate_id) == ""


def test_a_future_month_is_refused(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    refused = _decide(login(world.hq_admin), estate_id, "support", month=queries.next_month(THIS_MONTH))
    assert refused.status_code == 422 and "不能为将来的月份做决定" in _text(refused)
    assert _decisions(app, estate_id) == []


def test_a_decision_for_last_month_shows_on_last_months_list_only(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    client = login(world.hq_admin)
    last_month = queries.previous_month(THIS_MONTH)
    assert _decide(client, estate_id, "ignore", "上月已处理", month=last_month).status_code == 200
    previous = _text(client.get("/hq/coverage/neglected", query_string={"month": last_month.strftime("%Y-%m")}))
    assert "上月已处理" in _row(previous, estate_id)
    assert "上月已处理" not in _row(_text(client.get("/hq/coverage/neglected")), estate_id)


def test_undecided_filter_hides_decided_rows_and_dealer_filter_narrows(app, world, login, city_a):
    decided = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    open_a = neglected_estate(app, world.a.dealer_id, city_a, "龙沙花园")
    open_b = neglected_estate(app, world.b.dealer_id, world.city_ids["长春"], "南关小区")
    client = login(world.hq_admin)
    assert _decide(client, decided, "ignore").status_code == 200

    everything = _text(client.get("/hq/coverage/neglected", query_string={"show": "all"}))
    assert all(_row(everything, e) for e in (decided, open_a, open_b))
    undecided = _text(client.get("/hq/coverage/neglected", query_string={"show": "undecided"}))
    assert _row(undecided, decided) == "" and _row(undecided, open_a) and _row(undecided, open_b)
    only_b = _text(client.get("/hq/coverage/neglected", query_string={"dealer_id": world.b.dealer_id}))
    assert _row(only_b, open_b) and not _row(only_b, open_a) and not _row(only_b, decided)
    assert f'<option value="{world.b.dealer_id}" selected>' in only_b


def test_the_list_pages_by_fifty(app, world, login, city_a):
    with app.app_context():
        for n in range(51):
            estate = create_estate(
                db.session,
                world.a.dealer_id,
                EstateFields(name=f"分页小区{n:02d}", city_id=city_a, stage=EstateStage.TARGET),
            )
            estate.targeted_on = TODAY - timedelta(days=100 - n)  # the oldest first
        db.session.commit()
    client = login(world.hq_viewer)
    first = _text(client.get("/hq/coverage/neglected"))
    assert first.count('<tr id="candidate-') == 50
    assert "分页小区00" in first and "分页小区50" not in first
    assert "共 51 个楼盘" in first and "第 1 / 2 页" in first
    second = _text(client.get("/hq/coverage/neglected", query_string={"page": 2}))
    assert second.count('<tr id="candidate-') == 1 and "分页小区50" in second
    past_the_end = _text(client.get("/hq/coverage/neglected", query_string={"page": 9}))
    assert "分页小区50" in past_the_end


def test_the_list_query_count_does_not_grow_with_rows(app, world, login, city_a, count_queries):
    client = login(world.hq_admin)
    for n in range(3):
        neglected_estate(app, world.a.dealer_id, city_a, f"计数小区{n}")
    with count_queries() as few:
        client.get("/hq/coverage/neglected")
    ids = [neglected_estate(app, world.b.dealer_id, world.city_ids["长春"], f"更多小区{n}") for n in range(6)]
    for estate_id in ids:
        assert _decide(client, estate_id, "ignore").status_code == 200
    with count_queries() as many:
        client.get("/hq/coverage/neglected")
    assert many.count <= few.count + 1  # at most the deciding HQ user, loaded once


# ---------------------------------------------------------------- the 有盘有群有运营 list


def _operate(app, group_id: int, dealer_id: int) -> None:
    with app.app_context():
        db.session.add(GroupMetric(dealer_id=dealer_id, group_id=group_id, day=TODAY, members=150, joins=4))
        db.session.commit()


def test_supported_list_shows_worked_estates_with_groups_and_orders(app, world, login):
    _operate(app, world.a.group_id, world.a.dealer_id)
    client = login(world.hq_admin)
    page = _text(client.get("/hq/coverage/supported"))
    row = _row(page, world.a.estate_id)
    assert world.a.estate_name in row and "AAA" in row and TODAY.isoformat() in row
    cells = re.findall(r'<td class="num">([^<]*)</td>', row)
    assert cells == ["1,200", "1", "1"]  # households, groups, orders
    response = _decide(client, world.a.estate_id, "support", "群活跃，给物料支持", list_kind="supported")
    assert response.status_code == 200 and "群活跃，给物料支持" in _text(response)
    again = _text(client.get("/hq/coverage/supported"))
    assert "群活跃，给物料支持" in _row(again, world.a.estate_id)
    assert "群活跃，给物料支持" not in _text(client.get("/hq/coverage/neglected"))


# ---------------------------------------------------------------- who may do what


def test_hq_viewer_reads_the_lists_but_cannot_decide(app, world, login, city_a):
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    client = login(world.hq_viewer)
    page = _text(client.get("/hq/coverage/neglected"))
    assert "铁锋新城" in page and "decision-form" not in page and 'name="kind"' not in page
    assert _decide(client, estate_id, "ignore").status_code == 403
    assert _decide(client, estate_id, "ignore", headers={}).status_code == 403
    assert _decisions(app, estate_id) == []


@pytest.mark.parametrize("role", DEALER_ROLES, ids=lambda r: r.value)
def test_dealer_users_get_403_on_every_hq_list_page(app, world, login, role):
    client = login(world.a.usernames[role])
    for url in (
        "/hq/coverage/neglected",
        "/hq/coverage/supported",
        "/hq/coverage/leaderboards",
        "/hq/coverage/base-deals",
        "/hq/coverage/conflicts",
        "/hq/coverage/settings",
    ):
        assert client.get(url).status_code == 403, url
    assert _decide(client, world.a.estate_id, "ignore").status_code == 403  # their own estate
    assert _decide(client, world.b.estate_id, "ignore").status_code == 404  # another dealer's
    for url in ("/hq/coverage/conflicts/assign", "/hq/coverage/base-deals", "/hq/coverage/settings"):
        assert client.post(url, data={}).status_code == 403, url


def test_an_unknown_estate_is_404(app, world, login):
    assert _decide(login(world.hq_admin), 999999, "ignore").status_code == 404


# ---------------------------------------------------------------- leaderboards


def _third_dealer(app, world) -> tuple[int, int]:
    """Dealer CCC with an estate and a group in 齐齐哈尔: (dealer_id, group_id)."""
    with app.app_context():
        brand = db.session.scalars(sa.select(Brand)).first()
        dealer = create_dealer(
            db.session, brand, DealerFields(code="CCC", name="丙经销商", city_id=world.city_ids["齐齐哈尔"])
        )
        estate = create_estate(db.session, dealer.id, EstateFields(name="丙方小区", city_id=world.city_ids["齐齐哈尔"]))
        group = Group(dealer_id=dealer.id, estate_id=estate.id, name="丙方群", status=GroupStatus.OPERATING)
        db.session.add(group)
        db.session.commit()
        return dealer.id, group.id


def _joins(app, dealer_id: int, group_id: int, day, joins: int) -> None:
    with app.app_context():
        db.session.add(GroupMetric(dealer_id=dealer_id, group_id=group_id, day=day, joins=joins))
        db.session.commit()


def _signed(app, order_id: int, at: datetime) -> None:
    with app.app_context():
        order = db.session.get(Order, order_id)
        db.session.add(
            OrderStatusChange(
                dealer_id=order.dealer_id, order_id=order.id, from_status=None, to_status=OrderStatus.SIGNED, at=at
            )
        )
        db.session.commit()


def _board(page: str, key: str) -> list[tuple[str, str, str]]:
    """(rank, dealer code, value) of each line of one board."""
    section = re.search(rf'<section class="board" aria-labelledby="board-{key}">.*?</section>', page, re.S).group(0)
    return re.findall(
        r'<td class="num rank">(\d+)</td>\s*<td><strong>(\w+)</strong>[^<]*</td>\s*<td class="num">([\d,]+)</td>',
        section,
    )


def test_leaderboards_rank_dealers_and_ties_share_a_rank(app, world, login):
    c_dealer, c_group = _third_dealer(app, world)
    _joins(app, world.a.dealer_id, world.a.group_id, TODAY, 12)
    _joins(app, world.b.dealer_id, world.b.group_id, TODAY, 30)
    _joins(app, c_dealer, c_group, TODAY, 12)
    _joins(app, world.a.dealer_id, world.a.group_id, queries.previous_month(THIS_MONTH), 99)  # last month
    now = datetime.now(UTC)
    _signed(app, world.b.order_id, now)
    client = login(world.hq_viewer)
    page = _text(client.get("/hq/coverage/leaderboards"))
    assert _board(page, "new_members") == [("1", "BBB", "30"), ("2", "AAA", "12"), ("2", "CCC", "12")]
    assert _board(page, "orders") == [("1", "BBB", "1")]
    with app.app_context():
        amount = sum(i.quantity * i.unit_price for i in db.session.get(Order, world.b.order_id).items)
    assert f"{Decimal(amount):,.2f}" in page

    last = _text(
        client.get(
            "/hq/coverage/leaderboards", query_string={"month": queries.previous_month(THIS_MONTH).strftime("%Y-%m")}
        )
    )
    assert _board(last, "new_members") == [("1", "AAA", "99")]
    assert "这个月还没有经销商签约成交" in last


def test_leaderboards_empty_month(app, world, login):
    page = _text(login(world.hq_admin).get("/hq/coverage/leaderboards", query_string={"month": "2020-01"}))
    assert "2020-01" in page
    assert "这个月还没有经销商签约成交" in page and "这个月还没有经销商录入进群人数" in page


def test_a_future_month_shows_this_month(app, world, login):
    page = _text(login(world.hq_admin).get("/hq/coverage/leaderboards", query_string={"month": "2999-01"}))
    assert f'name="month" type="month" value="{THIS_MONTH.strftime("%Y-%m")}"' in page


# ---------------------------------------------------------------- no personal data on any page of this family


def test_no_page_shows_a_person_a_group_name_or_a_dealer_login(app, world, login, city_a):
    _operate(app, world.a.group_id, world.a.dealer_id)
    _operate(app, world.b.group_id, world.b.dealer_id)
    estate_id = neglected_estate(app, world.a.dealer_id, city_a, "铁锋新城")
    with app.app_context():  # the same estate claimed by B: a conflict
        create_estate(
            db.session,
            world.b.dealer_id,
            EstateFields(name="铁锋新城", city_id=city_a, stage=EstateStage.TARGET),
        )
        db.session.commit()
    admin = login(world.hq_admin)
    assert _decide(admin, estate_id, "penalty", "未建群").status_code == 200
    assert _decide(admin, world.a.estate_id, "support", list_kind="supported").status_code == 200
    assert admin.post("/hq/coverage/base-deals", data={"category": "木门", "orders_per_group": "2"}).status_code == 302
    forbidden = [
        marker
        for dealer in (world.a, world.b)
        for marker in (
            dealer.person_name,
            dealer.person_phone,
            dealer.group_name,
            *dealer.usernames.values(),
            *dealer.user_display_names.values(),
        )
    ]
    for username in (world.hq_admin, world.hq_viewer):
        client = login(username)
        for url in (
            "/hq/coverage/neglected",
            "/hq/coverage/supported",
            "/hq/coverage/conflicts",
            "/hq/coverage/leaderboards",
            "/hq/coverage/base-deals",
            "/hq/coverage/settings",
        ):
            response = client.get(url)
            assert response.status_code == 200, url
            page = _text(response)
            leaks = [marker for marker in forbidden if marker in page]
            assert not leaks, f"{url} shows {leaks}"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Dealer)) == 2
        assert db.session.get(Estate, estate_id).name == "铁锋新城"
