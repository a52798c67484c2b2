"""Writes for groups (社群): the group itself, our accounts in it, daily metrics, the deal-formula ticks.

Functions here change state and only flush; the request commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from crm.core.models import local_today, utcnow
from crm.core.validation import FieldError
from crm.groups.models import (
    METRIC_FIELDS,
    AccountRole,
    FormulaPart,
    Group,
    GroupAccount,
    GroupFormulaCheck,
    GroupKind,
    GroupMetric,
    GroupOrigin,
    GroupStatus,
    Platform,
)
from crm.org.models import User
from crm.people.models import Person

# Parts of the deal formula nobody can tick by hand: the data shows them (see queries.formula_health).
DATA_PARTS = (FormulaPart.NEED, FormulaPart.TRUST)


@dataclass
class GroupFields:
    name: str
    kind: GroupKind = GroupKind.SELF_BUILT
    origin: GroupOrigin | None = None
    platform: Platform = Platform.WECHAT
    owner_person_id: int | None = None
    started_on: date | None = None
    status: GroupStatus = GroupStatus.PREPARING


def _apply(session: Session, group: Group, fields: GroupFields) -> None:
    name = (fields.name or "").strip()
    if not name:
        raise FieldError("name", _("请填写群名称"))
    if fields.owner_person_id:
        person = session.get(Person, fields.owner_person_id)
        if person is None or person.dealer_id != group.dealer_id:
            raise FieldError("owner_person_id", _("群主须是本经销商登记过的人"))
    group.name = name[:100]
    group.kind = GroupKind(fields.kind)
    group.origin = GroupOrigin(fields.origin) if fields.origin else None
    group.platform = Platform(fields.platform)
    group.owner_person_id = fields.owner_person_id or None
    group.started_on = fields.started_on
    group.status = GroupStatus(fields.status)


def create_group(session: Session, estate, fields: GroupFields) -> Group:
    """Add a group to `estate` (of the estate's dealer)."""
    group = Group(dealer_id=estate.dealer_id, estate_id=estate.id)
    _apply(session, group, fields)
    session.add(group)
    session.flush()
    return group


def update_group(session: Session, group: Group, fields: GroupFields) -> Group:
    """Change a group's name, kind, origin, platform, owner, start date or status."""
    _apply(session, group, fields)
    session.flush()
    return group


def delete_group(session: Session, group: Group) -> None:
    """Remove a group with its accounts, metrics and formula ticks."""
    session.delete(group)
    session.flush()


def add_account(session: Session, group: Group, user_id: int | None, role: AccountRole) -> GroupAccount:
    """Put one of the dealer's own users into the group in a role; only the dealer's active users qualify."""
    user = session.get(User, user_id) if user_id else None
    if user is None or user.dealer_id != group.dealer_id or not user.is_active_account:
        raise FieldError("user_id", _("只能添加本经销商的在职账号"))
    if any(account.user_id == user.id for account in group.accounts):
        raise FieldError("user_id", _("该账号已在群里"))
    account = GroupAccount(dealer_id=group.dealer_id, group=group, user_id=user.id, role=AccountRole(role))
    session.add(account)
    session.flush()
    return account


def remove_account(session: Session, account: GroupAccount) -> None:
    """Take one of our accounts out of a group."""
    group = account.group
    group.accounts.remove(account)
    session.flush()


def metric_for_day(session: Session, group: Group, day: date) -> GroupMetric | None:
    """The group's row for `day`, if entered."""
    return session.scalars(
        sa.select(GroupMetric).where(GroupMetric.group_id == group.id, GroupMetric.day == day)
    ).one_or_none()


def record_metrics(session: Session, group: Group, day: date | None, values: dict, user: User | None) -> GroupMetric:
    """Enter a group's numbers for one day; entering the same day again updates it (blank keeps the old value).

    Impossible numbers (negative, more active members or owners than members, a future day) raise
    FieldError and change nothing.
    """
    if day is None:
        raise FieldError("day", _("请填写日期"))
    if day > local_today():
        raise FieldError("day", _("日期不能晚于今天"))
    existing = metric_for_day(session, group, day)
    merged = {}
    for name in METRIC_FIELDS:
        value = values.get(name)
        if value is None:
            value = getattr(existing, name) if existing is not None else 0
        merged[name] = int(value)
    for name in METRIC_FIELDS:
        if merged[name] < 0:
            raise FieldError(name, _("不能小于 0"))
    if merged["active_members"] > merged["members"]:
        raise FieldError("active_members", _("活跃人数不能多于群成员数"))
    if merged["owners"] > merged["members"]:
        raise FieldError("owners", _("业主人数不能多于群成员数"))
    metric = existing or GroupMetric(dealer_id=group.dealer_id, group_id=group.id, day=day)
    for name, value in merged.items():
        setattr(metric, name, value)
    metric.entered_by_id = user.id if user is not None else None
    metric.entered_at = utcnow()
    session.add(metric)
    session.flush()
    return metric


def set_formula_check(
    session: Session, group: Group, part: FormulaPart, is_done: bool, note: str, user: User | None
) -> GroupFormulaCheck:
    """Tick (or untick) a deal-formula part the data cannot show, with a note on who and when."""
    part = FormulaPart(part)
    if part in DATA_PARTS:
        raise FieldError("part", _("这一项由数据自动判断，无需手动勾选"))
    check = next((c for c in group.formula_checks if c.part == part), None)
    if check is None:
        check = GroupFormulaCheck(dealer_id=group.dealer_id, group=group, part=part)
        session.add(check)
    check.is_done = bool(is_done)
    check.note = (note or "").strip()[:255]
    check.checked_by_id = user.id if user is not None else None
    check.checked_at = utcnow()
    session.flush()
    return check
