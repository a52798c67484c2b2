"""Reads for the organisation pages. Dealer scoping applies underneath."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from crm.estates.models import Estate
from crm.org.models import Dealer, Store, User


def dealers_with_counts(session: Session) -> list[tuple[Dealer, int, int, int]]:
    """Each visible dealer with its number of stores, users and estates."""
    stores = sa.select(sa.func.count(Store.id)).where(Store.dealer_id == Dealer.id).scalar_subquery()
    users = sa.select(sa.func.count(User.id)).where(User.dealer_id == Dealer.id).scalar_subquery()
    estates = sa.select(sa.func.count(Estate.id)).where(Estate.dealer_id == Dealer.id).scalar_subquery()
    query = sa.select(Dealer, stores, users, estates).options(selectinload(Dealer.city)).order_by(Dealer.code)
    return [tuple(row) for row in session.execute(query).all()]


def visible_dealers(session: Session) -> list[Dealer]:
    """Dealers the current user can see (all for HQ, their own otherwise)."""
    return list(session.scalars(sa.select(Dealer).order_by(Dealer.code)))


def users_query(dealer_id: int | None = None) -> sa.Select:
    """Visible users, HQ staff first, then by dealer and name."""
    query = sa.select(User).options(selectinload(User.dealer))
    if dealer_id:
        query = query.where(User.dealer_id == dealer_id)
    return query.order_by(User.dealer_id.is_not(None), User.dealer_id, User.username)


def dealer_stores(session: Session, dealer: Dealer) -> list[Store]:
    """A dealer's stores with their cities."""
    return list(
        session.scalars(
            sa.select(Store).where(Store.dealer_id == dealer.id).options(selectinload(Store.city)).order_by(Store.name)
        )
    )
