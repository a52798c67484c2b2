"""Reads for estates. Dealer scoping applies underneath every query here."""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from crm.estates.models import City, Estate, EstateAge, EstateStage, normalize_estate_name


@dataclass
class EstateFilters:
    city_id: int | None = None
    district: str = ""
    stage: EstateStage | None = None
    age: EstateAge | None = None
    dealer_id: int | None = None
    q: str = ""

    @classmethod
    def from_args(cls, args) -> EstateFilters:
        """Read filters from a query string, ignoring values that do not parse."""

        def _int(name):
            try:
                return int(args.get(name, ""))
            except ValueError:
                return None

        def _enum(enum_cls, name):
            try:
                return enum_cls(args.get(name, ""))
            except ValueError:
                return None

        return cls(
            city_id=_int("city_id"),
            district=args.get("district", "").strip()[:50],
            stage=_enum(EstateStage, "stage"),
            age=_enum(EstateAge, "age"),
            dealer_id=_int("dealer_id"),
            q=args.get("q", "").strip()[:100],
        )

    def as_args(self) -> dict:
        """The filters as query-string arguments (for pagination links)."""
        values = {
            "city_id": self.city_id,
            "district": self.district,
            "stage": self.stage.value if self.stage else None,
            "age": self.age.value if self.age else None,
            "dealer_id": self.dealer_id,
            "q": self.q,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def estates_query(filters: EstateFilters) -> sa.Select:
    """Estates matching the filters, with what the list shows loaded up front."""
    query = sa.select(Estate).options(selectinload(Estate.city), selectinload(Estate.dealer))
    if filters.city_id:
        query = query.where(Estate.city_id == filters.city_id)
    if filters.district:
        query = query.where(Estate.district == filters.district)
    if filters.stage:
        query = query.where(Estate.stage == filters.stage)
    if filters.age:
        query = query.where(Estate.age == filters.age)
    if filters.dealer_id:
        query = query.where(Estate.dealer_id == filters.dealer_id)
    if filters.q:
        key = normalize_estate_name(filters.q)
        pattern = "%" + key.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(Estate.name_key.like(pattern, escape="\\"))
    # Most recently worked estates first: what staff touched last is what they look for.
    return query.order_by(Estate.updated_at.desc(), Estate.id.desc())


def cities_with_estates(session: Session) -> list[City]:
    """Cities the current user has estates in (for the filter)."""
    city_ids = sa.select(Estate.city_id).distinct().scalar_subquery()
    return list(session.scalars(sa.select(City).where(City.id.in_(city_ids)).order_by(City.name)))


def districts(session: Session, city_id: int | None) -> list[str]:
    """Districts of the visible estates, optionally in one city (for the filter)."""
    query = sa.select(Estate.district).where(Estate.district != "").distinct().order_by(Estate.district)
    if city_id:
        query = query.where(Estate.city_id == city_id)
    return list(session.scalars(query))


def count_by_stage(session: Session) -> dict[EstateStage, int]:
    """How many visible estates sit in each stage (all stages present, zeros included)."""
    rows = session.execute(sa.select(Estate.stage, sa.func.count()).group_by(Estate.stage)).all()
    counts = {stage: 0 for stage in EstateStage}
    counts.update({EstateStage(stage): n for stage, n in rows})
    return counts


def households_total(session: Session) -> int:
    """Households across the visible estates."""
    return session.execute(sa.select(sa.func.coalesce(sa.func.sum(Estate.households), 0))).scalar_one()


def all_cities(session: Session) -> list[City]:
    """Every city, for pickers."""
    return list(session.scalars(sa.select(City).order_by(City.province, City.name)))
