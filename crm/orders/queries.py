"""Reads for orders and contracts: the order list with its filters, one order with what its page shows, the
versions of a contract, a key person's cooperation contracts, what a contract says (its terms with the order's
and the offer's defaults), and the pickers of the forms. Dealer scoping applies underneath every query here."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload, selectinload

from crm.estates.models import Estate, FloorPlan
from crm.groups.models import Group
from crm.offers.models import GroupOffer, Product
from crm.orders.models import Contract, ContractKind, Order, OrderStatus, OrderStatusChange
from crm.people.models import Person, group_member
from crm.proposals.models import Proposal, ProposalKind

# ---------------------------------------------------------------- the list


@dataclass
class OrderFilters:
    status: OrderStatus | None = None
    estate_id: int | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args) -> OrderFilters:
        """Read filters from a query string, ignoring values that do not parse."""
        try:
            status = OrderStatus(args.get("status", ""))
        except ValueError:
            status = None
        try:
            estate_id = int(args.get("estate_id", ""))
        except ValueError:
            estate_id = None
        return cls(status=status, estate_id=estate_id, q=args.get("q", "").strip()[:50])

    def as_args(self) -> dict:
        """The filters as query-string arguments (for pagination links)."""
        values = {"status": self.status.value if self.status else None, "estate_id": self.estate_id, "q": self.q}
        return {k: v for k, v in values.items() if v not in (None, "")}


def _like(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def orders_query(filters: OrderFilters) -> sa.Select:
    """Orders matching the filters, newest first, with the owner, estate and items (for the totals) loaded."""
    query = sa.select(Order).options(joinedload(Order.person), joinedload(Order.estate), selectinload(Order.items))
    if filters.status:
        query = query.where(Order.status == filters.status)
    if filters.estate_id:
        query = query.where(Order.estate_id == filters.estate_id)
    if filters.q:
        query = query.where(Order.person.has(Person.name.ilike(_like(filters.q), escape="\\")))
    return query.order_by(Order.created_at.desc(), Order.id.desc())


def order_estates(session: Session) -> list[Estate]:
    """The dealer's estates, for the list's filter."""
    return list(session.scalars(sa.select(Estate).order_by(Estate.name_key)))


# ---------------------------------------------------------------- one order


def load_order(session: Session, order_id: int) -> Order | None:
    """An order with everything its page shows loaded up front."""
    return session.scalars(
        sa.select(Order)
        .where(Order.id == order_id)
        .options(
            joinedload(Order.person),
            joinedload(Order.estate),
            joinedload(Order.floor_plan),
            joinedload(Order.proposal),
            joinedload(Order.offer).selectinload(GroupOffer.promises),
            selectinload(Order.items),
            selectinload(Order.changes).joinedload(OrderStatusChange.by),
        )
        .execution_options(populate_existing=True)
    ).one_or_none()


@dataclass
class ContractSeries:
    """All versions of one contract, newest first."""

    versions: list[Contract] = field(default_factory=list)

    @property
    def latest(self) -> Contract:
        return self.versions[0]

    @property
    def signed(self) -> list[Contract]:
        return [version for version in self.versions if version.is_signed]


def _series(contracts) -> list[ContractSeries]:
    by_series: dict[int, ContractSeries] = {}
    for contract in sorted(contracts, key=lambda c: (c.series_id or c.id, -c.version)):
        by_series.setdefault(contract.series_id or contract.id, ContractSeries()).versions.append(contract)
    return list(by_series.values())


def order_contracts(session: Session, order_id: int) -> list[ContractSeries]:
    """The order's sales contracts, by series, each with its versions newest first."""
    contracts = session.scalars(
        sa.select(Contract).where(Contract.order_id == order_id).options(joinedload(Contract.signed_by))
    ).all()
    return _series(contracts)


def person_cooperation_contracts(session: Session, person_id: int) -> list[ContractSeries]:
    """A key person's 群主合作协议, by series, each with its versions newest first."""
    contracts = session.scalars(
        sa.select(Contract)
        .where(Contract.person_id == person_id, Contract.kind == ContractKind.COOPERATION)
        .options(joinedload(Contract.group), joinedload(Contract.signed_by))
    ).all()
    return _series(contracts)


def contract_versions(session: Session, contract: Contract) -> list[Contract]:
    """Every version of the contract's series, newest first."""
    return list(
        session.scalars(
            sa.select(Contract)
            .where(Contract.series_id == contract.series_id)
            .options(joinedload(Contract.signed_by))
            .order_by(Contract.version.desc())
        )
    )


def load_contract(session: Session, contract_id: int) -> Contract | None:
    """A contract with its order (items, owner, estate, offer promises), key person and group loaded."""
    return session.scalars(
        sa.select(Contract)
        .where(Contract.id == contract_id)
        .options(
            joinedload(Contract.order).options(
                joinedload(Order.person),
                joinedload(Order.estate),
                joinedload(Order.offer).selectinload(GroupOffer.promises),
                selectinload(Order.items),
            ),
            joinedload(Contract.person).joinedload(Person.estate),
            joinedload(Contract.group).joinedload(Group.estate),
            joinedload(Contract.signed_by),
        )
    ).one_or_none()


