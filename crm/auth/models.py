"""Login attempts, kept in the database so throttling holds across app processes."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from crm.core.models import UTCDateTime, utcnow
from crm.extensions import db


class LoginAttempt(db.Model):
    __table_args__ = (
        sa.Index("ix_login_attempt_username_at", "username", "attempted_at"),
        sa.Index("ix_login_attempt_ip_at", "ip_address", "attempted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(sa.String(64))
    ip_address: Mapped[str] = mapped_column(sa.String(64), default="")
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    succeeded: Mapped[bool] = mapped_column(default=False)
