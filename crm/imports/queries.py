"""Reads for estate imports. Dealer scoping applies underneath every query here."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from crm.imports.models import EstateImport


def recent_imports(session: Session, limit: int = 10) -> list[EstateImport]:
    """The latest uploads the current user may see, newest first (to resume or review one)."""
    query = (
        sa.select(EstateImport)
        .options(selectinload(EstateImport.city))
        .order_by(EstateImport.created_at.desc(), EstateImport.id.desc())
        .limit(limit)
    )
    return list(session.scalars(query))
