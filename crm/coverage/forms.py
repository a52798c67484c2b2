"""HQ's coverage forms: a decision on a month's list, a territory ruling, a base-deals row, the thresholds.

They parse; crm.coverage.service decides what is allowed and says why in Chinese.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, Length, Optional
from wtforms.widgets import HiddenInput

from crm.core.forms import LocalizedDecimalField, LocalizedIntegerField, MonthField, input_required, required
from crm.core.i18n import lazy_gettext as _l
from crm.coverage.models import DecisionKind, DecisionList


class DecisionForm(FlaskForm):
    """罚 / 扶持 / 忽略 on one estate of a month's list; the kind comes from the button pressed."""

    month = MonthField(_l("月份"), widget=HiddenInput(), validators=[input_required(_l("缺少月份，请刷新页面"))])
    list_kind = HiddenField(
        validators=[AnyOf([k.value for k in DecisionList], message=_l("名单不正确，请刷新页面"))],
    )
    kind = HiddenField(
        _l("决定"),
        validators=[
            input_required(_l("请选择：罚、扶持或忽略")),
            AnyOf([k.value for k in DecisionKind], message=_l("请选择：罚、扶持或忽略")),
        ],
    )
    note = StringField(_l("备注"), validators=[Optional(), Length(max=500, message=_l("备注最多 500 字"))])


class AssignForm(FlaskForm):
    """HQ's ruling on a contested estate: which of the claiming dealers works it."""

    city_id = LocalizedIntegerField(widget=HiddenInput(), validators=[input_required(_l("缺少城市，请刷新页面"))])
    name_key = HiddenField(validators=[required(_l("缺少楼盘，请刷新页面"))])
    dealer_id = LocalizedIntegerField(_l("划归经销商"), validators=[input_required(_l("请选择经销商"))])
    note = StringField(_l("备注"), validators=[Optional(), Length(max=500, message=_l("备注最多 500 字"))])


class BaseRateForm(FlaskForm):
    """One row of the base-deals table (基准成交)."""

    category = StringField(
        _l("品类"), validators=[required(_l("请填写品类")), Length(max=50, message=_l("品类最多 50 字"))]
    )
    orders_per_group = LocalizedDecimalField(
        _l("每群基准成交（单）"), places=1, validators=[input_required(_l("请填写每群基准成交"))]
    )
    note = StringField(_l("说明"), validators=[Optional(), Length(max=255, message=_l("说明最多 255 字"))])


class SettingsForm(FlaskForm):
    """The brand's thresholds for deriving coverage."""

    neglect_days = LocalizedIntegerField(_l("有盘不做天数"), validators=[input_required(_l("请填写天数"))])
    active_days = LocalizedIntegerField(_l("运营判定天数"), validators=[input_required(_l("请填写天数"))])
    conflict_radius_m = LocalizedIntegerField(
        _l("同一楼盘判定距离（米）"), validators=[input_required(_l("请填写距离"))]
    )
