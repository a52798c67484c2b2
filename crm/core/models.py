"""Mixins every domain model is built from."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

BUSINESS_TIMEZONE = ZoneInfo("Asia/Shanghai")


def local_today() -> date:
    """Today's date where the dealers work (Beijing time), whatever the server's clock zone is."""
    return datetime.now(BUSINESS_TIMEZONE).date()


def utcnow() -> datetime:
    """Aware UTC now; stored naive-free so both SQLite and PostgreSQL agree."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator):
    """A timestamp stored in UTC and always handed back timezone-aware.

    SQLite keeps no zone, PostgreSQL's `timestamptz` does; this type makes both return the same.
    """

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime; use crm.core.models.utcnow()")
            value = value.astimezone(UTC)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value


def enum_type(enum_cls, length: int) -> sa.Enum:
    """A string column holding a StrEnum's values (not names), without a native DB enum type."""
    return sa.Enum(enum_cls, native_enum=False, length=length, values_callable=lambda e: [m.value for m in e])


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class DealerOwned:
    """A row that belongs to one dealer; dealer scoping filters every query of it."""

    @declared_attr
    def dealer_id(cls) -> Mapped[int]:
        return mapped_column(sa.ForeignKey("dealer.id", ondelete="CASCADE"), index=True)


class SharedByHQ:
    """A row that is either one dealer's or, with no dealer, published by HQ for every dealer to read.

    Dealer scoping shows a dealer its own rows and HQ's; only HQ sees every dealer's.
    """

    @declared_attr
    def dealer_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("dealer.id", ondelete="CASCADE"), index=True)

    @property
    def is_hq_template(self) -> bool:
        return self.dealer_id is None


class Versioned:
    """A row staff edit concurrently: every UPDATE checks and bumps `version` (optimistic locking).

    A save based on a stale version fails instead of overwriting the other person's change: forms
    carry the version they were shown (crm.core.forms.VersionField) and `save_form` refuses a
    mismatch; two saves racing past that check meet SQLAlchemy's StaleDataError.
    """

    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls) -> dict:
        return {"version_id_col": cls.version}
