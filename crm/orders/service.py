"""Writes for orders: the status flow 交定 → 签约 → 生产 → 待安装 → 安装中 → 已验收 → 质保中 (or 取消),
every change recorded with who and when; orders and their items at the group price; and contracts — the sales
contract of an order and the 群主合作协议 with a key person — drafted, signed (PDF stored with its SHA-256, frozen)
and revised as new versions. Functions only flush; the request commits once."""

from __future__ import annotations

import copy
import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import utcnow
from crm.core.uploads import upload_root
from crm.core.validation import FieldError
from crm.estates.models import FloorPlan
from crm.offers.models import Product
from crm.offers.queries import tier_line
from crm.offers.service import offer_status
from crm.orders.models import Contract, ContractKind, Order, OrderItem, OrderStatus, OrderStatusChange
from crm.orders.queries import person_groups
from crm.org.models import User
from crm.people.models import Person
from crm.proposals.models import Proposal

FLOW = (
    OrderStatus.DEPOSIT,
    OrderStatus.SIGNED,
    OrderStatus.PRODUCTION,
    OrderStatus.AWAITING_INSTALL,
    OrderStatus.INSTALLING,
    OrderStatus.ACCEPTED,
    OrderStatus.WARRANTY,
)
# Past this point goods are made or fitted: cancelling is a refund case the store handles outside the system.
CANCELLABLE = frozenset({OrderStatus.DEPOSIT, OrderStatus.SIGNED, OrderStatus.PRODUCTION, OrderStatus.AWAITING_INSTALL})


def next_status(status: OrderStatus) -> OrderStatus | None:
    """The status that follows `status` in the flow (None at the end or when cancelled)."""
    if status not in FLOW or status == FLOW[-1]:
        return None
    return FLOW[FLOW.index(status) + 1]


def change_status(session: Session, order: Order, to: OrderStatus, user: User | None, note: str = "") -> None:
    """Move an order one step along the flow, or cancel it with a reason; record who and when."""
    to = OrderStatus(to)
    note = (note or "").strip()
    if order.status == OrderStatus.CANCELLED:
        raise FieldError("status", _("订单已取消"))
    if to == OrderStatus.CANCELLED:
        if order.status not in CANCELLABLE:
            raise FieldError("status", _("订单已进入安装或验收，不能在系统里取消"))
        if not note:
            raise FieldError("note", _("取消订单须写明原因"))
        order.cancel_reason = note[:200]
    elif to != next_status(order.status):
        following = next_status(order.status)
        if following is None:
            raise FieldError("status", _("订单状态已到最后一步"))
        raise FieldError("status", _("下一步只能是“%(label)s”", label=following.label))
    order.changes.append(
        OrderStatusChange(
            dealer_id=order.dealer_id, from_status=order.status, to_status=to, note=note[:200], by_id=user and user.id
        )
    )
    order.status = to
    session.flush()


# ---------------------------------------------------------------- shared checks
#
# Every write validates all of its input before touching a row, then only flushes: a refused input
# (FieldError, shown on the form) leaves nothing half-changed, and the request commits once.

MAX_MONEY = Decimal("9999999999.99")  # what Numeric(12, 2) holds
MAX_QUANTITY = Decimal("100000")
MAX_ITEMS = 100
MAX_ROWS = 30  # clauses, results
PROMISE_MAX_YEARS = 30


def _text(value: str | None, field: str, limit: int, required_message: str | None = None) -> str:
    """Stripped text; FieldError when required and blank, or longer than the column holds."""
    text = (value or "").strip()
    if required_message and not text:
        raise FieldError(field, required_message)
    if len(text) > limit:
        raise FieldError(field, _("不能超过 %(n)d 个字", n=limit))
    return text


