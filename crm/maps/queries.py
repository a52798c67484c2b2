"""Reads for the traffic map. Dealer scoping applies underneath every query here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from crm.estates.models import City, Estate
from crm.maps.coords import CoordSystem, distance_m, from_wgs84
from crm.maps.models import DEFAULT_SCORE_WEIGHTS, TrafficMapSettings
from crm.org.models import Dealer, Store


def settings_for(session: Session, dealer_id: int | None) -> TrafficMapSettings:
    """The dealer's traffic-map settings, or unsaved defaults when it has none (or for HQ)."""
    settings = None
    if dealer_id is not None:
        settings = session.scalars(
            sa.select(TrafficMapSettings).where(TrafficMapSettings.dealer_id == dealer_id)
        ).first()
    if settings is None:
        settings = TrafficMapSettings(
            dealer_id=dealer_id,
            store_ring_m=3000,
            score_weights=dict(DEFAULT_SCORE_WEIGHTS),
            join_rate=0.3,
            conversion_rate=0.08,
            max_operator_estates=2,
        )
    return settings


@dataclass
class MapFilters:
    city_id: int | None = None
    dealer_id: int | None = None
    district: str = ""
    delivery_from: date | None = None  # first day of a month
    delivery_to: date | None = None

    @classmethod
    def from_args(cls, args) -> MapFilters:
        """Read filters from a query string; months come as 2026-09, bad values are ignored."""

        def _int(name):
            try:
                return int(args.get(name, ""))
            except ValueError:
                return None

        def _month(name):
            try:
                year, month = (int(part) for part in args.get(name, "").split("-")[:2])
                return date(year, month, 1)
            except ValueError:
                return None

        return cls(
            city_id=_int("city_id"),
            dealer_id=_int("dealer_id"),
            district=args.get("district", "").strip()[:50],
            delivery_from=_month("delivery_from"),
            delivery_to=_month("delivery_to"),
        )

    def as_args(self) -> dict:
        values = {
            "city_id": self.city_id,
            "dealer_id": self.dealer_id,
            "district": self.district,
            "delivery_from": self.delivery_from.strftime("%Y-%m") if self.delivery_from else None,
            "delivery_to": self.delivery_to.strftime("%Y-%m") if self.delivery_to else None,
        }
        return {k: v for k, v in values.items() if v not in (None, "")}


def _filtered(query: sa.Select, filters: MapFilters) -> sa.Select:
    if filters.city_id:
        query = query.where(Estate.city_id == filters.city_id)
    if filters.dealer_id:
        query = query.where(Estate.dealer_id == filters.dealer_id)
    if filters.district:
        query = query.where(Estate.district == filters.district)
    if filters.delivery_from:
        query = query.where(Estate.delivery_date >= filters.delivery_from)
    if filters.delivery_to:
        # The whole "to" month counts: compare with the first day of the following month.
        end = filters.delivery_to
        next_month = date(end.year + (end.month == 12), end.month % 12 + 1, 1)
        query = query.where(Estate.delivery_date < next_month)
    return query


def estate_features(session: Session, filters: MapFilters, system: CoordSystem) -> dict:
    """Positioned estates as a compact GeoJSON FeatureCollection, coordinates in the tiles' datum.

    Property keys are one letter to keep 10,000 estates small: n name, s stage, h households,
    a new/old, d delivery month.
    """
    query = _filtered(
        sa.select(
            Estate.id,
            Estate.name,
            Estate.stage,
            Estate.households,
            Estate.age,
            Estate.delivery_date,
            Estate.lng,
            Estate.lat,
        ).where(Estate.lat.is_not(None), Estate.lng.is_not(None)),
        filters,
    )
    convert = system is not CoordSystem.WGS84
    features = []
    for id_, name, stage, households, age, delivery, lng, lat in session.execute(query):
        if convert:
            lng, lat = from_wgs84(lng, lat, system)
        features.append(
            {
                "type": "Feature",
                "id": id_,
                "geometry": {"type": "Point", "coordinates": [round(lng, 6), round(lat, 6)]},
                "properties": {
                    "n": name,
                    "s": stage.value,
                    "h": households,
                    "a": age.value if age else None,
                    "d": f"{delivery.year}-{delivery.month:02d}" if delivery else None,
                },
            }
        )
    return {"type": "FeatureCollection", "features": features}


def count_estates(session: Session, filters: MapFilters) -> int:
    """How many estates the filters select (to tell a quick printout from a long one)."""
    return session.scalar(_filtered(sa.select(sa.func.count(Estate.id)), filters))


def map_cities(session: Session) -> list[City]:
    """Cities the user has positioned estates or stores in."""
    estate_cities = sa.select(Estate.city_id).where(Estate.lat.is_not(None))
    store_cities = sa.select(Store.city_id)
    query = sa.select(City).where(sa.or_(City.id.in_(estate_cities), City.id.in_(store_cities)))
    return list(session.scalars(query.order_by(City.name)))


def default_city_id(cities: list[City], dealer: Dealer | None) -> int | None:
    """The dealer's home city if it has anything to show, else the first city that has."""
    home = dealer.city_id if dealer is not None else None
    if any(city.id == home for city in cities):
        return home
    return cities[0].id if cities else None


def map_stores(session: Session, city_id: int | None, dealer_id: int | None) -> list[Store]:
    """Positioned stores (of the city, of the dealer filter) with their dealer."""
    query = sa.select(Store).where(Store.lat.is_not(None)).options(selectinload(Store.dealer))
    if city_id:
        query = query.where(Store.city_id == city_id)
    if dealer_id:
        query = query.where(Store.dealer_id == dealer_id)
    return list(session.scalars(query.order_by(Store.name)))


def map_center(session: Session, city: City | None, filters: MapFilters) -> tuple[float, float]:
    """Where the map opens (lat, lng in WGS-84): the city's center, else the middle of its estates."""
    if city is not None and city.center_lat is not None:
        return city.center_lat, city.center_lng
    query = _filtered(sa.select(sa.func.avg(Estate.lat), sa.func.avg(Estate.lng)), filters)
    lat, lng = session.execute(query.where(Estate.lat.is_not(None))).one()
    if lat is None:
        return 35.0, 105.0  # all of China
    return float(lat), float(lng)


def nearest_store_m(estate: Estate, stores: list[Store]) -> float | None:
    """Straight-line distance from the estate to the closest positioned store, in metres."""
    if not estate.has_position:
        return None
    distances = [distance_m(estate.lng, estate.lat, s.lng, s.lat) for s in stores if s.has_position]
    return min(distances) if distances else None


def dealer_stores(session: Session, dealer_id: int) -> list[Store]:
    """A dealer's positioned stores."""
    return list(session.scalars(sa.select(Store).where(Store.dealer_id == dealer_id, Store.lat.is_not(None))))
