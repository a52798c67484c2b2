"""The folium map behind HQ's national coverage page: tiles, and the hook that draws cities and estates.

Neither cities nor estates are folium objects: static/js/coverage-map.js fetches them as GeoJSON
(city bubbles first, then one city's estates, clustered) so the page stays small at any scale.
Every script and stylesheet comes from our own static files, as on the traffic map.
"""

from __future__ import annotations

from branca.element import MacroElement
from jinja2 import Template

from crm.maps.builder import RenderedMap, _base_map, _render, _to_tiles
from crm.maps.tiles import TileLayer

CHINA_CENTER = (35.0, 105.0)  # lat, lng (WGS-84)
NATIONAL_ZOOM = 4
CITY_ZOOM = 11
_CLUSTER = "vendor/leaflet.markercluster/MarkerCluster"


class _CoverageLayer(MacroElement):
    """Hands the folium map to coverage-map.js once it exists."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "PantuCoverageMap.init({{ this._parent.get_name() }}, {{ this.options|tojson }});"
        "{% endmacro %}"
    )

    def __init__(self, options: dict):
        super().__init__()
        self._name = "PantuCoverageLayer"
        self.options = options


def build_national_map(
    tiles: TileLayer, options: dict, city_position: tuple[float, float] | None = None
) -> RenderedMap:
    """China (or the city at `city_position`, lat/lng WGS-84) on HQ's tiles; cities and estates load in the browser."""
    lat, lng = city_position or CHINA_CENTER
    fmap = _base_map(
        _to_tiles(lng, lat, tiles),
        CITY_ZOOM if city_position else NATIONAL_ZOOM,
        tiles,
        js=[
            ("markercluster", "vendor/leaflet.markercluster/leaflet.markercluster.js"),
            ("coverage_map", "js/coverage-map.js"),
        ],
        css=[("markercluster_css", f"{_CLUSTER}.css"), ("markercluster_default_css", f"{_CLUSTER}.Default.css")],
    )
    national = {"center": list(_to_tiles(CHINA_CENTER[1], CHINA_CENTER[0], tiles)), "zoom": NATIONAL_ZOOM}
    _CoverageLayer({**options, "cityZoom": CITY_ZOOM, "national": national}).add_to(fmap)
    return _render(fmap)
