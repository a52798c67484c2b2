"""How a proposal is presented outside the staff pages: the owner's A4 printout, and the pieces the public
share page shows too (the group price at today's tier, the store to contact, numbers as owners read them)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crm.offers.service import discount_label
from crm.org.models import Store
from crm.proposals.models import Proposal, ProposalKind
from crm.proposals.queries import group_price


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