def _decimal(value, field: str) -> Decimal | None:
    """A typed number (None when blank); FieldError when it is not one."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(str(value).strip().replace(",", "").replace("，", ""))
    except InvalidOperation:
        raise FieldError(field, _("请输入数字")) from None
    if not number.is_finite():
        raise FieldError(field, _("请输入数字"))
    return number


def _money(value, field: str) -> Decimal | None:
    """An amount in yuan, ≥ 0, to the fen (None when blank)."""
    amount = _decimal(value, field)
    if amount is None:
        return None
    if amount < 0:
        raise FieldError(field, _("金额不能小于 0"))
    amount = amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if amount > MAX_MONEY:
        raise FieldError(field, _("金额过大"))
    return amount


def at_discount(price: Decimal, discount_percent: int | None) -> Decimal:
    """`price` at `discount_percent` of itself (88 = 88折), to the fen; the price itself without a discount."""
    if not discount_percent:
        return price
    return (price * discount_percent / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


# ---------------------------------------------------------------- orders


@dataclass
class OrderFields:
    floor_plan_id: int | None = None
    deposit_amount: Decimal | str | None = None
    deposit_paid_on: date | None = None
    deposit_in_store: bool = False
    delivery_on: date | None = None
    install_on: date | None = None
    payment_terms: str = ""
    building: str = ""
    unit: str = ""
    room: str = ""
    notes: str = ""


def _apply_order(session: Session, order: Order, fields: OrderFields) -> None:
    floor_plan_id = None
    if fields.floor_plan_id:
        plan = session.get(FloorPlan, fields.floor_plan_id)
        if plan is None or plan.estate_id != order.estate_id or plan.dealer_id != order.dealer_id:
            raise FieldError("floor_plan_id", _("请选择这个楼盘的户型"))
        floor_plan_id = plan.id
    deposit = _money(fields.deposit_amount, "deposit_amount") or Decimal("0")
    if fields.delivery_on and fields.install_on and fields.install_on < fields.delivery_on:
        raise FieldError("install_on", _("安装日期不能早于送货日期"))
    payment_terms = _text(fields.payment_terms, "payment_terms", 2000)
    building = _text(fields.building, "building", 20)
    unit = _text(fields.unit, "unit", 20)
    room = _text(fields.room, "room", 20)
    notes = _text(fields.notes, "notes", 5000)
    order.floor_plan_id = floor_plan_id
    order.deposit_amount, order.deposit_paid_on = deposit, fields.deposit_paid_on
    order.deposit_in_store = bool(fields.deposit_in_store)
    order.delivery_on, order.install_on = fields.delivery_on, fields.install_on
    order.payment_terms, order.notes = payment_terms, notes
    order.building, order.unit, order.room = building, unit, room


def create_order(
    session: Session,
    person: Person,
    fields: OrderFields,
    *,
    user: User | None,
    today: date,
    proposal_id: int | None = None,
) -> Order:
    """An order for `person` in their estate, at the tier the estate's open offer has reached today; with the
    items of `proposal_id` (a proposal of that estate) copied at that tier's price, list prices kept."""
    if person.estate_id is None:
        raise FieldError("", _("这位业主还没有登记所在楼盘，请先在业主资料里填写楼盘"))
    order = Order(dealer_id=person.dealer_id, person_id=person.id, estate_id=person.estate_id)
    _apply_order(session, order, fields)
    proposal = None
    if proposal_id:
        proposal = session.get(Proposal, proposal_id)
        if proposal is None or proposal.dealer_id != person.dealer_id or proposal.estate_id != person.estate_id:
            raise FieldError("proposal_id", _("请选择这个楼盘的方案"))
    status = offer_status(session, person.estate_id, today)
    if status is not None and status.is_open:
        order.offer_id = status.offer.id
        tier = status.tier
        if tier is not None:
            order.discount_percent = tier.discount_percent
            order.tier_note = " · ".join(part for part in (tier_line(tier), tier.note) if part)[:100]
        else:
            order.tier_note = _("未达到档位，按原价")[:100]
    order.proposal_id = proposal.id if proposal else None
    order.created_by_id = user.id if user else None
    if proposal is not None:
        for position, line in enumerate(proposal.items):
            order.items.append(
                OrderItem(
                    dealer_id=order.dealer_id,
                    product_id=line.product_id,
                    position=position,
                    name=line.name,
                    model=line.model,
                    colour=line.colour,
                    unit=line.unit,
                    quantity=line.quantity,
                    list_price=line.unit_price,
                    unit_price=at_discount(line.unit_price, order.discount_percent),
                )
            )
    order.changes.append(
        OrderStatusChange(
            dealer_id=order.dealer_id, from_status=None, to_status=OrderStatus.DEPOSIT, by_id=order.created_by_id
        )
    )
    session.add(order)
    session.flush()
    return order


def update_order(session: Session, order: Order, fields: OrderFields) -> Order:
    """Change an order's floor plan, deposit, dates, payment terms, address or notes (at any status: signed
    contracts keep their stored PDF)."""
    _apply_order(session, order, fields)
    session.flush()
    return order


# ---------------------------------------------------------------- order items


