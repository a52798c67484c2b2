"""Answers from geocoding providers, kept so the same address is never asked twice."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.models import UTCDateTime, utcnow
from crm.extensions import db


class GeocodeCacheEntry(db.Model):
    """One provider's answer for one query (estate addresses are public places, shared by all dealers)."""

    __table_args__ = (sa.UniqueConstraint("provider", "query"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(sa.String(20))
    query: Mapped[str] = mapped_column(sa.String(300))
    # WGS-84, already converted from the provider's datum; both None when the provider found nothing.
    lat: Mapped[float | None] = mapped_column(sa.Double)
    lng: Mapped[float | None] = mapped_column(sa.Double)
    display_name: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    @property
    def found(self) -> bool:
        return self.lat is not None and self.lng is not None
