"""The organisation: the brand (HQ), its dealers, their stores and the people who log in."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from flask_login import UserMixin
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.models import DealerOwned, TimestampMixin, UTCDateTime
from crm.core.roles import HQ_ROLES, Role
from crm.extensions import db
from crm.maps.models import HasPosition

ROLE_TYPE = sa.Enum(Role, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e])


class Brand(TimestampMixin, db.Model):
    """The brand's HQ (总部) that oversees every dealer."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), unique=True)

    dealers: Mapped[list[Dealer]] = relationship(back_populates="brand")


class Dealer(TimestampMixin, db.Model):
    """经销商: runs stores in a city and works the estates of its territory."""

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(sa.ForeignKey("brand.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(32), unique=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("city.id"), index=True)
    territory: Mapped[str] = mapped_column(sa.Text, default="")
    is_active: Mapped[bool] = mapped_column(default=True)

    brand: Mapped[Brand] = relationship(back_populates="dealers")
    city: Mapped[City] = relationship()  # noqa: F821
    stores: Mapped[list[Store]] = relationship(back_populates="dealer", order_by="Store.name")

    def __repr__(self) -> str:
        return f"<Dealer {self.code}>"


class Store(DealerOwned, HasPosition, TimestampMixin, db.Model):
    """门店: where owners come to see samples, design and pay deposits."""

    __table_args__ = (sa.UniqueConstraint("dealer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("city.id"), index=True)
    address: Mapped[str] = mapped_column(sa.String(255), default="")
    phone: Mapped[str] = mapped_column(sa.String(32), default="")

    dealer: Mapped[Dealer] = relationship(back_populates="stores")
    city: Mapped[City] = relationship()  # noqa: F821


class User(UserMixin, DealerOwned, TimestampMixin, db.Model):
    """Someone who logs in: HQ staff (no dealer) or a dealer's staff member (exactly one dealer)."""

    __table_args__ = (
        sa.CheckConstraint(
            "(role IN ('hq_admin', 'hq_viewer') AND dealer_id IS NULL)"
            " OR (role NOT IN ('hq_admin', 'hq_viewer') AND dealer_id IS NOT NULL)",
            name="hq_role_iff_no_dealer",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dealer.id", ondelete="CASCADE"), index=True)
    username: Mapped[str] = mapped_column(sa.String(64), unique=True)
    display_name: Mapped[str] = mapped_column(sa.String(64), default="")
    password_hash: Mapped[str] = mapped_column(sa.String(255))
    role: Mapped[Role] = mapped_column(ROLE_TYPE)
    phone: Mapped[str] = mapped_column(sa.String(32), default="")
    is_active_account: Mapped[bool] = mapped_column(default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    dealer: Mapped[Dealer | None] = relationship()

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses inactive accounts; a deactivated dealer's staff are inactive too."""
        return self.is_active_account and (self.dealer is None or self.dealer.is_active)

    @property
    def is_hq(self) -> bool:
        return self.role in HQ_ROLES

    @property
    def name(self) -> str:
        return self.display_name or self.username

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"
