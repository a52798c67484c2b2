"""Writes for orders: the status flow 交定 → 签约 → 生产 → 待安装 → 安装中 → 已验收 → 质保中 (or 取消),
every change recorded with who and when. Functions only flush; the request commits once."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.validation import FieldError
from crm.orders.models import Order, OrderStatus, OrderStatusChange
from crm.org.models import User

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
