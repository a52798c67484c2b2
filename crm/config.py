"""Configuration read from the environment, overridable by the factory's `config` dict."""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"

# Environments where a throwaway secret key is acceptable.
RELAXED_ENVIRONMENTS = {"development", "testing"}


class ConfigError(RuntimeError):
    """The app refuses to start with this configuration."""


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", f"sqlite:///{INSTANCE_DIR / 'pantu.sqlite3'}")
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy wants the psycopg 3 driver named.
    if url.startswith("postgres://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgres://")
    elif url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def build_config(overrides: dict | None = None) -> dict:
    """Return the app configuration: environment variables first, then `overrides`."""
    overrides = dict(overrides or {})
    env = overrides.get("PANTU_ENV") or os.environ.get("PANTU_ENV", "production")
    if overrides.get("TESTING"):
        env = "testing"
    config: dict = {
        "PANTU_ENV": env,
        "SECRET_KEY": os.environ.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": _database_url(),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "UPLOAD_FOLDER": os.environ.get("UPLOAD_FOLDER", str(INSTANCE_DIR / "uploads")),
        "MAX_CONTENT_LENGTH": int(os.environ.get("MAX_UPLOAD_MB", "20")) * 1024 * 1024,
        "UPLOAD_MAX_IMAGE_BYTES": int(os.environ.get("UPLOAD_MAX_IMAGE_MB", "10")) * 1024 * 1024,
        # Map tiles: "osm" (default), "gaode" (GCJ-02 tiles) or "tianditu" (needs MAP_TIANDITU_KEY).
        "MAP_TILE_PROVIDER": os.environ.get("MAP_TILE_PROVIDER", "osm"),
        "MAP_TIANDITU_KEY": os.environ.get("MAP_TIANDITU_KEY", ""),
        # Geocoding estate addresses: "nominatim" (OpenStreetMap, WGS-84) or "baidu" (BaiduV3, BD-09, needs BAIDU_AK).
        "GEOCODER": os.environ.get("GEOCODER", "nominatim"),
        # Host of the geocoding service; empty means the provider's public one (nominatim.openstreetmap.org).
        "GEOCODER_DOMAIN": os.environ.get("GEOCODER_DOMAIN", ""),
        "GEOCODER_SCHEME": os.environ.get("GEOCODER_SCHEME", "https"),
        "GEOCODER_USER_AGENT": os.environ.get("GEOCODER_USER_AGENT", "pantu-crm"),
        "GEOCODER_TIMEOUT": float(os.environ.get("GEOCODER_TIMEOUT", "5")),
        # Seconds between two calls to the provider (the public Nominatim allows one call a second).
        "GEOCODER_MIN_DELAY_SECONDS": float(os.environ.get("GEOCODER_MIN_DELAY_SECONDS", "1.0")),
        # Estates positioned per request of a batch (the page polls for the next chunk).
        "GEOCODER_BATCH_SIZE": int(os.environ.get("GEOCODER_BATCH_SIZE", "5")),
        "BAIDU_AK": os.environ.get("BAIDU_AK", ""),
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        # Always-secure when the deployment says so; otherwise secure whenever the request is HTTPS.
        "SESSION_COOKIE_SECURE": _env_bool("SESSION_COOKIE_SECURE", False),
        "PERMANENT_SESSION_LIFETIME": 12 * 3600,
        "WTF_CSRF_TIME_LIMIT": None,
        "BABEL_DEFAULT_LOCALE": "zh",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": {"zh": "简体中文", "en": "English"},
        "LOGIN_MAX_FAILURES": int(os.environ.get("LOGIN_MAX_FAILURES", "5")),
        "LOGIN_LOCKOUT_MINUTES": int(os.environ.get("LOGIN_LOCKOUT_MINUTES", "15")),
        "PASSWORD_HASH_METHOD": "scrypt",
        "ESTATES_PER_PAGE": 25,
        "BEHIND_PROXY": _env_bool("BEHIND_PROXY", False),
        # Background jobs: with a Redis URL slow work goes to RQ workers (`crm worker`); without, requests do it.
        "REDIS_URL": os.environ.get("REDIS_URL", ""),
        "JOBS_QUEUE": os.environ.get("JOBS_QUEUE", "pantu"),
        # Above these sizes a printout is made by a background job (when REDIS_URL is set).
        "JOB_THRESHOLD_PLAN_ESTATES": int(os.environ.get("JOB_THRESHOLD_PLAN_ESTATES", "30")),
        "JOB_THRESHOLD_MAP_ESTATES": int(os.environ.get("JOB_THRESHOLD_MAP_ESTATES", "300")),
        "JOB_THRESHOLD_REPORT_DEALERS": int(os.environ.get("JOB_THRESHOLD_REPORT_DEALERS", "20")),
        "JOB_THRESHOLD_IMPORT_ROWS": int(os.environ.get("JOB_THRESHOLD_IMPORT_ROWS", "500")),
    }
    config.update(overrides)
    config["PANTU_ENV"] = env

    if not config.get("SECRET_KEY"):
        if env not in RELAXED_ENVIRONMENTS:
            raise ConfigError(
                "SECRET_KEY is not set. Set it in the environment (e.g. "
                "`export SECRET_KEY=$(python -c 'import secrets; print(secrets.token_hex(32))')`) "
                "or run with PANTU_ENV=development for local work."
            )
        config["SECRET_KEY"] = f"insecure-{env}-key"
    return config
