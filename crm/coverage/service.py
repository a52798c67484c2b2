"""HQ's writes on coverage: thresholds, decisions on the month's lists, territory rulings, base deals.

Each write checks all of its input, raises FieldError (shown on the form) before touching a row,
then only flushes: the view commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.validation import FieldError
from crm.coverage import queries
from crm.coverage.models import (
    BaseDealRate,
    CoverageDecision,
    CoverageSettings,
    DecisionKind,
    DecisionList,
    TerritoryAssignment,
)
from crm.estates.models import Estate
from crm.org.models import Dealer, User


@dataclass
class SettingsFields:
    neglect_days: int
    active_days: int
    conflict_radius_m: int


def save_settings(session: Session, brand_id: int, data: SettingsFields, user: User) -> CoverageSettings:
    if not 1 <= data.neglect_days <= 365:
        raise FieldError("neglect_days", _("天数须在 1 到 365 之间"))
    if not 1 <= data.active_days <= 90:
        raise FieldError("active_days", _("天数须在 1 到 90 之间"))
    if not 10 <= data.conflict_radius_m <= 5000:
        raise FieldError("conflict_radius_m", _("距离须在 10 到 5000 米之间"))
    row = queries.settings_row(session, brand_id) or CoverageSettings(brand_id=brand_id)
    row.neglect_days, row.active_days, row.conflict_radius_m = (
        data.neglect_days,
        data.active_days,
        data.conflict_radius_m,
    )
    row.updated_by_id = user.id
    session.add(row)
    session.flush()
    return row


def record_decision(
    session: Session,
    th: queries.Thresholds,
    estate: Estate,
    month: date,
    list_kind: DecisionList,
    kind: DecisionKind,
    note: str,
    user: User,
) -> CoverageDecision:
    """Record HQ's decision on an estate of the month's list. The estate must be on that list today
    (a decision on a list the estate has left would judge the wrong thing); earlier decisions stay."""
    note = (note or "").strip()
    if month > queries.month_start(th.today):
        raise FieldError("month", _("不能为将来的月份做决定"))
    if len(note) > 500:
        raise FieldError("note", _("备注最多 500 字"))
    if kind is DecisionKind.PENALTY and not note:
        raise FieldError("note", _("处罚请写明原因"))
    coverage = queries.estate_coverage(session, th, estate.id)
    on_list = coverage is not None and (
        coverage.neglected if list_kind is DecisionList.NEGLECTED else coverage.operating
    )
    if on_list and list_kind is DecisionList.NEGLECTED:
        # An estate HQ gave to another dealer is off this dealer's 有盘不做 list (as queries.candidates says).
        ruling = session.scalar(
            sa.select(TerritoryAssignment.dealer_id)
            .where(TerritoryAssignment.city_id == estate.city_id, TerritoryAssignment.name_key == estate.name_key)
            .order_by(TerritoryAssignment.id.desc())
            .limit(1)
        )
        on_list = ruling is None or ruling == estate.dealer_id
    if not on_list:
        raise FieldError("kind", _("该楼盘已不在「%(list)s」名单上，请刷新页面", list=list_kind.label))
    decision = CoverageDecision(
        dealer_id=estate.dealer_id,
        estate_id=estate.id,
        month=month,
        list_kind=list_kind,
        kind=kind,
        note=note,
        decided_by_id=user.id,
    )
    session.add(decision)
    session.flush()
    return decision


def assign_territory(
    session: Session, th: queries.Thresholds, city_id: int, name_key: str, dealer_id: int, note: str, user: User
) -> TerritoryAssignment:
    """Give a contested estate to one of the dealers claiming it; the others keep their rows, off the 有盘不做 list."""
    conflict = next((c for c in queries.conflicts(session, th) if (c.city_id, c.name_key) == (city_id, name_key)), None)
    if conflict is None:
        raise FieldError("dealer_id", _("这个楼盘已没有归属冲突，请刷新页面"))
    if dealer_id not in {claim.dealer_id for claim in conflict.claims}:
        raise FieldError("dealer_id", _("只能划归给申报了该楼盘的经销商"))
    note = (note or "").strip()
    if len(note) > 500:
        raise FieldError("note", _("备注最多 500 字"))
    if session.get(Dealer, dealer_id) is None:
        raise FieldError("dealer_id", _("经销商不存在"))
    assignment = TerritoryAssignment(
        city_id=city_id, name_key=name_key, dealer_id=dealer_id, note=note, decided_by_id=user.id
    )
    session.add(assignment)
    session.flush()
    return assignment


@dataclass
class BaseDealFields:
    category: str
    orders_per_group: Decimal
    note: str = ""


def save_base_rate(
    session: Session, data: BaseDealFields, user: User, rate: BaseDealRate | None = None
) -> BaseDealRate:
    """Add a category's base number of orders per group, or change one."""
    category = (data.category or "").strip()
    if not category:
        raise FieldError("category", _("请填写品类"))
    if len(category) > 50:
        raise FieldError("category", _("品类最多 50 字"))
    if data.orders_per_group is None or data.orders_per_group < 0 or data.orders_per_group > 1000:
        raise FieldError("orders_per_group", _("每群基准成交须在 0 到 1000 之间"))
    taken = session.scalar(
        sa.select(BaseDealRate.id).where(
            BaseDealRate.category == category, BaseDealRate.id != (rate.id if rate else -1)
        )
    )
    if taken:
        raise FieldError("category", _("品类「%(name)s」已经有基准", name=category))
    rate = rate or BaseDealRate()
    rate.category = category
    rate.orders_per_group = Decimal(data.orders_per_group).quantize(Decimal("0.1"))
    rate.note = (data.note or "").strip()[:255]
    rate.updated_by_id = user.id
    session.add(rate)
    session.flush()
    return rate


def delete_base_rate(session: Session, rate: BaseDealRate) -> None:
    session.delete(rate)
    session.flush()
