"""China's three map coordinate systems and conversions between them.

- WGS-84: GPS and OpenStreetMap. 盘图 stores every position in WGS-84.
- GCJ-02: the obfuscated datum mandated for Chinese maps (Gaode/AMap, Tencent).
- BD-09: Baidu's further offset of GCJ-02 (what listing sites scraped from Baidu carry).

WGS-84 → GCJ-02 and GCJ-02 → BD-09 are the published forward formulas; their inverses are
solved by fixed-point iteration until the forward image matches to well under a millimetre.
All functions take and return (lng, lat) in that order, like the listing sites and GeoJSON.
"""

from __future__ import annotations

import math
from enum import StrEnum

from crm.core.i18n import lazy_gettext as _l


class CoordSystem(StrEnum):
    WGS84 = "wgs84"
    GCJ02 = "gcj02"
    BD09 = "bd09"

    @property
    def label(self) -> str:
        return str(COORD_SYSTEM_LABELS[self])


COORD_SYSTEM_LABELS = {
    CoordSystem.WGS84: _l("WGS-84（GPS、天地图）"),
    CoordSystem.GCJ02: _l("GCJ-02（高德、腾讯）"),
    CoordSystem.BD09: _l("BD-09（百度、房天下）"),
}

_A = 6378245.0  # Krasovsky 1940 semi-major axis used by GCJ-02
_EE = 0.00669342162296594323
_X_PI = math.pi * 3000.0 / 180.0


def is_in_mainland_china_box(lng: float, lat: float) -> bool:
    """Rough bounding box outside which GCJ-02 applies no offset."""
    return 72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """Apply the GCJ-02 offset to a WGS-84 point."""
    if not is_in_mainland_china_box(lng, lat):
        return lng, lat
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    radlat = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(radlat) ** 2
    sqrtmagic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrtmagic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrtmagic * math.cos(radlat) * math.pi)
    return lng + dlng, lat + dlat


def gcj02_to_wgs84(lng: float, lat: float) -> tuple[float, float]:
    """Invert the GCJ-02 offset by iteration (residual below 1e-9 degrees, about 0.1 mm)."""
    if not is_in_mainland_china_box(lng, lat):
        return lng, lat
    guess_lng, guess_lat = lng, lat
    for _ in range(30):
        fwd_lng, fwd_lat = wgs84_to_gcj02(guess_lng, guess_lat)
        err_lng, err_lat = fwd_lng - lng, fwd_lat - lat
        guess_lng -= err_lng
        guess_lat -= err_lat
        if abs(err_lng) < 1e-9 and abs(err_lat) < 1e-9:
            break
    return guess_lng, guess_lat


def gcj02_to_bd09(lng: float, lat: float) -> tuple[float, float]:
    z = math.sqrt(lng * lng + lat * lat) + 0.00002 * math.sin(lat * _X_PI)
    theta = math.atan2(lat, lng) + 0.000003 * math.cos(lng * _X_PI)
    return z * math.cos(theta) + 0.0065, z * math.sin(theta) + 0.006


def bd09_to_gcj02(lng: float, lat: float) -> tuple[float, float]:
    """Baidu's published inverse is off by up to ~10 cm; refine it against the forward formula."""
    x, y = lng - 0.0065, lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _X_PI)
    guess_lng, guess_lat = z * math.cos(theta), z * math.sin(theta)
    for _ in range(10):
        fwd_lng, fwd_lat = gcj02_to_bd09(guess_lng, guess_lat)
        err_lng, err_lat = fwd_lng - lng, fwd_lat - lat
        guess_lng -= err_lng
        guess_lat -= err_lat
        if abs(err_lng) < 1e-10 and abs(err_lat) < 1e-10:
            break
    return guess_lng, guess_lat


def to_wgs84(lng: float, lat: float, system: CoordSystem | str) -> tuple[float, float]:
    """Convert a point given in `system` to WGS-84."""
    system = CoordSystem(system)
    if system is CoordSystem.GCJ02:
        return gcj02_to_wgs84(lng, lat)
    if system is CoordSystem.BD09:
        return gcj02_to_wgs84(*bd09_to_gcj02(lng, lat))
    return lng, lat


def from_wgs84(lng: float, lat: float, system: CoordSystem | str) -> tuple[float, float]:
    """Convert a stored WGS-84 point to `system` (e.g. for drawing on Gaode tiles)."""
    system = CoordSystem(system)
    if system is CoordSystem.GCJ02:
        return wgs84_to_gcj02(lng, lat)
    if system is CoordSystem.BD09:
        return gcj02_to_bd09(*wgs84_to_gcj02(lng, lat))
    return lng, lat


def distance_m(lng1: float, lat1: float, lng2: float, lat2: float) -> float:
    """Great-circle distance in metres (haversine on a 6371 km sphere)."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))
