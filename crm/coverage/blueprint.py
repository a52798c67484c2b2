"""The coverage blueprint (HQ only) and what its route modules share: the thresholds and the month asked for."""

from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, request

from crm.core.models import local_today
from crm.coverage import queries
from crm.extensions import db
from crm.org.models import Brand

bp = Blueprint("coverage", __name__, url_prefix="/hq/coverage")


def brand_id() -> int | None:
    """The brand HQ runs (one brand per installation)."""
    return db.session.scalar(sa.select(Brand.id).order_by(Brand.id).limit(1))


def current_thresholds() -> queries.Thresholds:
    return queries.thresholds(db.session, brand_id(), local_today())


def requested_month() -> date:
    """The month in `?month=2026-11` (the first day), never later than this month; this month by default."""
    this_month = queries.month_start(local_today())
    try:
        year, month = (int(part) for part in request.args.get("month", "").split("-")[:2])
        asked = date(year, month, 1)
    except ValueError:
        return this_month
    return min(asked, this_month)
