"""The folium map behind the traffic-map page: tiles, store rings, and the hook that loads estates.

Estates are not folium objects: at 10,000 of them inline markers cost seconds and megabytes,
so the page's script (static/js/traffic-map.js) fetches them as GeoJSON and clusters them.
Every script and stylesheet comes from our own static files (folium's defaults are CDNs).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

import folium
from branca.element import MacroElement
from flask import url_for
from jinja2 import Template

from crm.maps.coords import from_wgs84
from crm.maps.tiles import TileLayer

_LEAFLET_JS = "vendor/leaflet/leaflet.js"
_LEAFLET_CSS = "vendor/leaflet/leaflet.css"

STAGE_COLORS = {
    "unplanned": "#9aa5b1",
    "target": "#2f6fde",
    "finding_group": "#7c5cd6",
    "has_group": "#0f9d9a",
    "operating": "#2f9e44",
    "converting": "#e8590c",
    "installing": "#c2255c",
    "maintaining": "#5c7080",
    "abandoned": "#868e96",
}


@dataclass
class RenderedMap:
    """The three parts folium renders, to be placed in our own page template."""

    header: str
    html: str
    script: str
    name: str  # the map's JavaScript variable


class _EstateLayer(MacroElement):
    """Hands the folium map to traffic-map.js once it exists."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "PantuTrafficMap.init({{ this._parent.get_name() }}, {{ this.options|tojson }});"
        "{% endmacro %}"
    )

    def __init__(self, options: dict):
        super().__init__()
        self._name = "PantuEstateLayer"
        self.options = options


def build_map(center: tuple[float, float], tiles: TileLayer, stores, ring_m: int, options: dict) -> RenderedMap:
    """A folium map centred on `center` (lat, lng WGS-84) with store rings; estates load in the browser."""
    cluster_css = "vendor/leaflet.markercluster/MarkerCluster"
    fmap = _base_map(
        _to_tiles(center[1], center[0], tiles),
        12,
        tiles,
        js=[
            ("markercluster", "vendor/leaflet.markercluster/leaflet.markercluster.js"),
            ("traffic_map", "js/traffic-map.js"),
        ],
        css=[("markercluster_css", f"{cluster_css}.css"), ("markercluster_default_css", f"{cluster_css}.Default.css")],
    )
    _add_stores(fmap, stores, tiles, ring_m)
    _EstateLayer({**options, "stageColors": STAGE_COLORS}).add_to(fmap)
    return _render(fmap)


def _base_map(location: tuple[float, float], zoom: int, tiles: TileLayer, js=(), css=()) -> folium.Map:
    """A folium map on our tiles whose scripts and styles all come from our static files."""
    fmap = folium.Map(location=list(location), zoom_start=zoom, tiles=None, max_zoom=tiles.max_zoom, control_scale=True)
    fmap.default_js = [(name, url_for("static", filename=path)) for name, path in [("leaflet", _LEAFLET_JS), *js]]
    fmap.default_css = [
        (name, url_for("static", filename=path)) for name, path in [("leaflet_css", _LEAFLET_CSS), *css]
    ]
    layers = [(tiles.url, False, "base")] + ([(tiles.overlay_url, True, "labels")] if tiles.overlay_url else [])
    for url, overlay, name in layers:
        folium.TileLayer(
            tiles=url,
            attr=tiles.attribution,
            subdomains=tiles.subdomains,
            max_zoom=tiles.max_zoom,
            overlay=overlay,
            name=name,
        ).add_to(fmap)
    return fmap


def _add_stores(fmap: folium.Map, stores, tiles: TileLayer, ring_m: int | None = None) -> None:
    for store in stores:
        position = list(_to_tiles(store.lng, store.lat, tiles))
        if ring_m:
            folium.Circle(
                position, radius=ring_m, color="#b4462b", weight=2, fill=True, fill_opacity=0.05, interactive=False
            ).add_to(fmap)
        folium.CircleMarker(
            position,
            radius=9,
            color="#ffffff",
            weight=3,
            fill=True,
            fill_color="#b4462b",
            fill_opacity=1,
            tooltip=_tooltip_text(store.name),
        ).add_to(fmap)


def _render(fmap: folium.Map) -> RenderedMap:
    figure = fmap.get_root()
    figure.render()
    return RenderedMap(
        header=_page_safe_header(figure.header.render()),
        html=figure.html.render(),
        script=figure.script.render(),
        name=fmap.get_name(),
    )


# folium writes a standalone page: a viewport that forbids zooming and full-page html/body/#map
# styles. Our page has its own; these would break its layout and accessibility.
_STANDALONE_BITS = re.compile(
    r'<meta name="viewport"[^>]*/>|<style>\s*html, body \{.*?\}\s*</style>|<style>\s*#map \{.*?\}\s*</style>',
    re.DOTALL,
)


def _page_safe_header(header: str) -> str:
    return _STANDALONE_BITS.sub("", header)


def _tooltip_text(text: str) -> str:
    """folium writes tooltips unescaped into a JavaScript template literal: escape for HTML and for it."""
    return html.escape(text).replace("\\", "\\\\").replace("`", "\\`").replace("$", "\\$")


def _to_tiles(lng: float, lat: float, tiles: TileLayer) -> tuple[float, float]:
    """(lat, lng) of a WGS-84 point in the tiles' datum, as folium wants it."""
    t_lng, t_lat = from_wgs84(lng, lat, tiles.coord_system)
    return t_lat, t_lng


class _DraggableMarkerSync(MacroElement):
    """Copies the dragged (or tapped-to) marker position into the form's lng/lat inputs."""

    _template = Template(
        "{% macro script(this, kwargs) %}"
        "(function (map, marker) {"
        "  function sync(latlng) {"
        "    document.getElementById('lng').value = latlng.lng.toFixed(6);"
        "    document.getElementById('lat').value = latlng.lat.toFixed(6);"
        "  }"
        "  marker.on('dragend', function (e) { sync(e.target.getLatLng()); });"
        "  map.on('click', function (e) { marker.setLatLng(e.latlng); sync(e.latlng); });"
        "})({{ this._parent.get_name() }}, {{ this.marker.get_name() }});"
        "{% endmacro %}"
    )

    def __init__(self, marker):
        super().__init__()
        self._name = "PantuMarkerSync"
        self.marker = marker


def build_placement_map(position: tuple[float, float], tiles: TileLayer, stores) -> RenderedMap:
    """A map with one draggable marker at `position` (lat, lng already in the tiles' datum)."""
    fmap = _base_map(position, 15, tiles)
    _add_stores(fmap, stores, tiles)
    marker = folium.Marker(list(position), draggable=True)
    marker.add_to(fmap)
    _DraggableMarkerSync(marker).add_to(fmap)
    return _render(fmap)
