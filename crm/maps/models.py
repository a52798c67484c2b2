"""The position columns shared by everything drawn on a map (estates, stores)."""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, TimestampMixin
from crm.core.validation import FieldError
from crm.extensions import db
from crm.maps.coords import CoordSystem, from_wgs84, to_wgs84

COORD_SYSTEM_TYPE = sa.Enum(CoordSystem, native_enum=False, length=8, values_callable=lambda e: [m.value for m in e])


class HasPosition:
    """A point stored in WGS-84, remembering the coordinate system it was entered in."""

    lat: Mapped[float | None] = mapped_column(sa.Double)
    lng: Mapped[float | None] = mapped_column(sa.Double)
    coord_system: Mapped[CoordSystem] = mapped_column(COORD_SYSTEM_TYPE, default=CoordSystem.WGS84)

    @property
    def has_position(self) -> bool:
        return self.lat is not None and self.lng is not None

    def set_position(self, lng: float | None, lat: float | None, system: CoordSystem | str) -> None:
        """Store a point typed in `system` (both coordinates or neither); FieldError otherwise."""
        if (lat is None) != (lng is None):
            raise FieldError("lat", _("经度和纬度需要同时填写"))
        self.coord_system = CoordSystem(system)
        if lat is None:
            self.lng = self.lat = None
        else:
            self.lng, self.lat = to_wgs84(lng, lat, system)

    def position_as_entered(self) -> tuple[float | None, float | None]:
        """The point back in the system it was typed in, to 6 decimals (what an editor shows)."""
        if not self.has_position:
            return None, None
        lng, lat = from_wgs84(self.lng, self.lat, self.coord_system)
        return round(lng, 6), round(lat, 6)


class TileProvider(StrEnum):
    OSM = "osm"
    GAODE = "gaode"
    TIANDITU = "tianditu"

    @property
    def label(self) -> str:
        return str(TILE_PROVIDER_LABELS[self])

    @property
    def coord_system(self) -> CoordSystem:
        """The datum the tiles are drawn in: points must be shifted into it before drawing."""
        return CoordSystem.GCJ02 if self is TileProvider.GAODE else CoordSystem.WGS84


TILE_PROVIDER_LABELS = {
    TileProvider.OSM: _l("OpenStreetMap"),
    TileProvider.GAODE: _l("高德地图"),
    TileProvider.TIANDITU: _l("天地图"),
}

# Defaults a dealer starts with; the dealer lead edits them on the targets page.
DEFAULT_SCORE_WEIGHTS = {
    "households": 30,
    "delivery": 25,
    "finish": 15,
    "price": 10,
    "distance": 15,
    "competitors": 10,
    "groups": 10,
}


class TrafficMapSettings(DealerOwned, TimestampMixin, db.Model):
    """A dealer's settings for its traffic map: tiles, store rings, target scoring and pool sizing."""

    __table_args__ = (
        sa.UniqueConstraint("dealer_id"),
        sa.CheckConstraint("store_ring_m > 0", name="ring_positive"),
        sa.CheckConstraint("join_rate >= 0 AND join_rate <= 1", name="join_rate_fraction"),
        sa.CheckConstraint("conversion_rate >= 0 AND conversion_rate <= 1", name="conversion_rate_fraction"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tile_provider: Mapped[TileProvider | None] = mapped_column(
        sa.Enum(TileProvider, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e])
    )
    store_ring_m: Mapped[int] = mapped_column(default=3000)
    score_weights: Mapped[dict] = mapped_column(sa.JSON, default=lambda: dict(DEFAULT_SCORE_WEIGHTS))
    # Expected share of households who join the estate's groups, and of members who order.
    join_rate: Mapped[float] = mapped_column(sa.Double, default=0.3)
    conversion_rate: Mapped[float] = mapped_column(sa.Double, default=0.08)
    yearly_target_orders: Mapped[int | None]
    avg_order_value: Mapped[int | None]  # yuan
    # A 主IP runs the group day by day: more estates in overlapping phases than this is flagged.
    max_operator_estates: Mapped[int] = mapped_column(default=2, server_default="2")
