"""How a proposal is presented outside the staff pages: the owner's A4 printout, and the pieces the public
share page shows too (the group price at today's tier, the store to contact, numbers as owners read them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crm.offers.models import EarlyBird, GroupOffer, OfferTier
from crm.offers.service import OfferStatus, discount_label, discounted, offer_status
from crm.org.models import Store
from crm.proposals.models import Proposal, ProposalKind


def yuan(value: Decimal | int | None) -> str:
    """¥5,940.00"""
    return "—" if value is None else f"¥{value:,.2f}"


def plain_number(value: Decimal | int | float | None) -> str:
    """3.00 → 3, 2.50 → 2.5, 89.00 → 89 (quantities and areas as people write them)."""
    if value is None:
        return ""
    if not isinstance(value, Decimal):
        value = Decimal(str(value))
    return f"{value.normalize():f}"


@dataclass
class EarlyBirdLeft:
    bird: EarlyBird
    places_left: int


@dataclass
class GroupPrice:
    """The estate's group-buy offer applied to one proposal's total, as it stands today."""

    status: OfferStatus
    total: Decimal

    @property
    def offer(self) -> GroupOffer:
        return self.status.offer

    @property
    def deposits(self) -> int:
        return self.status.deposits

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
    def price(self) -> Decimal:
        """The proposal's total at the tier in force (list price when no tier is reached yet)."""
        return self.status.price(self.total)

    @property
    def saving(self) -> Decimal:
        return self.total - self.price

    @property
    def next_price(self) -> Decimal | None:
        return discounted(self.total, self.next_tier) if self.next_tier else None

    def tier_price(self, tier: OfferTier) -> Decimal:
        return discounted(self.total, tier)

    @property
    def early_birds_left(self) -> list[EarlyBirdLeft]:
        return [EarlyBirdLeft(bird, bird.first_n - self.deposits) for bird in self.status.early_birds_left]

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def not_started(self) -> bool:
        return self.status.today < self.offer.starts_on

    @property
    def ended(self) -> bool:
        return self.status.today > self.offer.ends_on


def group_price(session: Session, proposal: Proposal, today: date) -> GroupPrice | None:
    """The proposal's estate offer at today's number of deposits (None when the estate has no active offer)."""
    status = offer_status(session, proposal.estate_id, today)
    return GroupPrice(status, proposal.total) if status else None


def contact_store(session: Session, proposal: Proposal) -> Store | None:
    """The proposal's dealer's store to contact: the nearest to the estate when both are placed, else the first."""
    stores = session.scalars(
        sa.select(Store).where(Store.dealer_id == proposal.dealer_id).order_by(Store.name, Store.id)
    ).all()
    if not stores:
        return None
    estate = proposal.estate
    placed = [store for store in stores if store.has_position]
    if estate.has_position and placed:
        from crm.maps.coords import distance_m

        return min(placed, key=lambda store: distance_m(estate.lng, estate.lat, store.lng, store.lat))
    return stores[0]


def owner_line(proposal: Proposal) -> str:
    """Who the printout is for: the owner (name and home) of a personal proposal; 通用方案 otherwise."""
    if proposal.kind != ProposalKind.PERSONAL:
        return str(ProposalKind.GENERAL.label)
    if proposal.person is None:  # the owner's record was deleted since
        return str(ProposalKind.PERSONAL.label)
    person = proposal.person
    home = "-".join(part for part in (person.building, person.unit, person.room) if part)
    return f"{person.name}（{home}）" if home else person.name


def proposal_pdf(session: Session, proposal: Proposal, today: date) -> bytes:
    """The owner's proposal as an A4 portrait PDF (needs an app context): cover with the floor plan, the images,
    the product list at list and group price, the group offer and its risk promises, the store to contact."""
    from crm.pdf.engine import UPLOADS_URL_PREFIX, render_pdf

    estate = proposal.estate
    return render_pdf(
        "pdf/proposal.html",
        page_size="A4",
        landscape=False,
        title=proposal.title,
        dealer_name=estate.dealer.name,
        proposal=proposal,
        estate=estate,
        floor_plan=proposal.floor_plan,
        owner=owner_line(proposal),
        is_personal=proposal.kind == ProposalKind.PERSONAL,
        images=list(proposal.images),
        items=list(proposal.items),
        total=proposal.total,
        group=group_price(session, proposal, today),
        store=contact_store(session, proposal),
        today=today,
        uploads=UPLOADS_URL_PREFIX,
        yuan=yuan,
        plain_number=plain_number,
        discount_label=discount_label,
    )
