"""The order pages: the list with its filters, an order taken for an owner at the group price, its items and
totals, the status buttons and history, who may do what, and that another dealer's people stay out of reach."""

from __future__ import annotations

from decimal import Decimal

import pytest
import sqlalchemy as sa

from crm.core.roles import DEALER_ROLES, Role
from crm.extensions import db
from crm.orders.models import Order, OrderItem, OrderStatus
from crm.people.models import Person
from tests.orders.helpers import HX, set_deposits, text_of


def _latest_order(app, person_id: int) -> Order:
    with app.app_context():
        order = db.session.scalars(
            sa.select(Order).where(Order.person_id == person_id).order_by(Order.id.desc()).limit(1)
        ).one()
        order.items, order.changes  # noqa: B018  (load before the context closes)
        return order


# ---------------------------------------------------------------- taking an order


def test_a_consultant_takes_an_order_from_the_owners_proposal_at_the_group_price(app, world, login):
    set_deposits(app, world.a.group_id, 12)
    client = login(world.a.usernames[Role.CONSULTANT])
    url = f"/orders/new?person_id={world.a.person_id}"
    form = client.get(url)
    page = text_of(form)
    assert form.status_code == 200
    assert world.a.person_name in page and world.a.proposal_title in page and "88折" in page
    assert f'<option selected value="{world.a.proposal_id}">' in page  # the owner's own proposal is offered first
    assert world.a.person_phone not in page

    response = client.post(
        url,
        data={
            "proposal_id": world.a.proposal_id,
            "floor_plan_id": world.a.floor_plan_id,
            "building": "3",
            "unit": "2",
            "room": "1201",
            "deposit_amount": "500",
            "deposit_paid_on": "2026-11-30",
            "deposit_in_store": "y",
            "delivery_on": "2026-12-20",
            "install_on": "2026-12-22",
            "payment_terms": "定金 500 元，余款安装前付清",
        },
    )
    assert response.status_code == 302
    order = _latest_order(app, world.a.person_id)
    assert order.id != world.a.order_id and response.headers["Location"].endswith(f"/orders/{order.id}")
    assert order.discount_percent == 88 and order.deposit_in_store and order.status == OrderStatus.DEPOSIT
    assert [(i.list_price, i.unit_price, i.quantity) for i in order.items] == [
        (Decimal("1980.00"), Decimal("1742.40"), Decimal("3.00"))
    ]

    detail = text_of(client.get(f"/orders/{order.id}"))
    for expected in (
        world.a.person_name,
        world.a.estate_name,
        "3-2-1201",
        world.a.product_name,
        "¥1,980.00",  # list price
        "¥1,742.40",  # agreed price
        "¥5,940.00",  # list total
        "¥5,227.20",  # agreed total
        "¥712.80",  # saving
        "¥4,727.20",  # balance after the deposit
        "到店交定",
        "下一步：签约",
        world.a.user_display_names[Role.CONSULTANT],  # who took it, in the history
    ):
        assert expected in detail, expected
    assert world.a.person_phone not in detail
    assert "取消订单" not in detail  # cancelling is the lead's


def test_refused_input_comes_back_with_the_reason(app, world, login):
    client = login(world.a.lead)
    url = f"/orders/new?person_id={world.a.person_id}"
    response = client.post(url, data={"delivery_on": "2026-12-20", "install_on": "2026-12-01"})
    assert response.status_code == 422 and "安装日期不能早于送货日期" in text_of(response)
    response = client.post(url, data={"deposit_amount": "abc"})
    assert response.status_code == 422 and "请输入数字" in text_of(response)
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Order.id))) == 2  # the two dealers' world orders


def test_without_a_person_the_new_order_page_searches_the_dealers_people(world, login):
    client = login(world.a.lead)
    page = text_of(client.get("/orders/new", query_string={"q": world.a.person_name[:3]}))
    assert world.a.person_name in page and f"person_id={world.a.person_id}" in page
    searched = text_of(client.get("/orders/new", query_string={"q": world.b.person_name}))
    assert "没有找到业主" in searched and f"person_id={world.b.person_id}" not in searched


# ---------------------------------------------------------------- dealer scoping


def test_another_dealers_person_proposal_or_product_cannot_be_used(app, world, login):
    client = login(world.a.lead)
    assert client.get(f"/orders/new?person_id={world.b.person_id}").status_code == 404
    assert client.post(f"/orders/new?person_id={world.b.person_id}", data={}).status_code == 404
    assert client.get(f"/orders/contracts/new?person_id={world.b.person_id}").status_code == 404
    refused = client.post(f"/orders/new?person_id={world.a.person_id}", data={"proposal_id": world.b.proposal_id})
    assert refused.status_code == 422 and "请选择这个楼盘的方案" in text_of(refused)
    refused = client.post(f"/orders/new?person_id={world.a.person_id}", data={"floor_plan_id": world.b.floor_plan_id})
    assert refused.status_code == 422 and "请选择这个楼盘的户型" in text_of(refused)
    refused = client.post(f"/orders/{world.a.order_id}/items", data={"product_id": world.b.product_id, "quantity": "1"})
    assert refused.status_code == 422 and "请选择本店的产品" in text_of(refused)
    assert client.get(f"/orders/{world.b.order_id}").status_code == 404
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count(Order.id)).where(Order.person_id == world.b.person_id)) == 1