@dataclass
class ItemFields:
    name: str = ""
    quantity: Decimal | str | None = None
    list_price: Decimal | str | None = None
    unit_price: Decimal | str | None = None  # the agreed price; blank = list price at the order's discount
    product_id: int | None = None
    model: str = ""
    colour: str = ""
    unit: str = ""


def _item_values(session: Session, order: Order, fields: ItemFields) -> dict:
    product = None
    if fields.product_id:
        product = session.get(Product, fields.product_id)
        if product is None or product.dealer_id != order.dealer_id:
            raise FieldError("product_id", _("请选择本店的产品"))
    name = _text(fields.name, "name", 100) or (product.name if product else "")
    if not name:
        raise FieldError("name", _("请填写产品名称或从产品库选择"))
    quantity = _decimal(fields.quantity, "quantity")
    if quantity is None:
        raise FieldError("quantity", _("请填写数量"))
    if quantity <= 0 or quantity >= MAX_QUANTITY:
        raise FieldError("quantity", _("数量须大于 0"))
    list_price = _money(fields.list_price, "list_price")
    agreed = _money(fields.unit_price, "unit_price")
    if list_price is None:
        list_price = product.unit_price if product else agreed
    if list_price is None:
        raise FieldError("list_price", _("请填写原价，或从产品库选择"))
    if agreed is None:
        agreed = at_discount(list_price, order.discount_percent)
    return {
        "product_id": product.id if product else None,
        "name": name[:100],
        "model": (_text(fields.model, "model", 50) or (product.model if product else ""))[:50],
        "colour": (_text(fields.colour, "colour", 50) or (product.colour if product else ""))[:50],
        "unit": (_text(fields.unit, "unit", 10) or (product.unit if product else "件"))[:10],
        "quantity": quantity.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP),
        "list_price": list_price,
        "unit_price": agreed,
    }


def add_item(session: Session, order: Order, fields: ItemFields) -> OrderItem:
    """Add a line from the catalog or typed in; a blank agreed price is the list price at the order's tier."""
    if len(order.items) >= MAX_ITEMS:
        raise FieldError("", _("每个订单最多 %(n)d 项产品", n=MAX_ITEMS))
    position = max((item.position for item in order.items), default=-1) + 1
    item = OrderItem(dealer_id=order.dealer_id, position=position, **_item_values(session, order, fields))
    order.items.append(item)
    session.flush()
    return item


def update_item(session: Session, item: OrderItem, fields: ItemFields) -> OrderItem:
    """Change a line's product, name, quantity or prices."""
    for key, value in _item_values(session, item.order, fields).items():
        setattr(item, key, value)
    session.flush()
    return item


def delete_item(session: Session, item: OrderItem) -> None:
    """Remove a line from the order."""
    if item in item.order.items:  # keep the loaded list (and the totals) true for the rest of the request
        item.order.items.remove(item)
    session.delete(item)
    session.flush()


# ---------------------------------------------------------------- contracts: what they say
#
# A contract's `terms` hold what its PDF says besides the order's items: for a sales contract
# {"payment", "delivery_on", "install_on", "promises": [{"item", "years", "remedy"}], "standard": [...], "notes"},
# for a cooperation contract {"results": [{"result", "reward"}], "standard": [...], "notes"}.
# Signing renders the PDF once and stores it with its SHA-256: from then on the stored bytes are the contract.

SALES_STANDARD_CLAUSES = (
    _l("产品的名称、型号、颜色、数量和价格以本合同产品清单为准；清单外的增项须双方另行书面确认。"),
    _l("卖方收到定金后安排测量与生产；因买方原因变更尺寸或款式的，交货日期相应顺延。"),
    _l("卖方按约定日期送货、安装；任何一方需要改期的，应至少提前三日通知对方并协商确定新的日期。"),
    _l(
        "安装完成后按五步验收流程验收（安装工自检、顾问抽检、群内看图共检、邻里互检、业主全面验收），验收合格之日起计算质保期。"
    ),
    _l("本合同一式两份，双方各执一份，自双方签字（盖章）之日起生效。"),
)
COOPERATION_STANDARD_CLAUSES = (
    _l("乙方在群内如实介绍甲方的产品、团购政策和服务承诺，不作虚假宣传，不发布与装修无关的广告。"),
    _l("约定结果以甲方系统中记录的群成员数、交定户数和成交订单为准，双方每月核对一次。"),
    _l("每项结果达成后，甲方在核对无误之日起十五日内向乙方兑现对应奖励。"),
    _l("双方对合作中知悉的业主个人信息负有保密义务，不得向第三方提供，不得用于本协议以外的用途。"),
    _l("本协议一式两份，双方各执一份，自双方签字（盖章）之日起生效。"),
)


