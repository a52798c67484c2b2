"""The position columns shared by everything drawn on a map (estates, stores)."""

from __future__ import annotations

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.validation import FieldError
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
