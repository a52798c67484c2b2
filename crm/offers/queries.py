"""Reads for products and group-buy offers: the catalog, the offer list with live deposits, one offer with what its
page shows, and `offer_summary` — what a proposal, a PDF or a page says about an estate's offer today.
Dealer scoping applies underneath every query here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session, selectinload

from crm.estates.models import Estate
from crm.offers.models import EarlyBird, GroupOffer, OfferTier, Product, ProductTier, RiskPromise
from crm.offers.service import (
    OfferStatus,
    PriceLine,
    deposit_counts,
    discount_label,
    offer_status,
    price_lines,
)

TIER_ORDER = {tier: index for index, tier in enumerate(ProductTier)}


# ---------------------------------------------------------------- products


def products(session: Session, include_inactive: bool = True) -> list[Product]:
    """The catalog: active products first, then by tier (引流 → 裂变), category and name."""
    query = sa.select(Product)
    if not include_inactive:
        query = query.where(Product.is_active.is_(True))
    found = session.scalars(query).all()
    return sorted(
        found, key=lambda p: (not p.is_active, TIER_ORDER[p.tier], p.category, p.name, p.model, p.colour, p.id)
    )


def active_products(session: Session) -> list[Product]:
    """The products an offer's prices apply to (the catalog without the deactivated ones)."""
    return products(session, include_inactive=False)


# ---------------------------------------------------------------- offers


def _offer_options():
    return (
        selectinload(GroupOffer.estate),
        selectinload(GroupOffer.tiers),
        selectinload(GroupOffer.early_birds),
        selectinload(GroupOffer.promises),
    )


def load_offer(session: Session, offer_id: int) -> GroupOffer | None:
    """An offer with its estate, tiers, early birds and promises loaded up front."""
    return session.scalars(sa.select(GroupOffer).where(GroupOffer.id == offer_id).options(*_offer_options())).first()


@dataclass
class OfferFilters:
    estate_id: int | None = None
    include_inactive: bool = True

    @classmethod
    def from_args(cls, args) -> OfferFilters:
        """Read filters from a query string, ignoring values that do not parse."""
        try:
            estate_id = int(args.get("estate_id", ""))
        except ValueError:
            estate_id = None
        return cls(estate_id=estate_id, include_inactive=args.get("active") != "1")

    def as_args(self) -> dict:
        values = {"estate_id": self.estate_id, "active": None if self.include_inactive else "1"}
        return {k: v for k, v in values.items() if v is not None}


def offers(session: Session, filters: OfferFilters, today: date) -> list[OfferSummary]:
    """The dealer's offers (newest first, stopped ones last) with their live deposits, in a fixed number of queries."""
    query = sa.select(GroupOffer).options(*_offer_options())
    if filters.estate_id:
        query = query.where(GroupOffer.estate_id == filters.estate_id)
    if not filters.include_inactive:
        query = query.where(GroupOffer.is_active.is_(True))
    found = session.scalars(query.order_by(GroupOffer.starts_on.desc(), GroupOffer.id.desc())).all()
    counts = deposit_counts(session, list(found), today)
    summaries = [OfferSummary(OfferStatus(offer, counts.get(offer.id, 0), today)) for offer in found]
    return sorted(summaries, key=lambda summary: not summary.offer.is_active)


def offer_estates(session: Session) -> list[Estate]:
    """The dealer's estates, for the offer list's filter and the new-offer picker."""
    return list(session.scalars(sa.select(Estate).order_by(Estate.name_key)))


# ---------------------------------------------------------------- the offer as said to owners


PHASE_UPCOMING = "upcoming"
PHASE_OPEN = "open"
PHASE_CLOSED = "closed"
PHASE_STOPPED = "stopped"


