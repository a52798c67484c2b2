"""Every model, imported in one place for Alembic and for relationship resolution."""

from crm.auth.models import LoginAttempt
from crm.estates.models import City, Estate, FloorPlan
from crm.org.models import Brand, Dealer, Store, User

__all__ = ["Brand", "City", "Dealer", "Estate", "FloorPlan", "LoginAttempt", "Store", "User"]
