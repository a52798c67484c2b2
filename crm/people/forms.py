"""Forms for people: the person form, ladder moves, key-person moves, interactions."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField, widgets
from wtforms.validators import Length, Optional, ValidationError

from crm.core.forms import LocalizedDateField, VersionField, choices, required
from crm.core.i18n import lazy_gettext as _l
from crm.core.submissions import OncePerSubmission
from crm.people.masking import is_valid_mobile, normalize_phone
from crm.people.models import PERSON_TAGS, InteractionKind, LadderStage


def _optional_int(value):
    if value in (None, "", "None"):
        return None
    return int(value)


class CheckboxesField(SelectMultipleField):
    """A multi-select drawn as a list of checkboxes (easier to tap on a tablet)."""

    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class PersonForm(OncePerSubmission, FlaskForm):
    version = VersionField()  # optimistic locking: the version this form was shown with
    name = StringField(_l("姓名/微信昵称"), validators=[required(_l("请填写姓名或微信昵称")), Length(max=64)])
    phone = StringField(_l("手机号"), validators=[Optional(), Length(max=20)])
    wechat_id = StringField(_l("微信号"), validators=[Optional(), Length(max=64)])
    estate_id = SelectField(_l("楼盘"), coerce=_optional_int, validators=[Optional()])
    building = StringField(_l("楼栋"), validators=[Optional(), Length(max=20)])
    unit = StringField(_l("单元"), validators=[Optional(), Length(max=20)])
    room = StringField(_l("房号"), validators=[Optional(), Length(max=20)])
    floor_plan_id = SelectField(_l("户型"), coerce=_optional_int, validators=[Optional()])
    group_ids = CheckboxesField(_l("所在社群"), coerce=int, validators=[Optional()])
    needs_style = StringField(_l("风格需求"), validators=[Optional(), Length(max=50)])
    needs_budget = StringField(_l("预算"), validators=[Optional(), Length(max=50)])
    decoration_start = LocalizedDateField(_l("计划装修时间"), validators=[Optional()])
    source = StringField(_l("来源"), validators=[Optional(), Length(max=50)])
    operator_id = SelectField(_l("负责人"), coerce=_optional_int, validators=[Optional()])
    tags = CheckboxesField(_l("标签"), validators=[Optional()])
    notes = TextAreaField(_l("备注"), validators=[Optional(), Length(max=5000)])
    referred_by_id = SelectField(_l("推荐人"), coerce=_optional_int, validators=[Optional()])
    is_key_person = BooleanField(_l("关键人物"))

    def __init__(self, *args, estates=(), floor_plans=(), groups=(), operators=(), referrers=(), **kwargs):
        super().__init__(*args, **kwargs)
        none = ("", _l("（不选）"))
        self.estate_id.choices = choices([none] + [(e.id, e.name) for e in estates])
        self.floor_plan_id.choices = choices([none] + [(p.id, f"{p.estate.name} · {p.name}") for p in floor_plans])
        self.group_ids.choices = choices((g.id, f"{g.estate.name} · {g.name}") for g in groups)
        self.operator_id.choices = choices([none] + [(u.id, f"{u.name}（{u.role.label}）") for u in operators])
        self.tags.choices = choices((t, t) for t in PERSON_TAGS)
        self.referred_by_id.choices = choices([none] + [(p.id, p.name) for p in referrers])

    def validate_phone(self, field):
        if field.data and not is_valid_mobile(normalize_phone(field.data)):
            raise ValidationError(_l("手机号格式不正确，请填写 11 位手机号，例如 13800138000"))


class StageForm(FlaskForm):
    stage = SelectField(_l("设为"), choices=[])
    reason = StringField(_l("原因"), validators=[Optional(), Length(max=255)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.stage.choices = choices((s.value, s.label) for s in LadderStage)


class MoveForm(FlaskForm):
    done_on = LocalizedDateField(_l("日期"), validators=[Optional()])
    note = StringField(_l("备注"), validators=[Optional(), Length(max=255)])


class InteractionForm(FlaskForm):
    kind = SelectField(_l("方式"), choices=[], default=InteractionKind.WECHAT.value)
    note = TextAreaField(_l("内容"), validators=[required(_l("请写下这次跟进的内容")), Length(max=2000)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.kind.choices = choices((k.value, k.label) for k in InteractionKind)
