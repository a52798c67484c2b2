"""Reads for design proposals: the list with its filters, the estate page's proposals by floor plan, one
proposal with everything its page shows, pickers, and the group price. Dealer scoping applies underneath."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from crm.core.roles import Role
from crm.estates.models import Estate, FloorPlan
from crm.groups.models import Group
from crm.offers.models import EarlyBird, GroupOffer, OfferTier, Product
from crm.offers.service import OfferStatus, discount_label, discounted, offer_status
from crm.org.models import User
from crm.people.models import Person, group_member
from crm.proposals.models import (
    STYLES,
    Proposal,
    ProposalComment,
    ProposalConsent,
    ProposalImage,
    ProposalKind,
)

# ---------------------------------------------------------------- the list


@dataclass
class ProposalFilters:
    estate_id: int | None = None
    kind: ProposalKind | None = None
    style: str = ""
    has_open_flaws: bool = False

    @classmethod
    def from_args(cls, args) -> ProposalFilters:
        """Read filters from a query string, ignoring values that do not parse."""
        try:
            estate_id = int(args.get("estate_id", ""))
        except ValueError:
            estate_id = None
        try:
            kind = ProposalKind(args.get("kind", ""))
        except ValueError:
            kind = None
        return cls(
            estate_id=estate_id,
            kind=kind,
            style=args.get("style", "").strip()[:20],
            has_open_flaws=args.get("flaws", "") in ("1", "on", "true"),
        )

    def as_args(self) -> dict:
        """The filters as query-string arguments (for pagination links)."""
        values = {
            "estate_id": self.estate_id,
            "kind": self.kind.value if self.kind else None,
            "style": self.style,
            "flaws": "1" if self.has_open_flaws else None,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def _open_flaw_condition():
    return sa.and_(ProposalComment.is_flaw.is_(True), ProposalComment.resolved_at.is_(None))


def proposals_query(filters: ProposalFilters) -> sa.Select:
    """Proposals matching the filters, newest work first, with what the list shows loaded up front."""
    query = sa.select(Proposal).options(*_line_loads())
    if filters.estate_id:
        query = query.where(Proposal.estate_id == filters.estate_id)
    if filters.kind:
        query = query.where(Proposal.kind == filters.kind)
    if filters.style:
        query = query.where(Proposal.style == filters.style)
    if filters.has_open_flaws:
        query = query.where(sa.exists().where(ProposalComment.proposal_id == Proposal.id, _open_flaw_condition()))
    return query.order_by(Proposal.updated_at.desc(), Proposal.id.desc())


def _line_loads():
    # Items give the total, consents whether the share link shows it: both are small per proposal.
    return (
        joinedload(Proposal.estate),
        joinedload(Proposal.floor_plan),
        joinedload(Proposal.person),
        joinedload(Proposal.designer),
        selectinload(Proposal.items),
        selectinload(Proposal.consents),
    )


@dataclass
class ProposalLine:
    """A proposal as a list row: the proposal plus counts that would otherwise load every image and comment."""

    proposal: Proposal
    image_count: int = 0
    open_flaw_count: int = 0


def proposal_lines(session: Session, proposals) -> list[ProposalLine]:
    """Rows for `proposals` with their image and open-flaw counts, in two queries whatever their number."""
    proposals = list(proposals)
    ids = [p.id for p in proposals]
    if not ids:
        return []
    images = dict(
        session.execute(
            sa.select(ProposalImage.proposal_id, sa.func.count(ProposalImage.id))
            .where(ProposalImage.proposal_id.in_(ids))
            .group_by(ProposalImage.proposal_id)
        ).all()
    )
    flaws = dict(
        session.execute(
            sa.select(ProposalComment.proposal_id, sa.func.count(ProposalComment.id))
            .where(ProposalComment.proposal_id.in_(ids), _open_flaw_condition())
            .group_by(ProposalComment.proposal_id)
        ).all()
    )
    return [ProposalLine(p, images.get(p.id, 0), flaws.get(p.id, 0)) for p in proposals]


def estates_with_proposals(session: Session) -> list[Estate]:
    """Estates that have proposals (for the list's filter)."""
    ids = sa.select(Proposal.estate_id).distinct().scalar_subquery()
    return list(session.scalars(sa.select(Estate).where(Estate.id.in_(ids)).order_by(Estate.name)))


def style_choices(session: Session) -> list[str]:
    """The usual styles, then any other style a proposal was given."""
    used = session.scalars(sa.select(Proposal.style).where(Proposal.style != "").distinct()).all()
    return list(STYLES) + sorted(set(used) - set(STYLES))


# ---------------------------------------------------------------- the estate page


@dataclass
class FloorPlanProposals:
    """One floor plan of an estate with its proposals, so owners of the same plan can compare."""

    floor_plan: FloorPlan
    lines: list[ProposalLine] = field(default_factory=list)


def estate_proposals(session: Session, estate: Estate) -> list[FloorPlanProposals]:
    """Every floor plan of the estate (in the estate's order) with its proposals, general ones first."""
    proposals = session.scalars(
        sa.select(Proposal)
        .where(Proposal.estate_id == estate.id)
        .options(selectinload(Proposal.items), selectinload(Proposal.consents), joinedload(Proposal.person))
        .order_by(Proposal.kind, Proposal.title, Proposal.id)
    ).all()
    by_plan: dict[int, list[ProposalLine]] = {}
    for line in proposal_lines(session, proposals):
        by_plan.setdefault(line.proposal.floor_plan_id, []).append(line)
    plans = session.scalars(sa.select(FloorPlan).where(FloorPlan.estate_id == estate.id).order_by(FloorPlan.id))
    return [FloorPlanProposals(plan, by_plan.get(plan.id, [])) for plan in plans]


# ---------------------------------------------------------------- one proposal


def load_proposal(session: Session, proposal_id: int) -> Proposal | None:
    """A proposal with everything its page shows loaded up front."""
    return session.scalars(
        sa.select(Proposal)
        .where(Proposal.id == proposal_id)
        .options(
            joinedload(Proposal.estate),
            joinedload(Proposal.floor_plan),
            joinedload(Proposal.person),
            joinedload(Proposal.designer),
            selectinload(Proposal.images),
            selectinload(Proposal.items),
            selectinload(Proposal.consents).options(
                joinedload(ProposalConsent.recorded_by), joinedload(ProposalConsent.withdrawn_by)
            ),
            selectinload(Proposal.comments).options(
                joinedload(ProposalComment.entered_by), joinedload(ProposalComment.resolved_by)
            ),
        )
        .execution_options(populate_existing=True)
    ).one_or_none()


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
    def tier_label(self) -> str:
        return discount_label(self.tier.discount_percent) if self.tier else ""

    @property
    def next_tier_label(self) -> str:
        return discount_label(self.next_tier.discount_percent) if self.next_tier else ""

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


# ---------------------------------------------------------------- pickers


def floor_plan_choices(session: Session, estate_id: int) -> list[FloorPlan]:
    """The estate's floor plans."""
    return list(session.scalars(sa.select(FloorPlan).where(FloorPlan.estate_id == estate_id).order_by(FloorPlan.id)))


def owner_choices(
    session: Session, estate_id: int, floor_plan_id: int | None = None, current_id: int | None = None
) -> list[Person]:
    """The estate's people to pick a personal proposal's owner from: those on the floor plan first (plus the
    current owner if they live elsewhere)."""
    condition = Person.estate_id == estate_id
    if current_id:
        condition = sa.or_(condition, Person.id == current_id)
    same_plan = sa.case((Person.floor_plan_id == floor_plan_id, 0), else_=1) if floor_plan_id else sa.literal(1)
    return list(session.scalars(sa.select(Person).where(condition).order_by(same_plan, Person.name, Person.id)))


def designer_choices(session: Session, dealer_id: int, current_id: int | None = None) -> list[User]:
    """The dealer's active users who design (those who may edit proposals), designers first; plus the current one."""
    designing = sa.and_(
        User.is_active_account.is_(True), User.role.in_([Role.DESIGNER, Role.DEALER_LEAD, Role.OPERATOR])
    )
    condition = sa.or_(designing, User.id == current_id) if current_id else designing
    return list(
        session.scalars(
            sa.select(User)
            .where(User.dealer_id == dealer_id, condition)
            .order_by(sa.case((User.role == Role.DESIGNER, 0), else_=1), User.display_name, User.username)
        )
    )


def product_choices(session: Session, current_id: int | None = None) -> list[Product]:
    """The dealer's active products (plus the one an item already uses), by category."""
    condition = Product.is_active.is_(True)
    if current_id:
        condition = sa.or_(condition, Product.id == current_id)
    return list(session.scalars(sa.select(Product).where(condition).order_by(Product.category, Product.name)))


def group_nicknames(session: Session, estate_id: int) -> list[str]:
    """Names of the people in the estate's groups (suggestions when typing in a neighbour's remark)."""
    return list(
        session.scalars(
            sa.select(Person.name)
            .join(group_member, group_member.c.person_id == Person.id)
            .join(Group, Group.id == group_member.c.group_id)
            .where(Group.estate_id == estate_id)
            .distinct()
            .order_by(Person.name)
            .limit(300)
        )
    )
