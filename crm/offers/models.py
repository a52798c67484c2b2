"""Products with their tier, and each estate's group-buy offer: tiered prices, early-bird thresholds,
the gift for paying a deposit in the store, and risk promises (利益, 风险 and 门槛 of the deal formula)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, TimestampMixin, enum_type
from crm.extensions import db

MONEY = sa.Numeric(12, 2)


class ProductTier(StrEnum):
    """How a product is used in the offer: bait priced like e-commerce, then regular items, services, referral gifts."""

    BAIT = "bait"
    REGULAR = "regular"
    SERVICE = "service"
    REFERRAL = "referral"

    @property
    def label(self) -> str:
        return str(
            {
                ProductTier.BAIT: _l("引流"),
                ProductTier.REGULAR: _l("常规"),
                ProductTier.SERVICE: _l("服务"),
                ProductTier.REFERRAL: _l("裂变"),
            }[self]
        )


class Product(DealerOwned, TimestampMixin, db.Model):
    """A door, a wardrobe, a service… with its list price per unit."""

    __table_args__ = (
        sa.UniqueConstraint("dealer_id", "name", "model"),
        sa.CheckConstraint("unit_price >= 0", name="unit_price_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    category: Mapped[str] = mapped_column(sa.String(50), default="")  # 木门, 衣柜, 橱柜, 服务…
    model: Mapped[str] = mapped_column(sa.String(50), default="")  # 型号
    colour: Mapped[str] = mapped_column(sa.String(50), default="")
    unit: Mapped[str] = mapped_column(sa.String(10), default="件")  # 樘, ㎡, 套, 延米…
    unit_price: Mapped[Decimal] = mapped_column(MONEY, default=Decimal("0"))
    tier: Mapped[ProductTier] = mapped_column(enum_type(ProductTier, 10), default=ProductTier.REGULAR)
    is_active: Mapped[bool] = mapped_column(default=True)


class GroupOffer(DealerOwned, TimestampMixin, db.Model):
    """团购方案 for one estate: the price follows how many owners have paid a deposit."""

    __table_args__ = (sa.CheckConstraint("ends_on >= starts_on", name="period_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    starts_on: Mapped[date]
    ends_on: Mapped[date]  # 报名截止
    event_on: Mapped[date | None]  # 活动日期: the store event owners are invited to
    store_gift: Mapped[str] = mapped_column(sa.String(200), default="")  # 到店交定礼
    deposit_amount: Mapped[Decimal | None] = mapped_column(MONEY)  # 定金
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    estate: Mapped[Estate] = relationship()  # noqa: F821
    tiers: Mapped[list[OfferTier]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="OfferTier.min_deposits"
    )
    early_birds: Mapped[list[EarlyBird]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="EarlyBird.first_n"
    )
    promises: Mapped[list[RiskPromise]] = relationship(
        back_populates="offer", cascade="all, delete-orphan", order_by="RiskPromise.position"
    )


class OfferTier(DealerOwned, db.Model):
    """From `min_deposits` deposits on, every owner gets `discount_percent` of list price (88 = 88折)."""

    __table_args__ = (
        sa.UniqueConstraint("offer_id", "min_deposits"),
        sa.CheckConstraint("min_deposits >= 0", name="min_deposits_not_negative"),
        sa.CheckConstraint("discount_percent > 0 AND discount_percent <= 100", name="discount_in_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("group_offer.id", ondelete="CASCADE"), index=True)
    min_deposits: Mapped[int]
    discount_percent: Mapped[int]
    note: Mapped[str] = mapped_column(sa.String(200), default="")

    offer: Mapped[GroupOffer] = relationship(back_populates="tiers")


class EarlyBird(DealerOwned, db.Model):
    """门槛: the first N owners to pay a deposit get something extra (the earlier, the more)."""

    __table_args__ = (sa.CheckConstraint("first_n > 0", name="first_n_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("group_offer.id", ondelete="CASCADE"), index=True)
    first_n: Mapped[int]
    benefit: Mapped[str] = mapped_column(sa.String(200))

    offer: Mapped[GroupOffer] = relationship(back_populates="early_birds")


class RiskPromise(DealerOwned, db.Model):
    """风险承诺, e.g. 5 年内掉漆、门皮起翘、门框变形 → 免费维修 (becomes a contract clause and a warranty item)."""

    __table_args__ = (sa.CheckConstraint("years > 0 AND years <= 30", name="years_in_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(sa.ForeignKey("group_offer.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    item: Mapped[str] = mapped_column(sa.String(200))
    years: Mapped[int]
    remedy: Mapped[str] = mapped_column(sa.String(200))

    offer: Mapped[GroupOffer] = relationship(back_populates="promises")
