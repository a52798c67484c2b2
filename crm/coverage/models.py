"""HQ's oversight of every dealer's estates (有盘有群有运营): its settings, its decisions, its base-deals table.

The coverage status itself is never stored: `crm.coverage.queries` derives it from estates,
groups, metrics, script tasks and orders each time it is asked.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, UTCDateTime, enum_type, utcnow
from crm.extensions import db

DEFAULT_NEGLECT_DAYS = 30
DEFAULT_ACTIVE_DAYS = 14
DEFAULT_CONFLICT_RADIUS_M = 200


class CoverageStatus(StrEnum):
    """Where an estate stands for HQ, in pipeline order; derived from the data, never typed."""

    UNPLANNED = "unplanned"
    TARGET_NO_GROUP = "target_no_group"
    GROUP_IDLE = "group_idle"
    OPERATING = "operating"
    CONVERTED = "converted"

    @property
    def label(self) -> str:
        return str(COVERAGE_LABELS[self])

    @property
    def color(self) -> str:
        return COVERAGE_COLORS[self]


COVERAGE_LABELS = {
    CoverageStatus.UNPLANNED: _l("未规划"),
    CoverageStatus.TARGET_NO_GROUP: _l("目标未建群"),
    CoverageStatus.GROUP_IDLE: _l("有群未运营"),
    CoverageStatus.OPERATING: _l("运营中"),
    CoverageStatus.CONVERTED: _l("已转化"),
}

COVERAGE_COLORS = {
    CoverageStatus.UNPLANNED: "#9aa5b1",
    CoverageStatus.TARGET_NO_GROUP: "#e8590c",
    CoverageStatus.GROUP_IDLE: "#f2c94c",
    CoverageStatus.OPERATING: "#2f9e44",
    CoverageStatus.CONVERTED: "#2f6fde",
}


class CoverageSettings(db.Model):
    """The brand's thresholds for deriving coverage (one row per brand; defaults until HQ saves)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    brand_id: Mapped[int] = mapped_column(sa.ForeignKey("brand.id", ondelete="CASCADE"), unique=True)
    neglect_days: Mapped[int] = mapped_column(default=DEFAULT_NEGLECT_DAYS)  # targeted this long, no group: 有盘不做
    active_days: Mapped[int] = mapped_column(default=DEFAULT_ACTIVE_DAYS)  # a group worked within these days operates
    conflict_radius_m: Mapped[int] = mapped_column(default=DEFAULT_CONFLICT_RADIUS_M)
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (
        sa.CheckConstraint("neglect_days BETWEEN 1 AND 365", name="neglect_days_range"),
        sa.CheckConstraint("active_days BETWEEN 1 AND 90", name="active_days_range"),
        sa.CheckConstraint("conflict_radius_m BETWEEN 10 AND 5000", name="conflict_radius_range"),
    )


class DecisionList(StrEnum):
    """The two lists HQ decides on each month."""

    NEGLECTED = "neglected"  # 有盘不做: penalty candidates
    SUPPORTED = "supported"  # 有盘有群有运营: support candidates

    @property
    def label(self) -> str:
        return str({DecisionList.NEGLECTED: _l("有盘不做"), DecisionList.SUPPORTED: _l("有盘有群有运营")}[self])


class DecisionKind(StrEnum):
    PENALTY = "penalty"
    SUPPORT = "support"
    IGNORE = "ignore"

    @property
    def label(self) -> str:
        return str(
            {DecisionKind.PENALTY: _l("罚"), DecisionKind.SUPPORT: _l("扶持"), DecisionKind.IGNORE: _l("忽略")}[self]
        )


class CoverageDecision(DealerOwned, db.Model):
    """HQ's decision on one estate of a month's list. Rows are never changed: the latest one stands."""

    __table_args__ = (sa.Index("ix_coverage_decision_month_estate", "month", "estate_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    month: Mapped[date]  # the first day of the month the list is for
    list_kind: Mapped[DecisionList] = mapped_column(enum_type(DecisionList, 12))
    kind: Mapped[DecisionKind] = mapped_column(enum_type(DecisionKind, 10))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    estate: Mapped[Estate] = relationship()  # noqa: F821
    decided_by: Mapped[User | None] = relationship()  # noqa: F821


class TerritoryAssignment(db.Model):
    """HQ's ruling on an estate two dealers claim: which dealer works it. The latest row for a key stands."""

    __table_args__ = (sa.Index("ix_territory_assignment_key", "city_id", "name_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("city.id"))
    name_key: Mapped[str] = mapped_column(sa.String(100))
    dealer_id: Mapped[int] = mapped_column(sa.ForeignKey("dealer.id", ondelete="CASCADE"), index=True)
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    decided_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    dealer: Mapped[Dealer] = relationship()  # noqa: F821
    decided_by: Mapped[User | None] = relationship()  # noqa: F821


class BaseDealRate(db.Model):
    """基准成交: how many orders HQ expects one group to bring, per product category (the seed's missing table)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(sa.String(50), unique=True)
    orders_per_group: Mapped[Decimal] = mapped_column(sa.Numeric(6, 1))
    note: Mapped[str] = mapped_column(sa.String(255), default="")
    updated_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    __table_args__ = (sa.CheckConstraint("orders_per_group >= 0", name="orders_per_group_not_negative"),)

    updated_by: Mapped[User | None] = relationship()  # noqa: F821