class ContractFileError(Exception):
    """A signed contract's stored PDF is missing or no longer matches its SHA-256: it must not be served."""


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value else None


def default_payment_terms(order: Order) -> str:
    """定金 ¥500.00 已付（2026-11-10，到店交定）；余款于安装前付清."""
    if order.payment_terms:
        return order.payment_terms
    if order.deposit_amount:
        return _("定金 ¥%(amount)s 已付，余款于安装前一次付清。", amount=f"{order.deposit_amount:,.2f}")
    return _("签约时付定金，余款于安装前一次付清。")


def _promise_rows(order: Order) -> list[dict]:
    offer = order.offer
    if offer is None:
        return []
    promises = sorted(offer.promises, key=lambda promise: (promise.position, promise.id))
    return [{"item": p.item, "years": p.years, "remedy": p.remedy} for p in promises]


def create_sales_contract(session: Session, order: Order, user: User | None) -> Contract:
    """A draft sales contract for `order`: payment terms and dates from the order, the offer's risk promises as
    numbered clauses, and the standard clauses. One series per order; later changes are new versions."""
    existing = session.scalar(
        sa.select(Contract.id).where(Contract.order_id == order.id, Contract.kind == ContractKind.SALES).limit(1)
    )
    if existing:
        raise FieldError("", _("这个订单已有销售合同：请在合同页修改草稿，或在已签署的版本上新建修订版"))
    if order.status == OrderStatus.CANCELLED:
        raise FieldError("", _("订单已取消，不能再签合同"))
    terms = {
        "payment": default_payment_terms(order),
        "delivery_on": _iso(order.delivery_on),
        "install_on": _iso(order.install_on),
        "promises": _promise_rows(order),
        "standard": [str(clause) for clause in SALES_STANDARD_CLAUSES],
        "notes": "",
    }
    contract = Contract(
        dealer_id=order.dealer_id,
        kind=ContractKind.SALES,
        order_id=order.id,
        person_id=order.person_id,
        title=str(ContractKind.SALES.label),
        terms=terms,
        created_by_id=user.id if user else None,
    )
    session.add(contract)
    session.flush()
    contract.series_id = contract.id
    session.flush()
    return contract


def _require_draft(contract: Contract) -> None:
    if contract.is_signed:
        raise FieldError("", _("已签署的合同内容已冻结，不能修改；如需改动请新建修订版"))


def _lines(text: str, field: str) -> list[str]:
    """One clause per non-blank line."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    if len(lines) > MAX_ROWS:
        raise FieldError(field, _("最多 %(n)d 条", n=MAX_ROWS))
    for line in lines:
        if len(line) > 500:
            raise FieldError(field, _("每条不能超过 %(n)d 个字", n=500))
    return lines


@dataclass
class SalesContractFields:
    title: str
    payment: str = ""
    delivery_on: date | None = None
    install_on: date | None = None
    promises: list[tuple[str, int | None, str]] = field(default_factory=list)  # (item, years, remedy)
    standard: str = ""
    notes: str = ""


def _promise_terms(rows: list[tuple[str, int | None, str]]) -> list[dict]:
    promises = []
    for number, (item, years, remedy) in enumerate(rows, start=1):
        item, remedy = (item or "").strip(), (remedy or "").strip()
        if not item and not remedy and years is None:
            continue  # a blank row of the form
        if not item or not remedy or years is None:
            raise FieldError("promises", _("服务承诺第 %(n)d 行：请填写承诺内容、年限和处理方式", n=number))
        if not 0 < years <= PROMISE_MAX_YEARS:
            raise FieldError(
                "promises", _("服务承诺第 %(n)d 行：年限应在 1 到 %(max)d 之间", n=number, max=PROMISE_MAX_YEARS)
            )
        if len(item) > 200 or len(remedy) > 200:
            raise FieldError("promises", _("服务承诺第 %(n)d 行：不能超过 200 个字", n=number))
        promises.append({"item": item, "years": years, "remedy": remedy})
    if len(promises) > MAX_ROWS:
        raise FieldError("promises", _("最多 %(n)d 条", n=MAX_ROWS))
    return promises


def update_sales_contract(session: Session, contract: Contract, fields: SalesContractFields) -> Contract:
    """Change a draft sales contract's title, payment terms, dates, promise clauses, standard clauses or notes."""
    _require_draft(contract)
    title = _text(fields.title, "title", 100, _("请填写合同名称"))
    if fields.delivery_on and fields.install_on and fields.install_on < fields.delivery_on:
        raise FieldError("install_on", _("安装日期不能早于送货日期"))
    terms = {
        "payment": _text(fields.payment, "payment", 2000, _("请填写付款方式")),
        "delivery_on": _iso(fields.delivery_on),
        "install_on": _iso(fields.install_on),
        "promises": _promise_terms(fields.promises),
        "standard": _lines(fields.standard, "standard"),
        "notes": _text(fields.notes, "notes", 5000),
    }
    contract.title, contract.terms = title, terms
    session.flush()
    return contract