# ---------------------------------------------------------------- what a contract says


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


@dataclass
class Promise:
    item: str
    years: int
    remedy: str


@dataclass
class SalesTerms:
    """A sales contract's terms; what a draft left unsaid comes from its order (and the order's offer)."""

    payment: str
    delivery_on: date | None
    install_on: date | None
    promises: list[Promise]
    standard: list[str]
    notes: str


def sales_terms(contract: Contract) -> SalesTerms:
    """The sales contract's terms, falling back to the order's payment terms, dates and offer promises."""
    from crm.orders.service import SALES_STANDARD_CLAUSES, default_payment_terms

    terms = contract.terms or {}
    order = contract.order
    if "promises" in terms:
        rows = terms.get("promises") or []
    elif order is not None and order.offer is not None:
        rows = [
            {"item": p.item, "years": p.years, "remedy": p.remedy}
            for p in sorted(order.offer.promises, key=lambda p: (p.position, p.id))
        ]
    else:
        rows = []
    promises = [
        Promise(str(row.get("item", "")), int(row.get("years") or 0), str(row.get("remedy", ""))) for row in rows
    ]
    standard = terms["standard"] if "standard" in terms else [str(c) for c in SALES_STANDARD_CLAUSES]

    def on(key: str) -> date | None:
        if key in terms:
            return _date(terms.get(key))
        return getattr(order, key) if order is not None else None

    return SalesTerms(
        payment=terms.get("payment") or (default_payment_terms(order) if order is not None else ""),
        delivery_on=on("delivery_on"),
        install_on=on("install_on"),
        promises=promises,
        standard=[str(line) for line in standard or []],
        notes=str(terms.get("notes") or ""),
    )


@dataclass
class Result:
    result: str
    reward: str


@dataclass
class CooperationTerms:
    results: list[Result]
    standard: list[str]
    notes: str


def cooperation_terms(contract: Contract) -> CooperationTerms:
    """The cooperation contract's agreed results and rewards, clauses (the standard ones unless set) and notes."""
    from crm.orders.service import COOPERATION_STANDARD_CLAUSES

    terms = contract.terms or {}
    standard = terms["standard"] if "standard" in terms else [str(c) for c in COOPERATION_STANDARD_CLAUSES]
    return CooperationTerms(
        results=[Result(str(row.get("result", "")), str(row.get("reward", ""))) for row in terms.get("results") or []],
        standard=[str(line) for line in standard or []],
        notes=str(terms.get("notes") or ""),
    )


def balance(order: Order) -> Decimal:
    """What the owner still owes: the agreed total less the deposit."""
    return order.total - (order.deposit_amount or Decimal("0"))


# ---------------------------------------------------------------- pickers


def floor_plan_choices(session: Session, estate_id: int) -> list[FloorPlan]:
    """The estate's floor plans."""
    return list(session.scalars(sa.select(FloorPlan).where(FloorPlan.estate_id == estate_id).order_by(FloorPlan.id)))


def proposal_choices(session: Session, estate_id: int, person_id: int | None = None) -> list[Proposal]:
    """The estate's proposals to copy items from: the person's own personal ones first, then general ones."""
    own_first = sa.case((Proposal.person_id == person_id, 0), else_=1) if person_id else sa.literal(1)
    return list(
        session.scalars(
            sa.select(Proposal)
            .where(
                Proposal.estate_id == estate_id,
                sa.or_(Proposal.kind == ProposalKind.GENERAL, Proposal.person_id == person_id),
            )
            .options(selectinload(Proposal.items), joinedload(Proposal.floor_plan))
            .order_by(own_first, Proposal.updated_at.desc(), Proposal.id.desc())
        )
    )


def product_choices(session: Session, current_id: int | None = None) -> list[Product]:
    """The dealer's active products (plus the one an item already uses), by category and name."""
    condition = Product.is_active.is_(True)
    if current_id:
        condition = sa.or_(condition, Product.id == current_id)
    return list(session.scalars(sa.select(Product).where(condition).order_by(Product.category, Product.name)))


def person_groups(session: Session, person: Person) -> list[Group]:
    """The groups a person is in or owns, by name (what a cooperation contract may be about)."""
    member = sa.select(group_member.c.group_id).where(group_member.c.person_id == person.id)
    return list(
        session.scalars(
            sa.select(Group)
            .where(sa.or_(Group.id.in_(member), Group.owner_person_id == person.id))
            .options(joinedload(Group.estate))
            .order_by(Group.name, Group.id)
        )
    )


PICKER_LIMIT = 30


def people_to_pick(session: Session, q: str, key_people_only: bool = False) -> list[Person]:
    """People whose name contains `q` (the latest first, at most PICKER_LIMIT), for starting an order or a contract."""
    query = sa.select(Person).options(joinedload(Person.estate))
    if q:
        query = query.where(Person.name.ilike(_like(q), escape="\\"))
    if key_people_only:
        query = query.where(Person.is_key_person.is_(True))
    return list(session.scalars(query.order_by(Person.updated_at.desc(), Person.id.desc()).limit(PICKER_LIMIT)))
