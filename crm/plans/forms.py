from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import Length, NumberRange, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from crm.core.forms import LocalizedDateField, LocalizedIntegerField, VersionField, choices, required
from crm.core.i18n import lazy_gettext as _l
from crm.core.submissions import OncePerSubmission
from crm.plans.models import TARGET_FIELDS, TARGET_LABELS, PlanStatus


class PlanForm(OncePerSubmission, FlaskForm):
    version = VersionField()  # optimistic locking: the version this form was shown with
    title = StringField(_l("规划名称"), validators=[required(_l("请填写规划名称")), Length(max=100)])
    city_id = SelectField(_l("城市"), coerce=int, validators=[required(_l("请选择城市"))])
    period = StringField(_l("周期"), validators=[Optional(), Length(max=20)])
    starts_on = LocalizedDateField(_l("开始日期"), validators=[required(_l("请填写开始日期"))])
    ends_on = LocalizedDateField(_l("结束日期"), validators=[required(_l("请填写结束日期"))])
    status = SelectField(_l("状态"), choices=[])
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=5000)])

    def __init__(self, *args, cities=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.city_id.choices = choices((c.id, c.name) for c in cities)
        self.status.choices = choices((s.value, s.label) for s in PlanStatus)


class AddEstateForm(FlaskForm):
    estate_id = SelectField(_l("加入楼盘"), coerce=int, validators=[required(_l("请选择楼盘"))])

    def __init__(self, *args, estates=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.estate_id.choices = choices((e.id, f"{e.name}（{e.stage.label}）") for e in estates)


def _user_choices(users, blank=True):
    pairs = [(u.id, u.name) for u in users]
    return choices(([("", _l("未指定"))] if blank else []) + pairs)


def _optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class TeamForm(FlaskForm):
    lead_id = SelectField(_l("社群负责人"), coerce=_optional_int)
    operator_id = SelectField(_l("主IP"), coerce=_optional_int)
    # Checkboxes, not a multi-select: a finger cannot ctrl-click.
    assistant_ids = SelectMultipleField(
        _l("马甲/客服"), coerce=int, widget=ListWidget(prefix_label=False), option_widget=CheckboxInput()
    )
    designer_id = SelectField(_l("设计师"), coerce=_optional_int)
    consultant_id = SelectField(_l("顾问导购"), coerce=_optional_int)

    def __init__(self, *args, candidates=None, **kwargs):
        super().__init__(*args, **kwargs)
        candidates = candidates or {}
        self.lead_id.choices = _user_choices(candidates.get("lead_id", []))
        self.operator_id.choices = _user_choices(candidates.get("operator_id", []))
        self.assistant_ids.choices = _user_choices(candidates.get("assistant_ids", []), blank=False)
        self.designer_id.choices = _user_choices(candidates.get("designer_id", []))
        self.consultant_id.choices = _user_choices(candidates.get("consultant_id", []))


class TargetsForm(FlaskForm):
    pass


for _name in TARGET_FIELDS:
    setattr(
        TargetsForm,
        _name,
        LocalizedIntegerField(
            TARGET_LABELS[_name], validators=[Optional(), NumberRange(min=0, message=_l("目标不能为负数"))]
        ),
    )


class TemplateForm(FlaskForm):
    name = StringField(_l("模板名称"), validators=[required(_l("请填写模板名称")), Length(max=50)])
    steps = TextAreaField(_l("阶段（每行：阶段名称 天数）"), validators=[required(_l("至少需要一个阶段"))])
