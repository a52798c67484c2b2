"""Dealer isolation: the one place that decides which dealer's rows a query may see.

Every ORM SELECT, UPDATE and DELETE passes through `_limit_to_scope`, which adds
`dealer_id = <the user's dealer>` to each `DealerOwned` table (and `id = …` to `Dealer` itself)
however the query was written: lists, searches, joins, relationship loads, pagination.
`SharedByHQ` tables (HQ's published templates) show a dealer its own rows and HQ's.
Nobody filters by dealer by hand; code that must see across dealers says so with
`unscoped()`.

The scope lives on `flask.g`:
- in a request it is set from the logged-in user before any view runs; until then, and for
  anonymous visitors, dealer rows are invisible;
- outside a request (CLI, services called from tests) everything is visible unless a
  caller narrows it with `scoped_to(dealer_id)`.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa
from flask import abort, g, has_app_context, has_request_context
from flask_sqlalchemy.session import Session
from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, with_loader_criteria

from crm.core.models import DealerOwned, SharedByHQ
from crm.extensions import db


@dataclass(frozen=True)
class Scope:
    sees_all: bool = False
    dealer_id: int | None = None

    @classmethod
    def everything(cls) -> Scope:
        return cls(sees_all=True)

    @classmethod
    def dealer(cls, dealer_id: int) -> Scope:
        return cls(dealer_id=dealer_id)

    @classmethod
    def nothing(cls) -> Scope:
        return cls()


def current_scope() -> Scope:
    """The scope queries run under right now."""
    if has_app_context() and "dealer_scope" in g:
        return g.dealer_scope
    if has_request_context():
        return Scope.nothing()
    return Scope.everything()


def set_request_scope(scope: Scope) -> None:
    """Fix the scope for the rest of this request (called once the user is known)."""
    g.dealer_scope = scope


@contextmanager
def _scope(scope: Scope):
    missing = object()
    previous = g.get("dealer_scope", missing)
    g.dealer_scope = scope
    try:
        yield
    finally:
        if previous is missing:
            g.pop("dealer_scope", None)
        else:
            g.dealer_scope = previous


def unscoped():
    """See every dealer's rows inside the block (login, HQ aggregates, CLI). Use sparingly."""
    return _scope(Scope.everything())


def scoped_to(dealer_id: int):
    """See only `dealer_id`'s rows inside the block."""
    return _scope(Scope.dealer(dealer_id))


@event.listens_for(Session, "do_orm_execute")
def _limit_to_scope(state: ORMExecuteState) -> None:
    if not (state.is_select or state.is_update or state.is_delete):
        return
    # Relationship and deferred-column loads inherit the criteria from the parent query.
    if state.is_column_load or state.is_relationship_load:
        return
    scope = current_scope()
    if scope.sees_all:
        return
    from crm.org.models import Dealer  # the dealer row itself: a dealer user sees only their own

    if scope.dealer_id is None:
        state.statement = state.statement.options(
            with_loader_criteria(DealerOwned, lambda cls: sa.false(), include_aliases=True),
            with_loader_criteria(Dealer, lambda cls: sa.false(), include_aliases=True),
            with_loader_criteria(SharedByHQ, lambda cls: sa.false(), include_aliases=True),
        )
        return
    dealer_id = scope.dealer_id
    state.statement = state.statement.options(
        with_loader_criteria(DealerOwned, lambda cls: cls.dealer_id == dealer_id, include_aliases=True),
        with_loader_criteria(Dealer, lambda cls: cls.id == dealer_id, include_aliases=True),
        with_loader_criteria(
            SharedByHQ, lambda cls: sa.or_(cls.dealer_id == dealer_id, cls.dealer_id.is_(None)), include_aliases=True
        ),
    )


def get_or_404(model, object_id: int):
    """Load one row by id through the scope; 404 if it does not exist or is another dealer's."""
    obj = db.session.execute(sa.select(model).where(model.id == object_id)).scalar_one_or_none()
    if obj is None:
        abort(404)
    return obj
