"""Geocoding providers: geopy's real clients, rate-limited, with the query each one understands.

Nominatim (OpenStreetMap) answers in WGS-84; Baidu answers in BD-09. A provider here says which,
so the service converts before anything is stored.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial

from flask import Flask
from flask_babel import gettext as _
from geopy.adapters import RequestsAdapter, URLLibAdapter
from geopy.exc import ConfigurationError
from geopy.extra.rate_limiter import RateLimiter
from geopy.geocoders import BaiduV3, Nominatim
from geopy.geocoders.base import Geocoder
from geopy.location import Location

from crm.estates.models import Estate
from crm.maps.coords import CoordSystem

NOMINATIM = "nominatim"
BAIDU = "baidu"
PUBLIC_NOMINATIM_DOMAIN = "nominatim.openstreetmap.org"
# The public Nominatim's usage policy: at most one request per second.
PUBLIC_NOMINATIM_MIN_DELAY_SECONDS = 1.0

SETTINGS_KEYS = (
    "GEOCODER",
    "GEOCODER_DOMAIN",
    "GEOCODER_SCHEME",
    "GEOCODER_USER_AGENT",
    "GEOCODER_TIMEOUT",
    "GEOCODER_MIN_DELAY_SECONDS",
    "BAIDU_AK",
)

# Baidu falls back to the centre of the city or district when it cannot place an address:
# a point there would put the estate kilometres off, so such answers count as "not found".
BAIDU_COARSE_LEVELS = frozenset({"国家", "省", "城市", "区县", "乡镇"})
# Nominatim's place_rank: 16 and below are towns, districts, cities, provinces.
NOMINATIM_MAX_COARSE_RANK = 16

_CITY_SUFFIXES = ("市", "州", "盟", "地区", "县", "旗")


class ProviderSetupError(Exception):
    """The geocoding settings are incomplete; the message is shown to the user."""


@dataclass(frozen=True)
class Provider:
    """A configured geocoding service: its name (the cache key), datum and rate-limited lookup."""

    name: str
    label: str
    datum: CoordSystem
    client: Geocoder
    geocode: Callable[[str], Location | None]
    build_query: Callable[[Estate], str]
    is_too_coarse: Callable[[Location], bool]

    def query_for(self, estate: Estate) -> str:
        """The text this provider is asked for `estate` (also the cache key)."""
        return self.build_query(estate)[:300]


def _adapter_factory():
    # geopy's requests adapter retries failed connections and reads twice: hidden extra calls that
    # bypass the rate limiter, spend quota and turn a timeout into "unreachable". One call, one outcome.
    if RequestsAdapter.is_available:
        return partial(RequestsAdapter, max_retries=0)
    return URLLibAdapter  # never retries


def provider_label(name: str) -> str:
    """The provider's name as users see it."""
    return {NOMINATIM: _("OpenStreetMap（Nominatim）"), BAIDU: _("百度地图")}.get(name, name)


