"""Reads for geocoding: the estates still without a position. Dealer scoping applies underneath."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from crm.estates.models import Estate
from crm.geocoding.models import GeocodeCacheEntry

UNPOSITIONED = sa.or_(Estate.lat.is_(None), Estate.lng.is_(None))


def _after(query: sa.Select, cursor: int | None) -> sa.Select:
    return query if cursor is None else query.where(Estate.id > cursor)


def unpositioned_estates(session: Session, limit: int | None = None, after: int | None = None) -> list[Estate]:
    """Visible estates without a position, oldest first, with their city loaded (for queries and lists)."""
    query = _after(sa.select(Estate).where(UNPOSITIONED), after)
    query = query.options(selectinload(Estate.city)).order_by(Estate.id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def count_unpositioned(session: Session, after: int | None = None) -> int:
    """How many visible estates have no position (only those with an id above `after`, if given)."""
    return session.scalar(_after(sa.select(sa.func.count(Estate.id)).where(UNPOSITIONED), after))


def cached_answer(session: Session, provider: str, query: str) -> GeocodeCacheEntry | None:
    """The provider's stored answer for `query`, if it was asked before."""
    return session.scalar(
        sa.select(GeocodeCacheEntry).where(GeocodeCacheEntry.provider == provider, GeocodeCacheEntry.query == query)
    )
