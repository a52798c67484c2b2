"""Form fields whose parse errors speak the user's language, and small form helpers."""

from __future__ import annotations

import datetime as dt
import decimal
import re
from collections.abc import Callable
from typing import TypeVar

from flask import request
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from wtforms import DateField, DecimalField, FloatField, HiddenField, IntegerField, SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from crm.core.i18n import lazy_gettext as _l
from crm.core.models import BUSINESS_TIMEZONE
from crm.core.validation import FieldError, attach_to_form
from crm.extensions import db

T = TypeVar("T")


class LocalizedIntegerField(IntegerField):
    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = int(str(valuelist[0]).strip().replace(",", ""))
        except ValueError:
            self.data = None
            raise ValueError(str(_l("请输入整数"))) from None


class LocalizedFloatField(FloatField):
    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = float(str(valuelist[0]).strip())
        except ValueError:
            self.data = None
            raise ValueError(str(_l("请输入数字"))) from None


class LocalizedDecimalField(DecimalField):
    def process_formdata(self, valuelist):
        if not valuelist or valuelist[0] in ("", None):
            self.data = None
            return
        try:
            self.data = decimal.Decimal(str(valuelist[0]).strip())
            if not self.data.is_finite():
                raise decimal.InvalidOperation
        except (decimal.InvalidOperation, ValueError):
            self.data = None
            raise ValueError(str(_l("请输入数字"))) from None


class LocalizedDateField(DateField):
    """A date typed as 2026-05-01 (what `<input type=date>` sends) or 2026/5/1."""

    def process_formdata(self, valuelist):
        if not valuelist or not str(valuelist[0]).strip():
            self.data = None
            return
        text = str(valuelist[0]).strip().replace("/", "-").replace(".", "-")
        try:
            self.data = dt.date.fromisoformat(text)
        except ValueError:
            try:
                self.data = dt.datetime.strptime(text, "%Y-%m-%d").date()
            except ValueError:
                self.data = None
                raise ValueError(str(_l("日期格式不正确，请按 年-月-日 填写，例如 2026-05-01"))) from None


def int_or_none(value):
    """A select's value as an id; '' (nobody picked) becomes None."""
    if value in (None, "", "None"):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


class MonthField(LocalizedDateField):
    """A month such as a delivery date (2026-09, what `<input type=month>` sends); a full date is accepted."""

    def process_formdata(self, valuelist):
        text = str(valuelist[0]).strip() if valuelist and valuelist[0] else ""
        match = re.fullmatch(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*月?", text)
        if match:
            try:
                self.data = dt.date(int(match[1]), int(match[2]), 1)
                return
            except ValueError:
                self.data = None
                raise ValueError(str(_l("月份不正确，请按 年-月 填写，例如 2026-09"))) from None
        super().process_formdata(valuelist)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return self.data.strftime("%Y-%m") if self.data else ""


def required(message=None):
    return DataRequired(message=message or _l("此项必填"))


def input_required(message=None):
    return InputRequired(message=message or _l("此项必填"))


__all__ = [
    "LocalizedIntegerField",
    "LocalizedFloatField",
    "LocalizedDecimalField",
    "LocalizedDateField",
    "MonthField",
    "choices",
    "int_or_none",
    "required",
    "save_form",
    "carry_version",
    "VersionField",
    "form_status",
    "input_required",
    "Length",
    "NumberRange",
    "Optional",
]


class VersionField(HiddenField):
    """The version of the row the form was shown with (optimistic locking, see crm.core.models.Versioned)."""

    def process_formdata(self, valuelist):
        try:
            self.data = int(valuelist[0]) if valuelist and valuelist[0] else None
        except ValueError:
            self.data = None


def carry_version(form, obj) -> None:
    """Put the row's current version into a form about to be shown (forms built from `obj=` do it themselves)."""
    if not form.is_submitted():
        form.version.data = obj.version


def save_form(form, action: Callable[[], T], *, versioned=None) -> T | None:
    """Validate `form` and run the service call `action`, committing once.

    Returns the action's result, or None when the form is invalid or the service refused the
    input (its FieldError is shown on the form and nothing is saved). With `versioned` (the row
    being edited), a form shown before someone else saved that row is refused with what they
    changed, never saved over it.
    """
    if not form.validate_on_submit():
        return None
    # A form without a version (a script, not our page) is checked only by the database's version guard.
    shown = getattr(getattr(form, "version", None), "data", None)
    if versioned is not None and shown is not None and shown != versioned.version:
        _report_conflict(form, versioned)
        return None
    try:
        _claim_submission(form)
        result = action()
        db.session.commit()
    except AlreadySubmitted:
        db.session.rollback()
        form.form_errors.append(_("这份表单已经提交过了，没有重复保存。请回到列表查看。"))
        return None
    except FieldError as error:
        db.session.rollback()
        attach_to_form(form, error)
        return None
    except StaleDataError:  # saved by someone else between our check and our write
        db.session.rollback()
        if versioned is None:
            raise
        _report_conflict(form, versioned)
        return None
    return result


class AlreadySubmitted(Exception):
    pass


def _claim_submission(form) -> None:
    """Record the form's one-time token with the change; a second post of the same form fails here."""
    from flask_login import current_user

    from crm.core.submissions import FormSubmission, submission_token

    token = submission_token(form)
    if token is None:
        return
    user_id = current_user.id if current_user.is_authenticated else None
    db.session.add(FormSubmission(token=token, user_id=user_id))
    try:
        db.session.flush()  # first thing in the transaction: on a duplicate the caller rolls back nothing else
    except IntegrityError:
        raise AlreadySubmitted from None


def _report_conflict(form, row) -> None:
    from crm.audit.queries import field_label, shown_value
    from crm.audit.service import audited_models, changes_since

    db.session.refresh(row)
    if getattr(form, "version", None) is None:  # a form that does not carry a version (it only adds to the row)
        form.form_errors.append(_("保存冲突：这条记录刚刚被别人修改。您的操作尚未保存，请刷新页面后再试。"))
        return
    seen = form.version.data or 0
    spec = audited_models().get(type(row))
    entries = changes_since(db.session, spec.entity, row.id, seen) if spec else []
    described = []
    for entry in entries:
        shown = [
            (_label(form, key, field_label), shown_value(spec.entity, key, old), shown_value(spec.entity, key, new))
            for key, (old, new) in entry.changes.items()
        ]
        fields = _("；").join(f"{label} {before} → {after}" for label, before, after in shown)
        who = entry.user_name or _("系统")
        when = entry.at.astimezone(BUSINESS_TIMEZONE).strftime("%m-%d %H:%M")
        described.append(_("%(who)s 于 %(when)s 修改了：%(fields)s", who=who, when=when, fields=fields or "—"))
    form.form_errors.append(
        _("保存冲突：您打开此页之后，这条记录已被别人修改。")
        + " ".join(described)
        + " "
        + _("您的修改尚未保存：请核对下方内容，确认后再次保存。")
    )
    form.version.data = row.version  # saving again now is a deliberate choice, made knowing the above


def _label(form, key: str, fallback) -> str:
    field = getattr(form, key, None)
    return str(field.label.text) if field is not None and hasattr(field, "label") else fallback(key)


def form_status() -> int:
    """422 for a form re-shown after a failed POST (so htmx and tests can tell), else 200."""
    return 422 if request.method == "POST" else 200
