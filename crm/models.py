"""Every model, imported in one place for Alembic and for relationship resolution."""

from crm.auth.models import LoginAttempt
from crm.estates.models import City, Estate, FloorPlan
from crm.geocoding.models import GeocodeCacheEntry
from crm.imports.models import EstateImport
from crm.maps.models import TrafficMapSettings
from crm.org.models import Brand, Dealer, Store, User

__all__ = [
    "Brand",
    "City",
    "Dealer",
    "Estate",
    "EstateImport",
    "FloorPlan",
    "GeocodeCacheEntry",
    "LoginAttempt",
    "Store",
    "TrafficMapSettings",
    "User",
]