@dataclass
class CooperationFields:
    group_id: int | None
    starts_on: date | None
    ends_on: date | None
    results: list[tuple[str, str]] = field(default_factory=list)  # (result, reward)
    title: str = ""
    standard: str | None = None  # None: the standard clauses
    notes: str = ""


def _cooperation_values(session: Session, person: Person, fields: CooperationFields) -> dict:
    title = _text(fields.title, "title", 100) or str(ContractKind.COOPERATION.label)
    if not fields.group_id or fields.group_id not in {g.id for g in person_groups(session, person)}:
        raise FieldError("group_id", _("请选择这位关键人物所在的社群"))
    if fields.starts_on is None:
        raise FieldError("starts_on", _("请填写合作开始日期"))
    if fields.ends_on is None:
        raise FieldError("ends_on", _("请填写合作结束日期"))
    if fields.ends_on < fields.starts_on:
        raise FieldError("ends_on", _("结束日期不能早于开始日期"))
    results = []
    for number, (result, reward) in enumerate(fields.results, start=1):
        result, reward = (result or "").strip(), (reward or "").strip()
        if not result and not reward:
            continue
        if not result or not reward:
            raise FieldError("results", _("约定结果第 %(n)d 行：请同时填写结果和对应的奖励", n=number))
        if len(result) > 200 or len(reward) > 200:
            raise FieldError("results", _("约定结果第 %(n)d 行：不能超过 200 个字", n=number))
        results.append({"result": result, "reward": reward})
    if not results:
        raise FieldError("results", _("请至少写一项约定结果和对应的奖励"))
    if len(results) > MAX_ROWS:
        raise FieldError("results", _("最多 %(n)d 条", n=MAX_ROWS))
    if fields.standard is None:
        standard = [str(clause) for clause in COOPERATION_STANDARD_CLAUSES]
    else:
        standard = _lines(fields.standard, "standard")
    terms = {"results": results, "standard": standard, "notes": _text(fields.notes, "notes", 5000)}
    return {
        "title": title,
        "group_id": fields.group_id,
        "starts_on": fields.starts_on,
        "ends_on": fields.ends_on,
        "terms": terms,
    }


def create_cooperation_contract(
    session: Session, person: Person, fields: CooperationFields, user: User | None
) -> Contract:
    """A draft 群主合作协议 with a key person: their group, the agreed results with a reward for each, the term."""
    if not person.is_key_person:
        raise FieldError(
            "", _("群主合作协议只与关键人物签订：请先在业主资料里把 %(name)s 标为关键人物", name=person.name)
        )
    values = _cooperation_values(session, person, fields)
    contract = Contract(
        dealer_id=person.dealer_id,
        kind=ContractKind.COOPERATION,
        person_id=person.id,
        created_by_id=user.id if user else None,
        **values,
    )
    session.add(contract)
    session.flush()
    contract.series_id = contract.id
    session.flush()
    return contract


def update_cooperation_contract(session: Session, contract: Contract, fields: CooperationFields) -> Contract:
    """Change a draft cooperation contract's group, results and rewards, term, clauses or notes."""
    _require_draft(contract)
    for key, value in _cooperation_values(session, contract.person, fields).items():
        setattr(contract, key, value)
    session.flush()
    return contract


# ---------------------------------------------------------------- contracts: sign, revise, serve


def latest_version(session: Session, contract: Contract) -> int:
    """The highest version number in the contract's series."""
    return session.scalar(sa.select(sa.func.max(Contract.version)).where(Contract.series_id == contract.series_id)) or 0


CONTRACTS_FOLDER = "contracts"  # under UPLOAD_FOLDER: contracts/<dealer_id>/<uuid>.pdf


