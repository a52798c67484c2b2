"""Recording the audit trail: every flush that creates, changes or deletes an audited row writes one
entry per row, in the same transaction (a rolled-back change leaves no entry).

Bulk `UPDATE … WHERE` statements bypass the ORM's change tracking and are not recorded; the app
uses them only for housekeeping, never for the rows staff edit.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache

import sqlalchemy as sa
from flask import g, has_app_context
from flask_sqlalchemy.session import Session
from sqlalchemy import event, inspect

from crm.audit.models import AuditAction, AuditEntry
from crm.core.i18n import lazy_gettext as _l

# Housekeeping columns, and ones whose values must never be copied anywhere.
# (who and when are the entry's own: the row's copies of them are noise in its changes)
IGNORED_FIELDS = frozenset(
    {
        "id",
        "dealer_id",
        "created_at",
        "updated_at",
        "version",
        "password_hash",
        "name_key",
        "decided_by_id",
        "decided_at",
        "updated_by_id",
        "created_by_id",
    }
)
MAX_TEXT = 300


@dataclass(frozen=True)
class Audited:
    entity: str
    label: object  # lazy string: what kind of thing it is
    title: Callable[[object], str]  # what this one is called
    hq: bool = False  # HQ's decisions: shown to HQ, not to dealers


@cache
def audited_models() -> dict[type, Audited]:
    from crm.coverage.models import BaseDealRate, CoverageDecision, CoverageSettings, TerritoryAssignment
    from crm.estates.models import Estate
    from crm.groups.models import Group
    from crm.installs.models import InspectionAttempt, InstallationJob
    from crm.orders.models import Contract, Order
    from crm.people.models import Person
    from crm.plans.models import BattlePlan

    entries = [
        (Estate, Audited("estate", _l("楼盘"), lambda o: o.name)),
        (Person, Audited("person", _l("业主"), lambda o: o.name)),
        (Group, Audited("group", _l("社群"), lambda o: o.name)),
        (Order, Audited("order", _l("订单"), lambda o: f"#{o.id}")),
        (Contract, Audited("contract", _l("合同"), lambda o: o.title or f"#{o.id}")),
        (BattlePlan, Audited("plan", _l("作战规划"), lambda o: o.title)),
        (InstallationJob, Audited("installation", _l("安装任务"), lambda o: f"#{o.id}")),
        (InspectionAttempt, Audited("inspection", _l("验收记录"), lambda o: f"#{o.job_id} · {o.step}")),
        (CoverageDecision, Audited("coverage_decision", _l("总部决定"), lambda o: f"#{o.estate_id}", hq=True)),
        (TerritoryAssignment, Audited("territory", _l("归属裁定"), lambda o: o.name_key, hq=True)),
        (BaseDealRate, Audited("base_deal", _l("基准成交"), lambda o: o.category, hq=True)),
        (CoverageSettings, Audited("coverage_settings", _l("覆盖设置"), lambda o: "", hq=True)),
    ]
    return dict(entries)


def entity_labels(hq: bool) -> dict[str, object]:
    return {a.entity: a.label for a in audited_models().values() if a.hq == hq}


def _plain(value):
    """A value as JSON can hold it, short enough to read in a log."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return None
    if isinstance(value, str) and len(value) > MAX_TEXT:
        return value[:MAX_TEXT] + "…"
    if isinstance(value, dict | list):
        return "…"
    return value


def _columns(obj) -> list[str]:
    return [attr.key for attr in inspect(obj).mapper.column_attrs if attr.key not in IGNORED_FIELDS]


def _snapshot(obj, *, current: bool) -> dict:
    state = inspect(obj)
    values = {}
    for key in _columns(obj):
        value = state.attrs[key].value if current else state.attrs[key].loaded_value
        if value is not None and value != "" and value is not sa.orm.base.NO_VALUE:
            values[key] = [None, _plain(value)] if current else [_plain(value), None]
    return values


def _changes(obj) -> dict:
    state = inspect(obj)
    changes = {}
    for key in _columns(obj):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old != new:
            changes[key] = [_plain(old), _plain(new)]
    return changes


def _who() -> tuple[int | None, str]:
    user = g.get("_login_user") if has_app_context() else None  # loaded by Flask-Login for this request
    if user is not None and getattr(user, "is_authenticated", False):
        return user.id, user.name
    return None, ""


@event.listens_for(Session, "after_flush")
def _record(session, _flush_context) -> None:
    audited = audited_models()
    rows = []

    def add(obj, action: AuditAction, changes: dict) -> None:
        spec = audited[type(obj)]
        user_id, user_name = _who()
        rows.append(
            {
                "dealer_id": getattr(obj, "dealer_id", None),
                "entity": spec.entity,
                "entity_id": obj.id,
                "label": str(spec.title(obj) or "")[:200],
                "action": action,
                "changes": changes,
                "version": getattr(obj, "version", None),
                "user_id": user_id,
                "user_name": user_name,
            }
        )

    for obj in session.new:
        if type(obj) in audited:
            add(obj, AuditAction.CREATE, _snapshot(obj, current=True))
    for obj in session.dirty:
        if type(obj) in audited and (changes := _changes(obj)):
            add(obj, AuditAction.UPDATE, changes)
    for obj in session.deleted:
        if type(obj) in audited:
            add(obj, AuditAction.DELETE, _snapshot(obj, current=False))
    if rows:
        session.connection().execute(sa.insert(AuditEntry), rows)


def changes_since(session, entity: str, entity_id: int, version: int) -> list[AuditEntry]:
    """What others changed on a versioned row after `version` (for the conflict message)."""
    return list(
        session.scalars(
            sa.select(AuditEntry)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == entity_id, AuditEntry.version > version)
            .order_by(AuditEntry.id)
        )
    )