def build_provider(config: Mapping) -> Provider:
    """The provider the settings name, wrapped in a rate limiter; ProviderSetupError if they are incomplete."""
    name = (config.get("GEOCODER") or NOMINATIM).strip().lower()
    scheme = config.get("GEOCODER_SCHEME") or "https"
    domain = (config.get("GEOCODER_DOMAIN") or "").strip().strip("/")
    timeout = float(config.get("GEOCODER_TIMEOUT") or 5)
    user_agent = config.get("GEOCODER_USER_AGENT") or "pantu-crm"
    min_delay = float(config.get("GEOCODER_MIN_DELAY_SECONDS") or 0)

    if name == NOMINATIM:
        domain = domain or PUBLIC_NOMINATIM_DOMAIN
        if domain == PUBLIC_NOMINATIM_DOMAIN:
            min_delay = max(min_delay, PUBLIC_NOMINATIM_MIN_DELAY_SECONDS)
        try:
            client = Nominatim(
                domain=domain,
                scheme=scheme,
                user_agent=user_agent,
                timeout=timeout,
                adapter_factory=_adapter_factory(),
            )
        except ConfigurationError:  # geopy refuses its sample user agents for the public server
            raise ProviderSetupError(
                _("定位服务设置有误：请为 GEOCODER_USER_AGENT 设置本系统自己的名称。请联系系统管理员。")
            ) from None

        def lookup(query: str) -> Location | None:
            return client.geocode(query, exactly_one=True, country_codes="cn", language="zh")

        return Provider(
            NOMINATIM,
            provider_label(NOMINATIM),
            CoordSystem.WGS84,
            client,
            _rate_limited(lookup, min_delay),
            nominatim_query,
            _nominatim_too_coarse,
        )

    if name == BAIDU:
        api_key = (config.get("BAIDU_AK") or "").strip()
        if not api_key:
            raise ProviderSetupError(
                _("已选择百度地图定位，但没有配置百度地图密钥（BAIDU_AK）。请联系系统管理员配置后再批量定位。")
            )
        client = BaiduV3(
            api_key=api_key, scheme=scheme, user_agent=user_agent, timeout=timeout, adapter_factory=_adapter_factory()
        )
        if domain:
            client.api = f"{scheme}://{domain}{client.api_path}"

        def lookup(query: str) -> Location | None:
            return client.geocode(query, exactly_one=True)

        return Provider(
            BAIDU,
            provider_label(BAIDU),
            CoordSystem.BD09,
            client,
            _rate_limited(lookup, min_delay),
            baidu_query,
            _baidu_too_coarse,
        )

    raise ProviderSetupError(
        _("定位服务设置有误（GEOCODER=%(name)s），应为 nominatim 或 baidu。请联系系统管理员。", name=name)
    )


def _rate_limited(lookup: Callable[[str], Location | None], min_delay: float) -> RateLimiter:
    # No retries and nothing swallowed: a failed call must reach the batch as a failure.
    return RateLimiter(
        lookup, min_delay_seconds=min_delay, max_retries=0, error_wait_seconds=min_delay, swallow_exceptions=False
    )


def provider_for_app(app: Flask) -> Provider:
    """The app's provider, built once per settings so its rate limit also spaces calls across requests."""
    key = tuple(app.config.get(name) for name in SETTINGS_KEYS)
    built = app.extensions.setdefault("pantu_geocoding", {})
    if key not in built:
        built.clear()  # settings changed: drop the old client (and its open connections)
        built[key] = build_provider(app.config)
    return built[key]


def _clean(text: str | None) -> str:
    return " ".join(unicodedata.normalize("NFKC", text or "").split())


def _city_label(city_name: str) -> str:
    """齐齐哈尔 → 齐齐哈尔市: providers match the official name."""
    return city_name if city_name.endswith(_CITY_SUFFIXES) else f"{city_name}市"


def _address_parts(estate: Estate) -> tuple[str, str, str, str]:
    """(province, city, district, street) with what the street repeats of the others removed."""
    province = _clean(estate.city.province)
    city_name = _clean(estate.city.name)
    city = _city_label(city_name) if city_name else ""
    district = _clean(estate.district)
    street = _clean(estate.address) or _clean(estate.name)
    # Imported addresses often start with "黑龙江省齐齐哈尔市龙沙区…": keep only the part below the district.
    prefixes = sorted({p for p in (province, city, city_name, district) if p}, key=len, reverse=True)
    while prefix := next((p for p in prefixes if street.startswith(p) and len(street) > len(p)), None):
        street = street[len(prefix) :].lstrip(" ,，")
    return province, city, district, street


def nominatim_query(estate: Estate) -> str:
    """中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 卜奎大街168号: comma-separated terms, country first."""
    province, city, district, street = _address_parts(estate)
    return ", ".join(part for part in ("中国", province, city, district, street) if part)


def baidu_query(estate: Estate) -> str:
    """齐齐哈尔市龙沙区卜奎大街168号: Baidu's structured address (city down to the street, no spaces)."""
    _province, city, district, street = _address_parts(estate)
    return "".join(part for part in (city, district, street) if part)


def _nominatim_too_coarse(location: Location) -> bool:
    try:
        return int(location.raw.get("place_rank", 30)) <= NOMINATIM_MAX_COARSE_RANK
    except (TypeError, ValueError):
        return False


def _baidu_too_coarse(location: Location) -> bool:
    return location.raw.get("level") in BAIDU_COARSE_LEVELS
