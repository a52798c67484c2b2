"""HQ coverage pages. Routes live in one module per page family; importing them registers them on `bp`."""

from crm.coverage import views_decisions, views_map, views_tables  # noqa: F401
from crm.coverage.blueprint import bp

__all__ = ["bp"]
