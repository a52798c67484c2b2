"""Order rules without HTTP: the status flow and its history, an order taken at the tier in force with a
proposal's items copied at the group price, the prices of added lines, and contract drafts and versions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from crm.core.roles import Role
from crm.core.validation import FieldError
from crm.extensions import db
from crm.orders import service
from crm.orders.models import Contract, ContractKind, Order, OrderStatus
from crm.orders.printing import rmb_capitals
from crm.orders.queries import balance, sales_terms
from crm.org.models import User
from crm.people.models import Person
from tests.orders.helpers import TODAY, set_deposits


def _user(world, role=Role.CONSULTANT) -> User:
    return db.session.get(User, world.a.user_ids[role])


def _new_order(world, proposal_id=None, **fields) -> Order:
    person = db.session.get(Person, world.a.person_id)
    return service.create_order(
        db.session,
        person,
        service.OrderFields(**fields),
        user=_user(world),
        today=TODAY,
        proposal_id=proposal_id,
    )


# ---------------------------------------------------------------- the status flow


def test_only_the_next_step_is_allowed_and_every_change_is_recorded(app, world):
    with app.app_context():
        order = _new_order(world)
        assert order.status == OrderStatus.DEPOSIT
        lead = _user(world, Role.DEALER_LEAD)
        with pytest.raises(FieldError, match="下一步只能是“签约”"):
            service.change_status(db.session, order, OrderStatus.PRODUCTION, lead)
        with pytest.raises(FieldError, match="下一步只能是“签约”"):
            service.change_status(db.session, order, OrderStatus.DEPOSIT, lead)
        for step in service.FLOW[1:]:
            service.change_status(db.session, order, step, lead, note=f"到{step.label}")
        assert order.status == OrderStatus.WARRANTY
        with pytest.raises(FieldError, match="已到最后一步"):
            service.change_status(db.session, order, OrderStatus.WARRANTY, lead)
        history = [(c.from_status, c.to_status, c.by_id) for c in order.changes]
        assert history[0] == (None, OrderStatus.DEPOSIT, world.a.user_ids[Role.CONSULTANT])
        assert [to for _from, to, _by in history] == list(service.FLOW)
        assert all(by == lead.id for _from, _to, by in history[1:])
        assert order.changes[1].note == "到签约" and order.changes[1].at is not None


def test_cancelling_needs_a_reason_and_is_refused_once_installing(app, world):
    with app.app_context():
        lead = _user(world, Role.DEALER_LEAD)
        order = _new_order(world)
        with pytest.raises(FieldError) as refused:
            service.change_status(db.session, order, OrderStatus.CANCELLED, lead, note="  ")
        assert refused.value.field == "note" and "原因" in refused.value.message
        assert order.status == OrderStatus.DEPOSIT and len(order.changes) == 1
        service.change_status(db.session, order, OrderStatus.CANCELLED, lead, note="业主改选其他品牌")
        assert order.status == OrderStatus.CANCELLED and order.cancel_reason == "业主改选其他品牌"
        assert order.changes[-1].to_status == OrderStatus.CANCELLED and order.changes[-1].by_id == lead.id
        for to in (OrderStatus.SIGNED, OrderStatus.CANCELLED):
            with pytest.raises(FieldError, match="订单已取消"):
                service.change_status(db.session, order, to, lead, note="再试")

        installing = db.session.get(Order, world.a.order_id)
        assert installing.status == OrderStatus.INSTALLING
        with pytest.raises(FieldError, match="不能在系统里取消"):
            service.change_status(db.session, installing, OrderStatus.CANCELLED, lead, note="想退")
        assert installing.status == OrderStatus.INSTALLING


# ---------------------------------------------------------------- taking an order


def test_an_order_copies_the_proposals_items_at_the_tier_price_and_keeps_list_prices(app, world):
    set_deposits(app, world.a.group_id, 12)  # 满 10 户 88折
    with app.app_context():
        order = _new_order(
            world,
            proposal_id=world.a.proposal_id,
            deposit_amount="500",
            deposit_paid_on=date(2026, 11, 28),
            deposit_in_store=True,
            building="3",
            unit="2",
            room="1201",
        )
        assert order.offer_id == world.a.offer_id and order.discount_percent == 88
        assert "88折" in order.tier_note and "10 户成团" in order.tier_note
        [item] = order.items
        assert (item.name, item.model, item.colour, item.unit) == (world.a.product_name, "M-01", "胡桃色", "樘")
        assert item.quantity == Decimal("3") and item.product_id == world.a.product_id
        assert item.list_price == Decimal("1980.00") and item.unit_price == Decimal("1742.40")
        assert order.list_total == Decimal("5940.00") and order.total == Decimal("5227.20")
        assert balance(order) == Decimal("4727.20")
        assert order.address == "3-2-1201" and order.estate_id == world.a.estate_id
        assert order.deposit_in_store is True and order.created_by_id == world.a.user_ids[Role.CONSULTANT]


def test_below_the_first_tier_or_outside_the_offer_the_list_price_applies(app, world):
    set_deposits(app, world.a.group_id, 3)
    with app.app_context():
        order = _new_order(world, proposal_id=world.a.proposal_id)
        assert order.offer_id == world.a.offer_id and order.discount_percent is None
        assert order.items[0].unit_price == order.items[0].list_price == Decimal("1980.00")
    set_deposits(app, world.a.group_id, 12)
    with app.app_context():
        person = db.session.get(Person, world.a.person_id)
        after_the_offer = date(2027, 3, 1)
        late = service.create_order(
            db.session, person, service.OrderFields(), user=None, today=after_the_offer, proposal_id=world.a.proposal_id
        )
        assert late.offer_id is None and late.discount_percent is None  # 报名截止 has passed
        assert late.total == Decimal("5940.00")


def test_an_order_needs_the_persons_estate_and_its_own_proposals_and_plans(app, world):
    with app.app_context():
        with pytest.raises(FieldError) as refused:
            _new_order(world, proposal_id=world.b.proposal_id)
        assert refused.value.field == "proposal_id"
        with pytest.raises(FieldError) as refused:
            _new_order(world, floor_plan_id=world.b.floor_plan_id)
        assert refused.value.field == "floor_plan_id"
        with pytest.raises(FieldError, match="安装日期不能早于送货日期"):
            _new_order(world, delivery_on=date(2026, 12, 20), install_on=date(2026, 12, 10))
        with pytest.raises(FieldError, match="金额不能小于 0"):
            _new_order(world, deposit_amount="-1")
        person = db.session.get(Person, world.a.person_id)
        person.estate_id = None
        with pytest.raises(FieldError, match="还没有登记所在楼盘"):
            service.create_order(db.session, person, service.OrderFields(), user=None, today=TODAY)


def test_added_lines_take_the_catalog_price_at_the_orders_discount_unless_typed(app, world):
    with app.app_context():
        order = db.session.get(Order, world.a.order_id)  # 88折
        from_catalog = service.add_item(
            db.session, order, service.ItemFields(product_id=world.a.product_id, quantity="2")
        )
        assert from_catalog.list_price == Decimal("1980.00") and from_catalog.unit_price == Decimal("1742.40")
        typed = service.add_item(
            db.session, order, service.ItemFields(name="踢脚线", quantity="12.5", unit="延米", list_price="40")
        )
        assert typed.unit_price == Decimal("35.20") and typed.amount == Decimal("440.00")
        agreed = service.add_item(
            db.session, order, service.ItemFields(name="安装费", quantity="1", list_price="300", unit_price="0")
        )
        assert agreed.unit_price == Decimal("0.00")
        assert order.total == Decimal("5227.20") + Decimal("3484.80") + Decimal("440.00")
        service.update_item(
            db.session, typed, service.ItemFields(name="踢脚线", quantity="10", list_price="40", unit_price="30")
        )
        assert typed.amount == Decimal("300.00")
        service.delete_item(db.session, agreed)
        assert agreed not in order.items and len(order.items) == 3
        for fields, field in (
            (service.ItemFields(quantity="1"), "name"),
            (service.ItemFields(name="门", quantity="0", list_price="1"), "quantity"),
            (service.ItemFields(name="门", quantity="1"), "list_price"),
            (service.ItemFields(product_id=world.b.product_id, quantity="1"), "product_id"),
        ):
            with pytest.raises(FieldError) as refused:
                service.add_item(db.session, order, fields)
            assert refused.value.field == field


# ---------------------------------------------------------------- contracts


def test_a_sales_draft_takes_the_orders_terms_and_the_offers_promises(app, world):
    set_deposits(app, world.a.group_id, 12)
    with app.app_context():
        order = _new_order(world, proposal_id=world.a.proposal_id, deposit_amount="500", delivery_on=date(2027, 1, 5))
        contract = service.create_sales_contract(db.session, order, _user(world))
        assert contract.series_id == contract.id and contract.version == 1 and contract.kind == ContractKind.SALES
        assert contract.terms["promises"] == [{"item": "掉漆、门皮起翘、门框变形", "years": 5, "remedy": "免费维修"}]
        assert contract.terms["delivery_on"] == "2027-01-05" and "500.00" in contract.terms["payment"]
        assert len(contract.terms["standard"]) == len(service.SALES_STANDARD_CLAUSES)
        with pytest.raises(FieldError, match="已有销售合同"):
            service.create_sales_contract(db.session, order, None)
        with pytest.raises(FieldError, match="年限"):
            service.update_sales_contract(
                db.session,
                contract,
                service.SalesContractFields(title="销售合同", payment="全款", promises=[("漏水", 40, "包换")]),
            )
        service.update_sales_contract(
            db.session,
            contract,
            service.SalesContractFields(
                title="木门销售合同",
                payment="全款",
                promises=[("", None, ""), ("漏水", 10, "包换")],
                standard="第一条\n\n第二条",
            ),
        )
        terms = sales_terms(contract)
        assert [(p.item, p.years, p.remedy) for p in terms.promises] == [("漏水", 10, "包换")]
        assert terms.standard == ["第一条", "第二条"] and terms.delivery_on is None


def test_the_worlds_draft_without_promises_falls_back_to_the_offer(app, world):
    with app.app_context():
        contract = db.session.get(Contract, world.a.contract_id)
        terms = sales_terms(contract)
        assert [(p.item, p.years) for p in terms.promises] == [("掉漆、门皮起翘、门框变形", 5)]
        assert terms.payment == "定金 500 元，余款安装前付清"


def test_a_draft_cannot_be_revised_and_a_cooperation_contract_needs_a_key_person(app, world):
    with app.app_context():
        draft = db.session.get(Contract, world.a.contract_id)
        with pytest.raises(FieldError, match="草稿可以直接修改"):
            service.revise_contract(db.session, draft, None)
        person = db.session.get(Person, world.a.person_id)
        fields = service.CooperationFields(
            group_id=world.a.group_id,
            starts_on=date(2026, 12, 1),
            ends_on=date(2027, 5, 31),
            results=[("群成员达到 300 人", "智能门锁一套")],
        )
        with pytest.raises(FieldError, match="只与关键人物签订"):
            service.create_cooperation_contract(db.session, person, fields, None)
        person.is_key_person = True
        start, end = date(2026, 12, 1), date(2027, 1, 1)
        for bad, field in (
            (service.CooperationFields(world.b.group_id, start, end, [("a", "b")]), "group_id"),
            (service.CooperationFields(world.a.group_id, start, date(2026, 11, 1), [("a", "b")]), "ends_on"),
            (service.CooperationFields(world.a.group_id, start, None, [("a", "b")]), "ends_on"),
            (service.CooperationFields(world.a.group_id, start, end, [("a", "")]), "results"),
            (service.CooperationFields(world.a.group_id, start, end, []), "results"),
        ):
            with pytest.raises(FieldError) as refused:
                service.create_cooperation_contract(db.session, person, bad, None)
            assert refused.value.field == field
        contract = service.create_cooperation_contract(db.session, person, fields, None)
        assert contract.series_id == contract.id and contract.title == "群主合作协议"
        assert contract.terms["results"] == [{"result": "群成员达到 300 人", "reward": "智能门锁一套"}]
        assert len(contract.terms["standard"]) == len(service.COOPERATION_STANDARD_CLAUSES)


@pytest.mark.parametrize(
    ("amount", "capitals"),
    [
        ("5227.20", "伍仟贰佰贰拾柒元贰角整"),
        ("500", "伍佰元整"),
        ("100.05", "壹佰元零伍分"),
        ("10005", "壹万零伍元整"),
        ("10500", "壹万零伍佰元整"),
        ("1001.1", "壹仟零壹元壹角整"),
        ("100000001", "壹亿零壹元整"),
        ("0.5", "伍角整"),
        ("0", "零元整"),
        ("12", "壹拾贰元整"),
    ],
)
def test_amounts_in_capitals(amount, capitals):
    assert rmb_capitals(Decimal(amount)) == capitals
