"""Reads for picking targets: the ranked estates and the traffic pool against the sales target."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from crm.estates.models import Estate, EstateStage
from crm.maps.models import TrafficMapSettings
from crm.maps.queries import dealer_stores, nearest_store_m
from crm.targets import scoring

# Stages that count as "in the traffic pool": targeted, and everything the dealer works after that.
POOL_STAGES = (
    EstateStage.TARGET,
    EstateStage.FINDING_GROUP,
    EstateStage.HAS_GROUP,
    EstateStage.OPERATING,
    EstateStage.CONVERTING,
    EstateStage.INSTALLING,
    EstateStage.MAINTAINING,
)


def group_counts(session: Session, estate_ids: list[int]) -> dict[int, int]:
    """Groups the dealer is in (not dissolved), per estate, in one query."""
    from crm.groups.models import Group, GroupStatus

    if not estate_ids:
        return {}
    rows = session.execute(
        sa.select(Group.estate_id, sa.func.count(Group.id))
        .where(Group.estate_id.in_(estate_ids), Group.status != GroupStatus.DISSOLVED)
        .group_by(Group.estate_id)
    ).all()
    return {estate_id: count for estate_id, count in rows}


def ranked_estates(
    session: Session, dealer_id: int, settings: TrafficMapSettings, today: date, city_id: int | None = None
) -> list[scoring.EstateScore]:
    """Every estate of the dealer that is not abandoned, best score first."""
    query = (
        sa.select(Estate)
        .where(Estate.dealer_id == dealer_id, Estate.stage != EstateStage.ABANDONED)
        .options(selectinload(Estate.city))
    )
    if city_id:
        query = query.where(Estate.city_id == city_id)
    estates = list(session.scalars(query))
    stores = dealer_stores(session, dealer_id)
    groups = group_counts(session, [e.id for e in estates])
    prices = [e.avg_price for e in estates if e.avg_price]
    low, high = (min(prices), max(prices)) if prices else (None, None)
    scores = []
    for estate in estates:
        distance = nearest_store_m(estate, stores)
        factors = {
            "households": scoring.households_factor(estate.households),
            "delivery": scoring.delivery_factor(estate.delivery_date, today),
            "finish": scoring.finish_factor(estate.finish),
            "price": scoring.price_factor(estate.avg_price, low, high),
            "distance": scoring.distance_factor(distance),
            "competitors": scoring.competitors_factor(estate.competitor_names),
            "groups": scoring.groups_factor(groups.get(estate.id, 0)),
        }
        total = scoring.weighted_total(factors, settings.score_weights)
        scores.append(scoring.EstateScore(estate, total, factors, distance))
    scores.sort(key=lambda s: (-s.total, s.estate.name_key))
    return scores


@dataclass
class TrafficPool:
    estates: int
    households: int
    join_rate: float
    conversion_rate: float
    yearly_target_orders: int | None
    avg_order_value: int | None

    @property
    def expected_members(self) -> int:
        return round(self.households * self.join_rate)

    @property
    def expected_orders(self) -> int:
        return round(self.households * self.join_rate * self.conversion_rate)

    @property
    def expected_gmv(self) -> int | None:
        return self.expected_orders * self.avg_order_value if self.avg_order_value else None

    @property
    def coverage(self) -> float | None:
        """Expected orders as a share of the yearly target."""
        if not self.yearly_target_orders:
            return None
        return self.expected_orders / self.yearly_target_orders

    @property
    def households_short(self) -> int | None:
        """Households still to add to the pool to reach the target at the expected rates."""
        if not self.yearly_target_orders or self.join_rate * self.conversion_rate == 0:
            return None
        needed = self.yearly_target_orders / (self.join_rate * self.conversion_rate)
        return max(round(needed - self.households), 0)


def traffic_pool(session: Session, dealer_id: int, settings: TrafficMapSettings) -> TrafficPool:
    """Size the pool of targeted estates: households × join rate × conversion = expected orders."""
    count, households = session.execute(
        sa.select(sa.func.count(Estate.id), sa.func.coalesce(sa.func.sum(Estate.households), 0)).where(
            Estate.dealer_id == dealer_id, Estate.stage.in_(POOL_STAGES)
        )
    ).one()
    return TrafficPool(
        estates=count,
        households=int(households),
        join_rate=settings.join_rate,
        conversion_rate=settings.conversion_rate,
        yearly_target_orders=settings.yearly_target_orders,
        avg_order_value=settings.avg_order_value,
    )