def test_the_list_shows_only_the_dealers_orders_and_filters_them(app, world, login):
    client = login(world.a.lead)
    page = text_of(client.get("/orders/"))
    assert world.a.person_name in page and world.a.estate_name in page and "安装中" in page
    for marker in world.b.markers():
        assert marker not in page, marker
    assert world.a.person_phone not in page
    assert world.a.person_name in text_of(client.get("/orders/", query_string={"status": "installing"}))
    assert "没有符合条件的订单" in text_of(client.get("/orders/", query_string={"status": "deposit"}))
    assert "没有符合条件的订单" in text_of(client.get("/orders/", query_string={"q": "没有这个人"}))
    partial = client.get("/orders/", query_string={"q": world.a.person_name[-2:]}, headers=HX)
    assert world.a.person_name in text_of(partial) and "<html" not in text_of(partial)
    other_estate = text_of(client.get("/orders/", query_string={"estate_id": world.b.estate_id}))
    assert "没有符合条件的订单" in other_estate


def test_the_list_runs_the_same_queries_however_many_orders(app, world, login, count_queries):
    client = login(world.a.lead)

    def listing() -> int:
        with count_queries() as counted:
            assert client.get("/orders/").status_code == 200
        return counted.count

    before = listing()
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        for n in range(4):
            order = Order(dealer_id=person.dealer_id, person_id=person.id, estate_id=person.estate_id)
            order.items.append(
                OrderItem(dealer_id=person.dealer_id, name=f"门{n}", quantity=Decimal(1), list_price=10, unit_price=9)
            )
            db.session.add(order)
        db.session.commit()
    assert listing() == before


# ---------------------------------------------------------------- status


def test_the_next_step_button_moves_one_step_and_a_stale_click_is_refused(app, world, login):
    client = login(world.a.usernames[Role.OPERATOR])
    url = f"/orders/{world.a.order_id}/status"
    response = client.post(url, data={"to": "accepted", "note": "业主全面验收"}, headers=HX)
    assert response.status_code == 200
    section = text_of(response)
    assert "订单已进入“已验收”" in section and "下一步：质保中" in section
    assert world.a.user_display_names[Role.OPERATOR] in section and "业主全面验收" in section
    again = client.post(url, data={"to": "accepted"}, headers=HX)  # the same button, clicked twice
    assert again.status_code == 422 and "下一步只能是“质保中”" in text_of(again)
    assert 'name="to" type="hidden" value="warranty"' in text_of(again)  # the refused form now offers 质保中
    skip = client.post(url, data={"to": "cancelled"})
    assert skip.status_code == 422
    with app.app_context():
        order = db.session.get(Order, world.a.order_id)
        assert order.status == OrderStatus.ACCEPTED
        assert [(c.to_status, c.by_id) for c in order.changes] == [
            (OrderStatus.ACCEPTED, world.a.user_ids[Role.OPERATOR])
        ]
    assert client.post(url, data={"to": "warranty"}).status_code == 302
    assert "订单状态已到最后一步" in text_of(client.get(f"/orders/{world.a.order_id}"))


def test_only_the_lead_cancels_only_before_installation_and_with_a_reason(app, world, login):
    consultant = login(world.a.usernames[Role.CONSULTANT])
    lead = login(world.a.lead)
    installing = f"/orders/{world.a.order_id}/cancel"
    assert consultant.post(installing, data={"note": "不要了"}).status_code == 403
    refused = lead.post(installing, data={"note": "不要了"})
    assert refused.status_code == 422 and "不能在系统里取消" in text_of(refused)

    consultant.post(f"/orders/new?person_id={world.a.person_id}", data={})
    order = _latest_order(app, world.a.person_id)
    page = text_of(lead.get(f"/orders/{order.id}"))
    assert "取消订单" in page
    refused = lead.post(f"/orders/{order.id}/cancel", data={"note": ""}, headers=HX)
    assert refused.status_code == 422 and "取消订单须写明原因" in text_of(refused)
    cancelled = lead.post(f"/orders/{order.id}/cancel", data={"note": "业主改选其他品牌"})
    assert cancelled.status_code == 302
    page = text_of(lead.get(f"/orders/{order.id}"))
    assert "取消原因：业主改选其他品牌" in page and "下一步" not in page
    assert world.a.user_display_names[Role.DEALER_LEAD] in page


# ---------------------------------------------------------------- items


