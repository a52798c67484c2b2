"""Writes for battle plans. Functions flush; the request (or CLI command) commits."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.roles import Role
from crm.core.validation import FieldError
from crm.estates.models import City, Estate, EstateStage
from crm.maps.queries import settings_for
from crm.org.models import User
from crm.plans.models import (
    DEFAULT_TEMPLATE_NAME,
    DEFAULT_TEMPLATE_STEPS,
    TARGET_FIELDS,
    BattlePlan,
    PhaseTemplate,
    PlanEstate,
    PlanPhase,
    PlanStatus,
)

MAX_PHASE_DAYS = 365
# Who may fill each seat of an estate's team (the dealer lead can stand in anywhere).
TEAM_ROLES = {
    "lead_id": {Role.DEALER_LEAD},
    "operator_id": {Role.OPERATOR, Role.DEALER_LEAD},
    "designer_id": {Role.DESIGNER, Role.DEALER_LEAD},
    "consultant_id": {Role.CONSULTANT, Role.DEALER_LEAD},
    "assistant_ids": {Role.ASSISTANT, Role.OPERATOR, Role.DEALER_LEAD},
}


# ---- phase templates -------------------------------------------------------------------------


def default_template(session: Session, dealer_id: int) -> PhaseTemplate:
    """The dealer's phase template, created from the playbook's default on first use."""
    template = session.scalars(
        sa.select(PhaseTemplate).where(PhaseTemplate.dealer_id == dealer_id).order_by(PhaseTemplate.id)
    ).first()
    if template is None:
        template = PhaseTemplate(
            dealer_id=dealer_id, name=DEFAULT_TEMPLATE_NAME, steps=[dict(s) for s in DEFAULT_TEMPLATE_STEPS]
        )
        session.add(template)
        session.flush()
    return template


def parse_steps(text: str) -> list[dict]:
    """Template steps typed one per line as "名称 天数" (or "名称,天数"); FieldError when a line is wrong."""
    steps = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.strip()
        if not line:
            continue
        name, _sep, days_text = line.replace("，", " ").replace(",", " ").rpartition(" ")
        name = name.strip()
        try:
            days = int(days_text)
        except ValueError:
            raise FieldError("steps", _("第 %(n)d 行应为“阶段名称 天数”，例如：第一阶段·铺垫 3", n=number)) from None
        if not name or not 1 <= days <= MAX_PHASE_DAYS:
            raise FieldError("steps", _("第 %(n)d 行：天数应在 1 到 365 之间，且要有阶段名称", n=number))
        steps.append({"name": name[:50], "days": days})
    if not steps:
        raise FieldError("steps", _("至少需要一个阶段"))
    return steps


def update_template(session: Session, template: PhaseTemplate, name: str, steps: list[dict]) -> PhaseTemplate:
    """Change a template's name and steps (plans made from it keep their own phases)."""
    name = name.strip()
    if not name:
        raise FieldError("name", _("请填写模板名称"))
    template.name = name[:50]
    template.steps = steps
    session.flush()
    return template


# ---- plans -----------------------------------------------------------------------------------


@dataclass
class PlanFields:
    title: str
    city_id: int
    period: str
    starts_on: date
    ends_on: date
    status: PlanStatus = PlanStatus.DRAFT
    notes: str = ""


def _apply_plan(session: Session, plan: BattlePlan, data: PlanFields) -> None:
    if not data.title.strip():
        raise FieldError("title", _("请填写规划名称"))
    if session.get(City, data.city_id) is None:
        raise FieldError("city_id", _("请选择城市"))
    if data.ends_on < data.starts_on:
        raise FieldError("ends_on", _("结束日期不能早于开始日期"))
    plan.title = data.title.strip()
    plan.city_id = data.city_id
    plan.period = data.period.strip()
    plan.starts_on = data.starts_on
    plan.ends_on = data.ends_on
    plan.status = PlanStatus(data.status)
    plan.notes = data.notes.strip()


def create_plan(session: Session, dealer_id: int, data: PlanFields, created_by: User | None = None) -> BattlePlan:
    """Start a battle plan for a dealer's city and period."""
    plan = BattlePlan(dealer_id=dealer_id, created_by_id=created_by.id if created_by else None)
    _apply_plan(session, plan, data)
    plan.template_id = default_template(session, dealer_id).id
    session.add(plan)
    session.flush()
    return plan


def update_plan(session: Session, plan: BattlePlan, data: PlanFields) -> BattlePlan:
    """Change a plan's title, city, period, status or notes."""
    _apply_plan(session, plan, data)
    session.flush()
    return plan


