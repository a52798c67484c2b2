"""Provider settings, the query each provider is asked, and the rate limiter in front of both."""

from __future__ import annotations

import time

import pytest
from geopy.extra.rate_limiter import RateLimiter

from crm.config import build_config
from crm.estates.models import City, Estate
from crm.geocoding.providers import (
    PUBLIC_NOMINATIM_DOMAIN,
    ProviderSetupError,
    baidu_query,
    build_provider,
    nominatim_query,
    provider_for_app,
)
from crm.maps.coords import CoordSystem

QIQIHAR = City(name="齐齐哈尔", province="黑龙江省")


def _estate(name="卜奎花园", district="龙沙区", address="卜奎大街168号", city=QIQIHAR) -> Estate:
    return Estate(name=name, district=district, address=address, city=city)


def test_settings_come_from_the_environment_with_safe_defaults(monkeypatch):
    for name in ("GEOCODER", "GEOCODER_DOMAIN", "GEOCODER_SCHEME", "GEOCODER_USER_AGENT", "GEOCODER_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("GEOCODER_MIN_DELAY_SECONDS", raising=False)
    monkeypatch.delenv("BAIDU_AK", raising=False)
    config = build_config({"TESTING": True})
    assert config["GEOCODER"] == "nominatim"
    assert config["GEOCODER_SCHEME"] == "https"
    assert config["GEOCODER_USER_AGENT"] == "pantu-crm"
    assert config["GEOCODER_MIN_DELAY_SECONDS"] == 1.0
    assert config["BAIDU_AK"] == ""

    monkeypatch.setenv("GEOCODER", "baidu")
    monkeypatch.setenv("BAIDU_AK", "ak-from-env")
    monkeypatch.setenv("GEOCODER_MIN_DELAY_SECONDS", "0.5")
    config = build_config({"TESTING": True})
    assert (config["GEOCODER"], config["BAIDU_AK"], config["GEOCODER_MIN_DELAY_SECONDS"]) == (
        "baidu",
        "ak-from-env",
        0.5,
    )


def test_nominatim_is_asked_country_first_with_commas():
    assert nominatim_query(_estate()) == "中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 卜奎大街168号"


def test_baidu_is_asked_a_structured_address_without_spaces():
    assert baidu_query(_estate()) == "齐齐哈尔市龙沙区卜奎大街168号"


def test_an_estate_without_address_is_looked_up_by_name():
    assert baidu_query(_estate(address="")) == "齐齐哈尔市龙沙区卜奎花园"
    assert nominatim_query(_estate(address="", district="")) == "中国, 黑龙江省, 齐齐哈尔市, 卜奎花园"


def test_the_address_does_not_repeat_province_city_or_district():
    """Imported addresses often carry the whole hierarchy; the same place must give the same query."""
    full = _estate(address="黑龙江省 齐齐哈尔市龙沙区卜奎大街１６８号")
    assert baidu_query(full) == "齐齐哈尔市龙沙区卜奎大街168号"
    assert nominatim_query(full) == nominatim_query(_estate())
    assert baidu_query(_estate(address="齐齐哈尔龙沙区卜奎大街168号")) == "齐齐哈尔市龙沙区卜奎大街168号"


def test_city_names_already_official_are_kept():
    yanbian = City(name="延边朝鲜族自治州", province="吉林省")
    assert (
        baidu_query(_estate(district="延吉市", address="人民路1号", city=yanbian)) == "延边朝鲜族自治州延吉市人民路1号"
    )


def test_provider_is_rate_limited_with_the_configured_delay_and_never_retries(app, stub):
    stub.add("中国, 黑龙江省, 齐齐哈尔市, 龙沙区, 卜奎大街168号", 123.95, 47.34)
    config = {"GEOCODER_DOMAIN": stub.domain, "GEOCODER_SCHEME": "http", "GEOCODER_MIN_DELAY_SECONDS": 0.3}
    with app.app_context():
        provider = build_provider(config)
    assert isinstance(provider.geocode, RateLimiter)
    assert provider.geocode.min_delay_seconds == 0.3
    assert provider.geocode.max_retries == 0
    assert provider.geocode.swallow_exceptions is False
    assert provider.datum is CoordSystem.WGS84

    started = time.monotonic()
    provider.geocode("甲")
    provider.geocode("乙")
    assert time.monotonic() - started >= 0.3
    assert stub.queries == ["甲", "乙"]


def test_the_public_nominatim_is_never_asked_more_than_once_a_second(app):
    with app.app_context():
        provider = build_provider({"GEOCODER": "nominatim", "GEOCODER_MIN_DELAY_SECONDS": 0})
    assert provider.geocode.min_delay_seconds == 1.0
    assert provider.client.api == f"https://{PUBLIC_NOMINATIM_DOMAIN}/search"


def test_baidu_answers_in_bd09_from_the_configured_host(app, stub):
    with app.app_context():
        provider = build_provider(
            {"GEOCODER": "baidu", "BAIDU_AK": "k", "GEOCODER_DOMAIN": stub.domain, "GEOCODER_SCHEME": "http"}
        )
    assert provider.datum is CoordSystem.BD09
    assert provider.client.api == f"http://{stub.domain}/geocoding/v3/"


def test_baidu_needs_a_key(app):
    with app.app_context(), pytest.raises(ProviderSetupError, match="BAIDU_AK"):
        build_provider({"GEOCODER": "baidu", "BAIDU_AK": " "})


def test_an_unknown_provider_is_a_setup_error(app):
    with app.app_context(), pytest.raises(ProviderSetupError, match="GEOCODER=amap"):
        build_provider({"GEOCODER": "amap"})


def test_the_app_keeps_one_provider_per_settings(geo_app, stub):
    """One rate limiter for all requests of the app; changed settings build a new one."""
    with geo_app.app_context():
        first = provider_for_app(geo_app)
        assert provider_for_app(geo_app) is first
        geo_app.config["GEOCODER_MIN_DELAY_SECONDS"] = 0.5
        try:
            assert provider_for_app(geo_app) is not first
            assert provider_for_app(geo_app).geocode.min_delay_seconds == 0.5
        finally:
            geo_app.config["GEOCODER_MIN_DELAY_SECONDS"] = 0
