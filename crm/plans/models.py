"""Battle plans, their estates (in priority order) with team and targets, and each estate's phases."""

from __future__ import annotations

from datetime import date, timedelta
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, TimestampMixin, Versioned
from crm.extensions import db

# A phase template's steps as shipped: the playbook's first phase is 铺垫 3 / 信任 3 / 价值 2 / 报名 2.
DEFAULT_TEMPLATE_NAME = "新盘自建群"
DEFAULT_TEMPLATE_STEPS = [
    {"name": "找盘建群", "days": 14},
    {"name": "第一阶段·铺垫", "days": 3},
    {"name": "第一阶段·信任", "days": 3},
    {"name": "第一阶段·价值", "days": 2},
    {"name": "第一阶段·报名", "days": 2},
    {"name": "第二阶段", "days": 10},
    {"name": "第三阶段", "days": 10},
]

TARGET_FIELDS = (
    "target_groups",
    "target_members",
    "target_owners_reached",
    "target_store_visits",
    "target_deposits",
    "target_orders",
    "target_gmv",
)
TARGET_LABELS = {
    "target_groups": _l("社群数"),
    "target_members": _l("群成员"),
    "target_owners_reached": _l("触达业主"),
    "target_store_visits": _l("到店"),
    "target_deposits": _l("交定"),
    "target_orders": _l("成交"),
    "target_gmv": _l("成交额（元）"),
}


class PlanStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    DONE = "done"

    @property
    def label(self) -> str:
        return str({PlanStatus.DRAFT: _l("草稿"), PlanStatus.ACTIVE: _l("执行中"), PlanStatus.DONE: _l("已结束")}[self])


class PhaseTemplate(DealerOwned, TimestampMixin, db.Model):
    """The phases an estate's campaign goes through, with day counts a dealer can edit."""

    __table_args__ = (sa.UniqueConstraint("dealer_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    steps: Mapped[list] = mapped_column(sa.JSON, default=list)  # [{"name": "找盘建群", "days": 14}, …]

    @property
    def total_days(self) -> int:
        return sum(int(step["days"]) for step in self.steps)


plan_estate_assistant = sa.Table(
    "plan_estate_assistant",
    db.metadata,
    sa.Column("plan_estate_id", sa.ForeignKey("plan_estate.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user.id", ondelete="CASCADE"), primary_key=True),
)


class BattlePlan(Versioned, DealerOwned, TimestampMixin, db.Model):
    """社群作战规划图: a dealer's campaign in one city for one period."""

    __table_args__ = (sa.CheckConstraint("ends_on >= starts_on", name="period_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(sa.ForeignKey("city.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(100))
    period: Mapped[str] = mapped_column(sa.String(20))  # e.g. "2027 Q1"
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    status: Mapped[PlanStatus] = mapped_column(
        sa.Enum(PlanStatus, native_enum=False, length=10, values_callable=lambda e: [m.value for m in e]),
        default=PlanStatus.DRAFT,
    )
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    template_id: Mapped[int | None] = mapped_column(sa.ForeignKey("phase_template.id", ondelete="SET NULL"))
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))

    city: Mapped[City] = relationship()  # noqa: F821
    dealer: Mapped[Dealer] = relationship()  # noqa: F821
    template: Mapped[PhaseTemplate | None] = relationship()
    estates: Mapped[list[PlanEstate]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanEstate.position"
    )


class PlanEstate(DealerOwned, db.Model):
    """One target estate in a plan: its priority, team, targets and phases."""

    __table_args__ = (
        sa.UniqueConstraint("plan_id", "estate_id"),
        *(sa.CheckConstraint(f"{name} >= 0", name=f"{name}_not_negative") for name in TARGET_FIELDS),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("battle_plan.id", ondelete="CASCADE"), index=True)
    estate_id: Mapped[int] = mapped_column(sa.ForeignKey("estate.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    lead_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    operator_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"), index=True)
    designer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    consultant_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    target_groups: Mapped[int] = mapped_column(default=0)
    target_members: Mapped[int] = mapped_column(default=0)
    target_owners_reached: Mapped[int] = mapped_column(default=0)
    target_store_visits: Mapped[int] = mapped_column(default=0)
    target_deposits: Mapped[int] = mapped_column(default=0)
    target_orders: Mapped[int] = mapped_column(default=0)
    target_gmv: Mapped[int] = mapped_column(sa.BigInteger, default=0)

    plan: Mapped[BattlePlan] = relationship(back_populates="estates")
    estate: Mapped[Estate] = relationship()  # noqa: F821
    lead: Mapped[User | None] = relationship(foreign_keys=[lead_id])  # noqa: F821
    operator: Mapped[User | None] = relationship(foreign_keys=[operator_id])  # noqa: F821
    designer: Mapped[User | None] = relationship(foreign_keys=[designer_id])  # noqa: F821
    consultant: Mapped[User | None] = relationship(foreign_keys=[consultant_id])  # noqa: F821
    assistants: Mapped[list[User]] = relationship(secondary=plan_estate_assistant, order_by="User.username")  # noqa: F821
    phases: Mapped[list[PlanPhase]] = relationship(
        back_populates="plan_estate", cascade="all, delete-orphan", order_by="PlanPhase.position"
    )

    @property
    def starts_on(self) -> date | None:
        return self.phases[0].starts_on if self.phases else None

    @property
    def ends_on(self) -> date | None:
        return max(phase.ends_on for phase in self.phases) if self.phases else None


class PlanPhase(DealerOwned, db.Model):
    """One phase of an estate's campaign, e.g. 第一阶段·铺垫 for 3 days from a date."""

    __table_args__ = (sa.CheckConstraint("days > 0", name="days_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_estate_id: Mapped[int] = mapped_column(sa.ForeignKey("plan_estate.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    name: Mapped[str] = mapped_column(sa.String(50))
    starts_on: Mapped[date]
    days: Mapped[int]

    plan_estate: Mapped[PlanEstate] = relationship(back_populates="phases")

    @property
    def ends_on(self) -> date:
        """The last day of the phase (inclusive)."""
        return self.starts_on + timedelta(days=self.days - 1)
