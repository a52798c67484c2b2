"""Shared bits of the order tests: the day they run on (inside the test offer), deposits for the tier, orders."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa

from crm.extensions import db
from crm.groups.models import GroupMetric

TODAY = date(2026, 12, 1)  # inside the test offer (2026-11-01 … 2027-01-31)
HX = {"HX-Request": "true"}


def set_deposits(app, group_id: int, deposits: int) -> None:
    """The group's recorded deposits, which decide the offer's tier (10 → 88折)."""
    with app.app_context():
        metric = db.session.scalars(sa.select(GroupMetric).where(GroupMetric.group_id == group_id)).one()
        metric.deposits = deposits
        db.session.commit()


def text_of(response) -> str:
    return response.get_data(as_text=True)
