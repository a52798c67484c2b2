"""Rules of the group-buy offer: which tier applies for a number of deposits, and where that number comes from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from crm.offers.models import EarlyBird, GroupOffer, OfferTier


def tier_for(tiers: list[OfferTier], deposits: int) -> OfferTier | None:
    """The tier in force at `deposits` deposits: the one with the highest threshold reached (≥)."""
    reached = [tier for tier in tiers if deposits >= tier.min_deposits]
    return max(reached, key=lambda tier: tier.min_deposits) if reached else None


def next_tier(tiers: list[OfferTier], deposits: int) -> OfferTier | None:
    """The next tier to reach, if any (what the group is told to aim for)."""
    ahead = [tier for tier in tiers if tier.min_deposits > deposits]
    return min(ahead, key=lambda tier: tier.min_deposits) if ahead else None


def early_birds_left(early_birds: list[EarlyBird], deposits: int) -> list[EarlyBird]:
    """The early-bird benefits the next depositor still gets (the first N not yet filled)."""
    return [bird for bird in early_birds if deposits < bird.first_n]


def discounted(price: Decimal, tier: OfferTier | None) -> Decimal:
    """`price` at the tier's discount (list price when no tier applies), to the fen."""
    if tier is None:
        return price
    return (price * tier.discount_percent / Decimal(100)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def deposit_count(session: Session, offer: GroupOffer, today: date) -> int:
    """Deposits (交定) recorded in the estate's groups during the offer, up to today.

    Until orders exist (issue 8) the groups' daily numbers are where deposits are counted.
    """
    from crm.groups.models import Group, GroupMetric

    until = min(today, offer.ends_on)
    if until < offer.starts_on:
        return 0
    total = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(GroupMetric.deposits), 0))
        .join(Group, Group.id == GroupMetric.group_id)
        .where(Group.estate_id == offer.estate_id, GroupMetric.day.between(offer.starts_on, until))
    )
    return int(total or 0)


@dataclass
class OfferStatus:
    """An offer as it stands today: deposits so far, the tier in force, the next one, early birds left."""

    offer: GroupOffer
    deposits: int
    today: date

    @property
    def tier(self) -> OfferTier | None:
        return tier_for(self.offer.tiers, self.deposits)

    @property
    def next_tier(self) -> OfferTier | None:
        return next_tier(self.offer.tiers, self.deposits)

    @property
    def to_next_tier(self) -> int | None:
        following = self.next_tier
        return following.min_deposits - self.deposits if following else None

    @property
    def early_birds_left(self) -> list[EarlyBird]:
        return early_birds_left(self.offer.early_birds, self.deposits)

    @property
    def is_open(self) -> bool:
        return self.offer.is_active and self.offer.starts_on <= self.today <= self.offer.ends_on

    def price(self, list_price: Decimal) -> Decimal:
        return discounted(list_price, self.tier)


def current_offer(session: Session, estate_id: int, today: date) -> GroupOffer | None:
    """The estate's active offer covering today, else its latest active one (none if it has none)."""
    offers = session.scalars(
        sa.select(GroupOffer)
        .where(GroupOffer.estate_id == estate_id, GroupOffer.is_active.is_(True))
        .order_by(GroupOffer.starts_on.desc(), GroupOffer.id.desc())
        .options(
            selectinload(GroupOffer.tiers), selectinload(GroupOffer.early_birds), selectinload(GroupOffer.promises)
        )
    ).all()
    covering = [offer for offer in offers if offer.starts_on <= today <= offer.ends_on]
    return (covering or offers or [None])[0]


def offer_status(session: Session, estate_id: int, today: date) -> OfferStatus | None:
    offer = current_offer(session, estate_id, today)
    return OfferStatus(offer, deposit_count(session, offer, today), today) if offer else None
