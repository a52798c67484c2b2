"""The audit trail (修改记录): who changed what and when, with old → new values."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import DealerOwned, UTCDateTime, enum_type, utcnow
from crm.extensions import db


class AuditAction(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"

    @property
    def label(self) -> str:
        return str(
            {AuditAction.CREATE: _l("新建"), AuditAction.UPDATE: _l("修改"), AuditAction.DELETE: _l("删除")}[self]
        )


class AuditEntry(DealerOwned, db.Model):
    """One write to an audited row. Written in the same transaction as the change, never edited."""

    __table_args__ = (sa.Index("ix_audit_entry_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dealer_id: Mapped[int | None] = mapped_column(sa.ForeignKey("dealer.id", ondelete="CASCADE"), index=True)
    entity: Mapped[str] = mapped_column(sa.String(40))  # see crm.audit.service.AUDITED
    entity_id: Mapped[int]
    label: Mapped[str] = mapped_column(sa.String(200), default="")  # what it was called then (rows get deleted)
    action: Mapped[AuditAction] = mapped_column(enum_type(AuditAction, 10))
    changes: Mapped[dict] = mapped_column(sa.JSON, default=dict)  # field → [old, new]
    version: Mapped[int | None]  # the row's version after the change (versioned rows)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="SET NULL"))
    user_name: Mapped[str] = mapped_column(sa.String(64), default="")  # display name, kept if the account goes
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