def suggested_targets(session: Session, estate: Estate) -> dict[str, int]:
    """Targets from the estate's size and the dealer's expected rates (a starting point to edit)."""
    settings = settings_for(session, estate.dealer_id)
    households = estate.households or 0
    members = round(households * settings.join_rate)
    orders = round(members * settings.conversion_rate)
    return {
        "target_groups": max(1, -(-households // 500)) if households else 1,
        "target_members": members,
        "target_owners_reached": round(households * 0.6),
        "target_store_visits": orders * 4,
        "target_deposits": orders * 2,
        "target_orders": orders,
        "target_gmv": orders * (settings.avg_order_value or 0),
    }


def add_estate(session: Session, plan: BattlePlan, estate: Estate, starts_on: date | None = None) -> PlanEstate:
    """Put an estate at the end of the plan's priority list, with phases from the plan's template."""
    if estate.dealer_id != plan.dealer_id:
        raise FieldError("estate_id", _("只能加入本经销商的楼盘"))
    if any(item.estate_id == estate.id for item in plan.estates):
        raise FieldError("estate_id", _("该楼盘已在规划中"))
    template = plan.template or default_template(session, plan.dealer_id)
    item = PlanEstate(
        dealer_id=plan.dealer_id,
        estate=estate,
        position=len(plan.estates) + 1,
        **suggested_targets(session, estate),
    )
    plan.estates.append(item)
    day = starts_on or plan.starts_on
    for position, step in enumerate(template.steps, start=1):
        item.phases.append(
            PlanPhase(dealer_id=plan.dealer_id, position=position, name=step["name"], starts_on=day, days=step["days"])
        )
        day += timedelta(days=int(step["days"]))
    if estate.stage == EstateStage.UNPLANNED:
        estate.stage = EstateStage.TARGET  # planning an estate makes it a target
    session.flush()
    return item


def remove_estate(session: Session, item: PlanEstate) -> None:
    """Take an estate out of the plan; the ones below it move up."""
    plan = item.plan
    plan.estates.remove(item)
    _renumber(plan)
    session.flush()


def _renumber(plan: BattlePlan) -> None:
    for position, item in enumerate(plan.estates, start=1):
        item.position = position


def move_estate(session: Session, item: PlanEstate, offset: int) -> None:
    """Move an estate up (-1) or down (+1) the priority list."""
    items = list(item.plan.estates)
    index = items.index(item)
    target = min(max(index + offset, 0), len(items) - 1)
    items.insert(target, items.pop(index))
    for position, each in enumerate(items, start=1):
        each.position = position
    item.plan.estates.sort(key=lambda each: each.position)
    session.flush()


def reorder_estates(session: Session, plan: BattlePlan, ordered_ids: list[int]) -> None:
    """Put the plan's estates in the given order (ids of PlanEstate; unknown ids are ignored)."""
    by_id = {item.id: item for item in plan.estates}
    ordered = [by_id[i] for i in ordered_ids if i in by_id]
    ordered += [item for item in plan.estates if item not in ordered]
    for position, item in enumerate(ordered, start=1):
        item.position = position
    plan.estates.sort(key=lambda each: each.position)
    session.flush()


@dataclass
class TeamFields:
    lead_id: int | None = None
    operator_id: int | None = None
    designer_id: int | None = None
    consultant_id: int | None = None
    assistant_ids: tuple[int, ...] = ()


def assign_team(session: Session, item: PlanEstate, data: TeamFields) -> PlanEstate:
    """Seat the dealer's people on the estate's team; each seat only takes fitting roles."""
    wanted = {seat: getattr(data, seat) for seat in ("lead_id", "operator_id", "designer_id", "consultant_id")}
    ids = {i for i in wanted.values() if i} | set(data.assistant_ids)
    users = {
        user.id: user
        for user in session.scalars(sa.select(User).where(User.id.in_(ids), User.dealer_id == item.dealer_id))
    }
    for seat, user_id in wanted.items():
        if user_id and (user_id not in users or users[user_id].role not in TEAM_ROLES[seat]):
            raise FieldError(seat, _("所选人员不能担任该角色"))
    if any(i not in users or users[i].role not in TEAM_ROLES["assistant_ids"] for i in data.assistant_ids):
        raise FieldError("assistant_ids", _("所选人员不能担任马甲/客服"))
    for seat, user_id in wanted.items():
        setattr(item, seat, user_id)
    item.assistants = [users[i] for i in data.assistant_ids]
    session.flush()
    return item


def update_targets(session: Session, item: PlanEstate, targets: dict[str, int | None]) -> PlanEstate:
    """Set the estate's targets (groups, members, owners reached, visits, deposits, orders, GMV)."""
    for name in TARGET_FIELDS:
        value = targets.get(name)
        value = 0 if value is None else int(value)
        if value < 0:
            raise FieldError(name, _("目标不能为负数"))
        setattr(item, name, value)
    session.flush()
    return item


def shift_phase(session: Session, phase: PlanPhase, days: int) -> PlanPhase:
    """Move a phase by `days`; the estate's later phases move with it, earlier ones stay."""
    for each in phase.plan_estate.phases:
        if each.position >= phase.position:
            each.starts_on += timedelta(days=days)
    session.flush()
    return phase


def resize_phase(session: Session, phase: PlanPhase, days: int) -> PlanPhase:
    """Change a phase's length; the estate's later phases move by the difference."""
    if not 1 <= days <= MAX_PHASE_DAYS:
        raise FieldError("days", _("天数应在 1 到 365 之间"))
    delta = days - phase.days
    phase.days = days
    for each in phase.plan_estate.phases:
        if each.position > phase.position:
            each.starts_on += timedelta(days=delta)
    session.flush()
    return phase
