"""A form posted twice (a double tap, a resent request) saves once.

Forms that create rows carry a one-time token (`OncePerSubmission`); `save_form` records the token
in the same transaction as the change, so a second post of the same form — even a concurrent one —
meets the primary key and is refused with a message, never saved twice.
"""

from __future__ import annotations

import secrets
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column
from wtforms import HiddenField

from crm.core.models import UTCDateTime, utcnow
from crm.extensions import db


class FormSubmission(db.Model):
    token: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[int | None] = mapped_column(sa.ForeignKey("user.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class OncePerSubmission:
    """Mix into a FlaskForm that creates rows; `form.hidden_tag()` renders the token."""

    submission = HiddenField(default=lambda: secrets.token_hex(16))


def submission_token(form) -> str | None:
    field = getattr(form, "submission", None)
    token = (field.data or "").strip() if field is not None else ""
    return token[:32] if token else None
