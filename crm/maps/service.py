"""Writes from the map: placing an estate by hand."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.validation import FieldError
from crm.estates.models import Estate
from crm.maps.coords import CoordSystem, is_in_mainland_china_box, to_wgs84


def place_estate(session: Session, estate: Estate, lng: float, lat: float, system: CoordSystem) -> Estate:
    """Put an estate where the user dropped its marker (given in the tiles' datum)."""
    wgs_lng, wgs_lat = to_wgs84(lng, lat, system)
    if not is_in_mainland_china_box(wgs_lng, wgs_lat):
        raise FieldError("lat", _("位置不在中国境内，请重新拖动标记"))
    estate.set_position(lng, lat, system)
    session.flush()
    return estate
