"""Tile layers the traffic map can draw on, and the datum each one needs points in."""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from crm.maps.models import TileProvider


@dataclass(frozen=True)
class TileLayer:
    provider: TileProvider
    url: str
    attribution: str
    subdomains: str
    max_zoom: int
    overlay_url: str | None = None  # Tianditu draws labels on a second layer
    warning: str | None = None  # shown above the map when the chosen provider could not be used

    @property
    def coord_system(self):
        return self.provider.coord_system


OSM = TileLayer(
    TileProvider.OSM,
    "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a>',
    "abc",
    19,
)
GAODE = TileLayer(
    TileProvider.GAODE,
    "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
    "&copy; 高德地图 AutoNavi",
    "1234",
    18,
)
_TIANDITU = (
    "https://t{s}.tianditu.gov.cn/LAYER_w/wmts?SERVICE=WMTS&REQUEST=GetTile&VERSION=1.0.0&LAYER=LAYER"
    "&STYLE=default&TILEMATRIXSET=w&FORMAT=tiles&TILEMATRIX={z}&TILEROW={y}&TILECOL={x}&tk="
)


def _tianditu_url(layer: str, key: str) -> str:
    return _TIANDITU.replace("LAYER", layer) + key


def tile_layer(provider: TileProvider | str | None) -> TileLayer:
    """The layer for `provider` (the app's default when None); Tianditu without a key falls back to OSM."""
    provider = TileProvider(provider or current_app.config["MAP_TILE_PROVIDER"])
    if provider is TileProvider.GAODE:
        return GAODE
    if provider is TileProvider.TIANDITU:
        key = current_app.config.get("MAP_TIANDITU_KEY", "")
        if not key:
            return TileLayer(
                **{
                    **OSM.__dict__,
                    "warning": _("天地图需要密钥（MAP_TIANDITU_KEY），未配置，已改用 OpenStreetMap 底图。"),
                }
            )
        return TileLayer(
            TileProvider.TIANDITU,
            _tianditu_url("vec", key),
            "&copy; 天地图 Tianditu",
            "01234567",
            18,
            overlay_url=_tianditu_url("cva", key),
        )
    return OSM
