"""Form fields whose parse errors speak the user's language, and small form helpers."""

from __future__ import annotations

import datetime as dt
import decimal

from flask_babel import lazy_gettext as _l
from wtforms import DateField, DecimalField, FloatField, IntegerField, SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional


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


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs."""
    return [SelectChoice(value, label) for value, label in pairs]


def required(message=None):
    return DataRequired(message=message or _l("此项必填"))


def input_required(message=None):
    return InputRequired(message=message or _l("此项必填"))


__all__ = [
    "LocalizedIntegerField",
    "LocalizedFloatField",
    "LocalizedDecimalField",
    "LocalizedDateField",
    "choices",
    "required",
    "input_required",
    "Length",
    "NumberRange",
    "Optional",
]