@dataclass
class OfferSummary:
    """An offer as it stands today, with the sentences staff, proposals and PDFs put in front of owners."""

    status: OfferStatus

    @property
    def offer(self) -> GroupOffer:
        return self.status.offer

    @property
    def deposits(self) -> int:
        return self.status.deposits

    @property
    def today(self) -> date:
        return self.status.today

    @property
    def tier(self) -> OfferTier | None:
        return self.status.tier

    @property
    def next_tier(self) -> OfferTier | None:
        return self.status.next_tier

    @property
    def to_next_tier(self) -> int | None:
        return self.status.to_next_tier

    @property
    def early_birds_left(self) -> list[EarlyBird]:
        return self.status.early_birds_left

    @property
    def tiers(self) -> list[OfferTier]:
        return sorted(self.offer.tiers, key=lambda tier: tier.min_deposits)

    @property
    def tier_lines(self) -> list[str]:
        """满 10 户 88折, 满 30 户 85折 …"""
        return [tier_line(tier) for tier in self.tiers]

    @property
    def promises(self) -> list[RiskPromise]:
        return sorted(self.offer.promises, key=lambda promise: (promise.position, promise.id))

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def phase(self) -> str:
        """stopped, upcoming (before the start), open, or closed (after 报名截止)."""
        if not self.offer.is_active:
            return PHASE_STOPPED
        if self.today < self.offer.starts_on:
            return PHASE_UPCOMING
        if self.today > self.offer.ends_on:
            return PHASE_CLOSED
        return PHASE_OPEN

    @property
    def phase_label(self) -> str:
        return {
            PHASE_STOPPED: _("已停用"),
            PHASE_UPCOMING: _("未开始"),
            PHASE_OPEN: _("报名中"),
            PHASE_CLOSED: _("已截止"),
        }[self.phase]

    @property
    def tier_label(self) -> str:
        """The price in force: 88折, or 原价 before the first tier is reached."""
        return discount_label(self.tier.discount_percent if self.tier else None)

    @property
    def next_tier_line(self) -> str:
        """再 18 户交定升到 85折 ('' when no tier is ahead)."""
        if self.next_tier is None:
            return ""
        return _(
            "再 %(n)d 户交定升到 %(label)s",
            n=self.to_next_tier,
            label=discount_label(self.next_tier.discount_percent),
        )

    @property
    def headline(self) -> str:
        """已有 12 户交定，当前 88折；再 18 户交定升到 85折 (暂按原价 before the first tier)."""
        if self.tier is None:
            line = _("已有 %(n)d 户交定，暂按原价", n=self.deposits)
        else:
            line = _("已有 %(n)d 户交定，当前 %(label)s", n=self.deposits, label=self.tier_label)
        following = self.next_tier_line
        return _("%(line)s；%(next)s", line=line, next=following) if following else line

    def early_bird_places_left(self, bird: EarlyBird) -> int:
        """Places of an early bird not yet taken (0 once the first N have paid)."""
        return max(bird.first_n - self.deposits, 0)

    def early_bird_line(self, bird: EarlyBird) -> str:
        """前 20 名：送智能门锁（还剩 8 个名额）."""
        return _(
            "前 %(n)d 名：%(benefit)s（还剩 %(left)d 个名额）",
            n=bird.first_n,
            benefit=bird.benefit,
            left=self.early_bird_places_left(bird),
        )

    @property
    def early_bird_lines(self) -> list[str]:
        return [self.early_bird_line(bird) for bird in self.early_birds_left]

    @property
    def promise_lines(self) -> list[str]:
        return [promise_line(promise) for promise in self.promises]

    def price(self, list_price: Decimal) -> Decimal:
        """A list price at the tier in force (to the fen)."""
        return self.status.price(list_price)

    def price_lines(self, products: list[Product]) -> list[PriceLine]:
        """`products` at the tier in force and at each tier."""
        return price_lines(products, self.tiers, self.tier)


def promise_line(promise: RiskPromise) -> str:
    """5 年内掉漆、门皮起翘、门框变形免费维修."""
    return _("%(years)d 年内%(item)s%(remedy)s", years=promise.years, item=promise.item, remedy=promise.remedy)


def tier_line(tier: OfferTier) -> str:
    """满 10 户 88折."""
    return _("满 %(n)d 户 %(label)s", n=tier.min_deposits, label=discount_label(tier.discount_percent))


def offer_summary(session: Session, estate_id: int, today: date) -> OfferSummary | None:
    """The estate's current offer (active and covering today, else its latest active one) with live deposits;
    None when the estate has no active offer. For proposals, PDFs and estate pages."""
    status = offer_status(session, estate_id, today)
    return OfferSummary(status) if status else None


def summary_of(session: Session, offer: GroupOffer, today: date) -> OfferSummary:
    """One given offer (active or not) as it stands today."""
    return OfferSummary(OfferStatus(offer, deposit_counts(session, [offer], today)[offer.id], today))
