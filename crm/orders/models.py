"""Orders for a person (交定 → … → 质保中), their status history, and contracts: the sales contract of an
order and the group-owner cooperation contract (群主合作协议), frozen with a SHA-256 once signed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, TimestampMixin, UTCDateTime, Versioned, enum_type, utcnow
from crm.extensions import db
from crm.offers.models import MONEY


class OrderStatus(StrEnum):
    DEPOSIT = "deposit"
    SIGNED = "signed"
    PRODUCTION = "production"
    AWAITING_INSTALL = "awaiting_install"
    INSTALLING = "installing"
    ACCEPTED = "accepted"
    WARRANTY = "warranty"
    CANCELLED = "cancelled"

    @property
    def label(self) -> str:
        return str(ORDER_STATUS_LABELS[self])


ORDER_STATUS_LABELS = {
    OrderStatus.DEPOSIT: _l("交定"),
    OrderStatus.SIGNED: _l("签约"),
    OrderStatus.PRODUCTION: _l("生产"),
    OrderStatus.AWAITING_INSTALL: _l("待安装"),
    OrderStatus.INSTALLING: _l("安装中"),
    OrderStatus.ACCEPTED: _l("已验收"),
    OrderStatus.WARRANTY: _l("质保中"),
    OrderStatus.CANCELLED: _l("取消"),
}


class Order(Versioned, DealerOwned, TimestampMixin, db.Model):
    """An owner's order: what was bought at which group price, the deposit, dates and where it stands."""

    __table_args__ = (sa.CheckConstraint("deposit_amount >= 0", name="deposit_not_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(sa.ForeignKey("person.id", ondelete="RESTRICT"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="RESTRICT"), index=True)
    floor_plan_id: Mapped[int | None] = mapped_column(sa.ForeignKey("floor_plan.id", ondelete="SET NULL"))
    proposal_id: Mapped[int | None] = mapped_column(sa.ForeignKey("proposal.id", ondelete="SET NULL"))
    offer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("group_offer.id", ondelete="SET NULL"), index=True)
    # The tier applied when the order was taken (kept even if the offer changes later).
    discount_percent: Mapped[int | None]
    tier_note: Mapped[str] = mapped_column(sa.String(100), default="")
    deposit_amount: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    deposit_paid_on: Mapped[date | None]
    deposit_in_store: Mapped[bool] = mapped_column(default=False)
    delivery_on: Mapped[date | None]
    install_on: Mapped[date | None]
    payment_terms: Mapped[str] = mapped_column(sa.Text, default="")
    building: Mapped[str] = mapped_column(sa.String(20), default="")
    unit: Mapped[str] = mapped_column(sa.String(20), default="")
    room: Mapped[str] = mapped_column(sa.String(20), default="")
    status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus, 20), default=OrderStatus.DEPOSIT, index=True)
    cancel_reason: Mapped[str] = mapped_column(sa.String(200), default="")
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    person: Mapped[Person] = relationship()  # noqa: F821
    estate: Mapped[Estate] = relationship()  # noqa: F821
    floor_plan: Mapped[FloorPlan | None] = relationship()  # noqa: F821
    proposal: Mapped[Proposal | None] = relationship()  # noqa: F821
    offer: Mapped[GroupOffer | None] = relationship()  # noqa: F821
    items: Mapped[list[OrderItem]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderItem.position"
    )
    changes: Mapped[list[OrderStatusChange]] = relationship(
        back_populates="order", cascade="all, delete-orphan", order_by="OrderStatusChange.id"
    )

    @property
    def total(self) -> Decimal:
        return sum((item.amount for item in self.items), Decimal("0"))

    @property
    def list_total(self) -> Decimal:
        return sum((item.list_amount for item in self.items), Decimal("0"))

    @property
    def address(self) -> str:
        return "-".join(part for part in (self.building, self.unit, self.room) if part)


class OrderItem(DealerOwned, db.Model):
    __table_args__ = (
        sa.CheckConstraint("quantity > 0", name="quantity_positive"),
        sa.CheckConstraint("unit_price >= 0 AND list_price >= 0", name="prices_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int | None] = mapped_column(sa.ForeignKey("product.id", ondelete="SET NULL"))
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(100))
    model: Mapped[str] = mapped_column(sa.String(50), default="")
    colour: Mapped[str] = mapped_column(sa.String(50), default="")
    unit: Mapped[str] = mapped_column(sa.String(10), default="件")
    quantity: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2))
    list_price: Mapped[Decimal] = mapped_column(MONEY)
    unit_price: Mapped[Decimal] = mapped_column(MONEY)  # the agreed price (group price)

    order: Mapped[Order] = relationship(back_populates="items")

    @property
    def amount(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def list_amount(self) -> Decimal:
        return (self.quantity * self.list_price).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class OrderStatusChange(DealerOwned, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(sa.ForeignKey("order.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[OrderStatus | None] = mapped_column(enum_type(OrderStatus, 20))
    to_status: Mapped[OrderStatus] = mapped_column(enum_type(OrderStatus, 20))
    note: Mapped[str] = mapped_column(sa.String(200), default="")
    by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    order: Mapped[Order] = relationship(back_populates="changes")
    by: Mapped[User | None] = relationship()  # noqa: F821


class ContractKind(StrEnum):
    SALES = "sales"
    COOPERATION = "cooperation"  # 群主合作协议 with a key person

    @property
    def label(self) -> str:
        return str({ContractKind.SALES: _l("销售合同"), ContractKind.COOPERATION: _l("群主合作协议")}[self])


class Contract(DealerOwned, TimestampMixin, db.Model):
    """One version of a contract. A signed version never changes: its PDF is stored with its SHA-256 and
    any edit makes the next version (same `series_id`)."""

    __table_args__ = (sa.UniqueConstraint("series_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    series_id: Mapped[int | None] = mapped_column(index=True)  # the first version's id
    version: Mapped[int] = mapped_column(default=1)
    kind: Mapped[ContractKind] = mapped_column(enum_type(ContractKind, 12))
    order_id: Mapped[int | None] = mapped_column(sa.ForeignKey("order.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int | None] = mapped_column(sa.ForeignKey("person.id", ondelete="RESTRICT"), index=True)
    group_id: Mapped[int | None] = mapped_column(sa.ForeignKey("group.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(100), default="")
    # What the contract says (terms, clauses, agreed results and rewards); frozen into the PDF on signing.
    terms: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    pdf_path: Mapped[str | None] = mapped_column(sa.String(255))
    pdf_sha256: Mapped[str | None] = mapped_column(sa.String(64))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    order: Mapped[Order | None] = relationship()
    person: Mapped[Person | None] = relationship()  # noqa: F821
    group: Mapped[Group | None] = relationship()  # noqa: F821
    signed_by: Mapped[User | None] = relationship(foreign_keys=[signed_by_id])  # noqa: F821

    @property
    def is_signed(self) -> bool:
        return self.signed_at is not None