def test_items_are_added_edited_and_deleted_and_totals_follow(app, world, login):
    client = login(world.a.usernames[Role.CONSULTANT])
    added = client.post(
        f"/orders/{world.a.order_id}/items",
        data={"name": "踢脚线", "quantity": "10", "unit": "延米", "list_price": "40"},
        headers=HX,
    )
    section = text_of(added)
    assert added.status_code == 200 and "已添加产品" in section
    assert "¥35.20" in section and "¥5,579.20" in section  # 40 at 88折; 5227.20 + 352.00
    refused = client.post(f"/orders/{world.a.order_id}/items", data={"name": "门", "quantity": "0"}, headers=HX)
    assert refused.status_code == 422 and "数量须大于 0" in text_of(refused)

    edit_url = f"/orders/items/{world.a.order_item_id}/edit"
    form = client.get(edit_url)
    assert form.status_code == 200 and "1742.40" in text_of(form)
    saved = client.post(
        edit_url,
        data={
            "product_id": world.a.product_id,
            "name": "木门",
            "quantity": "2",
            "list_price": "1980",
            "unit_price": "1600",
        },
    )
    assert saved.status_code == 302 and saved.headers["Location"].endswith("#items")
    with app.app_context():
        item = db.session.get(OrderItem, world.a.order_item_id)
        assert (item.name, item.quantity, item.unit_price) == ("木门", Decimal("2.00"), Decimal("1600.00"))
    deleted = client.post(f"/orders/items/{world.a.order_item_id}/delete", headers=HX)
    assert deleted.status_code == 200 and "已删除产品" in text_of(deleted)
    with app.app_context():
        assert db.session.get(OrderItem, world.a.order_item_id) is None


def test_the_order_is_edited_at_any_status(app, world, login):
    client = login(world.a.usernames[Role.OPERATOR])
    url = f"/orders/{world.a.order_id}/edit"
    assert "1201" in text_of(client.get(url))
    response = client.post(
        url, data={"building": "5", "unit": "1", "room": "802", "deposit_amount": "800", "install_on": "2026-12-24"}
    )
    assert response.status_code == 302
    with app.app_context():
        order = db.session.get(Order, world.a.order_id)
        assert order.address == "5-1-802" and order.deposit_amount == Decimal("800.00")
        assert order.status == OrderStatus.INSTALLING and order.discount_percent == 88  # the tier applied is kept


# ---------------------------------------------------------------- who may do what


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/orders/"),
        ("GET", "/orders/{order}"),
        ("POST", "/orders/new?person_id={person}"),
        ("POST", "/orders/{order}/edit"),
        ("POST", "/orders/{order}/status"),
        ("POST", "/orders/{order}/items"),
        ("POST", "/orders/items/{item}/edit"),
        ("POST", "/orders/items/{item}/delete"),
        ("POST", "/orders/{order}/contracts"),
        ("POST", "/orders/contracts/{contract}/edit"),
        ("POST", "/orders/contracts/{contract}/sign"),
        ("GET", "/orders/contracts/{contract}/pdf"),
    ],
)
def test_installers_may_not_see_or_change_orders(world, login, method, path):
    client = login(world.a.usernames[Role.INSTALLER])
    url = path.format(
        order=world.a.order_id, person=world.a.person_id, item=world.a.order_item_id, contract=world.a.contract_id
    )
    assert client.open(url, method=method, data={"to": "accepted", "quantity": "1"}).status_code == 403
    with client.application.app_context():
        assert db.session.get(Order, world.a.order_id).status == OrderStatus.INSTALLING


def test_hq_sees_no_orders(world, login):
    client = login(world.hq_admin)
    assert client.get("/orders/").status_code == 403


@pytest.mark.parametrize("role", [r for r in DEALER_ROLES if r not in (Role.INSTALLER, Role.DEALER_LEAD)])
def test_staff_may_not_sign_or_cancel(world, login, role):
    client = login(world.a.usernames[role])
    assert client.get(f"/orders/{world.a.order_id}").status_code == 200
    assert client.post(f"/orders/contracts/{world.a.contract_id}/sign").status_code == 403
    assert client.post(f"/orders/{world.a.order_id}/cancel", data={"note": "x"}).status_code == 403


def test_login_is_required(world, client):
    response = client.get("/orders/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_order_page_runs_the_same_queries_however_many_items_and_changes(app, world, login, count_queries):
    client = login(world.a.lead)

    def page_queries() -> int:
        with count_queries() as counted:
            assert client.get(f"/orders/{world.a.order_id}").status_code == 200
        return counted.count

    client.post(f"/orders/{world.a.order_id}/status", data={"to": "accepted"})
    before = page_queries()
    with app.app_context():
        order = db.session.get(Order, world.a.order_id)
        for n in range(5):
            order.items.append(
                OrderItem(dealer_id=order.dealer_id, name=f"柜{n}", quantity=Decimal(1), list_price=10, unit_price=9)
            )
        db.session.commit()
    client.post(f"/orders/{world.a.order_id}/status", data={"to": "warranty"})
    assert page_queries() == before


def test_designers_and_helper_accounts_read_orders_but_do_not_change_prices(app, world, login):
    for role in (Role.DESIGNER, Role.ASSISTANT):
        client = login(world.a.usernames[role])
        assert client.get(f"/orders/{world.a.order_id}").status_code == 200
        assert client.get(f"/orders/{world.a.order_id}/edit").status_code == 403
        assert client.post(f"/orders/items/{world.a.order_item_id}/delete").status_code == 403
