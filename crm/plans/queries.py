"""Reads for battle plans: lists, totals, the timeline, and conflicts to flag."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from crm.core.roles import Role
from crm.maps.queries import settings_for
from crm.org.models import User
from crm.plans.models import TARGET_FIELDS, BattlePlan, PlanEstate, PlanStatus


def plans_query() -> sa.Select:
    """Visible plans, newest period first."""
    return (
        sa.select(BattlePlan)
        .options(selectinload(BattlePlan.city), selectinload(BattlePlan.dealer), selectinload(BattlePlan.estates))
        .order_by(BattlePlan.starts_on.desc(), BattlePlan.id.desc())
    )


def load_plan(session: Session, plan_id: int) -> BattlePlan | None:
    """A plan with everything its page shows, loaded up front."""
    return session.scalars(
        sa.select(BattlePlan)
        .where(BattlePlan.id == plan_id)
        .options(
            selectinload(BattlePlan.city),
            selectinload(BattlePlan.dealer),
            selectinload(BattlePlan.estates).options(
                selectinload(PlanEstate.estate),
                selectinload(PlanEstate.phases),
                selectinload(PlanEstate.assistants),
                selectinload(PlanEstate.lead),
                selectinload(PlanEstate.operator),
                selectinload(PlanEstate.designer),
                selectinload(PlanEstate.consultant),
            ),
        )
    ).first()


def totals(plan: BattlePlan) -> dict[str, int]:
    """Each target summed over the plan's estates."""
    return {name: sum(getattr(item, name) for item in plan.estates) for name in TARGET_FIELDS}


def team_choices(session: Session, dealer_id: int) -> dict[Role, list[User]]:
    """The dealer's active users by role, for the team pickers."""
    users = session.scalars(
        sa.select(User).where(User.dealer_id == dealer_id, User.is_active_account.is_(True)).order_by(User.username)
    ).all()
    grouped: dict[Role, list[User]] = defaultdict(list)
    for user in users:
        grouped[Role(user.role)].append(user)
    return grouped


@dataclass
class Timeline:
    """The plan's date range and each phase's place in it, as percentages for a Gantt strip."""

    starts_on: date
    ends_on: date
    months: list[tuple[date, float]] = field(default_factory=list)  # first of each month, left %

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    def left(self, day: date) -> float:
        return round(100 * (day - self.starts_on).days / self.days, 3)

    def width(self, first: date, last: date) -> float:
        return round(100 * ((last - first).days + 1) / self.days, 3)


def timeline(plan: BattlePlan) -> Timeline:
    """The span covering the plan's period and every phase, with month ticks."""
    starts = [plan.starts_on] + [p.starts_on for item in plan.estates for p in item.phases]
    ends = [plan.ends_on] + [p.ends_on for item in plan.estates for p in item.phases]
    line = Timeline(min(starts), max(ends))
    month = date(line.starts_on.year, line.starts_on.month, 1)
    while month <= line.ends_on:
        if month >= line.starts_on:
            line.months.append((month, line.left(month)))
        month = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return line


@dataclass
class Conflict:
    kind: str  # "operator_overload" | "estate_in_two_plans"
    message: str
    plan_estate_ids: set[int] = field(default_factory=set)


def conflicts(session: Session, plan: BattlePlan) -> list[Conflict]:
    """What to flag on this plan: an overloaded 主IP, and estates another current plan also targets."""
    from flask_babel import gettext as _

    found: list[Conflict] = []
    limit = settings_for(session, plan.dealer_id).max_operator_estates
    live = (
        sa.select(PlanEstate)
        .join(PlanEstate.plan)
        .where(PlanEstate.dealer_id == plan.dealer_id, BattlePlan.status != PlanStatus.DONE)
    )
    items = session.scalars(
        live.where(PlanEstate.operator_id.is_not(None)).options(
            selectinload(PlanEstate.phases), selectinload(PlanEstate.estate), selectinload(PlanEstate.operator)
        )
    ).all()
    by_operator: dict[int, list[PlanEstate]] = defaultdict(list)
    for item in items:
        if item.phases:
            by_operator[item.operator_id].append(item)
    ours = {item.id for item in plan.estates}
    for operator_items in by_operator.values():
        peak, busiest = _peak_overlap(operator_items)
        if peak > limit and busiest & ours:
            names = "、".join(sorted(i.estate.name for i in operator_items if i.id in busiest))
            found.append(
                Conflict(
                    "operator_overload",
                    _(
                        "主IP %(name)s 同时负责 %(n)d 个楼盘（上限 %(limit)d）：%(estates)s",
                        name=operator_items[0].operator.name,
                        n=peak,
                        limit=limit,
                        estates=names,
                    ),
                    busiest & ours,
                )
            )
    others = session.execute(
        sa.select(PlanEstate.estate_id, BattlePlan.title)
        .join(PlanEstate.plan)
        .where(
            PlanEstate.dealer_id == plan.dealer_id,
            BattlePlan.id != plan.id,
            BattlePlan.status != PlanStatus.DONE,
            BattlePlan.starts_on <= plan.ends_on,
            BattlePlan.ends_on >= plan.starts_on,
        )
    ).all()
    other_titles: dict[int, list[str]] = defaultdict(list)
    for estate_id, title in others:
        other_titles[estate_id].append(title)
    for item in plan.estates:
        if item.estate_id in other_titles:
            found.append(
                Conflict(
                    "estate_in_two_plans",
                    _(
                        "%(estate)s 同时在规划“%(plans)s”中",
                        estate=item.estate.name,
                        plans="、".join(other_titles[item.estate_id]),
                    ),
                    {item.id},
                )
            )
    return found


def _peak_overlap(items: list[PlanEstate]) -> tuple[int, set[int]]:
    """Most estates whose campaigns (first phase start to last phase end) overlap on one day, and which."""
    events = []
    for item in items:
        events.append((item.starts_on, 0, item.id))
        events.append((item.ends_on + timedelta(days=1), -1, item.id))  # gone from the next day on
    events.sort(key=lambda e: (e[0], e[1]))  # on one day, departures before arrivals: no false overlap
    active: set[int] = set()
    peak, busiest = 0, set()
    for _day, kind, item_id in events:
        if kind == 0:
            active.add(item_id)
            if len(active) > peak:
                peak, busiest = len(active), set(active)
        else:
            active.discard(item_id)
    return peak, busiest