def _stored_path(relative: str) -> Path:
    root = upload_root().resolve()
    path = (root / relative).resolve()
    if not path.is_relative_to(root / CONTRACTS_FOLDER):
        raise ContractFileError(_("合同文件的存放位置不正确，已拒绝下载"))
    return path


def _store_pdf(dealer_id: int, pdf: bytes) -> str:
    """Write a signed contract's PDF under UPLOAD_FOLDER/contracts/<dealer>/ (atomically); its relative path."""
    relative = f"{CONTRACTS_FOLDER}/{dealer_id}/{uuid.uuid4().hex}.pdf"
    target = upload_root() / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=target.parent, suffix=".part", delete=False) as handle:
        handle.write(pdf)
    os.replace(handle.name, target)
    return relative


def sign_contract(session: Session, contract: Contract, user: User | None) -> Contract:
    """Mark a draft signed: render its PDF once, store it with its SHA-256, record who and when. A signed sales
    contract moves its order from 交定 to 签约; a signed cooperation contract ticks the key person's 签订合同 move."""
    from crm.orders.printing import render_contract

    _require_draft(contract)
    order = contract.order
    if contract.kind == ContractKind.SALES:
        if order is None or order.status == OrderStatus.CANCELLED:
            raise FieldError("", _("订单已取消，不能签署"))
        if not order.items:
            raise FieldError("", _("订单还没有产品，不能签署"))
    elif not (contract.terms or {}).get("results"):
        raise FieldError("", _("请至少写一项约定结果和对应的奖励"))
    pdf = render_contract(session, contract, is_draft=False)
    contract.pdf_path = _store_pdf(contract.dealer_id, pdf)
    contract.pdf_sha256 = hashlib.sha256(pdf).hexdigest()
    contract.signed_at = utcnow()
    contract.signed_by_id = user.id if user else None
    session.flush()
    if contract.kind == ContractKind.SALES and order.status == OrderStatus.DEPOSIT:
        change_status(session, order, OrderStatus.SIGNED, user, _("销售合同第 %(n)d 版已签署", n=contract.version))
    if contract.kind == ContractKind.COOPERATION and contract.person is not None:
        from crm.people.models import KeyMove
        from crm.people.service import tick_move

        if not any(move.move == KeyMove.CONTRACT for move in contract.person.key_moves):
            note = _("%(title)s 第 %(n)d 版已签署", title=contract.title, n=contract.version)
            tick_move(session, contract.person, KeyMove.CONTRACT, by=user, note=note)
    return contract


def revise_contract(session: Session, contract: Contract, user: User | None) -> Contract:
    """新建修订版: the next version of a signed contract as a draft with the same terms (same series)."""
    if not contract.is_signed:
        raise FieldError("", _("草稿可以直接修改，不需要新建修订版"))
    newest = latest_version(session, contract)
    if newest > contract.version:
        raise FieldError("", _("已有第 %(n)d 版，请在最新版本上修改", n=newest))
    revision = Contract(
        dealer_id=contract.dealer_id,
        series_id=contract.series_id,
        version=newest + 1,
        kind=contract.kind,
        order_id=contract.order_id,
        person_id=contract.person_id,
        group_id=contract.group_id,
        title=contract.title,
        terms=copy.deepcopy(contract.terms or {}),
        starts_on=contract.starts_on,
        ends_on=contract.ends_on,
        created_by_id=user.id if user else None,
    )
    session.add(revision)
    session.flush()
    return revision


def delete_draft(session: Session, contract: Contract) -> None:
    """Throw away a draft (a signed version stays for good)."""
    _require_draft(contract)
    session.delete(contract)
    session.flush()


def signed_pdf(contract: Contract) -> bytes:
    """The stored PDF of a signed contract, checked against its SHA-256; ContractFileError if missing or changed."""
    if not contract.is_signed or not contract.pdf_path or not contract.pdf_sha256:
        raise ContractFileError(_("这份合同还没有签署，没有存档文件"))
    path = _stored_path(contract.pdf_path)
    try:
        pdf = path.read_bytes()
    except OSError:
        raise ContractFileError(_("找不到已签署合同的存档文件，已拒绝下载。请联系管理员从备份恢复。")) from None
    if hashlib.sha256(pdf).hexdigest() != contract.pdf_sha256:
        raise ContractFileError(
            _("已签署合同的存档文件与签署时记录的 SHA-256 不一致，文件可能被改动，已拒绝下载。请联系管理员从备份恢复。")
        )
    return pdf
