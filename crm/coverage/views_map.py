"""The national coverage map: city bubbles with counts per status, a city's estates coloured by status.

Both layers come as GeoJSON in the datum of HQ's tiles and carry estate facts and counts only:
no owner, group or staff name ever reaches the map.
"""

from __future__ import annotations

import gzip
import json
from itertools import groupby
from operator import attrgetter

import sqlalchemy as sa
from flask import Response, render_template, request, url_for
from flask_babel import gettext as _

from crm.core.roles import Permission, permission_required
from crm.core.scoping import get_or_404
from crm.coverage import queries
from crm.coverage.blueprint import bp, current_thresholds
from crm.coverage.mapping import build_national_map
from crm.coverage.models import CoverageStatus
from crm.estates.models import City
from crm.extensions import db
from crm.maps.coords import CoordSystem, from_wgs84
from crm.maps.queries import settings_for
from crm.maps.tiles import TileLayer, tile_layer
from crm.org.models import Dealer
from crm.org.queries import visible_dealers


def _dealer_filter() -> int | None:
    return request.args.get("dealer_id", type=int)


def _hq_tiles() -> TileLayer:
    return tile_layer(settings_for(db.session, None).tile_provider)


def _point(lng: float, lat: float, system: CoordSystem) -> list[float]:
    """[lng, lat] of a stored WGS-84 point in the tiles' datum, as GeoJSON wants it."""
    if system is not CoordSystem.WGS84:
        lng, lat = from_wgs84(lng, lat, system)
    return [round(lng, 6), round(lat, 6)]


def _geojson_response(collection: dict) -> Response:
    body = json.dumps(collection, ensure_ascii=False, separators=(",", ":")).encode()
    response = Response(body, mimetype="application/geo+json")
    if "gzip" in request.headers.get("Accept-Encoding", "") and len(body) > 1024:
        response.set_data(gzip.compress(body, compresslevel=5))
        response.headers["Content-Encoding"] = "gzip"
    response.headers["Vary"] = "Accept-Encoding"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _script_texts() -> dict[str, str]:
    """What coverage-map.js writes, translated here; {name} marks what the script fills in."""
    return {
        "city": _("%(city)s：%(count)s 个楼盘", city="{city}", count="{count}"),
        "national": _("全国：%(cities)s 个城市，%(count)s 个楼盘", cities="{cities}", count="{count}"),
        "loading": _("正在加载…"),
        "error": _("地图数据加载失败，请检查网络后刷新页面。"),
        "households": _("%(count)s 户", count="{count}"),
        "dealer": _("经销商"),
        "open": _("查看楼盘覆盖"),
    }


@bp.route("/map")
@permission_required(Permission.VIEW_COVERAGE)
def national_map():
    """China with a bubble per city; ?city_id= opens zoomed on that city, ?dealer_id= shows one dealer."""
    dealer_id = _dealer_filter()
    cities = queries.city_coverage(db.session, current_thresholds(), dealer_id)
    open_city = next(
        (c for c in cities if c.city_id == request.args.get("city_id", type=int) and c.lat is not None), None
    )
    tiles = _hq_tiles()
    filter_args = {"dealer_id": dealer_id} if dealer_id else {}
    statuses = list(CoverageStatus)
    rendered = build_national_map(
        tiles,
        {
            "citiesUrl": url_for("coverage.cities_geojson", **filter_args),
            "estatesUrl": url_for("coverage.city_estates_geojson", city_id=0, **filter_args),
            "estateUrl": url_for("coverage.estate", estate_id=0),
            "openCityId": open_city.city_id if open_city else None,
            "statuses": [{"value": s.value, "label": s.label, "color": s.color} for s in statuses],
            "texts": _script_texts(),
        },
        (open_city.lat, open_city.lng) if open_city else None,
    )
    totals = dict.fromkeys(statuses, 0)
    for city in cities:
        for status, count in city.by_status.items():
            totals[status] += count
    return render_template(
        "coverage/map.html",
        rendered=rendered,
        tiles=tiles,
        provinces=[(province, list(rows)) for province, rows in groupby(cities, key=attrgetter("province"))],
        totals=totals,
        statuses=statuses,
        dealers=visible_dealers(db.session),
        dealer_id=dealer_id,
        open_city=open_city,
    )


@bp.route("/cities.geojson")
@permission_required(Permission.VIEW_COVERAGE)
def cities_geojson():
    """One point per city with estates: counts per coverage status and dealers present (?dealer_id= filters)."""
    system = _hq_tiles().coord_system
    cities = queries.city_coverage(db.session, current_thresholds(), _dealer_filter())
    features = [
        {
            "type": "Feature",
            "id": city.city_id,
            "geometry": {"type": "Point", "coordinates": _point(city.lng, city.lat, system)},
            "properties": {
                "name": city.name,
                "province": city.province,
                "estates": city.estates,
                "dealers": city.dealers,
                "counts": {status.value: count for status, count in city.by_status.items()},
            },
        }
        for city in cities
        if city.lat is not None and city.lng is not None
    ]
    return _geojson_response({"type": "FeatureCollection", "features": features})


@bp.route("/cities/<int:city_id>/estates.geojson")
@permission_required(Permission.VIEW_COVERAGE)
def city_estates_geojson(city_id: int):
    """A city's positioned estates: n name, s coverage status, d dealer id, h households; `dealers` names each d."""
    city = get_or_404(City, city_id)
    system = _hq_tiles().coord_system
    points = queries.city_estate_points(db.session, current_thresholds(), city.id, _dealer_filter())
    dealer_ids = {point.dealer_id for point in points}
    dealers = db.session.execute(
        sa.select(Dealer.id, Dealer.code, Dealer.name).where(Dealer.id.in_(dealer_ids)).order_by(Dealer.code)
    ).all()
    features = [
        {
            "type": "Feature",
            "id": point.estate_id,
            "geometry": {"type": "Point", "coordinates": _point(point.lng, point.lat, system)},
            "properties": {"n": point.name, "s": point.status.value, "d": point.dealer_id, "h": point.households},
        }
        for point in points
    ]
    return _geojson_response(
        {
            "type": "FeatureCollection",
            "city": {"id": city.id, "name": city.name},
            "dealers": {str(id_): {"code": code, "name": name} for id_, code, name in dealers},
            "features": features,
        }
    )
